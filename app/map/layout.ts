// Geometry of the cluster map: host cluster N is the cell at row ⌊N / cols⌋, column N mod cols, rows
// running from cluster 0 at the top left, like a defragmenter's map. A view is a d3-zoom-style
// transform: `k` is the side of one cell in CSS pixels and (x, y) the screen position of cell (0, 0).
// Also the "go to offset" parser and the number formats the map's labels use. Pure: no DOM.

/** Largest cell side the map zooms to, in CSS pixels. */
export const MAX_CELL_PX = 32;

export interface Grid {
  readonly clusters: number;
  readonly cols: number;
  readonly rows: number;
}

export interface View {
  readonly k: number;
  readonly x: number;
  readonly y: number;
}

/** Largest cell side a small file's cells grow to when it is shown whole (Fit). */
export const FILL_CELL_PX = 160;

/**
 * Chooses the number of columns for `clusters` cells in a width × height viewport. A file that fits
 * at maxCell-pixel cells gets the columns that make its cells largest (up to FILL_CELL_PX), so a
 * small image fills the pane; a larger one gets a grid of about the viewport's aspect ratio (columns
 * rounded up to a multiple of 8 past 64, so row starts fall on round offsets).
 */
export function gridFor(clusters: number, width: number, height: number, maxCell = MAX_CELL_PX): Grid {
  const n = Math.max(0, Math.floor(clusters));
  if (n === 0) return { clusters: 0, cols: 1, rows: 0 };
  const w = Math.max(1, width);
  const h = Math.max(1, height);
  const perRow = Math.max(1, Math.floor(w / maxCell));
  if (Math.ceil(n / perRow) * maxCell <= h) {
    let best = { cols: n, k: 0 };
    for (let c = 1; c <= n; c++) {
      const k = Math.min(FILL_CELL_PX, w / c, h / Math.ceil(n / c));
      if (k > best.k) best = { cols: c, k };
    }
    return { clusters: n, cols: best.cols, rows: Math.ceil(n / best.cols) };
  }
  let cols = Math.ceil(Math.sqrt((n * w) / h));
  if (cols > 64) cols = Math.ceil(cols / 8) * 8;
  cols = Math.min(n, Math.max(1, cols));
  return { clusters: n, cols, rows: Math.ceil(n / cols) };
}

/** Row and column of a cluster's cell. */
export function cellOf(grid: Grid, cluster: number): { row: number; col: number } {
  const row = Math.floor(cluster / grid.cols);
  return { row, col: cluster - row * grid.cols };
}

/** The cluster of a cell, or -1 when the cell is outside the grid or past the last cluster. */
export function clusterOf(grid: Grid, row: number, col: number): number {
  if (row < 0 || col < 0 || col >= grid.cols || row >= grid.rows) return -1;
  const i = row * grid.cols + col;
  return i < grid.clusters ? i : -1;
}

/** The cell (possibly outside the grid) under a screen point. */
export function cellAtPoint(view: View, sx: number, sy: number): { row: number; col: number } {
  return { row: Math.floor((sy - view.y) / view.k), col: Math.floor((sx - view.x) / view.k) };
}

/** Screen rectangle of a cluster's cell. */
export function cellRect(view: View, grid: Grid, cluster: number): { x: number; y: number; size: number } {
  const { row, col } = cellOf(grid, cluster);
  return { x: view.x + col * view.k, y: view.y + row * view.k, size: view.k };
}

/** Cell size at which the whole grid fits the viewport (never above FILL_CELL_PX). */
export function fitScale(grid: Grid, width: number, height: number): number {
  if (grid.rows === 0) return MAX_CELL_PX;
  return Math.min(FILL_CELL_PX, width / grid.cols, height / Math.max(1, grid.rows));
}

/** Space kept above the first row when the grid is shorter than the viewport. */
const TOP_PAD = 8;

/** The view showing the whole grid, centred horizontally, from the top. */
export function fitView(grid: Grid, width: number, height: number): View {
  const k = fitScale(grid, width, height);
  return constrainView({ k, x: 0, y: 0 }, grid, width, height);
}

