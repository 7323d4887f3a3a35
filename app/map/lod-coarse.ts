// The map's pyramid made first at one level: the level the owners' map's first view draws (the
// whole file fitted to the pane: 2^L × 2^L clusters per pixel, L = 3 for a 1 TiB image in a
// 1400 × 900 page). That level is made straight from the role bytes, in one pass that writes a
// 4^L-th of what level 1 writes, and the levels above it from it; the levels below it stay empty
// (Pyramid.lowest) until the full pyramid (lod.ts) replaces this one. Pure: no DOM; runs in Node.

import { LITTLE_ENDIAN, ROLE_BIT, levelUpRows, type Pyramid } from './lod';
import type { Grid } from './layout';

/** Levels 0 … top of a grid: (cols, rows) of each. */
export function pyramidDims(grid: Grid): { cols: number; rows: number }[] {
  const dims = [{ cols: grid.cols, rows: grid.rows }];
  let cols = grid.cols;
  let rows = grid.rows;
  while (cols > 1 || rows > 1) {
    cols = Math.ceil(cols / 2);
    rows = Math.ceil(rows / 2);
    dims.push({ cols, rows });
  }
  return dims;
}

/** buildPyramid's levels from `level` up (level ≥ 1), for all clusters (no keep), in one go. */
export function buildCoarsePyramid(roles: Uint8Array, grid: Grid, level: number): Pyramid {
  const steps = coarsePyramidSteps(roles, grid, level, Infinity);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * buildCoarsePyramid in steps of about `sliceCells` clusters. `level` is clamped to [1, top]; the
 * pyramid's levels below it are empty arrays and its `lowest` is that level.
 */
export function* coarsePyramidSteps(roles: Uint8Array, grid: Grid, level: number, sliceCells = 1 << 20): Generator<void, Pyramid, void> {
  const dims = pyramidDims(grid);
  const top = dims.length - 1;
  const lowest = Math.max(1, Math.min(top, Math.floor(level)));
  const levels: Uint32Array[] = [];
  for (let l = 0; l < lowest; l++) levels.push(new Uint32Array(0));
  if (top === 0) return { grid, roles, keep: null, levels, dims, lowest: 0 };
  const d = dims[lowest] as { cols: number; rows: number };
  const out = new Uint32Array(d.cols * d.rows);
  const n = Math.min(roles.length, grid.clusters);
  const step = 1 << lowest;
  // Whole bucket rows per slice.
  const per = step * Math.max(1, Math.floor(sliceCells / Math.max(1, grid.cols * step)));
  for (let r = 0; r * grid.cols < n; r += per) {
    levelRows(roles, n, grid.cols, lowest, out, d.cols, r, Math.min(grid.rows, r + per));
    yield;
  }
  levels.push(out);
  for (let l = lowest + 1; l <= top; l++) {
    const p = dims[l - 1] as { cols: number; rows: number };
    const next = new Uint32Array((dims[l] as { cols: number }).cols * (dims[l] as { rows: number }).rows);
    levelUpRows(levels[l - 1] as Uint32Array, p.cols, next, (dims[l] as { cols: number }).cols, 0, p.rows);
    levels.push(next);
  }
  return { grid, roles, keep: null, levels, dims, lowest };
}

/** Buckets of `level` from grid rows [rowFrom, rowTo): each cluster's role bit ORed into its bucket. */
function levelRows(roles: Uint8Array, n: number, gridCols: number, level: number, out: Uint32Array, cols: number, rowFrom: number, rowTo: number): void {
  // Four clusters a word where rows start 4-aligned and a bucket holds whole words (level ≥ 2).
  const words = LITTLE_ENDIAN && level >= 2 && (gridCols & 3) === 0 && (roles.byteOffset & 3) === 0;
  const shift = level - 2;
  const wpr = gridCols >> 2;
  const all = words ? new Uint32Array(roles.buffer, roles.byteOffset, roles.length >> 2) : null;
  let last = -1;
  let lastMask = 0;
  for (let r = rowFrom; r < rowTo; r++) {
    const i0 = r * gridCols;
    if (i0 >= n) break;
    const base = (r >> level) * cols;
    if (all !== null && i0 + gridCols <= n) {
      const w0 = i0 >> 2;
      const per = 1 << shift;
      for (let j = 0, k = 0; k < wpr; j++) {
        let acc = 0;
        for (const e = Math.min(wpr, k + per); k < e; k++) {
          const x = all[w0 + k] as number;
          if (x !== last) {
            last = x;
            lastMask = (ROLE_BIT[x & 0xff] as number) | (ROLE_BIT[(x >>> 8) & 0xff] as number) | (ROLE_BIT[(x >>> 16) & 0xff] as number) | (ROLE_BIT[x >>> 24] as number);
          }
          acc |= lastMask;
        }
        out[base + j] = (out[base + j] as number) | acc;
      }
      continue;
    }
    for (let c = 0, i = i0; c < gridCols && i < n; c++, i++) {
      const b = base + (c >> level);
      out[b] = (out[b] as number) | (ROLE_BIT[roles[i] as number] as number);
    }
  }
}
