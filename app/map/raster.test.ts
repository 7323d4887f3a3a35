import { describe, expect, it } from 'vitest';
import { ROLE_COUNT, Role } from '../format';
import { gridFor, levelFor, type Grid, type View } from './layout';
import { PRIORITY, bucketMask, buildPyramid, keepFromRanges, maskOf, topRole } from './lod';
import { BACKGROUND, DIM_KEEP, GAP, PATTERN_INK, ROLE_COLOR, mix, packRgba, rgb } from './palette';
import { GAP_FROM_PX, makePaint, rasterize, type RasterTarget } from './raster';

const paint = makePaint();
const color = (role: number) => paint.colors[PRIORITY.indexOf(role as never)] as number;
const pack = (c: readonly number[]) => packRgba(c[0]!, c[1]!, c[2]!);

function target(width: number, height: number): RasterTarget {
  return { pixels: new Uint32Array(width * height), width, height };
}

function roles(n: number, fill: number, at: Record<number, number> = {}): Uint8Array {
  const r = new Uint8Array(n).fill(fill);
  for (const [i, v] of Object.entries(at)) r[Number(i)] = v;
  return r;
}

describe('rasterize: level of detail', () => {
  it('draws one leaked cluster among 1000 data clusters as a leaked pixel, enlarged to a mark', () => {
    const g: Grid = { clusters: 1001, cols: 32, rows: 32 };
    const p = buildPyramid(roles(1001, Role.DATA, { 517: Role.LEAKED }), g);
    const plain = target(3, 3);
    expect(rasterize(plain, { k: 1 / 32, x: 1, y: 1 }, p, paint, null, false)).toBe(5);
    expect(plain.pixels[1 * 3 + 1]).toBe(pack(rgb(ROLE_COLOR[Role.LEAKED]!)));
    expect(plain.pixels[0]).toBe(pack(rgb(BACKGROUND)));
    // With marks: a 3×3 square of the damage colour inside a ring of ink, around the bucket's pixel.
    const t = target(9, 9);
    rasterize(t, { k: 1 / 32, x: 4, y: 4 }, p, paint);
    const at = (x: number, y: number) => t.pixels[y * 9 + x];
    for (const [x, y] of [[4, 4], [3, 3], [5, 5], [3, 5]] as const) expect(at(x, y)).toBe(color(Role.LEAKED));
    for (const [x, y] of [[2, 2], [6, 6], [4, 2], [2, 4]] as const) expect(at(x, y)).toBe(pack(rgb(PATTERN_INK)));
    expect(at(0, 0)).toBe(pack(rgb(BACKGROUND)));
  });

  it('does not enlarge damage once buckets are large, nor damage a filter dims', () => {
    const g: Grid = { clusters: 100, cols: 10, rows: 10 };
    const p = buildPyramid(roles(100, Role.DATA, { 55: Role.CORRUPT }), g);
    const big = target(30, 30);
    rasterize(big, { k: 3, x: 0, y: 0 }, p, paint);
    expect(big.pixels[5 * 3 * 30 + 4 * 3 + 1]).toBe(color(Role.DATA));
    const small = target(10, 10);
    rasterize(small, { k: 1, x: 0, y: 0 }, p, makePaint(maskOf([Role.DATA])));
    expect(small.pixels[4 * 10 + 4]).toBe(color(Role.DATA));
    rasterize(small, { k: 1, x: 0, y: 0 }, p, paint);
    expect(small.pixels[4 * 10 + 4]).toBe(color(Role.CORRUPT));
    expect(small.pixels[3 * 10 + 3]).toBe(pack(rgb(PATTERN_INK)));
  });

  it('gives every non-empty bucket a pixel, coloured by its top role, at any zoom-out', () => {
    const n = 200_003;
    const g = gridFor(n, 700, 400);
    const r = new Uint8Array(n).fill(Role.DATA);
    // Sparse rare roles, each alone in a sea of data.
    for (let i = 0; i < n; i += 997) r[i] = (i / 997) % ROLE_COUNT;
    const p = buildPyramid(r, g);
    for (const k of [0.9, 0.5, 0.3, 0.11, 0.04]) {
      const view: View = { k, x: 3.3, y: 1.7 };
      const level = levelFor(k);
      const d = p.dims[level]!;
      const bsz = k * 2 ** level;
      const w = Math.ceil(d.cols * bsz + 8);
      const h = Math.ceil(d.rows * bsz + 8);
      const t = target(w, h);
      expect(rasterize(t, view, p, paint, null, false)).toBe(level);
      const seen = new Uint8Array(d.cols * d.rows);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const bx = Math.floor((x + 0.5 - view.x) / bsz);
          const by = Math.floor((y + 0.5 - view.y) / bsz);
          const m = bucketMask(p, level, by, bx);
          const want = m === 0 ? pack(rgb(BACKGROUND)) : color(topRole(m)!);
          if (t.pixels[y * w + x] !== want) throw new Error(`k=${k} pixel ${x},${y}`);
          if (m !== 0) seen[by * d.cols + bx] = 1;
        }
      }
      for (let b = 0; b < seen.length; b++) {
        if (bucketMask(p, level, Math.floor(b / d.cols), b % d.cols) !== 0) expect(seen[b], `k=${k} bucket ${b}`).toBe(1);
      }
    }
  });
});

