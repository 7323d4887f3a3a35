// Links between the guest disk and the host file: the host clusters a guest span's bytes live in
// (from the map ranges' host offsets at depth 0, and from the compressed index for compressed
// clusters, whose ranges carry no offset), and the reverse, the guest spans using one host cluster.
// Only this file's own clusters link: backing-file offsets (depth ≥ 1) and an external data file's
// belong to other files. Pure: no DOM.

import { compressedTouching, type CompressedIndexView, type MapRange } from '../format';
import { firstRangeAfter, GuestKind, kindOf, type GuestImageFlags } from './guest-layout';
import type { ClusterRange } from './lod';

const byGuest = new WeakMap<CompressedIndexView, Uint32Array>();

/** Entry numbers of the compressed index sorted by guest cluster (built once per index). */
function guestOrder(ix: CompressedIndexView): Uint32Array {
  let order = byGuest.get(ix);
  if (!order) {
    order = new Uint32Array(ix.n);
    for (let i = 0; i < ix.n; i++) order[i] = i;
    order.sort((p, q) => ix.guest[p]! - ix.guest[q]!);
    byGuest.set(ix, order);
  }
  return order;
}

/** Sorts and merges cluster ranges that touch or overlap. */
export function mergeRanges(list: ClusterRange[]): ClusterRange[] {
  list.sort((p, q) => p.start - q.start);
  const out: { start: number; end: number }[] = [];
  for (const r of list) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/**
 * Host clusters [start, end) holding the bytes of guest span [start, end): data and preallocated
 * zeros at depth 0, and compressed clusters; at most `max` pieces before merging.
 */
export function hostClustersOfGuest(
  ranges: readonly MapRange[], start: number, end: number, clusterSize: number, f: GuestImageFlags,
  ix: CompressedIndexView | null, max = 65536,
): ClusterRange[] {
  const out: ClusterRange[] = [];
  for (let i = firstRangeAfter(ranges, start); i < ranges.length && ranges[i]!.start < end && out.length < max; i++) {
    const r = ranges[i]!;
    if (r.depth !== 0 || f.externalData) continue;
    const a = Math.max(start, r.start);
    const b = Math.min(end, r.start + r.length);
    if (r.offset !== undefined) {
      const h = r.offset + (a - r.start);
      out.push({ start: Math.floor(h / clusterSize), end: Math.ceil((h + (b - a)) / clusterSize) });
    } else if (ix && kindOf(r, f) === GuestKind.COMPRESSED) {
      const order = guestOrder(ix);
      const g0 = Math.floor(a / clusterSize);
      const g1 = Math.ceil(b / clusterSize);
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (ix.guest[order[m]!]! < g0) lo = m + 1;
        else hi = m;
      }
      for (let j = lo; j < order.length && ix.guest[order[j]!]! < g1 && out.length < max; j++) {
        const e = order[j]!;
        const host = ix.host[e]!;
        out.push({ start: Math.floor(host / clusterSize), end: Math.floor((host + Math.max(1, ix.length[e]!) - 1) / clusterSize) + 1 });
      }
    }
  }
  return mergeRanges(out);
}

/** A guest byte span [start, end). */
export interface GuestSpan {
  readonly start: number;
  readonly end: number;
}

/** Guest spans whose bytes live in host cluster `k` (this file's data, preallocated zeros, compressed). */
export function guestSpansOfHost(
  ranges: readonly MapRange[], k: number, clusterSize: number, f: GuestImageFlags, ix: CompressedIndexView | null, max = 256,
): GuestSpan[] {
  const out: GuestSpan[] = [];
  if (f.externalData) return out;
  const lo = k * clusterSize;
  const hi = lo + clusterSize;
  // Host offsets need not follow guest order (fragmentation): every range is looked at.
  for (let i = 0; i < ranges.length && out.length < max; i++) {
    const r = ranges[i]!;
    if (r.depth !== 0 || r.offset === undefined) continue;
    const a = Math.max(lo, r.offset);
    const b = Math.min(hi, r.offset + r.length);
    if (a < b) out.push({ start: r.start + (a - r.offset), end: r.start + (b - r.offset) });
  }
  if (ix) {
    for (const e of compressedTouching(ix, clusterSize, k, max)) {
      const g = ix.guest[e]! * clusterSize;
      out.push({ start: g, end: g + clusterSize });
    }
  }
  return out.sort((p, q) => p.start - q.start);
}
