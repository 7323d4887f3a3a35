// Stored refcounts for every refcount_order 0..6 (sub-byte widths least significant bits first),
// the in-memory table qemu-img check builds (saturating at refcount_max), and the refcount-width
// samples, whose stored refcounts qemu-img check found consistent.

import { describe, expect, it } from 'vitest';
import { parseHeader, type Header } from './header';
import { ExpectedRefcounts, loadStoredRefcounts, readReftable, refcountGeometry, reftableIndexOf, REFT_NONZERO, REFT_RESERVED, REFT_UNALIGNED } from './refcounts';
import { BytesSource, type ByteSource } from './source';
import { analyzeSample } from '../../test-support/analyze-sample';
import { referenceCheckRc } from '../../test-support/samples';

const CS = 4096;

/** A file of `clusters` 4 KiB clusters: header, refcount table, then refcount blocks. */
function image(order: number, values: readonly bigint[]): { bytes: Uint8Array; header: Header } {
  const bits = 2 ** order;
  const perBlock = (CS * 8) / bits;
  const blocks = Math.ceil(values.length / perBlock);
  const bytes = new Uint8Array((2 + blocks) * CS);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0x514649fb);
  dv.setUint32(4, 3);
  dv.setUint32(20, 12);
  dv.setBigUint64(48, BigInt(CS));
  dv.setUint32(56, 1);
  dv.setUint32(96, order);
  dv.setUint32(100, 104);
  for (let b = 0; b < blocks; b++) dv.setBigUint64(CS + 8 * b, BigInt((2 + b) * CS));
  values.forEach((v, i) => {
    const block = (2 + Math.floor(i / perBlock)) * CS;
    const bit = (i % perBlock) * bits;
    if (bits < 8) bytes[block + (bit >> 3)]! |= Number(v) << (bit & 7);
    else for (let j = 0; j < bits / 8; j++) bytes[block + bit / 8 + j] = Number((v >> BigInt(bits - 8 * (j + 1))) & 0xffn);
  });
  return { bytes, header: parseHeader(bytes.subarray(0, CS)) };
}

describe('stored refcounts, every width', () => {
  it.each([0, 1, 2, 3, 4, 5, 6])('refcount_order %i', async (order) => {
    const bits = 2 ** order;
    const max = bits === 64 ? 0xffff_ffff_ffff_ffffn : (1n << BigInt(bits)) - 1n;
    const n = (CS * 8) / bits + 37; // into a second block
    const values = Array.from({ length: n }, (_, i) => BigInt(i * 7 + 3) % (max + 1n));
    if (bits === 64) values[5] = 0x1_0000_0003n;
    const { bytes, header } = image(order, values);
    const src = new BytesSource(bytes);
    const geo = refcountGeometry(header);
    const stored = await loadStoredRefcounts(src, geo, await readReftable(src, header), n);
    for (let i = 0; i < n; i++) expect(stored.exact(i), `entry ${i}`).toBe(values[i]);
    if (bits === 64) expect(stored.values[5]).toBe(0xffff_ffff);
  });

  it('a refcount block at an unaligned offset cannot be read; one past the end reads zeros', async () => {
    const { bytes, header } = image(4, Array.from({ length: 3000 }, () => 1n));
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(CS, BigInt(2 * CS + 512));
    dv.setBigUint64(CS + 8, BigInt(100 * CS));
    const src = new BytesSource(bytes);
    const stored = await loadStoredRefcounts(src, refcountGeometry(header), await readReftable(src, header), 4000);
    expect(stored.get(7)).toBe(-1);
    expect([...stored.badBlocks]).toEqual([0]);
    expect(stored.get(2048 + 5)).toBe(0);
  });

  it('clusters past the loaded range are read on demand', async () => {
    const values = Array.from({ length: 5000 }, (_, i) => BigInt(i % 3));
    const { bytes, header } = image(4, values);
    const src = new BytesSource(bytes);
    const stored = await loadStoredRefcounts(src, refcountGeometry(header), await readReftable(src, header), 10);
    expect(stored.get(4001)).toBe(-2);
    await stored.ensure(src, [4001]);
    expect(stored.get(4001)).toBe(Number(values[4001]));
    expect(stored.get(1 << 30)).toBe(0);
  });
});