describe('rasterize: high zoom', () => {
  const g: Grid = { clusters: 6, cols: 3, rows: 2 };
  const p = buildPyramid(roles(6, Role.DATA, { 0: Role.HEADER, 4: Role.CORRUPT, 5: Role.FREE }), g);

  it('draws cells with gaps, role colours at their centres, and background past the last cluster', () => {
    const k = 16;
    const t = target(3 * k, 3 * k);
    rasterize(t, { k, x: 0, y: 0 }, p, paint);
    const at = (x: number, y: number) => t.pixels[y * t.width + x];
    expect(at(8, 8)).toBe(color(Role.HEADER));
    expect(at(k + 8, 8)).toBe(color(Role.DATA));
    expect(at(2 * k + 8, k + 8)).toBe(color(Role.FREE));
    expect(at(k, 8)).toBe(pack(rgb(GAP)));
    expect(at(8, 2 * k + 8)).toBe(pack(rgb(BACKGROUND)));
    expect(k).toBeGreaterThanOrEqual(GAP_FROM_PX);
  });

  it('marks damage with a pattern, not colour alone, and leaves other roles plain', () => {
    const k = 16;
    const t = target(3 * k, 2 * k);
    rasterize(t, { k, x: 0, y: 0 }, p, paint);
    const inks = (col: number, row: number) => {
      let c = 0;
      for (let y = row * k + 2; y < row * k + k; y++) {
        for (let x = col * k + 2; x < col * k + k; x++) if (t.pixels[y * t.width + x] === pack(rgb(PATTERN_INK))) c++;
      }
      return c;
    };
    expect(inks(1, 1)).toBeGreaterThan(10);
    expect(inks(0, 0)).toBe(0);
    expect(inks(2, 1)).toBe(0);
  });
});

describe('rasterize: filters and highlights', () => {
  const g: Grid = { clusters: 16, cols: 4, rows: 4 };
  const r = roles(16, Role.DATA, { 5: Role.L2_ACTIVE, 15: Role.LEAKED });
  const p = buildPyramid(r, g);
  const dimmed = (role: number) => pack(mix(ROLE_COLOR[role]!, BACKGROUND, DIM_KEEP));

  it('shows the filtered role over higher-priority ones, and dims buckets without it', () => {
    const f = makePaint(maskOf([Role.L2_ACTIVE]));
    // Level 1 (k = 0.5): bucket (0,0) holds L2 + data; (1,1) holds leaked + data; (0,1) data only.
    const t = target(2, 2);
    rasterize(t, { k: 0.5, x: 0, y: 0 }, p, f);
    expect(t.pixels[0]).toBe(color(Role.L2_ACTIVE));
    expect(t.pixels[1]).toBe(dimmed(Role.DATA));
    expect(t.pixels[3]).toBe(dimmed(Role.LEAKED));
  });

  it('dims everything outside highlighted cluster ranges', () => {
    const h = buildPyramid(r, g, keepFromRanges(16, [{ start: 15, end: 16 }]));
    const t = target(4, 4);
    rasterize(t, { k: 1, x: 0, y: 0 }, p, paint, h, false);
    expect(t.pixels[15]).toBe(color(Role.LEAKED));
    expect(t.pixels[5]).toBe(dimmed(Role.L2_ACTIVE));
    const t2 = target(1, 1);
    rasterize(t2, { k: 0.25, x: 0, y: 0 }, p, paint, h, false);
    expect(t2.pixels[0]).toBe(color(Role.LEAKED));
  });
});

describe('rasterize: work bounded by the frame, not the image', () => {
  // Speed is npm run bench's business (frames per second while panning, against its targets); this
  // test checks the work: a pyramid of about n/3 buckets above the clusters, and every frame drawn
  // from the level whose buckets are at least a pixel, so no frame visits more buckets than pixels.
  it('16.7 million clusters: a 4/3 × n pyramid, and every zoom draws ≤ one bucket per pixel with lone leaked clusters kept', () => {
    const n = 2 ** 24;
    const r = new Uint8Array(n).fill(Role.DATA);
    for (let i = 0; i < n; i += 4099) r[i] = Role.LEAKED;
    const g = gridFor(n, 1920, 1080);
    const p = buildPyramid(r, g);
    const above = p.levels.slice(1).reduce((sum, l) => sum + l.length, 0);
    expect(above).toBeLessThanOrEqual(Math.ceil(n / 3) + 2 * p.levels.length * (g.cols + 1));
    const t = target(1920, 1080);
    for (const k of [0.25, 0.4, 1, 3, 12, 32]) {
      const level = rasterize(t, { k, x: -1000 * k, y: -700 * k }, p, paint);
      const bucketPx = k * 2 ** level;
      expect(bucketPx, `k ${k}`).toBeGreaterThanOrEqual(1);
      expect(level === 0 || bucketPx < 2, `k ${k}: the finest level with buckets ≥ 1 px`).toBe(true);
      expect(Math.ceil(1920 / bucketPx + 1) * Math.ceil(1080 / bucketPx + 1), `k ${k}`).toBeLessThanOrEqual(1921 * 1081);
      // Zoomed out, a lone leaked cluster among 4098 data clusters still owns pixels.
      if (k <= 1) expect(t.pixels.includes(color(Role.LEAKED)), `k ${k}`).toBe(true);
    }
  });
});
