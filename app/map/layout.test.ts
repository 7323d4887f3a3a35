import { describe, expect, it } from 'vitest';
import {
  FILL_CELL_PX, MAX_CELL_PX, cellAtPoint, fitCellsView, fitScale, cellOf, cellRect, centerOn, clusterOf, constrainView, fitView, gridFor,
  levelFor, parseOffset, scaleExtent, visibleCells,
} from './layout';

describe('gridFor', () => {
  it('lays a small file out so that its cells are as large as the pane allows', () => {
    // 20 cells in 1000 × 600: 5 columns × 4 rows gives 150 px cells (one row would give 50 px).
    expect(gridFor(20, 1000, 600)).toEqual({ clusters: 20, cols: 5, rows: 4 });
    expect(fitScale(gridFor(20, 1000, 600), 1000, 600)).toBe(150);
    // One cluster: one cell, grown only to FILL_CELL_PX.
    expect(gridFor(1, 300, 300)).toEqual({ clusters: 1, cols: 1, rows: 1 });
    expect(fitScale(gridFor(1, 300, 300), 300, 300)).toBe(FILL_CELL_PX);
  });

  it('fills the pane with a file that fits at maximum cell size', () => {
    // 100 clusters in 1000 × 600: 13 × 8 cells of 75 px (no other column count does better).
    const g = gridFor(100, 1000, 600);
    expect(g).toEqual({ clusters: 100, cols: 13, rows: 8 });
    for (let c = 1; c <= 100; c++) expect(Math.min(1000 / c, 600 / Math.ceil(100 / c))).toBeLessThanOrEqual(fitScale(g, 1000, 600));
  });

  it('keeps every cluster and roughly the viewport aspect for 16.7 million clusters', () => {
    const n = 2 ** 24;
    const g = gridFor(n, 1600, 900);
    expect(g.cols % 8).toBe(0);
    expect(g.cols * g.rows).toBeGreaterThanOrEqual(n);
    expect(g.cols * (g.rows - 1)).toBeLessThan(n);
    expect(g.cols / g.rows).toBeGreaterThan(1.6);
    expect(g.cols / g.rows).toBeLessThan(1.95);
  });

  it('has no rows for an empty file', () => {
    expect(gridFor(0, 800, 600).rows).toBe(0);
  });
});

describe('cluster ↔ cell ↔ screen', () => {
  const g = gridFor(10_000, 800, 600);

  it('round-trips every cluster through its cell', () => {
    for (const c of [0, 1, g.cols - 1, g.cols, 5000, 9999]) {
      const { row, col } = cellOf(g, c);
      expect(clusterOf(g, row, col)).toBe(c);
    }
    expect(cellOf(g, g.cols + 3)).toEqual({ row: 1, col: 3 });
  });

  it('has no cluster outside the grid or past the last cluster', () => {
    expect(clusterOf(g, -1, 0)).toBe(-1);
    expect(clusterOf(g, 0, g.cols)).toBe(-1);
    const last = cellOf(g, 9999);
    expect(clusterOf(g, last.row, last.col + 1)).toBe(-1);
    expect(clusterOf(g, last.row + 1, 0)).toBe(-1);
  });

  it('finds the cell under any point of a cell rectangle', () => {
    const view = { k: 7.5, x: -123.25, y: 40 };
    for (const c of [0, 77, 4321]) {
      const r = cellRect(view, g, c);
      for (const [dx, dy] of [[0.01, 0.01], [r.size / 2, r.size / 2], [r.size - 0.01, r.size - 0.01]]) {
        const cell = cellAtPoint(view, r.x + (dx as number), r.y + (dy as number));
        expect(clusterOf(g, cell.row, cell.col)).toBe(c);
      }
    }
  });

  it('centres a cluster in the viewport', () => {
    const v = centerOn(g, 800, 600, 4321, 16);
    const r = cellRect(v, g, 4321);
    expect(r.x + r.size / 2).toBeCloseTo(400);
    expect(r.y + r.size / 2).toBeCloseTo(300);
  });
});

