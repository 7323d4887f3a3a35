// The one seeded PRNG of the tests and the fuzzer: the same seed gives the same numbers on any
// machine, so a random image (random-images.ts) or a fuzz case (tools/fuzz) is reproduced from
// its seed alone. The generator is mulberry32, whose streams the differential tests' seeds were
// chosen from (they cover the features listed in qemu-diff.test.ts).

/** Mixes a seed and a case index into a 32-bit case seed (murmur3's finaliser over both). */
export function caseSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Next uniformly distributed 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** Integer in [0, n); n ≥ 1 and below 2^32. */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new RangeError('pick from an empty list');
    return list[this.int(list.length)]!;
  }

  /** A 64-bit value from two draws. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

/** The same stream as a function of no arguments: numbers in [0, 1). */
export function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
