// Test helper: crafted images checked against the live qemu-img. Tests patch an image qemu-img
// made (patchFile), then compareWithQemu says whether our reading agrees with `qemu-img info`:
// the same refusal when QEMU refuses to open it, the same JSON (apart from actual-size) when it
// opens it. extensionData finds a header extension.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Findings } from '../format/qcow2/errors';
import { qemuInfo, qemuInfoText } from '../format/qemu-img/info';
import type { Structures } from '../format/qcow2/model';
import { NodeFileSource } from '../format/qcow2/source-node';
import { loadHeaderStage, loadStructures } from '../format/qcow2/structures';
import { runTool } from './qemu-tools';

/** Reads a file, lets `patch` change the bytes (or return new ones), writes it back. */
export function patchFile(path: string, patch: (b: Buffer) => Buffer | void): void {
  const b = readFileSync(path);
  writeFileSync(path, patch(b) ?? b);
}

/** File offset of the data of header extension `type` (its length field is 4 bytes before). */
export function extensionData(b: Buffer, type: number): number {
  const cs = 2 ** b.readUInt32BE(20);
  const version = b.readUInt32BE(4);
  let p = version >= 3 ? b.readUInt32BE(100) : 72;
  while (p + 8 <= Math.min(cs, b.length)) {
    const t = b.readUInt32BE(p);
    const len = b.readUInt32BE(p + 4);
    if (t === 0) break;
    if (t === type) return p + 8;
    p += 8 + Math.ceil(len / 8) * 8;
  }
  throw new Error(`no header extension 0x${type.toString(16)}`);
}

export interface OurOpen {
  readonly findings: Findings;
  /** Null when the stages threw (the error is in `error`). */
  readonly structures: Structures | null;
  readonly error: unknown;
}

/** Our header and structures stages over the file. */
export async function ourOpen(path: string): Promise<OurOpen> {
  const src = await NodeFileSource.open(path);
  const findings = new Findings();
  try {
    const structures = await loadStructures(src, await loadHeaderStage(src, findings), findings);
    return { findings, structures, error: null };
  } catch (error) {
    return { findings, structures: null, error };
  } finally {
    await src.close();
  }
}

/**
 * Compares our reading of `path` with `qemu-img info --output=json -U` run beside it. Returns null
 * when they agree, else what differs: QEMU's refusal must be among our QEMU_REFUSES findings
 * (our messages start with QEMU's wording), and when QEMU opens the image we must not refuse it
 * and our info JSON must equal QEMU's (actual-size taken from QEMU's, being host-dependent).
 */
export async function compareWithQemu(path: string): Promise<string | null> {
  const r = runTool('qemu-img', ['info', '--output=json', '-U', basename(path)], { cwd: dirname(path) });
  const ours = await ourOpen(path);
  const refusals = ours.findings.list.filter((x) => x.code === 'QEMU_REFUSES').map((x) => x.message);
  if (r.rc !== 0) {
    const reason = r.stderr.trim().split('\n')[0]!.replace(/^qemu-img: Could not open '[^']*': /, '');
    const all = ours.findings.list.filter((x) => x.code.startsWith('QEMU_REFUSES')).map((x) => x.message);
    if (all.some((m) => m.startsWith(reason))) return null;
    return `qemu-img refuses: "${reason}"; we ${all.length ? `refuse with ${JSON.stringify(all)}` : 'open it'}`;
  }
  if (refusals.length) return `qemu-img opens it; we refuse: ${JSON.stringify(refusals)}`;
  if (!ours.structures) return `qemu-img opens it; we failed: ${String(ours.error)}`;
  const actual = /"actual-size": (\d+)/.exec(r.stdout);
  const text = qemuInfoText(qemuInfo(ours.structures, {
    filename: basename(path),
    ...(actual ? { actualSize: Number(actual[1]) } : {}),
  }));
  return text === r.stdout.trimEnd() ? null : `info differs:\n--- qemu-img\n${r.stdout.trimEnd()}\n--- ours\n${text}`;
}
