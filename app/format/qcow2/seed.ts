// The seed's proposal (seed/000_e69da970bd6afba4.txt): a bitmap with bitmap_table_offset 0 and
// bitmap_table_size 0 is valid and empty. QEMU 7.2 refuses such an image; when those bitmaps are
// the ONLY reason it does, the refusal is a compatibility warning, not an error: the image is
// consistent under the proposal this tool follows. Entries read past the end of the file (zeros)
// are never taken for such bitmaps.

import type { Finding } from './errors';
import type { Structures } from './model';
import { entryPastEnd } from './zero-fill';

const CONSTRAINTS = /^Bitmap '.*' doesn't satisfy the constraints/s;


/** Turns QEMU_REFUSES errors into warnings when zero-offset empty bitmaps are their only cause. */
export function softenSeedRefusals(s: Structures, list: Finding[]): void {
  const seeds = new Set<number>();
  for (const b of s.bitmapDirectory?.bitmaps ?? []) if (b.zeroOffsetEmpty && !entryPastEnd(b, s.fileSize)) seeds.add(b.entryOffset);
  if (seeds.size === 0) return;
  const refusals = list.filter((x) => x.code === 'QEMU_REFUSES' || x.code === 'QEMU_REFUSES_IO');
  if (refusals.length === 0) return;
  const seedOnly = refusals.every((x) => x.code === 'QEMU_REFUSES' && x.structure.startsWith('bitmap "') && x.offset !== null && seeds.has(x.offset) && CONSTRAINTS.test(x.message));
  if (!seedOnly) return;
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!;
    if (x.code === 'QEMU_REFUSES') list[i] = { ...x, severity: 'warning' };
  }
}
