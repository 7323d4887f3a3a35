// The early map's raster: every cluster lands in a cell inside the canvas, and a cell with any
// cluster in use is never painted as free.

import { describe, expect, it } from 'vitest';
import { changedRange, clusterUsage, Role } from '../format';
import { PRIORITY } from './lod';
import { ROLE_COLOR } from './palette';
import { rasterUsage, usageLayout, type UsageLayout } from './usage-raster';

const FREE = [247, 247, 247];
const USED = [93, 107, 122];
const BG = [27, 31, 36];

/** A plain painter's pieces: one cell's pixels, a share's colour, the pixels that differ. */
const word = (c: readonly number[]) => (0xff << 24 | c[2]! << 16 | c[1]! << 8 | c[0]!) >>> 0;
function paintCell(want: Uint32Array, w: number, h: number, l: UsageLayout, c: number, colour: number): void {
  const x0 = (c % l.cols) * l.size;
  const y0 = Math.floor(c / l.cols) * l.size;
  for (let yy = y0; yy < Math.min(h, y0 + l.size); yy++) for (let xx = x0; xx < Math.min(w, x0 + l.size); xx++) want[yy * w + xx] = colour;
}
function shareColour(inUse: number, clusters: number): number {
  const t = inUse === 0 ? 0 : Math.max(0.35, inUse / Math.max(1, clusters));
  return word([0, 1, 2].map((i) => Math.round(FREE[i]! + (USED[i]! - FREE[i]!) * t)));
}
function differing(a: Uint32Array, b: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

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

  // Every pixel against a plain painter (each cell's share mixed on its own, every pixel of the
  // cell written): the raster's colour reuse and its 1-px cells (the last case) change nothing.
  for (const [n, w, h, seed, size] of [[16_777_216, 1400, 900, 1, 17], [300_000, 640, 480, 2, 8], [2000, 37, 19, 3, 1]] as const) {
    it(`${n} clusters on ${w}×${h} equal a plain painter, pixel for pixel`, () => {
      let x = seed;
      const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
      const values = new Uint16Array(n);
      // Runs of used and free clusters with some partly used stretches.
      for (let i = 0; i < n; ) {
        const len = 1 + Math.floor(rnd() * Math.max(4, n / 2000));
        const kind = rnd();
        for (let j = i; j < Math.min(n, i + len); j++) values[j] = kind < 0.4 ? 1 : kind < 0.8 ? 0 : rnd() < 0.5 ? 1 : 0;
        i += len;
      }
      const u = clusterUsage(values, n);
      const pixels = new Uint32Array(w * h);
      const { layout: l } = rasterUsage(u, pixels, w, h, FREE, USED, BG);
      expect(l.size).toBe(size);
      const want = new Uint32Array(w * h).fill(word(BG));
      for (let c = 0; c < l.cells; c++) {
        const b0 = c * l.per;
        const b1 = Math.min(u.used.length, b0 + l.per);
        let inUse = 0;
        for (let b = b0; b < b1; b++) inUse += u.used[b]!;
        const clusters = Math.min(u.clusters, b1 * u.perBucket) - b0 * u.perBucket;
        const colour = shareColour(inUse, clusters);
        paintCell(want, w, h, l, c, colour);
      }
      expect(differing(pixels, want)).toBe(0);
      // The case is not trivial: cells of several colours.
      expect(new Set(want).size).toBeGreaterThan(2);
    });
  }

  // The 1 TiB preallocated image: every cluster in use. Runs of equal buckets are painted whole:
  // no cell is summed by itself but the last (short) one, and every pixel is the in-use colour.
  for (const [n, w, h] of [[16_777_216, 1400, 900], [16_777_217, 1100, 700], [300_001, 640, 480]] as const) {
    it(`${n} clusters all in use on ${w}×${h}: painted from runs, not cell by cell`, () => {
      const values = new Uint16Array(n).fill(1);
      const u = clusterUsage(values, n);
      const pixels = new Uint32Array(w * h);
      const { layout: l, clustersDrawn, cellsSummed } = rasterUsage(u, pixels, w, h, FREE, USED, BG);
      expect(clustersDrawn).toBe(n);
      expect(cellsSummed).toBeLessThanOrEqual(1);
      let inUse = 0;
      for (const px of pixels) if (px === word(USED)) inUse++;
      expect(inUse).toBe(l.cells * l.size * l.size);
    });
  }

  // Owner summaries refine it: a cell any of whose buckets claimed a role is drawn in the colour of
  // the claimed role the owners' map puts first (lod.ts PRIORITY, highest last), counted, against a
  // plain painter; other cells keep their in-use share.
  for (const [n, w, h, seed] of [[16_777_216, 1400, 900, 4], [300_000, 640, 480, 5], [2000, 37, 19, 6]] as const) {
    it(`${n} clusters on ${w}×${h} with owners known in part equal a plain painter`, () => {
      let x = seed;
      const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
      const values = new Uint16Array(n);
      for (let i = 0; i < n; i += 3) values[i] = 1;
      const u = clusterUsage(values, n);
      const masks = new Uint32Array(u.used.length);
      const claimable = [Role.HEADER, Role.L2_ACTIVE, Role.DATA, Role.DATA_SHARED, Role.COMPRESSED, Role.MULTI_OWNED];
      for (let b = 0; b < masks.length;) {
        const len = 1 + Math.floor(rnd() * 40);
        const m = rnd() < 0.5 ? 0 : (1 << claimable[Math.floor(rnd() * claimable.length)]!) | (rnd() < 0.2 ? 1 << Role.L2_ACTIVE : 0);
        masks.fill(m, b, Math.min(masks.length, b + len));
        b += len;
      }
      const pixels = new Uint32Array(w * h);
      const { layout: l, cellsOwned } = rasterUsage(u, pixels, w, h, FREE, USED, BG, masks);
      const hexWord = (hex: string) => word([1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
      const want = new Uint32Array(w * h).fill(word(BG));
      let owned = 0;
      for (let c = 0; c < l.cells; c++) {
        const b0 = c * l.per;
        const b1 = Math.min(u.used.length, b0 + l.per);
        let inUse = 0;
        let m = 0;
        for (let b = b0; b < b1; b++) {
          inUse += u.used[b]!;
          m |= masks[b]!;
        }
        let colour: number;
        if (m !== 0) {
          owned++;
          const top = [...PRIORITY].reverse().find((r) => (m & (1 << r)) !== 0)!;
          colour = hexWord(ROLE_COLOR[top]!);
        } else {
          const clusters = Math.min(u.clusters, b1 * u.perBucket) - b0 * u.perBucket;
          colour = shareColour(inUse, clusters);
        }
        paintCell(want, w, h, l, c, colour);
      }
      expect(differing(pixels, want)).toBe(0);
      expect(cellsOwned).toBe(owned);
      expect(owned).toBeGreaterThan(0);
      expect(owned).toBeLessThan(l.cells);
      // Masks not of this summary's buckets are not drawn.
      expect(rasterUsage(u, pixels, w, h, FREE, USED, BG, masks.subarray(1)).cellsOwned).toBe(0);
    });
  }

  // A refinement repaints only the cells of the buckets it changed, over the previous drawing:
  // the same pixels as a full drawing of it, and no more cells than its range holds.
  for (const [n, w, h] of [[16_777_216, 1372, 660], [300_000, 640, 480], [2003, 37, 19]] as const) {
    it(`${n} clusters on ${w}×${h}: a refinement drawn over the last one equals a full drawing`, () => {
      const values = new Uint16Array(n).fill(1);
      for (let i = 0; i < n; i += 7) values[i] = 0;
      const u = clusterUsage(values, n);
      const nb = u.used.length;
      const step = (upto: number) => {
        const m = new Uint32Array(nb);
        for (let b = 0; b < nb; b++) m[b] = (b % 128 === 0 ? 1 << Role.L2_ACTIVE : 0) | (b < upto ? 1 << Role.DATA : 0);
        return m;
      };
      const before = step(Math.floor(nb / 4));
      const after = step(Math.floor(nb / 2));
      const range = changedRange(before, after);
      expect(range.to - range.from).toBeLessThan(nb / 3);
      const partial = new Uint32Array(w * h);
      rasterUsage(u, partial, w, h, FREE, USED, BG, before);
      const r = rasterUsage(u, partial, w, h, FREE, USED, BG, after, range);
      const full = new Uint32Array(w * h);
      const f = rasterUsage(u, full, w, h, FREE, USED, BG, after);
      expect(differing(partial, full)).toBe(0);
      expect(r.cellsPainted).toBeLessThanOrEqual(Math.ceil((range.to - range.from) / r.layout.per) + 1);
      expect(r.cellsPainted).toBeLessThan(f.cellsPainted);
      // The rows it reports cover every pixel it changed.
      const old = new Uint32Array(w * h);
      rasterUsage(u, old, w, h, FREE, USED, BG, before);
      let outside = 0;
      for (let i = 0; i < full.length; i++) if (old[i] !== full[i] && (Math.floor(i / w) < r.rows.from || Math.floor(i / w) >= r.rows.to)) outside++;
      expect(outside).toBe(0);
    });
  }
});
