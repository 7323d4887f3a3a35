// Damaged bitmaps: bits that cannot be read are UNKNOWN over exactly the guest range they cover,
// with one finding naming the bitmap and the file offset — never zeros presented as clean.
// seed-base.qcow2 (4 KiB clusters, 64 MiB): bitmap "fine" (512 B granules) has a 4-entry table at
// 0x39000, one entry per 16 MiB of guest disk, data clusters 0x7000, 0x8000, 0x37000, 0x38000.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings } from '../qcow2/errors';
import { NodeFileSource } from '../qcow2/source-node';
import { loadHeaderStage, loadStructures } from '../qcow2/structures';
import { patchFile } from '../../test-support/craft';
import { withTmpDir } from '../../test-support/random-images';
import { samplePath } from '../../test-support/samples';
import { CLEAN, DIRTY, UNKNOWN } from './extents';
import { readBitmapExtents, type BitmapExtents } from './read-bits';
import { hasNbdinfo, hasQemuNbd, nbdMap } from '../../test-support/nbd';

const M = 1024 * 1024;
const FINE_ENTRY = 241696;
const FINE_TABLE = 233472;

async function read(path: string, name: string): Promise<BitmapExtents> {
  const src = await NodeFileSource.open(path);
  try {
    const f = new Findings();
    const s = await loadStructures(src, await loadHeaderStage(src, f), f);
    const b = s.bitmapDirectory!.bitmaps.find((x) => x.name === name)!;
    return await readBitmapExtents(src, s.header, b);
  } finally {
    await src.close();
  }
}

/** [start, end, type] of every extent. */
const runs = (r: BitmapExtents) => Array.from({ length: r.extents.count }, (_, i) => [r.extents.start(i), r.extents.end(i), r.extents.type(i)]);
/** Only the unknown ranges. */
const unknown = (r: BitmapExtents) => runs(r).filter(([, , t]) => t === UNKNOWN).map(([s, e]) => [s, e]);

/** "fine" read from a copy of seed-base patched by `patch`. */
async function patched(patch: (b: Buffer) => void, name = 'fine'): Promise<BitmapExtents & { path: string }> {
  return withTmpDir(async (dir) => {
    const path = join(dir, 'x.qcow2');
    copyFileSync(samplePath('seed-base'), path);
    patchFile(path, patch);
    return { ...(await read(path, name)), path };
  });
}