/**
 * Keeps the grid in sight: an axis that fits the viewport is centred (columns) or pinned near the top
 * (rows); a larger one may be panned until a quarter of the viewport is past either end of the grid.
 */
export function constrainView(view: View, grid: Grid, width: number, height: number): View {
  const axis = (t: number, cells: number, span: number, fitAt: number) => {
    const size = cells * view.k;
    if (size <= span) return fitAt === 0 ? (span - size) / 2 : Math.min(fitAt, span - size);
    const slack = span / 4;
    return Math.min(slack, Math.max(span - size - slack, t));
  };
  return { k: view.k, x: axis(view.x, grid.cols, width, 0), y: axis(view.y, grid.rows, height, TOP_PAD) };
}

/** Zoom limits: from "the whole file fits" to "a cell is maxCell pixels" (or the fit, when larger). */
export function scaleExtent(grid: Grid, width: number, height: number, maxCell = MAX_CELL_PX): [number, number] {
  const lo = fitScale(grid, width, height);
  return [lo, Math.max(lo, maxCell)];
}

/** The view at cell size k with a cluster's cell centred in the viewport. */
export function centerOn(grid: Grid, width: number, height: number, cluster: number, k: number): View {
  const { row, col } = cellOf(grid, cluster);
  return { k, x: width / 2 - (col + 0.5) * k, y: height / 2 - (row + 0.5) * k };
}

/**
 * The view that shows host clusters first..last (inclusive) as large as fits, with a cell of margin
 * around them: their own columns when they share a row, else whole rows. Not clamped (clampView).
 */
export function fitCellsView(grid: Grid, width: number, height: number, first: number, last: number, maxCell = MAX_CELL_PX): View {
  const a = cellOf(grid, Math.max(0, Math.min(first, last)));
  const b = cellOf(grid, Math.max(0, Math.max(first, last)));
  const [c0, c1] = a.row === b.row ? [a.col, b.col + 1] : [0, grid.cols];
  const r0 = a.row;
  const r1 = b.row + 1;
  const k = Math.min(maxCell, width / (c1 - c0 + 2), height / (r1 - r0 + 2));
  return { k, x: width / 2 - ((c0 + c1) / 2) * k, y: height / 2 - ((r0 + r1) / 2) * k };
}

/**
 * Pyramid level to draw at for a cell size in device pixels: the smallest L whose 2^L × 2^L buckets
 * are at least one pixel wide, so that every bucket owns at least one pixel centre and none is
 * skipped by sampling.
 */
export function levelFor(deviceCell: number): number {
  if (!(deviceCell > 0)) return 0;
  let level = 0;
  while (deviceCell * 2 ** level < 1 && level < 40) level++;
  return level;
}

/** The visible part of the grid in cell units (clamped to the grid). */
export function visibleCells(view: View, grid: Grid, width: number, height: number) {
  const col0 = Math.max(0, (0 - view.x) / view.k);
  const row0 = Math.max(0, (0 - view.y) / view.k);
  const col1 = Math.min(grid.cols, (width - view.x) / view.k);
  const row1 = Math.min(grid.rows, (height - view.y) / view.k);
  return { col0, row0, col1: Math.max(col0, col1), row1: Math.max(row0, row1) };
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

/**
 * Parses a byte offset typed by a person: hex (`0x30000`), decimal (`196608`) or a decimal with a
 * binary suffix as qemu-img takes them (`1.5G`, `64k`, `3 MiB`, `512B`). Returns null for anything
 * else, negative values, or values that are not exact integers below 2^53.
 */
export function parseOffset(text: string): number | null {
  const t = text.trim().replace(/_/g, '');
  const hex = /^0x([0-9a-f]+)$/i.exec(t);
  if (hex) {
    const v = Number.parseInt(hex[1] as string, 16);
    return Number.isSafeInteger(v) ? v : null;
  }
  const dec = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgtpe]?)(?:i?b)?$/i.exec(t);
  if (!dec) return null;
  const unit = UNITS[(dec[2] as string).toLowerCase()] as number;
  const v = Number(dec[1]) * unit;
  if (!Number.isFinite(v) || !Number.isSafeInteger(Math.floor(v))) return null;
  if (unit === 1 && !Number.isInteger(v)) return null;
  return Math.floor(v);
}
