// The early map's raster: every cluster lands in a cell inside the canvas, and a cell with any
// cluster in use is never painted as free.

import { describe, expect, it } from 'vitest';
import { clusterUsage } from '../format';
import { rasterUsage, usageLayout } from './usage-raster';

const FREE = [247, 247, 247];
const USED = [93, 107, 122];
const BG = [27, 31, 36];

describe('usage raster', () => {
  for (const [n, w, h] of [[1, 10, 10], [1000, 37, 19], [16_777_216, 800, 600], [300_000, 200, 100], [5, 1, 1]] as const) {
    it(`${n} clusters on ${w}×${h}`, () => {
      const values = new Uint16Array(n + 1);
      values[n - 1] = 1; // one cluster in use, the last
      const u = clusterUsage(values, n);
      const l = usageLayout(u, w, h);
      expect(l.cols * l.size).toBeLessThanOrEqual(w);
      expect(l.rows * l.size).toBeLessThanOrEqual(h);
      expect(l.cells * l.per).toBeGreaterThanOrEqual(u.used.length);
      const pixels = new Uint32Array(w * h);
      const { clustersDrawn } = rasterUsage(u, pixels, w, h, FREE, USED, BG);
      expect(clustersDrawn).toBe(n);
      // The cell of the last cluster is not the free colour.
      const c = l.cells - 1;
      const x = (c % l.cols) * l.size;
      const y = Math.floor(c / l.cols) * l.size;
      const px = pixels[y * w + x]!;
      expect([px & 0xff, (px >>> 8) & 0xff, (px >>> 16) & 0xff]).not.toEqual(FREE);
    });
  }
});
