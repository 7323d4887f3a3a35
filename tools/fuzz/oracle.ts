// qemu-img as the fuzzer's oracle (Node only; `npm run fuzz -- --oracle`): a mutated image is
// given to `qemu-img info -f qcow2 -U`, and our reading must agree with it: when QEMU refuses to
// open the image, one of our refusals starts with its reason (or we refuse it as not qcow2 at
// all); when QEMU opens it, we refuse nothing and our info JSON is byte for byte its own.

import { writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Qcow2Error } from '../../app/format/qcow2/errors';
import { qemuInfo, qemuInfoText } from '../../app/format/qemu-img/info';
import { ourOpen } from '../../app/test-support/craft';
import { runTool } from '../../app/test-support/qemu-tools';

export type OracleVerdict =
  | { readonly agree: true; readonly qemu: 'opens' | 'refuses' | 'crashed' | 'timeout' }
  | { readonly agree: false; readonly difference: string };

/** Writes `bytes` to `path` and compares our reading with qemu-img's. */
export async function askQemu(bytes: Uint8Array, path: string): Promise<OracleVerdict> {
  writeFileSync(path, bytes);
  // 20 s: qemu-img info takes milliseconds; only a hang on a crafted file gets near it.
  const r = runTool('qemu-img', ['info', '-f', 'qcow2', '--output=json', '-U', basename(path)], { cwd: dirname(path), timeoutMs: 20_000 });
  if (r.timedOut) return { agree: true, qemu: 'timeout' };
  if (r.signal !== null) return { agree: true, qemu: 'crashed' };
  const ours = await ourOpen(path);
  const notQcow2 = ours.error instanceof Qcow2Error && ours.error.code === 'NOT_QCOW2';
  const refusals = ours.findings.list.filter((x) => x.code === 'QEMU_REFUSES').map((x) => x.message);
  if (r.rc !== 0) {
    // Warnings may come first, and the last of them ends without a newline.
    const reason = /qemu-img: Could not open '[^']*': (.*)$/m.exec(r.stderr)?.[1] ?? r.stderr.trim().split('\n')[0]!;
    const all = ours.findings.list.filter((x) => x.code.startsWith('QEMU_REFUSES')).map((x) => x.message);
    if (notQcow2 || all.some((m) => m.startsWith(reason))) return { agree: true, qemu: 'refuses' };
    return { agree: false, difference: `qemu-img refuses: "${reason}"; we ${all.length ? `refuse with ${JSON.stringify(all)}` : 'open it'}` };
  }
  // A deliberate difference: QEMU reads a header cut short as if zeros followed; we name the file a
  // truncated qcow2 header (foreign.ts), since most of what it would show would be invented.
  if (notQcow2 && /^truncated qcow2 header/.test((ours.error as Error).message)) return { agree: true, qemu: 'opens' };
  if (notQcow2) return { agree: false, difference: `qemu-img opens it; we say it is not qcow2: ${(ours.error as Error).message}` };
  if (refusals.length) return { agree: false, difference: `qemu-img opens it; we refuse: ${JSON.stringify(refusals)}` };
  if (!ours.structures) return { agree: false, difference: `qemu-img opens it; we failed: ${String(ours.error)}` };
  const actual = /"actual-size": (\d+)/.exec(r.stdout);
  const text = qemuInfoText(qemuInfo(ours.structures, { filename: basename(path), ...(actual ? { actualSize: Number(actual[1]) } : {}) }));
  if (text === r.stdout.trimEnd()) return { agree: true, qemu: 'opens' };
  const a = r.stdout.trimEnd().split('\n');
  const b = text.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  return { agree: false, difference: `info differs at line ${i + 1}: qemu-img ${JSON.stringify(a[i])}, ours ${JSON.stringify(b[i])}` };
}
