// The early map: which host clusters are in use, from the stored refcounts alone (spec: "Host
// cluster management" — a cluster is in use iff its refcount is not 0). The refcount blocks are few
// (512 for a 1 TiB image of 64 KiB clusters) and read before any L2 table, so this is known long
// before the owners are. Summarised in at most MAX_USAGE_BUCKETS buckets of equal size: small enough
// to send to the page at once, fine enough that every cluster is drawn at any map that fits a screen.

import type { RefcountArray } from '../qcow2';

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
}

/** The usage of clusters [0, clusters) from their stored refcounts (`values`, at least that long). */
export function clusterUsage(values: RefcountArray, clusters: number): ClusterUsage {
  const perBucket = Math.max(1, Math.ceil(clusters / MAX_USAGE_BUCKETS));
  const n = Math.ceil(clusters / perBucket);
  const used = new Uint32Array(n);
  // 16-bit refcounts two at a time where the buckets hold whole words (the common case).
  if (values instanceof Uint16Array && values.byteOffset % 4 === 0 && perBucket % 2 === 0) {
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length >> 1);
    const full = Math.floor(clusters / perBucket);
    const half = perBucket >> 1;
    for (let b = 0; b < full; b++) {
      let k = 0;
      for (let w = b * half, end = w + half; w < end; w++) {
        const x = words[w]!;
        if (x !== 0) k += ((x & 0xffff) !== 0 ? 1 : 0) + (x >>> 16 !== 0 ? 1 : 0);
      }
      used[b] = k;
    }
    for (let b = full; b < n; b++) used[b] = countInUse(values, b * perBucket, clusters);
    return { clusters, perBucket, used };
  }
  for (let b = 0; b < n; b++) {
    const end = Math.min(clusters, (b + 1) * perBucket);
    let k = 0;
    for (let i = b * perBucket; i < end; i++) if (values[i] !== 0) k++;
    used[b] = k;
  }
  return { clusters, perBucket, used };
}

function countInUse(values: RefcountArray, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to; i++) if (values[i] !== 0) k++;
  return k;
}
