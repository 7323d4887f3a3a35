// The early map: which host clusters are in use, from the stored refcounts alone (spec: "Host
// cluster management" — a cluster is in use iff its refcount is not 0). The refcount blocks are few
// (512 for a 1 TiB image of 64 KiB clusters) and read before any L2 table, so this is known long
// before the owners are. Summarised in at most MAX_USAGE_BUCKETS buckets of equal size: small enough
// to send to the page at once, fine enough that every cluster is drawn at any map that fits a screen.
// A UsageTally counts the buckets of each refcount block as it is decoded (while later blocks are
// still being read), so that the summary is ready as soon as the last block has arrived.

import type { StoredRefcountArray } from '../qcow2';

/** Buckets of a usage summary at most (a 1400 × 900 map has about 1.3 M pixels; 2^18 cells is plenty). */
export const MAX_USAGE_BUCKETS = 1 << 18;

/** How many host clusters are in use, per bucket of `perBucket` consecutive clusters. */
export interface ClusterUsage {
  /** Host clusters of the file. */
  readonly clusters: number;
  /** Clusters per bucket (the last bucket may hold fewer). */
  readonly perBucket: number;
  /** Per bucket: clusters with a stored refcount other than 0. */
  readonly used: Uint32Array;
  /** Clusters in use in all (the sum of `used`, kept by the tally as it counts). */
  readonly inUse: number;
}

/**
 * The usage of clusters [0, clusters), counted bucket by bucket as their stored refcounts become
 * final. Contract: `settle(values, from, to)` is called only once values[from, to) hold their
 * final stored refcounts; `finish(values)` once every value does. The result equals
 * clusterUsage(values, clusters) whatever was settled before.
 */
export class UsageTally {
  readonly perBucket: number;
  private readonly used: Uint32Array;
  private readonly counted: Uint8Array;
  /** The sum of `used` (a bucket counted again replaces its count). */
  private total = 0;

  constructor(readonly clusters: number) {
    this.perBucket = Math.max(1, Math.ceil(clusters / MAX_USAGE_BUCKETS));
    const n = Math.ceil(clusters / this.perBucket);
    this.used = new Uint32Array(n);
    this.counted = new Uint8Array(n);
  }

  /** Counts the buckets lying wholly inside clusters [from, to). */
  settle(values: StoredRefcountArray, from: number, to: number): void {
    const end = Math.min(to, this.clusters);
    const b0 = Math.ceil(Math.max(0, from) / this.perBucket);
    // The last bucket may be short: it is whole once the range reaches the last cluster.
    const b1 = end >= this.clusters ? this.used.length : Math.floor(end / this.perBucket);
    if (b1 > b0) this.count(values, b0, b1);
  }

  /** Counts every bucket not counted yet and returns the summary. */
  finish(values: StoredRefcountArray): ClusterUsage {
    const n = this.used.length;
    for (let b = 0; b < n;) {
      if (this.counted[b]) {
        b++;
        continue;
      }
      let e = b + 1;
      while (e < n && !this.counted[e]) e++;
      this.count(values, b, e);
      b = e;
    }
    return { clusters: this.clusters, perBucket: this.perBucket, used: this.used, inUse: this.total };
  }

  private count(values: StoredRefcountArray, b0: number, b1: number): void {
    const { perBucket, used, clusters } = this;
    this.counted.fill(1, b0, b1);
    // 16-bit refcounts two at a time where the buckets hold whole words (the common case).
    const full = Math.min(b1, Math.floor(clusters / perBucket));
    let b = b0;
    let total = this.total;
    if (values instanceof Uint16Array && values.byteOffset % 4 === 0 && perBucket % 2 === 0 && full > b0) {
      const words = new Uint32Array(values.buffer, values.byteOffset, values.length >> 1);
      const half = perBucket >> 1;
      for (; b < full; b++) {
        let k = 0;
        for (let w = b * half, end = w + half; w < end; w++) {
          const x = words[w]!;
          if (x !== 0) k += ((x & 0xffff) !== 0 ? 1 : 0) + (x >>> 16 !== 0 ? 1 : 0);
        }
        total += k - used[b]!;
        used[b] = k;
      }
    }
    for (; b < b1; b++) {
      const k = countInUse(values, b * perBucket, Math.min(clusters, (b + 1) * perBucket));
      total += k - used[b]!;
      used[b] = k;
    }
    this.total = total;
  }
}