describe('zoom limits', () => {
  it('fits the whole file at the lower limit and stops at 32 px cells', () => {
    const g = gridFor(2 ** 24, 1600, 900);
    const [lo, hi] = scaleExtent(g, 1600, 900);
    expect(hi).toBe(MAX_CELL_PX);
    expect(g.cols * lo).toBeLessThanOrEqual(1600 + 1e-9);
    expect(g.rows * lo).toBeLessThanOrEqual(900 + 1e-9);
    expect(Math.max(g.cols * lo, g.rows * lo * (1600 / 900))).toBeGreaterThan(1599);
    const v = fitView(g, 1600, 900);
    const vis = visibleCells(v, g, 1600, 900);
    expect([vis.col0, vis.row0, vis.col1, vis.row1]).toEqual([0, 0, g.cols, g.rows]);
  });

  it('lets a tiny file fill the pane, and zooms no further than that', () => {
    const g = gridFor(3, 1000, 600);
    expect(scaleExtent(g, 1000, 600)).toEqual([FILL_CELL_PX, FILL_CELL_PX]);
  });
});

describe('fitCellsView', () => {
  const g = gridFor(10_000, 800, 600);
  it('shows a run within one row across its own columns, with a cell of margin', () => {
    const first = 5 * g.cols + 10;
    const v = fitCellsView(g, 800, 600, first, first + 3);
    expect(v.k).toBe(MAX_CELL_PX);
    const a = cellRect(v, g, first);
    const b = cellRect(v, g, first + 3);
    expect(a.x).toBeGreaterThanOrEqual(0);
    expect(b.x + b.size).toBeLessThanOrEqual(800);
    expect((a.x + b.x + b.size) / 2).toBeCloseTo(400);
  });
  it('shows whole rows when the run spans several, every one of them inside the pane', () => {
    const v = fitCellsView(g, 800, 600, 3 * g.cols + 5, 40 * g.cols + 2);
    expect(v.k).toBeCloseTo(Math.min(800 / (g.cols + 2), 600 / 40));
    const top = cellRect(v, g, 3 * g.cols);
    const bottom = cellRect(v, g, 40 * g.cols);
    expect(top.y).toBeGreaterThanOrEqual(0);
    expect(bottom.y + bottom.size).toBeLessThanOrEqual(600 + 1e-9);
  });
});

describe('levelFor', () => {
  it('picks the smallest level whose buckets are at least one pixel', () => {
    expect(levelFor(32)).toBe(0);
    expect(levelFor(1)).toBe(0);
    expect(levelFor(0.99)).toBe(1);
    expect(levelFor(0.5)).toBe(1);
    expect(levelFor(0.49)).toBe(2);
    expect(levelFor(1 / 1000)).toBe(10);
    for (const k of [0.7, 0.2, 0.013, 3e-5]) {
      const l = levelFor(k);
      expect(k * 2 ** l).toBeGreaterThanOrEqual(1);
      expect(k * 2 ** (l - 1)).toBeLessThan(1);
    }
  });
});

describe('parseOffset', () => {
  it('reads hex, decimal and qemu-style suffixes', () => {
    expect(parseOffset('0x30000')).toBe(0x30000);
    expect(parseOffset(' 196608 ')).toBe(196608);
    expect(parseOffset('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseOffset('64k')).toBe(65536);
    expect(parseOffset('3 MiB')).toBe(3 * 2 ** 20);
    expect(parseOffset('512B')).toBe(512);
    expect(parseOffset('1T')).toBe(2 ** 40);
    expect(parseOffset('0X1_0000')).toBe(65536);
  });

  it('rejects what is not an offset', () => {
    for (const bad of ['', 'abc', '-5', '0x', '1.5', '12q', '0xfffffffffffffffff', '9e99']) {
      expect(parseOffset(bad), bad).toBeNull();
    }
  });
});

describe('constrainView', () => {
  const g = gridFor(10_000, 800, 600);

  it('centres columns and pins rows to the top when the grid fits', () => {
    const v = constrainView({ k: 2, x: -500, y: 300 }, g, 800, 600);
    expect(v.x).toBeCloseTo((800 - g.cols * 2) / 2);
    expect(v.y).toBe(8);
  });

  it('lets a zoomed-in grid pan only until a quarter of the viewport lies past its ends', () => {
    const k = 20;
    expect(constrainView({ k, x: 1000, y: 1000 }, g, 800, 600)).toEqual({ k, x: 200, y: 150 });
    const far = constrainView({ k, x: -1e9, y: -1e9 }, g, 800, 600);
    expect(far.x + g.cols * k).toBeCloseTo(600);
    expect(far.y + g.rows * k).toBeCloseTo(450);
    expect(constrainView({ k, x: -300, y: -40 }, g, 800, 600)).toEqual({ k, x: -300, y: -40 });
  });
});
