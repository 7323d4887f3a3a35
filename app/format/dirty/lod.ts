// Level of detail for drawing extents (a bitmap lane) at any zoom: a pyramid of per-bucket
// summaries over the disk, built once in O(extents + buckets). Level 0 splits [0, size) into B
// equal buckets (B a power of two, at most MAX_BASE_BUCKETS); level l + 1 merges pairs of level l.
// Each bucket keeps the set of types of every extent touching it (a bit mask) and the number of
// extents starting in it. Drawing picks the level whose buckets are at most one pixel wide and
// ORs at most a few buckets per pixel column: O(pixels) whatever the number of extents. Zoomed in
// past level 0, a column's extents are found by two binary searches and their types ORed from
// masks over aligned blocks of extent indices (a segment tree, 2 bytes an extent): O(pixels · log
// extents), and exact.
//
// Contract: a column shows the highest-ranked type of the extents overlapping it, possibly widened
// by less than one pixel on each side (a bucket straddles the column's edge) — never narrower, so
// a lone dirty extent among millions of clean ones is drawn at least one pixel wide at every zoom.
// Types must be below 8 (a Uint8 mask); otherwise no pyramid is built.

/** The extents a pyramid summarises: run i is [starts[i], starts[i + 1] or size) of types[i]. */
export interface ExtentArrays {
  readonly starts: ArrayLike<number>;
  readonly types: ArrayLike<number>;
  readonly size: number;
}

/** Level 0 holds at most this many buckets (a power of two: 5 bytes each, twice over all levels). */
export const MAX_BASE_BUCKETS = 1 << 20;

export interface PyramidLevel {
  /** Bytes of guest disk per bucket. */
  readonly width: number;
  /** Bit t set: some extent of type t overlaps the bucket. */
  readonly masks: Uint8Array;
  /** Extents whose first byte lies in the bucket. */
  readonly counts: Uint32Array;
}

export class ExtentPyramid {
  /** Bucket reads of the last `columns` call (work is bounded by the pixel count). */
  lastWork = 0;

  private constructor(
    readonly size: number,
    readonly levels: readonly PyramidLevel[],
    private readonly starts: ArrayLike<number>,
    /** byIndex[j][x]: types of extents [x·2^j, (x + 1)·2^j) as a mask. */
    private readonly byIndex: readonly Uint8Array[],
  ) {}

  /** The pyramid of `e`, or null when it has a type of 8 or more or covers nothing. */
  static build(e: ExtentArrays, maxBase = MAX_BASE_BUCKETS): ExtentPyramid | null {
    const n = e.starts.length;
    if (n === 0 || e.size <= 0) return null;
    let base = 1;
    while (base < n && base < maxBase) base *= 2;
    const width = e.size / base;
    const masks = new Uint8Array(base);
    const counts = new Uint32Array(base);
    const bucket = (pos: number) => Math.min(base - 1, Math.floor(pos / width));
    for (let i = 0; i < n; i++) {
      const t = e.types[i]!;
      if (t >= 8) return null;
      const s = e.starts[i]!;
      const end = i + 1 < n ? e.starts[i + 1]! : e.size;
      if (end <= s) continue;
      const bit = 1 << t;
      const k0 = bucket(s);
      counts[k0]!++;
      const k1 = bucket(end - 1);
      for (let k = k0; k <= k1; k++) masks[k]! |= bit;
    }
    const bits = new Uint8Array(n);
    for (let i = 0; i < n; i++) bits[i] = 1 << e.types[i]!;
    const byIndex: Uint8Array[] = [bits];
    for (let prev = byIndex[0]!; prev.length > 1;) {
      const up = new Uint8Array(Math.ceil(prev.length / 2));
      for (let x = 0; x < up.length; x++) up[x] = prev[2 * x]! | (prev[2 * x + 1] ?? 0);
      byIndex.push(up);
      prev = up;
    }
    const levels: PyramidLevel[] = [{ width, masks, counts }];
    for (let prev = levels[0]!; prev.masks.length > 1;) {
      const m = prev.masks.length / 2;
      const up: PyramidLevel = { width: prev.width * 2, masks: new Uint8Array(m), counts: new Uint32Array(m) };
      for (let k = 0; k < m; k++) {
        up.masks[k] = prev.masks[2 * k]! | prev.masks[2 * k + 1]!;
        up.counts[k] = prev.counts[2 * k]! + prev.counts[2 * k + 1]!;
      }
      levels.push(up);
      prev = up;
    }
    return new ExtentPyramid(e.size, levels, e.starts, byIndex);
  }

