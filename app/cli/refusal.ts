// The qemu-img-compatible verbs refuse what qemu-img 7.2 refuses: exit code 1, nothing on stdout,
// and on stderr qemu-img's own line, "qemu-img: Could not open 'FILE': REASON" (REASON verbatim,
// the first QEMU meets). Further reasons follow as notes, each distinct one once with a count; our
// best-effort reading of such an image is `qcowscope report`'s.
//
// Which findings refuse depends on how the verb opens the image: `info` opens without I/O (so
// I/O-only refusals do not apply, but the missing refcount table does), `check` opens for I/O
// with BDRV_O_CHECK, and without a key (LUKS images need one).

import { qemuText, type Finding } from '../format';

const REFUSING: Readonly<Record<'info' | 'check', ReadonlySet<string>>> = {
  info: new Set(['QEMU_REFUSES', 'QEMU_REFUSES_OPEN']),
  check: new Set(['QEMU_REFUSES', 'QEMU_REFUSES_IO', 'QEMU_NEEDS_KEY']),
};

/** What the verb's open finds on the host: files it opens by name. */
export interface HostFiles {
  readonly exists: (path: string) => boolean;
  /** The image path as given and the backing file name its header records (check opens it). */
  readonly image?: string;
  readonly backingFile?: string | null;
}

/** The findings that make qemu-img refuse `verb` on the image, in the order QEMU meets them. */
export function refusals(findings: readonly Finding[], verb: 'info' | 'check', host: HostFiles = { exists: () => true }): Finding[] {
  const out = findings.flatMap((f): Finding[] => {
    // BDRV_O_CHECK skips the snapshot table (qemu-img check checks it itself).
    if (verb === 'check' && f.structure === 'snapshot table') return [];
    if (verb === 'check' && f.code === 'DATA_FILE_OPENED') {
      const name = f.message.slice(f.message.indexOf("'") + 1, f.message.lastIndexOf("'"));
      return host.exists(name) ? [] : [{ ...f, code: 'QEMU_REFUSES_IO', message: `Could not open '${name}': No such file or directory` }];
    }
    return REFUSING[verb].has(f.code) ? [f] : [];
  });
  // check opens the backing file once qcow2 has opened the image, relative to the image's folder
  // (path_combine: the image path up to its last '/').
  // The name is a C string: it ends at its first NUL (an empty one opens no backing file).
  const name = host.backingFile?.split('\0')[0];
  if (verb === 'check' && name && host.image !== undefined) {
    const path = name.startsWith('/') ? name : host.image.slice(0, host.image.lastIndexOf('/') + 1) + name;
    if (!host.exists(path)) {
      out.push({ code: 'QEMU_REFUSES_IO', severity: 'error', structure: 'backing file', offset: 8, checkClass: 'none',
        message: `Could not open backing file: Could not open '${path}': No such file or directory` });
    }
  }
  return out;
}

/**
 * The warnings qemu-img prints while it opens the image (before a refusal met later), as it prints
 * them: the bitmaps of an image whose bitmaps autoclear bit is clear are inconsistent (the last
 * line has no newline, so the next output joins it).
 */
export function openWarnings(findings: readonly Finding[], version: number, refused: Finding | undefined): string {
  const i = findings.findIndex((x) => x.code === 'BITMAPS_INCONSISTENT');
  if (i < 0) return '';
  // A refusal not in the list is met on the host (data file, backing file): after the extensions.
  const stop = refused ? findings.indexOf(refused) : -1;
  if (stop >= 0 && stop < i) return '';
  const text = version < 3
    ? 'This qcow2 v2 image contains bitmaps, but they may have been modified by a program without persistent bitmap support; so now they must all be considered inconsistent'
    : 'a program lacking bitmap support modified this file, so all bitmaps are now considered inconsistent';
  return `qemu-img: warning: ${text}\nSome clusters may be leaked, run 'qemu-img check -r' on the image file to fix.`;
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
