// The early map's pixels: a usage summary (app/format check/usage.ts: clusters in use per bucket,
// from the refcount blocks) laid out as square cells in reading order, as the cluster map lays out
// clusters, each cell coloured from free to in use by the share of its clusters in use. Pure: the
// component (UsageMap.tsx) puts the pixels on a canvas.

import type { ClusterUsage } from '../format';

/** How the usage summary fills a width × height canvas: `per` buckets per square cell of `size` px. */
export interface UsageLayout {
  readonly per: number;
  readonly cells: number;
  readonly size: number;
  readonly cols: number;
  readonly rows: number;
}

export function usageLayout(u: ClusterUsage, width: number, height: number): UsageLayout {
  const area = Math.max(1, width * height);
  const buckets = Math.max(1, u.used.length);
  // Of the layouts with 1, 2, 4, … buckets per cell (as few as fit), the one covering the most of
  // the canvas: integer cell sizes leave much of it empty for some counts.
  let best: UsageLayout | null = null;
  for (let per = Math.max(1, Math.ceil(buckets / area)); ; per *= 2) {
    const cells = Math.ceil(buckets / per);
    let size = Math.max(1, Math.floor(Math.sqrt(area / cells)));
    // The largest square cell whose rows all fit.
    while (size > 1 && Math.ceil(cells / Math.floor(width / size)) * size > height) size--;
    const cols = Math.max(1, Math.min(cells, Math.floor(width / size)));
    const l = { per, cells, size, cols, rows: Math.ceil(cells / cols) };
    if (!best || cells * size * size > best.cells * best.size * best.size) best = l;
    if (cells === 1 || per >= 64) return best;
  }
}

/** RGBA (little-endian word) of a share `t` in [0, 1] between the free and in-use colours. */
function mix(free: readonly number[], used: readonly number[], t: number): number {
  const c = (i: number) => Math.round(free[i]! + (used[i]! - free[i]!) * t);
  return (0xff << 24 | c(2) << 16 | c(1) << 8 | c(0)) >>> 0;
}

/**
 * Paints `pixels` (width × height, RGBA words) with the usage map; returns the layout and the
 * clusters drawn (every cluster of the file, in some cell).
 */
export function rasterUsage(u: ClusterUsage, pixels: Uint32Array, width: number, height: number, free: readonly number[], used: readonly number[], background: readonly number[]): { layout: UsageLayout; clustersDrawn: number } {
  const layout = usageLayout(u, width, height);
  pixels.fill(mix(background, background, 0));
  const { size, cols } = layout;
  let drawn = 0;
  let lastT = -1;
  let colour = 0;
  // Cells of one grid row that share a colour are painted as one run, a fill per pixel row: most
  // neighbours share one (all free, all in use), and a fill per cell and pixel row (2^18 cells of
  // 2 × 2 px) cost tens of milliseconds.
  let runColour = 0;
  let runFrom = 0;
  const flush = (row: number, to: number) => {
    if (to <= runFrom) return;
    const y0 = row * size;
    const x0 = runFrom * size;
    const x1 = Math.min(width, to * size);
    if (x0 >= x1) return;
    for (let y = y0; y < Math.min(height, y0 + size); y++) pixels.fill(runColour, y * width + x0, y * width + x1);
  };
  for (let c = 0; c < layout.cells; c++) {
    const b0 = c * layout.per;
    const b1 = Math.min(u.used.length, b0 + layout.per);
    let inUse = 0;
    for (let b = b0; b < b1; b++) inUse += u.used[b]!;
    const clusters = Math.min(u.clusters, b1 * u.perBucket) - b0 * u.perBucket;
    drawn += clusters;
    // Any cluster in use shows: a cell with one used cluster in a million is not drawn as free.
    const t = inUse === 0 ? 0 : Math.max(0.35, inUse / Math.max(1, clusters));
    // Neighbouring cells mostly share a share (all free, all in use): mix only when it changes.
    if (t !== lastT) {
      lastT = t;
      colour = mix(free, used, t);
    }
    const col = c % cols;
    const row = (c - col) / cols;
    if (col === 0) {
      runColour = colour;
      runFrom = 0;
    } else if (colour !== runColour) {
      flush(row, col);
      runColour = colour;
      runFrom = col;
    }
    if (col === cols - 1 || c === layout.cells - 1) flush(row, col + 1);
  }
  return { layout, clustersDrawn: drawn };
}
