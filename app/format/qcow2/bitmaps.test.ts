// Bitmaps: set-bit counts derived from the writes that made the images, the seed's shapes, and
// crafted directories (every constraint QEMU checks) against the live qemu-img.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings } from './errors';
import type { Bitmap, BitmapDirectory } from './model';
import { NodeFileSource } from './source-node';
import { loadHeaderStage, loadStructures } from './structures';
import { samplePath } from '../../test-support/samples';
import { compareWithQemu, extensionData, ourOpen, patchFile } from '../../test-support/craft';
import { hasQemuImg, mustRun } from '../../test-support/qemu-tools';
import { withTmpDir } from '../../test-support/random-images';
import { EXT_BITMAPS } from './spec';

async function directory(path: string): Promise<{ dir: BitmapDirectory; f: Findings }> {
  const src = await NodeFileSource.open(path);
  try {
    const f = new Findings();
    const s = await loadStructures(src, await loadHeaderStage(src, f), f);
    return { dir: s.bitmapDirectory!, f };
  } finally {
    await src.close();
  }
}
const byName = (d: BitmapDirectory, name: string): Bitmap => d.bitmaps.find((b) => b.name === name)!;

type Write = readonly [offset: number, length: number];
const K = 1024;
const M = 1024 * K;
/** Granules of size g that the byte ranges touch. */
function granules(writes: readonly Write[], g: number): Set<number> {
  const out = new Set<number>();
  for (const [o, l] of writes) for (let i = Math.floor(o / g); i <= Math.floor((o + l - 1) / g); i++) out.add(i);
  return out;
}
const asRanges = (set: Set<number>, g: number): Write[] => [...set].map((i) => [i * g, g] as const);
const sum = (a: Uint32Array) => a.reduce((x, y) => x + y, 0);

describe('set bits of the bitmaps sample (writes from sample-images/make.sh)', () => {
  // Written while b-disabled was enabled, then after it was disabled.
  const before: Write[] = [[0, 64 * K], [3 * M, 8 * K], [10 * M, 320 * K]];
  const after: Write[] = [[6 * M, 4 * K], [15 * M, 128 * K]];
  const all = [...before, ...after];
  const merged = new Set([...granules([...asRanges(granules(before, 64 * K), 64 * K), ...asRanges(granules(all, M), M)], 128 * K)]);
  const expected: Record<string, number> = {
    'a-auto': granules(all, 64 * K).size,
    'c-fine': granules(all, 4 * K).size,
    'd-coarse': granules(all, M).size,
    'b-disabled': granules(before, 64 * K).size,
    'e-never': 0,
    'f-merged': merged.size,
  };
  it.each(Object.keys(expected))('%s', async (name) => {
    const { dir, f } = await directory(samplePath('bitmaps'));
    const b = byName(dir, name);
    expect(b.setBits).toBe(expected[name]);
    expect(sum(b.strip)).toBe(b.setBits);
    expect(b.qemuRefuses).toEqual([]);
    expect(b.bitCount).toBe(Math.ceil((16 * M) / 2 ** b.granularityBits));
    expect(f.count('BITMAP_TAIL_BITS')).toBe(0);
  });
  it('puts the set bits of a-auto in the strip buckets of the guest ranges written', async () => {
    const b = byName((await directory(samplePath('bitmaps'))).dir, 'a-auto');
    const buckets = new Set([...granules(all, 64 * K)].map((bit) => Math.floor((bit * 256) / b.bitCount)));
    b.strip.forEach((n, i) => expect(n > 0, `bucket ${i}`).toBe(buckets.has(i)));
  });
});

