// The refcount compare's bulk path (check.ts compareRefcounts): runs of clusters whose stored and
// expected refcounts are equal and that the compare would leave as they are — both 0, or both 1 on
// clusters already claimed (settleRole keeps those) — are skipped a word of each array at a time.
// Expected refcounts come one byte per cluster (ExpectedRefcounts until a count passes 255) or
// 16 bits; stored ones 16 bits, as stored (`swapped`: StoredRefcounts.swapped) or in host order.

import { swapPair, type StoredRefcountArray } from '../qcow2';

export interface RefcountSkipper {
  /** The last cluster with a refcount that the latest from() skipped, or -1. */
  readonly lastUsed: number;
  /** From an even cluster index: the first index not skipped (from itself when none is). */
  from(start: number): number;
}

/** A skipper over clusters [0, end), or null where the arrays' widths or alignment do not allow one. */
export function refcountSkipper(values: StoredRefcountArray, swapped: boolean, counts: Uint8Array | Uint16Array | Uint32Array, roles: Uint8Array, end: number): RefcountSkipper | null {
  if (values instanceof Uint8Array) {
    const aligned = values.byteOffset % 4 === 0 && counts.byteOffset % 4 === 0 && roles.byteOffset % 4 === 0;
    return aligned && counts instanceof Uint8Array && end >= 4 ? new ByteSkipper(values, counts, roles, end >> 2) : null;
  }
  if (!(values instanceof Uint16Array) || values.byteOffset % 4 !== 0 || counts.byteOffset % 4 !== 0 || end < 4) return null;
  if (counts instanceof Uint8Array) return roles.byteOffset % 4 === 0 ? new QuadSkipper8(values, swapped, counts, roles, end >> 2) : null;
  return counts instanceof Uint16Array ? PairSkipper.over(values, swapped, counts, roles, end) : null;
}

/** A word of two stored refcounts of 1. */
const onePair = (swapped: boolean): number => (swapped ? 0x0100_0100 : 0x0001_0001);

/** Has-zero-byte test: whether some byte of the 32-bit word `w` is 0. */
const hasZeroByte = (w: number): boolean => ((w - 0x01010101) & ~w & 0x80808080) !== 0;

/**
 * For 8-bit stored and expected refcounts: four clusters at a time (one word of each array and
 * of the roles), from a multiple of 4 only (elsewhere nothing is skipped: the compare goes on one
 * cluster at a time up to the next).
 */
class ByteSkipper implements RefcountSkipper {
  lastUsed = -1;
  private readonly v: Uint32Array;
  private readonly c: Uint32Array;
  private readonly r: Uint32Array;

  constructor(values: Uint8Array, counts: Uint8Array, roles: Uint8Array, private readonly quads: number) {
    this.v = new Uint32Array(values.buffer, values.byteOffset, quads);
    this.c = new Uint32Array(counts.buffer, counts.byteOffset, quads);
    this.r = new Uint32Array(roles.buffer, roles.byteOffset, quads);
  }

  from(start: number): number {
    this.lastUsed = -1;
    if ((start & 3) !== 0) return start;
    const { v, c, r, quads } = this;
    let q = start >> 2;
    for (; q < quads; q++) {
      const x = v[q]!;
      const e = c[q]!;
      if ((x | e) === 0) continue;
      if (x !== 0x0101_0101 || e !== 0x0101_0101 || hasZeroByte(r[q]!)) break;
      this.lastUsed = 4 * q + 3;
    }
    return 4 * q;
  }
}

/**
 * For 16-bit stored and 8-bit expected refcounts: four clusters at a time (two words of stored
 * refcounts, one of expected, one of roles), then the pair where that stops two at a time.
 */
class QuadSkipper8 implements RefcountSkipper {
  lastUsed = -1;
  private readonly v: Uint32Array;
  private readonly c: Uint32Array;
  private readonly c2: Uint16Array;
  private readonly r: Uint32Array;
  /** Two stored refcounts of 1 as a word of `v`. */
  private readonly one: number;

