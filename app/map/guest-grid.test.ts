// The guest map's block layout: readable blocks at fit on large disks, cell ↔ position round
// trips, picks of a cell or a block, the guest span in view, and views that show a span.

import { describe, expect, it } from 'vitest';
import { fitScale } from './layout';
import { guestCellAt, guestCellPos, guestGridFor, MIN_FIT_BLOCK_PX, pickAt, spanBox, spanView, visibleSpan } from './guest-grid';

describe('guestGridFor', () => {
  it('keeps the plain row-major grid for a small disk', () => {
    const g = guestGridFor(256, 900, 600);
    expect(g.block).toBe(1);
    expect(g.cols * g.rows).toBeGreaterThanOrEqual(256);
  });

  it.each([[65536, 900, 600], [65536, 500, 300], [1 << 20, 1200, 700], [1 << 20, 300, 200]])('%i cells in %i×%i: blocks of at least the minimum at fit', (n, w, h) => {
    const g = guestGridFor(n, w, h);
    expect(g.block).toBeGreaterThan(1);
    expect(g.blockCols * g.blockRows * g.block * g.block).toBeGreaterThanOrEqual(n);
    const blockPx = fitScale({ clusters: g.blockCols * g.blockRows, cols: g.blockCols, rows: g.blockRows }, w, h);
    expect(blockPx).toBeGreaterThanOrEqual(MIN_FIT_BLOCK_PX);
    // The whole grid fits the pane at that size.
    expect(g.blockCols * blockPx).toBeLessThanOrEqual(w + 1e-9);
    expect(g.blockRows * blockPx).toBeLessThanOrEqual(h + 1e-9);
  });
});

describe('positions', () => {
  const g = guestGridFor(65536, 900, 600);
  it('round-trips every cell and keeps blocks contiguous in guest order', () => {
    const seen = new Set<number>();
    for (let i = 0; i < g.clusters; i++) {
      const { row, col } = guestCellPos(g, i);
      expect(guestCellAt(g, row, col)).toBe(i);
      seen.add(row * g.cols + col);
    }
    expect(seen.size).toBe(g.clusters);
    // Cell B of block 0 is the first cell of its second row.
    expect(guestCellPos(g, g.block)).toEqual({ row: 1, col: 0 });
    // Block 1 starts right of block 0.
    expect(guestCellPos(g, g.block * g.block)).toEqual({ row: 0, col: g.block });
  });

  it('picks a block when cells are small and a cell when they are large', () => {
    const per = g.block * g.block;
    // Row 1, column B + 2: block 1, its second row, third column.
    expect(pickAt(g, 1, 1, g.block + 2)).toEqual({ first: per, last: 2 * per });
    expect(pickAt(g, 8, 1, g.block + 2)).toEqual({ first: per + g.block + 2, last: per + g.block + 3 });
    expect(pickAt(g, 8, -1, 0)).toBeNull();
  });

  it('reports the first and last visible cells in guest order', () => {
    const whole = visibleSpan(g, { k: 1, x: 0, y: 0 }, g.cols, g.rows);
    expect(whole).toEqual({ first: 0, last: g.clusters });
    // The top-left block only.
    const one = visibleSpan(g, { k: 10, x: 0, y: 0 }, g.block * 10, g.block * 10);
    expect(one).toEqual({ first: 0, last: g.block * g.block });
  });

  it('shows a span inside one block by its own cells, and a longer one by whole block rows', () => {
    expect(spanBox(g, 0, 1)).toEqual({ c0: 0, c1: 1, r0: 0, r1: 1 });
    expect(spanBox(g, 0, g.block * g.block * 2)).toEqual({ c0: 0, c1: 2 * g.block, r0: 0, r1: g.block });
    const v = spanView(g, 900, 600, 5, 6, 16);
    expect(v.k).toBe(16);
    const { row, col } = guestCellPos(g, 5);
    // The cell's centre is the pane's centre.
    expect(v.x + (col + 0.5) * v.k).toBeCloseTo(450);
    expect(v.y + (row + 0.5) * v.k).toBeCloseTo(300);
  });
});