describe('the seed', () => {
  it('reads a zero-offset empty bitmap: no table, no bits, refused by QEMU', async () => {
    const { dir } = await directory(samplePath('seed-zero-offset-bitmap'));
    const b = byName(dir, 'empty');
    expect([b.zeroOffsetEmpty, b.offsetOneAllSet, b.table, b.setBits, sum(b.strip)]).toEqual([true, false, null, 0, 0]);
    expect(b.qemuRefuses[0]).toMatch(/^Bitmap 'empty' doesn't satisfy the constraints/);
    expect(byName(dir, 'nightly').qemuRefuses).toEqual([]);
  });
  it('reads offset 1 as all bits set', async () => {
    const { dir } = await directory(samplePath('seed-offset-one-bitmap'));
    const b = byName(dir, 'nightly');
    expect([b.offsetOneAllSet, b.zeroOffsetEmpty, b.setBits, sum(b.strip)]).toEqual([true, false, b.bitCount, b.bitCount]);
    expect(b.qemuRefuses[0]).toMatch(/^Bitmap 'nightly' doesn't satisfy the constraints/);
  });
  it('counts all-ones table entries as set bits without data clusters', async () => {
    const { dir } = await directory(samplePath('seed-all-ones-bitmap'));
    const b = byName(dir, 'fine');
    expect(b.entryKinds).toEqual({ zeros: 0, ones: b.tableSize, data: 0, invalid: 0 });
    expect(b.setBits).toBe(b.bitCount);
    expect(b.qemuRefuses).toEqual([]);
  });
});

/** An image with bitmaps alpha (auto, 64k) and alpho (disabled, 4k), both with data. */
function makeImage(dir: string): string {
  mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', 'img.qcow2', '16M'], { cwd: dir });
  mustRun('qemu-img', ['bitmap', '--add', 'img.qcow2', 'alpha'], { cwd: dir });
  mustRun('qemu-img', ['bitmap', '--add', '-g', '4096', 'img.qcow2', 'alpho'], { cwd: dir });
  mustRun('qemu-io', ['-c', 'write -P 1 0 100k', '-c', 'write -P 2 9M 4k', 'img.qcow2'], { cwd: dir });
  mustRun('qemu-img', ['bitmap', '--disable', 'img.qcow2', 'alpho'], { cwd: dir });
  return join(dir, 'img.qcow2');
}
/** File offsets of the bitmaps extension's data and of each directory entry. */
function layout(b: Buffer) {
  const ext = extensionData(b, EXT_BITMAPS);
  const dir = Number(b.readBigUInt64BE(ext + 16));
  const first = dir;
  const second = dir + Math.ceil((24 + b.readUInt16BE(first + 18)) / 8) * 8;
  return { ext, dir, first, second, table: (e: number) => Number(b.readBigUInt64BE(e)) };
}

describe.runIf(hasQemuImg())('crafted bitmap directories against qemu-img', () => {
  const cases: [string, (b: Buffer) => void][] = [
    ['unchanged', () => {}],
    ['extra data', (b) => {
      const { ext, second } = layout(b);
      const n = b.readUInt16BE(second + 18);
      b.copy(b, second + 32, second + 24, second + 24 + n);
      b.writeUInt32BE(8, second + 20);
      b.writeBigUInt64BE(b.readBigUInt64BE(ext + 8) + 8n, ext + 8);
    }],
    ['granularity_bits 8', (b) => void b.writeUInt8(8, layout(b).first + 17)],
    ['type 2', (b) => void b.writeUInt8(2, layout(b).second + 16)],
    ['extra_data_compatible flag', (b) => void b.writeUInt32BE(b.readUInt32BE(layout(b).first + 12) | 4, layout(b).first + 12)],
    ['reserved bit in a table entry', (b) => {
      const t = layout(b).table(layout(b).first);
      b.writeBigUInt64BE(b.readBigUInt64BE(t) | 2n, t);
    }],
    ['table one entry too long', (b) => void b.writeUInt32BE(b.readUInt32BE(layout(b).first + 8) + 1, layout(b).first + 8)],
    ['table too long but in use', (b) => {
      const { first } = layout(b);
      b.writeUInt32BE(b.readUInt32BE(first + 8) + 1, first + 8);
      b.writeUInt32BE(b.readUInt32BE(first + 12) | 1, first + 12);
    }],
    ['two bitmaps with one name', (b) => void b.write('alpha', layout(b).second + 24, 'latin1')],
    ['one bitmap fewer than the header says', (b) => void b.writeUInt32BE(3, layout(b).ext)],
    ['one bitmap more than the header says', (b) => void b.writeUInt32BE(1, layout(b).ext)],
    ['directory size 0', (b) => void b.writeBigUInt64BE(0n, layout(b).ext + 8)],
    ['autoclear bit clear', (b) => void b.writeBigUInt64BE(0n, 88)],
    ['a NUL inside the name', (b) => void b.writeUInt8(0, layout(b).second + 26)],
    ['zero-offset empty bitmap (the seed)', (b) => {
      const { second } = layout(b);
      b.writeBigUInt64BE(0n, second);
      b.writeUInt32BE(0, second + 8);
    }],
    ['all table entries all-ones', (b) => {
      const { first, table } = layout(b);
      for (let i = 0; i < b.readUInt32BE(first + 8); i++) b.writeBigUInt64BE(1n, table(first) + 8 * i);
    }],
  ];
  it.each(cases)('%s', async (_label, patch) => {
    await withTmpDir(async (dir) => {
      const path = makeImage(dir);
      patchFile(path, patch);
      expect(await compareWithQemu(path)).toBeNull();
    });
  });

  it('counts the bits that qemu-io writes set', async () => {
    await withTmpDir(async (dir) => {
      const { findings } = await ourOpen(makeImage(dir));
      const { dir: d } = await directory(join(dir, 'img.qcow2'));
      const writes: Write[] = [[0, 100 * K], [9 * M, 4 * K]];
      expect(byName(d, 'alpha').setBits).toBe(granules(writes, 64 * K).size);
      expect(byName(d, 'alpho').setBits).toBe(granules(writes, 4 * K).size);
      expect(findings.list.filter((x) => x.severity === 'error')).toEqual([]);
    });
  });
});