/** The usage of clusters [0, clusters) from their stored refcounts (`values`, at least that long). */
export function clusterUsage(values: StoredRefcountArray, clusters: number): ClusterUsage {
  return new UsageTally(clusters).finish(values);
}

function countInUse(values: StoredRefcountArray, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to; i++) if (values[i] !== 0) k++;
  return k;
}

/**
 * What the early map learns of owners while the L2 tables are read: per usage bucket, the roles
 * claimed so far by any of its clusters, as a mask with bit r set for role id r (roles.ts; FREE,
 * role 0, means "not claimed yet" during the walk and is never set). `done` of `total` L2 tables
 * had been scanned. A bucket with a mask keeps one in every later summary (a claimed cluster stays
 * claimed), though its bits may change (a data cluster found again through a snapshot is shared).
 */
export interface OwnerSummary {
  readonly perBucket: number;
  readonly masks: Uint32Array;
  /** Every role claimed in any bucket: the OR of `masks`. */
  readonly roles: number;
  /**
   * Buckets [from, to) hold every mask that differs from the previous summary of the same check,
   * whose `done` is `after` (-1 and the whole range for the first): a map that drew that one
   * redraws only these.
   */
  readonly after: number;
  readonly from: number;
  readonly to: number;
  readonly done: number;
  readonly total: number;
}

/** Per bucket of `perBucket` clusters of [0, clusters): the mask of the roles claimed in it. */
export function ownerMasks(roles: Uint8Array, clusters: number, perBucket: number): Uint32Array {
  const masks = new Uint32Array(Math.ceil(clusters / perBucket));
  ownerMasksInto(roles, clusters, perBucket, masks, 0, masks.length);
  return masks;
}

/** ownerMasks' masks of buckets [b0, b1) only, written into `masks` (the others are left as they are). */
export function ownerMasksInto(roles: Uint8Array, clusters: number, perBucket: number, masks: Uint32Array, b0: number, b1: number): void {
  const n = Math.min(b1, masks.length, Math.ceil(clusters / perBucket));
  const end = Math.min(clusters, roles.length);
  // Four role bytes at a time where aligned: a word of one repeated byte (a run of one role, or
  // unclaimed) adds one bit; buckets are mostly such runs.
  const words = roles.byteOffset % 4 === 0 ? new Uint32Array(roles.buffer, roles.byteOffset, end >> 2) : null;
  for (let b = Math.max(0, b0); b < n; b++) {
    const from = b * perBucket;
    const to = Math.min(end, from + perBucket);
    let m = 0;
    let k = from;
    if (words && perBucket % 4 === 0) {
      for (let w = from >> 2, we = to >> 2; w < we; w++) {
        const x = words[w]!;
        if (x === 0) continue;
        const r = x & 0xff;
        if (x === Math.imul(r, 0x01010101) >>> 0) m |= 1 << r;
        else m |= bit(x & 0xff) | bit((x >>> 8) & 0xff) | bit((x >>> 16) & 0xff) | bit(x >>> 24);
      }
      k = Math.max(from, to & ~3);
    }
    for (; k < to; k++) m |= bit(roles[k]!);
    masks[b] = m >>> 0;
  }
}

/** The mask bit of role byte r: none for FREE (0, unclaimed); roles are below 32. */
function bit(r: number): number {
  return r === 0 ? 0 : (1 << (r & 31));
}

/** The OR of every mask. */
export function unionMask(masks: Uint32Array): number {
  let all = 0;
  for (let i = 0; i < masks.length; i++) all |= masks[i]!;
  return all >>> 0;
}

/** The smallest range [from, to) of buckets outside which `a` and `b` are equal (from = to: equal). */
export function changedRange(a: Uint32Array, b: Uint32Array): { from: number; to: number } {
  const n = Math.max(a.length, b.length);
  let from = 0;
  while (from < n && a[from] === b[from]) from++;
  let to = n;
  while (to > from && a[to - 1] === b[to - 1]) to--;
  return { from, to };
}
