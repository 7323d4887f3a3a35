// Every bitmap of an image at a glance: dirty bytes, extents, granularity, flags, whether QEMU
// would export it, and its health lines — `qcowscope bitmap FILE` without --name, as JSON or text.

import type { Finding } from '../qcow2/errors';
import type { Header } from '../qcow2/header';
import type { Bitmap } from '../qcow2/model';
import type { ByteSource } from '../qcow2/source';
import { CLEAN, DIRTY, UNKNOWN, type Extents } from './extents';
import { bitmapHealth, qemuExportRefusal, sizeText, type HealthLine } from './health';
import { readBitmapExtents } from './read-bits';

export interface BitmapSummary {
  readonly index: number;
  readonly name: string;
  readonly granularityBits: number;
  /** qemu-img info's flag names: "in-use", "auto". */
  readonly flags: readonly string[];
  readonly dirtyBytes: number;
  readonly cleanBytes: number;
  readonly unknownBytes: number;
  /** Extents of the map nbdinfo would print (dirty, clean and unknown). */
  readonly extents: number;
  readonly dirtyExtents: number;
  /** Why qemu-nbd would not export it, or null when it would. */
  readonly qemuRefusal: string | null;
  readonly health: readonly HealthLine[];
  /** Why some bits cannot be read, and other problems met reading them. */
  readonly findings: readonly Finding[];
}

export function summarize(b: Bitmap, h: Header, e: Extents, findings: readonly Finding[], imageRefusals: readonly Finding[]): BitmapSummary {
  const bytes = e.bytesByType();
  const unknownBytes = bytes[UNKNOWN] ?? 0;
  const flags: string[] = [];
  if (b.inUse) flags.push('in-use');
  if (b.auto) flags.push('auto');
  return {
    index: b.index,
    name: b.name,
    granularityBits: b.granularityBits,
    flags,
    dirtyBytes: bytes[DIRTY] ?? 0,
    cleanBytes: bytes[CLEAN] ?? 0,
    unknownBytes,
    extents: e.count,
    dirtyExtents: e.countOf(DIRTY),
    qemuRefusal: qemuExportRefusal(b, h, imageRefusals),
    health: bitmapHealth(b, h, unknownBytes),
    findings,
  };
}

/** Reads every bitmap of the directory and summarizes it (one at a time: bounded memory). */
export async function summarizeBitmaps(src: ByteSource, h: Header, bitmaps: readonly Bitmap[], imageRefusals: readonly Finding[]): Promise<BitmapSummary[]> {
  const out: BitmapSummary[] = [];
  for (const b of bitmaps) {
    const r = await readBitmapExtents(src, h, b);
    out.push(summarize(b, h, r.extents, r.findings, imageRefusals));
  }
  return out;
}

const granularityOf = (s: BitmapSummary): number | null => (s.granularityBits <= 62 ? 2 ** s.granularityBits : null);

/** The summaries as JSON (keys in qemu-img's hyphenated style), ending in a newline. */
export function summariesJson(list: readonly BitmapSummary[]): string {
  const doc = list.map((s) => ({
    name: s.name,
    granularity: granularityOf(s),
    'granularity-bits': s.granularityBits,
    flags: s.flags,
    'dirty-bytes': s.dirtyBytes,
    'clean-bytes': s.cleanBytes,
    'unknown-bytes': s.unknownBytes,
    extents: s.extents,
    'dirty-extents': s.dirtyExtents,
    'qemu-exports': s.qemuRefusal === null,
    ...(s.qemuRefusal === null ? {} : { 'qemu-refusal': s.qemuRefusal }),
    health: s.health.map((l) => ({ code: l.code, level: l.level, text: l.text, advice: l.advice })),
    findings: s.findings.map((f) => ({ code: f.code, severity: f.severity, offset: f.offset, message: f.message })),
  }));
  return JSON.stringify(doc, null, 2) + '\n';
}

const LEVEL_MARK: Readonly<Record<HealthLine['level'], string>> = { ok: 'ok  ', note: 'note', warn: 'warn', bad: 'BAD ' };

/** The summaries as text for a person. Names from the file are printed as JSON strings. */
export function summariesText(list: readonly BitmapSummary[]): string {
  if (list.length === 0) return 'no bitmaps\n';
  let s = '';
  for (const b of list) {
    const g = granularityOf(b);
    s += `${JSON.stringify(b.name)}: ${sizeText(b.dirtyBytes)} dirty (${b.dirtyBytes} bytes) in ${b.dirtyExtents} ${b.dirtyExtents === 1 ? 'extent' : 'extents'}`;
    s += `${b.unknownBytes ? `, ${b.unknownBytes} bytes unknown` : ''}; granularity ${g === null ? `2^${b.granularityBits}` : sizeText(g)}; flags: ${b.flags.join(', ') || 'none'}\n`;
    s += b.qemuRefusal === null ? '  qemu-nbd -B exports it\n' : `  qemu-nbd -B would not export it: ${b.qemuRefusal}\n`;
    for (const l of b.health) s += `  ${LEVEL_MARK[l.level]}  ${l.text}.\n        ${l.advice}\n`;
    for (const f of b.findings) s += `  finding: ${f.message}\n`;
  }
  return s;
}
