// Geometry of the guest map: guest cells (a cluster, a subcluster or a power-of-two multiple of
// one) laid out in square blocks of B × B cells, blocks row-major over the pane and cells row-major
// inside each block. A block is a contiguous guest range, so at "fit" a large disk shows as blocks
// of readable size (each drawn in the most telling colour of its cells) and zooming in opens each
// block into its own cells. B = 1 is the plain row-major grid. Pure: no DOM.

import { fitScale, gridFor, type Grid, type View } from './layout';

export interface GuestGrid extends Grid {
  /** Side of a block in cells (a power of two); cols and rows count cells. */
  readonly block: number;
  readonly blockCols: number;
  readonly blockRows: number;
}

/** Smallest block side (CSS px) wanted when the whole disk shows. */
export const MIN_FIT_BLOCK_PX = 10;
/** Cell side (CSS px) from which single cells are drawn and picked instead of blocks. */
export const CELL_LEVEL_PX = 3;

/** The layout of `cells` cells in a width × height pane, with blocks of at least `minPx` at fit. */
export function guestGridFor(cells: number, width: number, height: number, minPx = MIN_FIT_BLOCK_PX, align = 1): GuestGrid {
  let block = 1;
  for (;;) {
    const blocks = Math.ceil(cells / (block * block));
    let g = gridFor(blocks, width, height);
    if (block === 1) g = alignCols(g, align);
    if (fitScale(g, width, height) >= minPx || blocks <= 1 || block >= 1 << 12) {
      return { clusters: cells, block, blockCols: g.cols, blockRows: g.rows, cols: g.cols * block, rows: g.rows * block };
    }
    block *= 2;
  }
}

/** Columns rounded to a multiple of `align` cells (cells per cluster with subclusters) when wider. */
function alignCols(g: Grid, align: number): Grid {
  if (align <= 1 || g.cols <= align) return g;
  const cols = Math.max(align, Math.round(g.cols / align) * align);
  return { clusters: g.clusters, cols, rows: Math.ceil(g.clusters / cols) };
}

/** Row and column (in cells) of cell i. */
export function guestCellPos(g: GuestGrid, i: number): { row: number; col: number } {
  const per = g.block * g.block;
  const b = Math.floor(i / per);
  const w = i - b * per;
  const br = Math.floor(b / g.blockCols);
  const bc = b - br * g.blockCols;
  const ir = Math.floor(w / g.block);
  return { row: br * g.block + ir, col: bc * g.block + (w - ir * g.block) };
}

/** The cell at a row and column, or -1 outside the grid or past the last cell. */
export function guestCellAt(g: GuestGrid, row: number, col: number): number {
  if (row < 0 || col < 0 || row >= g.rows || col >= g.cols) return -1;
  const br = Math.floor(row / g.block);
  const bc = Math.floor(col / g.block);
  const i = (br * g.blockCols + bc) * g.block * g.block + (row - br * g.block) * g.block + (col - bc * g.block);
  return i < g.clusters ? i : -1;
}

/** Whether a view at cell side k shows and picks single cells (else whole blocks). */
export function cellLevel(g: GuestGrid, k: number): boolean {
  return g.block === 1 || k >= CELL_LEVEL_PX;
}

/**
 * What a pick at (row, col) selects at cell side k: cells [first, last) — one cell, or the whole
 * block at block level — or null outside the grid.
 */
export function pickAt(g: GuestGrid, k: number, row: number, col: number): { first: number; last: number } | null {
  const i = guestCellAt(g, row, col);
  if (i < 0) return null;
  if (cellLevel(g, k)) return { first: i, last: i + 1 };
  const per = g.block * g.block;
  const first = Math.floor(i / per) * per;
  return { first, last: Math.min(g.clusters, first + per) };
}

/** Cells [first, last) visible in a width × height pane under `view` (the corners' cells, in guest order). */
export function visibleSpan(g: GuestGrid, view: View, width: number, height: number): { first: number; last: number } {
  const clampR = (r: number) => Math.min(g.rows - 1, Math.max(0, r));
  const clampC = (c: number) => Math.min(g.cols - 1, Math.max(0, c));
  const r0 = clampR(Math.floor(-view.y / view.k));
  const c0 = clampC(Math.floor(-view.x / view.k));
  const r1 = clampR(Math.floor((height - view.y) / view.k - 1e-9));
  const c1 = clampC(Math.floor((width - view.x) / view.k - 1e-9));
  const first = Math.max(0, index(g, r0, c0));
  const lastCell = index(g, r1, c1);
  return { first: Math.min(first, g.clusters), last: Math.min(g.clusters, Math.max(first + 1, lastCell + 1)) };
}

/** guestCellAt without the bound on the last cell (positions past it give larger numbers). */
function index(g: GuestGrid, row: number, col: number): number {
  const br = Math.floor(row / g.block);
  const bc = Math.floor(col / g.block);
  return (br * g.blockCols + bc) * g.block * g.block + (row - br * g.block) * g.block + (col - bc * g.block);
}

/** Rectangles (in cells) covering cells [first, last): a part of one block, or whole block rows. */
export function spanBox(g: GuestGrid, first: number, last: number): { c0: number; c1: number; r0: number; r1: number } {
  const a = guestCellPos(g, Math.max(0, first));
  const b = guestCellPos(g, Math.max(first, last - 1));
  const per = g.block * g.block;
  const ba = Math.floor(first / per);
  const bb = Math.floor(Math.max(first, last - 1) / per);
  if (ba === bb) return { c0: Math.min(a.col, b.col), c1: Math.max(a.col, b.col) + 1, r0: a.row, r1: b.row + 1 };
  const brA = Math.floor(ba / g.blockCols);
  const brB = Math.floor(bb / g.blockCols);
  if (brA === brB) {
    const bcA = ba - brA * g.blockCols;
    const bcB = bb - brB * g.blockCols;
    return { c0: bcA * g.block, c1: (bcB + 1) * g.block, r0: brA * g.block, r1: (brA + 1) * g.block };
  }
  return { c0: 0, c1: g.cols, r0: brA * g.block, r1: (brB + 1) * g.block };
}

/**
 * The view showing cells [first, last) as large as fits, with a margin, at a cell side between
 * minCell and maxCell (the zoom limits: the span is centred at that side). A span over several
 * block rows shows whole rows, so it cannot be larger than the grid's width allows.
 */
export function spanView(g: GuestGrid, width: number, height: number, first: number, last: number, maxCell: number, minCell = 0): View {
  const { c0, c1, r0, r1 } = spanBox(g, first, last);
  const margin = Math.max(1, Math.ceil((c1 - c0) / 40));
  const k = Math.max(minCell, Math.min(maxCell, width / (c1 - c0 + 2 * margin), height / (r1 - r0 + 2 * margin)));
  return { k, x: width / 2 - ((c0 + c1) / 2) * k, y: height / 2 - ((r0 + r1) / 2) * k };
}

/**
 * Pixel i of the cols × rows image of cell positions: for each cell, its pixel index, so that a
 * one-pixel-per-cell image can be filled in guest order.
 */
export function pixelOf(g: GuestGrid, i: number): number {
  const { row, col } = guestCellPos(g, i);
  return row * g.cols + col;
}
