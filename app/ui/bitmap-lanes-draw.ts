// Level of detail for the bitmap lanes: which type each pixel column shows, and which extent the
// pointer is over. A column shows the highest-priority type of every extent touching it, so a
// lone dirty (or unknown) extent is never hidden however far out the view is. With few extents in
// view they are drawn one by one; with more than a few per column, from the lane's pyramid of
// per-bucket summaries (format/dirty/lod.ts, built once per lane), so a redraw costs O(columns)
// (O(columns · log extents) zoomed in past its finest buckets) even for millions of extents.

import { ExtentPyramid } from '../format';
import type { CompactExtents } from '../worker/bitmap-maps';

export interface LaneStyle {
  /** Fill per type number ('' = draw nothing). */
  readonly colors: readonly string[];
  /** Priority per type number: the higher wins a pixel column. */
  readonly priority: readonly number[];
  /** Words per type number, for the tooltip. */
  readonly names: readonly string[];
}

/** Index of the extent containing `pos` (0 ≤ pos < size). */
function find(e: CompactExtents, pos: number): number {
  let lo = 0;
  let hi = e.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (e.starts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const endOf = (e: CompactExtents, i: number) => (i + 1 < e.starts.length ? e.starts[i + 1]! : e.size);

/** Extents in view per column above which a lane is drawn from its pyramid. */
const PER_COLUMN = 4;
/** Lanes with fewer extents are always drawn one by one (no pyramid is built). */
const PYRAMID_MIN_EXTENTS = 1 << 14;
const pyramids = new WeakMap<CompactExtents, ExtentPyramid | null>();

function pyramidOf(e: CompactExtents): ExtentPyramid | null {
  let p = pyramids.get(e);
  if (p === undefined) {
    p = ExtentPyramid.build(e);
    pyramids.set(e, p);
  }
  return p;
}

/** Type shown by each of `width` columns over guest bytes [from, to); -1 where no extent is. */
export function laneColumns(e: CompactExtents, from: number, to: number, width: number, priority: readonly number[]): Int16Array {
  const cols = new Int16Array(width).fill(-1);
  if (e.starts.length === 0 || to <= from) return cols;
  const perPx = (to - from) / width;
  const rank = (t: number) => (t < 0 ? -1 : priority[t] ?? 0);
  if (e.starts.length >= PYRAMID_MIN_EXTENTS && find(e, Math.min(e.size, to)) - find(e, Math.max(0, from)) > PER_COLUMN * width) {
    const pyramid = pyramidOf(e);
    if (pyramid) return pyramid.columns(from, to, width, rank);
  }
  for (let i = find(e, Math.max(0, from)); i < e.starts.length; i++) {
    const s = e.starts[i]!;
    if (s >= to) break;
    const t = e.types[i]!;
    const p0 = Math.max(0, Math.floor((s - from) / perPx));
    const p1 = Math.min(width - 1, Math.ceil((endOf(e, i) - from) / perPx) - 1);
    for (let p = p0; p <= p1; p++) if (rank(t) > rank(cols[p]!)) cols[p] = t;
  }
  return cols;
}

/** The highest-priority extent touching guest bytes [from, to) (looks at 10000 extents at most). */
export function extentAt(e: CompactExtents, from: number, to: number, priority: readonly number[]): { start: number; end: number; type: number } | null {
  if (e.starts.length === 0 || from >= e.size) return null;
  let best = -1;
  for (let i = find(e, Math.max(0, from)), n = 0; i < e.starts.length && e.starts[i]! < to && n < 10_000; i++, n++) {
    if (best < 0 || (priority[e.types[i]!] ?? 0) > (priority[e.types[best]!] ?? 0)) best = i;
  }
  return best < 0 ? null : { start: e.starts[best]!, end: endOf(e, best), type: e.types[best]! };
}
