// `qcowscope check [--output=json] FILE`: qemu-img check, read-only. --output=json prints qemu-img's
// JSON byte for byte (7.2 and 10.0 print the same) and its per-cluster lines ("ERROR cluster 5 refcount=0 reference=1",
// "Leaked cluster …") on stderr, as qemu-img does in both forms; the human form prints qemu-img's
// summary, then our own findings. The exit code is qemu-img's: 0 clean, 1 check failed or the
// image refused as qemu-img refuses it (refusal.ts), 2 corruptions, 3 leaks only.

import { existsSync } from 'node:fs';
import { qemuCheckHuman, qemuCheckJson, qemuCheckJsonText, type Analysis, tableEntryOffset, FindingCode, QEMU_NOTE, qemuText, type Finding } from '../format';
import type { CommandContext } from './main';
import { ImageFiles } from './map';
import { openWarnings, printRefusal, refusals } from './refusal';
import { countingOrder } from './check-order';

const COMPARE = new Set<FindingCode>([FindingCode.REFCOUNT_MISMATCH, FindingCode.LEAK, FindingCode.REFCOUNT_UNREADABLE]);
/** qemu-img's order: references counted, then refcounts compared (by cluster), then OFLAG_COPIED. */
const phase = (f: Finding) => (f.code === FindingCode.OFLAG_COPIED ? 2 : COMPARE.has(f.code) ? 1 : 0);

/**
 * Where check_oflag_copied prints a line: it walks the active L1 table, each entry's line first,
 * then the entries of its L2 table. [L1 index, L2 entry index or -1]; unknown places go last.
 */
function oflagOrder(a: Analysis): (f: Finding) => [number, number] {
  const h = a.structures.header;
  const cs = h.clusterSize;
  const l1Offset = Number(h.l1TableOffset);
  const entrySize = (h.incompatibleFeatures & 16n) !== 0n ? 16 : 8;
  const firstL1 = new Map<number, number>();
  (a.structures.l1 ?? []).forEach((e, i) => {
    const t = tableEntryOffset(e);
    if (t !== 0 && !firstL1.has(t)) firstL1.set(t, i);
  });
  return (f) => {
    if (f.offset === null) return [Infinity, 0];
    if (f.structure === 'active L1 table') return [(f.offset - l1Offset) / 8, -1];
    const table = f.offset - (f.offset % cs);
    return [firstL1.get(table) ?? Infinity, (f.offset - table) / entrySize];
  };
}

/** Findings qemu-img check itself prints (corruptions, leaks, check errors), in its order. */
function qemuLines(a: Analysis): Finding[] {
  const where = oflagOrder(a);
  const keyed = a.findings
    .filter((f) => f.checkClass !== 'none' && f.message !== '')
    .map((f, i) => ({ f, i, p: phase(f), at: phase(f) === 2 ? where(f) : [0, 0], c: phase(f) === 0 ? countingOrder(f) : [0, 0, 0] }));
  return keyed
    .sort((x, y) => x.p - y.p
      || (x.p === 0 ? x.c[0]! - y.c[0]! || x.c[1]! - y.c[1]! || x.c[2]! - y.c[2]! : 0)
      || (x.p === 1 ? (x.f.cluster ?? 0) - (y.f.cluster ?? 0) : 0)
      || (x.p === 2 ? x.at[0]! - y.at[0]! || x.at[1]! - y.at[1]! : 0)
      || x.i - y.i)
    .map((x) => x.f);
}

function truncationNotes(a: Analysis): string {
  let t = '';
  for (const [code, n] of Object.entries(a.findingTotals)) {
    const shown = a.findings.filter((f) => f.code === code).length;
    if (n > shown) t += `(${n - shown} more ${code} findings not listed)\n`;
  }
  return t;
}

export async function runCheckCommand(ctx: CommandContext): Promise<number> {
  const files = await ImageFiles.open(ctx.file);
  try {
    const a = await files.analyze();
    const c = a.check;
    const refused = refusals(a.findings, 'check', { exists: existsSync, image: ctx.file, backingFile: a.structures.backingFile });
    ctx.err(openWarnings(a.findings, a.structures.header.version, refused[0]));
    if (printRefusal(ctx.file, refused, ctx.err)) return 1;
    // A check that fails outright (e.g. on the snapshot table) prints only why.
    const fatal = c.failure !== null && c.failure !== 'Check failed';
    for (const f of qemuLines(a)) if (!fatal || f.code === FindingCode.CHECK_FAILED) ctx.err(qemuText(f.message) + '\n');
    if (ctx.output === 'json') {
      if (c.json) ctx.out(qemuCheckJsonText(qemuCheckJson(ctx.file, c.counts)));
    } else {
      if (c.json) ctx.out(qemuCheckHuman(c.counts));
      const ours = a.findings.filter((f) => f.message !== '' && (f.checkClass === 'none' || f.message.includes(QEMU_NOTE)));
      if (ours.length) {
        ctx.out('\nqcowscope findings:\n');
        for (const f of ours) ctx.out(`${f.severity.padEnd(7)} ${f.code}: ${f.message}${f.offset === null ? '' : ` [offset ${f.offset}]`}\n`);
      }
      ctx.out(truncationNotes(a));
    }
    if (c.failure) ctx.err(c.failure === 'Check failed' ? 'qemu-img: Check failed\n' : `qemu-img: Check failed: ${c.failure}\n`);
    return c.exitCode;
  } finally {
    await files.close();
  }
}