describe('bitmap bits that cannot be read', () => {
  it('reads the intact bitmap with no unknown range and no finding', async () => {
    const r = await read(samplePath('seed-base'), 'fine');
    expect(unknown(r)).toEqual([]);
    expect(r.findings).toEqual([]);
    expect(runs(r).filter(([, , t]) => t === DIRTY).length).toBe(4);
  });

  it('a data cluster past the end of the file: its 16 MiB are unknown (QEMU would read zeros)', async () => {
    const r = await patched((b) => void b.writeBigUInt64BE(0x40000n, FINE_TABLE + 24));
    expect(unknown(r)).toEqual([[48 * M, 64 * M]]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'BITMAP_BITS_UNKNOWN', structure: 'bitmap "fine"', offset: 0x40000 });
    expect(r.findings[0]!.message).toContain(`${16 * M} guest bytes`);
  });

  it('a data cluster cut by the end of the file: the bits it holds are read, the rest unknown', async () => {
    // 0x3b000 holds the 96-byte bitmap directory, then the file ends: 768 bits of 512 B.
    const r = await patched((b) => void b.writeBigUInt64BE(0x3b000n, FINE_TABLE + 24));
    expect(unknown(r)).toEqual([[48 * M + 768 * 512, 64 * M]]);
    expect(r.findings[0]).toMatchObject({ offset: 0x3b000 + 96 });
  });

  it('an entry with reserved bits set: its range is unknown', async () => {
    const r = await patched((b) => void b.writeBigUInt64BE(0x8000n | 2n, FINE_TABLE + 8));
    expect(unknown(r)).toEqual([[16 * M, 32 * M]]);
    expect(r.findings[0]!.message).toMatch(/entry 1 .* reserved bits/);
    expect(r.findings[0]!.offset).toBe(FINE_TABLE + 8);
  });

  it('a table shorter than the disk needs: guest bytes past it are unknown', async () => {
    const r = await patched((b) => void b.writeUInt32BE(2, FINE_ENTRY + 8));
    expect(unknown(r)).toEqual([[32 * M, 64 * M]]);
    expect(r.findings[0]!.message).toContain('bitmap_table_size 2 is less than the 4 entries');
  });

  it('a table longer than the disk needs: a warning, the extra entries ignored', async () => {
    const r = await patched((b) => void b.writeUInt32BE(5, FINE_ENTRY + 8));
    expect(unknown(r)).toEqual([]);
    expect(r.findings.map((f) => f.code)).toEqual(['BITMAP_TABLE_SIZE']);
    expect(runs(r)).toEqual(runs(await read(samplePath('seed-base'), 'fine')));
  });

  it('a table past the end of the file: every range is unknown', async () => {
    const r = await patched((b) => void b.writeBigUInt64BE(0x3c000n, FINE_ENTRY));
    expect(unknown(r)).toEqual([[0, 64 * M]]);
    expect(r.findings[0]!.message).toContain('runs past the end of the file at entry 0');
    expect(r.findings[0]!.message).toContain('(4 times');
  });

  it('an unaligned table offset: the whole disk is unknown', async () => {
    const r = await patched((b) => void b.writeBigUInt64BE(BigInt(FINE_TABLE + 8), FINE_ENTRY));
    expect(runs(r)).toEqual([[0, 64 * M, UNKNOWN]]);
    expect(r.findings[0]!.message).toContain('cannot be located');
  });

  it('granularity out of QEMU\'s range: read at that granularity, the part the table lacks unknown', async () => {
    // 256-byte granules: the disk needs 8 entries; the 4 there cover the first 32 MiB.
    const r = await patched((b) => void b.writeUInt8(8, FINE_ENTRY + 17));
    expect(r.findings.map((f) => f.code)).toEqual(['BITMAP_GRANULARITY_RANGE', 'BITMAP_BITS_UNKNOWN']);
    expect(unknown(r)).toEqual([[32 * M, 64 * M]]);
    const g63 = await patched((b) => void b.writeUInt8(63, FINE_ENTRY + 17));
    expect(runs(g63)).toEqual([[0, 64 * M, UNKNOWN]]);
  });

  it('all-ones table entries: dirty, and one note naming the bitmap and the first entry', async () => {
    const r = await read(samplePath('seed-all-ones-bitmap'), 'fine');
    expect(runs(r)).toEqual([[0, 64 * M, DIRTY]]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'BITMAP_ALL_ONES', structure: 'bitmap "fine"', offset: FINE_TABLE });
    expect(r.findings[0]!.message).toContain(`4 bitmap table entries (the first at 0x39000) say "all ones": ${64 * M} guest bytes`);
  });

  it('the seed\'s zero-offset empty bitmap is all clean, offset one all dirty', async () => {
    const empty = await read(samplePath('seed-zero-offset-bitmap'), 'empty');
    expect(runs(empty)).toEqual([[0, 64 * M, CLEAN]]);
    const ones = await read(samplePath('seed-offset-one-bitmap'), 'nightly');
    expect(runs(ones)).toEqual([[0, 64 * M, DIRTY]]);
  });

  it.runIf(hasQemuNbd && hasNbdinfo)('QEMU exports a data cluster past EOF as clean; we say unknown', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'x.qcow2');
      copyFileSync(samplePath('seed-base'), path);
      patchFile(path, (b) => void b.writeBigUInt64BE(0x40000n, FINE_TABLE + 24));
      const q = nbdMap(path, 'qemu:dirty-bitmap:fine', ['fine']).extents!;
      const last = q[q.length - 1]!;
      expect(last.offset).toBeLessThanOrEqual(48 * M);
      expect([last.offset + last.length, last.type]).toEqual([64 * M, 0]);
      expect(unknown(await read(path, 'fine'))).toEqual([[48 * M, 64 * M]]);
    });
  });
});