  constructor(values: Uint16Array, swapped: boolean, counts: Uint8Array, private readonly roles: Uint8Array, private readonly quads: number) {
    this.one = onePair(swapped);
    this.v = new Uint32Array(values.buffer, values.byteOffset, 2 * quads);
    this.c = new Uint32Array(counts.buffer, counts.byteOffset, quads);
    this.c2 = new Uint16Array(counts.buffer, counts.byteOffset, 2 * quads);
    this.r = new Uint32Array(roles.buffer, roles.byteOffset, quads);
  }

  from(start: number): number {
    const { v, c, c2, r, roles, quads, one } = this;
    this.lastUsed = -1;
    let w = start >> 1;
    if ((w & 1) === 0) {
      let q = w >> 1;
      for (; q < quads; q++) {
        const x = v[2 * q]!;
        const y = v[2 * q + 1]!;
        const e = c[q]!;
        if ((x | y | e) === 0) continue;
        if (x !== one || y !== one || e !== 0x0101_0101 || hasZeroByte(r[q]!)) break;
        this.lastUsed = 4 * q + 3;
      }
      w = 2 * q;
    }
    const words = 2 * quads;
    while (w < words) {
      const x = v[w]!;
      const e = c2[w]!;
      if ((x | e) !== 0) {
        if (!(x === one && e === 0x0101 && roles[2 * w] !== 0 && roles[2 * w + 1] !== 0)) break;
        this.lastUsed = 2 * w + 1;
      }
      w++;
    }
    return 2 * w;
  }
}

/**
 * For 16-bit stored and expected refcounts: skips the pairs of clusters (two refcounts per 32-bit
 * word) that compareRefcounts would leave as they are — stored equal to expected and either both 0,
 * or both 1 on clusters already claimed (settleRole keeps those).
 */
class PairSkipper implements RefcountSkipper {
  /** The last cluster with a refcount that the latest from() skipped, or -1. */
  lastUsed = -1;
  private readonly v: Uint32Array;
  private readonly c: Uint32Array;
  /** The roles four at a time (one word per two pairs), or null where they are not word-aligned. */
  private readonly r: Uint32Array | null;

  private constructor(values: Uint16Array, private readonly swapped: boolean, counts: Uint16Array, private readonly roles: Uint8Array, private readonly words: number) {
    this.v = new Uint32Array(values.buffer, values.byteOffset, words);
    this.c = new Uint32Array(counts.buffer, counts.byteOffset, words);
    this.r = roles.byteOffset % 4 === 0 ? new Uint32Array(roles.buffer, roles.byteOffset, words >> 1) : null;
  }

  static over(values: Uint16Array, swapped: boolean, counts: Uint16Array, roles: Uint8Array, end: number): PairSkipper {
    return new PairSkipper(values, swapped, counts, roles, end >> 1);
  }

  /** From an even cluster index: the first index not skipped (from itself when none is). */
  from(start: number): number {
    const { v, c, roles, words, swapped } = this;
    this.lastUsed = -1;
    let w = start >> 1;
    const r = this.r;
    if (r !== null && (w & 1) === 0) {
      // Two pairs (four clusters, one word of roles) at a time while both are skipped; the loop
      // below settles the pair where this stops.
      const quads = words >> 1;
      let q = w >> 1;
      for (; q < quads; q++) {
        const x = swapped ? swapPair(v[2 * q]!) : v[2 * q]!;
        const y = swapped ? swapPair(v[2 * q + 1]!) : v[2 * q + 1]!;
        if (x !== c[2 * q] || y !== c[2 * q + 1]) break;
        if ((x | y) === 0) continue;
        // Both 1/1 on four claimed clusters (no role byte is 0: the has-zero-byte test).
        const rw = r[q]!;
        if (x !== 0x0001_0001 || y !== 0x0001_0001 || ((rw - 0x01010101) & ~rw & 0x80808080) !== 0) break;
        this.lastUsed = 4 * q + 3;
      }
      w = 2 * q;
    }
    while (w < words) {
      const x = swapped ? swapPair(v[w]!) : v[w]!;
      if (x !== c[w]) break;
      if (x !== 0) {
        if (!(x === 0x0001_0001 && roles[2 * w] !== 0 && roles[2 * w + 1] !== 0)) break;
        this.lastUsed = 2 * w + 1;
      }
      w++;
    }
    return 2 * w;
  }
}

