// The qemu-img-compatible verbs refuse what qemu-img 7.2 refuses: exit code 1, nothing on stdout,
// and on stderr qemu-img's own line, "qemu-img: Could not open 'FILE': REASON" (REASON verbatim,
// the first QEMU meets). Further reasons follow as notes, each distinct one once with a count; our
// best-effort reading of such an image is `qcowscope report`'s.
//
// Which findings refuse depends on how the verb opens the image: `info` opens without I/O (so
// I/O-only refusals do not apply, but the missing refcount table does), `check` opens for I/O
// with BDRV_O_CHECK, and without a key (LUKS images need one).

import { qemuText, type Finding } from '../format/qcow2/errors';

const REFUSING: Readonly<Record<'info' | 'check', ReadonlySet<string>>> = {
  info: new Set(['QEMU_REFUSES', 'QEMU_REFUSES_OPEN']),
  check: new Set(['QEMU_REFUSES', 'QEMU_REFUSES_IO', 'QEMU_NEEDS_KEY']),
};

/** The findings that make qemu-img refuse `verb` on the image, in the order QEMU meets them. */
export function refusals(findings: readonly Finding[], verb: 'info' | 'check', exists: (path: string) => boolean = () => true): Finding[] {
  return findings.flatMap((f): Finding[] => {
    // BDRV_O_CHECK skips the snapshot table (qemu-img check checks it itself).
    if (verb === 'check' && f.structure === 'snapshot table') return [];
    if (verb === 'check' && f.code === 'DATA_FILE_OPENED') {
      const name = f.message.slice(f.message.indexOf("'") + 1, f.message.lastIndexOf("'"));
      return exists(name) ? [] : [{ ...f, code: 'QEMU_REFUSES_IO', message: `Could not open '${name}': No such file or directory` }];
    }
    return REFUSING[verb].has(f.code) ? [f] : [];
  });
}

/**
 * Prints qemu-img's refusal for `file` (the path as given) to `err` when `found` is not empty;
 * returns whether it did (the verb then exits 1).
 */
export function printRefusal(file: string, found: readonly Finding[], err: (t: string) => void): boolean {
  const first = found[0];
  if (!first) return false;
  err(`qemu-img: Could not open '${file}': ${qemuText(first.message)}\n`);
  const counts = new Map<string, number>();
  for (const f of found.slice(1)) counts.set(f.message, (counts.get(f.message) ?? 0) + 1);
  counts.delete(first.message);
  for (const [message, n] of counts) err(`qcowscope: QEMU would also refuse it for: ${message}${n > 1 ? ` (${n} times)` : ''}\n`);
  err(`qcowscope: what can still be read of it: qcowscope report '${file}'\n`);
  return true;
}