describe('the refcount table', () => {
  it('splits each entry into an offset and flags, in typed arrays', async () => {
    const { bytes, header } = image(4, [1n, 1n, 1n]);
    const dv = new DataView(bytes.buffer);
    const raw = [
      BigInt(2 * CS), // the real block
      0n,
      BigInt(5 * CS) | 0x3n, // reserved bits set
      BigInt(7 * CS + 512), // unaligned by 512
      (1n << 60n) | BigInt(3 * CS), // far past any file, aligned
      (1n << 40n) + 0x1200n, // unaligned above 2^32
    ];
    raw.forEach((v, i) => dv.setBigUint64(CS + 8 * i, v));
    const t = await readReftable(new BytesSource(bytes), header);
    expect(t.offsets).toBeInstanceOf(Float64Array);
    expect(t.offsets.length).toBe(CS / 8);
    expect([...t.offsets.subarray(0, 6)]).toEqual([2 * CS, 0, 5 * CS, 7 * CS + 512, Number((1n << 60n) | BigInt(3 * CS)), 2 ** 40 + 0x1200]);
    expect([...t.flags.subarray(0, 6)]).toEqual([REFT_NONZERO, 0, REFT_NONZERO | REFT_RESERVED, REFT_NONZERO | REFT_UNALIGNED, REFT_NONZERO, REFT_NONZERO | REFT_UNALIGNED]);
    expect(t.flags.subarray(6).every((f) => f === 0)).toBe(true);
    expect(reftableIndexOf(t, 5 * CS)).toBe(2);
    expect(reftableIndexOf(t, 0)).toBe(-1);
    expect(reftableIndexOf(t, 9 * CS)).toBe(-1);
  });

  it('reads only the part of the table inside the file', async () => {
    const { bytes, header } = image(4, [1n]);
    const cut = bytes.subarray(0, CS + 20); // two and a half entries
    const t = await readReftable(new BytesSource(cut), header);
    expect(t.offsets.length).toBe(2);
    expect(t.offsets[0]).toBe(2 * CS);
  });
});

describe('the in-memory refcount table', () => {
  it('saturates at refcount_max and counts every reference beyond as an overflow', () => {
    const e = new ExpectedRefcounts(4, 0xffff);
    expect(e.add(2, 70000)).toBe(70000 - 0xffff);
    expect(e.add(2, 1)).toBe(1);
    expect(e.counts[2]).toBe(0xffff);
    expect(e.overflow).toBe(70000 - 0xffff + 1);
    e.add(4, 1);
    expect(e.length).toBe(5);
  });

  it('keeps one byte per cluster until a count passes 255, then widens and keeps every count', () => {
    const e = new ExpectedRefcounts(4, 0xffff);
    expect(e.counts).toBeInstanceOf(Uint8Array);
    e.add(1, 3);
    for (let i = 0; i < 255; i++) e.add(2, 1);
    expect(e.counts).toBeInstanceOf(Uint8Array);
    expect(e.counts[2]).toBe(255);
    expect(e.add(2, 1)).toBe(0);
    expect(e.counts).toBeInstanceOf(Uint16Array);
    expect(e.limit).toBe(0xffff);
    expect([...e.counts]).toEqual([0, 3, 256, 0, 0]);
    const wide = new ExpectedRefcounts(2, 0xffff_ffff);
    expect(wide.add(0, 70000)).toBe(0);
    expect(wide.counts).toBeInstanceOf(Uint32Array);
    expect(wide.counts[0]).toBe(70000);
    // refcount_bits 1: nothing to widen; a second reference overflows.
    const bit = new ExpectedRefcounts(2, 1);
    expect(bit.add(0, 2)).toBe(1);
    expect(bit.counts).toBeInstanceOf(Uint8Array);
    expect(bit.counts[0]).toBe(1);
  });
});

describe('the refcount-width samples are consistent, as qemu-img check found them', () => {
  it.each(['refcount-1', 'v3', 'refcount-64'])('%s', async (name) => {
    expect(referenceCheckRc(name)).toBe(0);
    const a = await analyzeSample(name);
    expect(a.check.counts).toMatchObject({ corruptions: 0, leaks: 0, checkErrors: 0 });
    // Shared clusters (the refcount-64 sample has a snapshot) are stored with refcount 2.
    if (name === 'refcount-64') expect([...a.check.storedRefcounts].some((v) => v === 2)).toBe(true);
  });
});

describe('refcount block requests', () => {
  // Blocks scattered 2 GiB apart (as in a preallocated image), 64 KiB clusters, 16-bit refcounts.
  const cs = 65536;
  const geo = { clusterBits: 16, clusterSize: cs, refcountOrder: 4, refcountBits: 16, entriesPerBlock: 32768, refcountMax: 0xffff };
  async function requestsFor(blocks: number): Promise<number[]> {
    const offsets = new Float64Array(blocks).map((_, t) => (t + 1) * 2 ** 31);
    const flags = new Uint8Array(blocks).fill(REFT_NONZERO);
    const sizes: number[] = [];
    const src: ByteSource = {
      size: (blocks + 2) * 2 ** 31,
      name: 'scattered',
      read: async (_o, l) => new Uint8Array(l),
      readBatch: async (ranges) => {
        sizes.push(ranges.length);
        return ranges.map((r) => new Uint8Array(r.length));
      },
      maxRead: 8 << 20,
    };
    await loadStoredRefcounts(src, geo, { offsets, flags }, blocks * geo.entriesPerBlock);
    return sizes;
  }

  it('no lone last request: 513 blocks in 4 requests (1 TiB image), 512 in 4 of 128, 600 as usual', async () => {
    expect(await requestsFor(513)).toEqual([129, 129, 129, 126]);
    expect(await requestsFor(512)).toEqual([128, 128, 128, 128]);
    // Four requests would hold 150 blocks each, 17 % more than a request's 128: the usual five.
    expect(await requestsFor(600)).toEqual([128, 128, 128, 128, 88]);
  });
});