  /** The finest level whose buckets are at most `bytesPerPixel` wide, or null (zoomed in past level 0). */
  levelFor(bytesPerPixel: number): number | null {
    if (this.levels[0]!.width > bytesPerPixel) return null;
    let l = 0;
    while (l + 1 < this.levels.length && this.levels[l + 1]!.width <= bytesPerPixel) l++;
    return l;
  }

  /**
   * Type shown by each of `width` columns over guest bytes [from, to): the highest `rank` among the
   * types of the buckets overlapping the column (of the extents overlapping it, when the view is
   * finer than level 0); -1 where the disk is not.
   */
  columns(from: number, to: number, width: number, rank: (t: number) => number): Int16Array {
    const perPx = (to - from) / width;
    // The type each mask shows, by rank: 256 entries, computed per call (rank may change).
    const best = new Int16Array(256).fill(-1);
    for (let m = 1; m < 256; m++) {
      for (let t = 0; t < 8; t++) if (m & (1 << t) && (best[m]! < 0 || rank(t) > rank(best[m]!))) best[m] = t;
    }
    const l = this.levelFor(perPx);
    if (l === null) return this.columnsByIndex(from, perPx, width, best);
    const level = this.levels[l]!;
    const w = level.width;
    const last = level.masks.length - 1;
    const cols = new Int16Array(Math.max(0, width)).fill(-1);
    let work = 0;
    for (let p = 0; p < width; p++) {
      const a = Math.max(0, from + p * perPx);
      const b = Math.min(this.size, from + (p + 1) * perPx);
      if (b <= a) continue;
      const k0 = Math.min(last, Math.floor(a / w));
      const k1 = Math.min(last, Math.max(k0, Math.ceil(b / w) - 1));
      let mask = 0;
      for (let k = k0; k <= k1; k++) mask |= level.masks[k]!;
      work += k1 - k0 + 1;
      cols[p] = best[mask]!;
    }
    this.lastWork = work;
    return cols;
  }

  /** Index of the extent containing `pos` (0 ≤ pos < size); adds its steps to `lastWork`. */
  private find(pos: number): number {
    const st = this.starts;
    let lo = 0;
    let hi = this.byIndex[0]!.length - 1;
    while (lo < hi) {
      this.lastWork++;
      const mid = (lo + hi + 1) >> 1;
      if (st[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Columns from the extents overlapping each: two searches and a segment-tree OR per column. */
  private columnsByIndex(from: number, perPx: number, width: number, best: Int16Array): Int16Array {
    const cols = new Int16Array(Math.max(0, width)).fill(-1);
    this.lastWork = 0;
    for (let p = 0; p < width; p++) {
      const a = Math.max(0, from + p * perPx);
      const b = Math.min(this.size, from + (p + 1) * perPx);
      if (b <= a) continue;
      let lo = this.find(a);
      let hi = this.find(b);
      if (this.starts[hi]! >= b) hi--;
      hi++;
      let mask = 0;
      for (let j = 0; lo < hi; j++) {
        const level = this.byIndex[j]!;
        if (lo & 1) mask |= level[lo++]!;
        if (hi & 1) mask |= level[--hi]!;
        lo >>= 1;
        hi >>= 1;
        this.lastWork += 2;
      }
      cols[p] = best[mask]!;
    }
    return cols;
  }
}
