// A bitmap's health in plain words, for backup-tool authors: whether QEMU would export it
// (qemu-nbd -B NAME: nbd/server.c nbd_export_create, block/qcow2-bitmap.c at open) and, if not, why;
// whether it records writes; its granularity against the cluster size; all-ones table entries;
// the seed's zero-offset empty bitmap; bits that cannot be read. Each line says what a backup
// tool should do about it.

import { formatBytes } from '../text';
import type { Finding } from '../qcow2/errors';
import type { Header } from '../qcow2/header';
import type { Bitmap } from '../qcow2/model';
import * as S from '../qcow2/spec';

export type HealthCode =
  | 'in-use' | 'recording' | 'frozen' | 'granularity' | 'all-ones' | 'zero-offset-empty'
  | 'offset-one' | 'qemu-refuses' | 'unknown-bits' | 'ignored';

/** ok: nothing to do; note: worth knowing; warn: use with care; bad: do not trust the bits. */
export type HealthLevel = 'ok' | 'note' | 'warn' | 'bad';

export interface HealthLine {
  readonly code: HealthCode;
  readonly level: HealthLevel;
  /** What is so, in plain words. */
  readonly text: string;
  /** What a backup tool should do about it. */
  readonly advice: string;
}

/** A byte count as the rest of the app writes it (the one text module): 512 B, 64 KiB, 1.5 GiB. */
export const sizeText = (n: number): string => formatBytes(n);

/**
 * Why `qemu-nbd -r -B NAME` would not export this bitmap, in one line, or null when it would.
 * `imageRefusals` are the reasons QEMU refuses to open the whole image (QEMU_REFUSES findings).
 */
export function qemuExportRefusal(b: Bitmap, h: Header, imageRefusals: readonly Finding[]): string | null {
  const first = imageRefusals[0];
  if (first) return `QEMU refuses to open the image: ${first.message}`;
  if (h.version < 3 || (h.autoclearFeatures & S.AUTOCLEAR_BITMAPS) === 0n) {
    return `the autoclear "bitmaps" bit is clear, so QEMU ignores the bitmap directory (qemu-nbd: Bitmap '${b.name}' is not found)`;
  }
  if (b.inUse) return `the bitmap is in use: its stored bits are stale (qemu-nbd: Bitmap '${b.name}' is inconsistent and cannot be used)`;
  return null;
}

/** The health lines of bitmap `b`; `unknownBytes` are guest bytes whose bits cannot be read. */
export function bitmapHealth(b: Bitmap, h: Header, unknownBytes: number): HealthLine[] {
  const out: HealthLine[] = [];
  const ignored = h.version < 3 || (h.autoclearFeatures & S.AUTOCLEAR_BITMAPS) === 0n;
  if (ignored) {
    out.push({
      code: 'ignored', level: 'bad',
      text: 'the image\'s autoclear "bitmaps" bit is clear: a program that does not keep bitmaps wrote to it, so QEMU ignores every bitmap (and drops them on its next read-write open)',
      advice: 'Treat the bitmap as gone: take a full backup and add a new bitmap.',
    });
  }
  if (b.inUse) {
    out.push({
      code: 'in-use', level: 'bad',
      text: 'in use (stale): QEMU had it loaded and never stored it back — a crash, or a VM still running — so writes since then are missing from it',
      advice: 'Do not base an incremental backup on it: take a full backup, then remove and re-add the bitmap.',
    });
  }
  if (b.zeroOffsetEmpty) {
    out.push({
      code: 'zero-offset-empty', level: 'bad',
      text: 'zero-offset empty: bitmap_table_offset 0 means "no table, all bits clear" under the 2016 proposal; the spec never adopted it, so QEMU refuses to open the image',
      advice: b.inUse
        ? 'Its bits were dropped when it went in use: take a full backup. QEMU opens the image again only once the bitmap has a real table or is removed (by a tool other than QEMU).'
        : 'Read as empty: nothing was written since it was created. QEMU opens the image again only once the bitmap has a real (zeroed) table or is removed (by a tool other than QEMU).',
    });
  }
  if (b.offsetOneAllSet) {
    out.push({
      code: 'offset-one', level: 'bad',
      text: 'bitmap_table_offset 1: "all bits set" under the proposal\'s open question, not in the spec; QEMU refuses to open the image',
      advice: 'Read as all dirty: a full backup. Give the bitmap a real table or remove it before QEMU uses the image.',
    });
  }
  // The seed's two shapes have their own line above; bitmaps.ts words their refusal with "seed".
  const otherRefusals = b.qemuRefuses.filter((m) => !m.includes('the seed'));
  if (otherRefusals.length > 0) {
    out.push({
      code: 'qemu-refuses', level: 'bad',
      text: `QEMU refuses the image because of this bitmap: ${otherRefusals.join('; ')}`,
      advice: 'Do not trust its bits for a backup: take a full backup, and remove or rewrite the bitmap so that QEMU opens the image.',
    });
  }
  if (unknownBytes > 0) {
    out.push({
      code: 'unknown-bits', level: 'bad',
      text: `the bits of ${sizeText(unknownBytes)} of the guest disk cannot be read (see the findings): those ranges are marked unknown`,
      advice: 'Copy the unknown ranges as if dirty, or take a full backup.',
    });
  }
  out.push(b.auto
    ? { code: 'recording', level: 'ok', text: 'auto (enabled): records new writes', advice: 'Copies everything written since it was added or last cleared.' }
    : {
      code: 'frozen', level: 'note', text: 'disabled (frozen): records no writes',
      advice: 'It holds the writes up to when it was disabled, nothing after: for a backup up to now, combine it with a later enabled bitmap (--or) or use that one.',
    });
  const g = b.granularityBits <= 62 ? 2 ** b.granularityBits : Infinity;
  const cs = h.clusterSize;
  if (g === cs) {
    out.push({ code: 'granularity', level: 'ok', text: `granularity ${sizeText(g)}, the cluster size`, advice: 'A write of any size costs the backup at most one cluster per granule touched.' });
  } else if (g < cs) {
    out.push({
      code: 'granularity', level: 'ok', text: `granularity ${sizeText(g)}, finer than the ${sizeText(cs)} clusters`,
      advice: 'Backups copy little more than what was written; the bitmap itself is larger (one bit per granule).',
    });
  } else {
    out.push({
      code: 'granularity', level: 'note', text: `granularity ${Number.isFinite(g) ? sizeText(g) : `2^${b.granularityBits} B`}, coarser than the ${sizeText(cs)} clusters`,
      advice: `A write of one sector makes the backup copy ${Number.isFinite(g) ? sizeText(g) : 'its whole granule'}; add a finer bitmap if incremental backups come out too large.`,
    });
  }
  if (b.entryKinds.ones > 0) {
    const covered = cs * 8 * (Number.isFinite(g) ? g : 0);
    out.push({
      code: 'all-ones', level: 'note',
      text: `${b.entryKinds.ones} table ${b.entryKinds.ones === 1 ? 'entry says' : 'entries say'} "all ones" (each marks ${covered ? sizeText(covered) : 'its range'} dirty without a data cluster): valid in the spec, but QEMU never writes them, so another tool wrote this bitmap`,
      advice: 'Fine to use: QEMU reads such entries. Those ranges are copied whole.',
    });
  }
  return out;
}
