// The "what freed clusters held" view's display bytes (lod.ts FREED_BASE + former role): drawn as a
// hatch of the former role's colour over its pale tint at cell zoom, counted and filtered as FREE
// at every level, labelled as free in tooltips, and built only over FREE clusters (freed-view.ts).

import { describe, expect, it } from 'vitest';
import { Role, type FreedRun } from '../format';
import type { Grid } from './layout';
import { FREED_BASE, PRIORITY, ROLE_BIT, buildPyramid, maskOf } from './lod';
import { FREED_KEEP, ROLE_COLOR, mix, packRgba, rgb } from './palette';
import { makePaint, rasterize } from './raster';
import { roleLabel } from './tooltip';
import { freedDisplayRoles, freedFormerRoles } from './freed-view';
import { gridFor, levelFor } from './layout';

const pack = (c: readonly number[]) => packRgba(c[0]!, c[1]!, c[2]!);

describe('freed display bytes', () => {
  it('count as FREE for presence, filters and labels', () => {
    expect(ROLE_BIT[FREED_BASE + Role.BITMAP_TABLE]).toBe(1 << PRIORITY.indexOf(Role.FREE));
    expect(roleLabel(FREED_BASE + Role.L1_SNAPSHOT)).toBe('free (refcount 0), once L1 table (snapshot)');
  });

  it('draw a hatch of the former colour over its pale tint when cells are large', () => {
    const g: Grid = { clusters: 1, cols: 1, rows: 1 };
    const p = buildPyramid(new Uint8Array([FREED_BASE + Role.BITMAP_TABLE]), g);
    const t = { pixels: new Uint32Array(16 * 16), width: 16, height: 16 };
    rasterize(t, { k: 16, x: 0, y: 0 }, p, makePaint());
    const seen = new Set(t.pixels);
    expect(seen).toContain(pack(rgb(ROLE_COLOR[Role.BITMAP_TABLE]!)));
    expect(seen).toContain(pack(mix(ROLE_COLOR[Role.BITMAP_TABLE]!, '#ffffff', FREED_KEEP)));
    expect(seen).not.toContain(pack(rgb(ROLE_COLOR[Role.FREE]!)));
  });

  it('are set only on FREE clusters of runs with a former role', () => {
    const roles = new Uint8Array([Role.HEADER, Role.FREE, Role.FREE, Role.DATA, Role.FREE]);
    const runs: FreedRun[] = [
      { offset: 512, clusters: 2, bytes: 1024, was: 'bitmap-table', evidence: 'x' },
      { offset: 1536, clusters: 2, bytes: 1024, was: 'l1-table', evidence: 'x' },
    ];
    expect([...freedDisplayRoles(roles, runs, 512)]).toEqual([Role.HEADER, FREED_BASE + Role.BITMAP_TABLE, FREED_BASE + Role.BITMAP_TABLE, Role.DATA, FREED_BASE + Role.L1_SNAPSHOT]);
    expect([...freedDisplayRoles(roles, [{ offset: 512, clusters: 1, bytes: 512, was: 'zeros', evidence: 'x' }], 512)]).toEqual([...roles]);
  });
});

describe('freed clusters zoomed out (the freed pyramid)', () => {
  const tint = (role: number) => pack(mix(ROLE_COLOR[role]!, '#ffffff', FREED_KEEP));
  const ink = (role: number) => pack(rgb(ROLE_COLOR[role]!));
  const free = pack(rgb(ROLE_COLOR[Role.FREE]!));

  /** A million data clusters with one freed bitmap table (and `extra` other bytes), drawn to fit a 700×400 px map. */
  function lone(extra: Record<number, number> = {}) {
    const n = 1_000_003;
    const lonely = 654_321;
    const display = new Uint8Array(n).fill(Role.DATA);
    display[lonely] = FREED_BASE + Role.BITMAP_TABLE;
    for (const [i, b] of Object.entries(extra)) display[Number(i)] = b;
    const g = gridFor(n, 700, 400);
    const k = Math.min(700 / g.cols, 400 / g.rows);
    const pyr = buildPyramid(display, g);
    const former = freedFormerRoles(display);
    const freed = buildPyramid(former, g, former);
    const t = { pixels: new Uint32Array(700 * 400), width: 700, height: 400 };
    const level = levelFor(k);
    const side = 2 ** level;
    // The pixel whose centre lies in the lone cluster's bucket.
    const col = Math.floor((lonely % g.cols) / side);
    const row = Math.floor(Math.floor(lonely / g.cols) / side);
    const px = Math.floor((col + 0.5) * side * k);
    const py = Math.floor((row + 0.5) * side * k);
    return { g, k, pyr, freed, t, level, at: (x: number, y: number) => t.pixels[y * 700 + x]!, px, py };
  }

  it('show a lone freed bitmap table among a million data clusters in its former colour, ringed', () => {
    const s = lone();
    expect(s.level).toBeGreaterThan(0);
    rasterize(s.t, { k: s.k, x: 0, y: 0 }, s.pyr, makePaint(), null, true, s.freed);
    expect([ink(Role.BITMAP_TABLE), tint(Role.BITMAP_TABLE)]).toContain(s.at(s.px, s.py));
    // The 7×7 mark: a 2-pixel ring in the former colour, the tint inside.
    expect(s.at(s.px - 3, s.py - 3)).toBe(ink(Role.BITMAP_TABLE));
    expect(s.at(s.px + 2, s.py)).toBe(ink(Role.BITMAP_TABLE));
    expect(s.at(s.px + 1, s.py + 1)).toBe(tint(Role.BITMAP_TABLE));
    expect(s.at(s.px + 6, s.py)).toBe(pack(rgb(ROLE_COLOR[Role.DATA]!)));
    // Twice as large at 200 % (device pixels per CSS pixel): the same size on screen.
    rasterize(s.t, { k: s.k, x: 0, y: 0 }, s.pyr, makePaint(), null, true, s.freed, 2);
    expect(s.at(s.px - 6, s.py)).toBe(ink(Role.BITMAP_TABLE));
    expect(s.at(s.px + 2, s.py + 2)).toBe(tint(Role.BITMAP_TABLE));
    // Without the freed pyramid (the toggle off) the same pixel is plain free.
    rasterize(s.t, { k: s.k, x: 0, y: 0 }, s.pyr, makePaint(), null, true, null);
    expect(s.at(s.px, s.py)).toBe(free);
  });

  it('let damage in the same bucket win, and dim with a filter that leaves free out', () => {
    const s = lone({ 654_322: Role.CORRUPT });
    rasterize(s.t, { k: s.k, x: 0, y: 0 }, s.pyr, makePaint(), null, true, s.freed);
    expect(s.at(s.px, s.py)).toBe(pack(rgb(ROLE_COLOR[Role.CORRUPT]!)));
    const d = lone();
    rasterize(d.t, { k: d.k, x: 0, y: 0 }, d.pyr, makePaint(maskOf([Role.DATA])), null, true, d.freed);
    expect([ink(Role.BITMAP_TABLE), tint(Role.BITMAP_TABLE), free]).not.toContain(d.at(d.px, d.py));
  });

  it('stripe freed cells on the pixel grid below cell zoom, with the top former role of a bucket', () => {
    const display = new Uint8Array(64).fill(FREED_BASE + Role.DATA_SNAPSHOT);
    display[9] = FREED_BASE + Role.L1_SNAPSHOT;
    const g: Grid = { clusters: 64, cols: 8, rows: 8 };
    const former = freedFormerRoles(display);
    const pyr = buildPyramid(display, g);
    const freed = buildPyramid(former, g, former);
    const t = { pixels: new Uint32Array(32 * 32), width: 32, height: 32 };
    rasterize(t, { k: 4, x: 0, y: 0 }, pyr, makePaint(), null, true, freed);
    const seen = new Set(t.pixels.subarray(0, 32 * 4));
    expect(seen).toEqual(new Set([ink(Role.DATA_SNAPSHOT), tint(Role.DATA_SNAPSHOT)]));
    expect(t.pixels[0]).toBe(ink(Role.DATA_SNAPSHOT));
    expect(t.pixels[2]).toBe(tint(Role.DATA_SNAPSHOT));
    // Zoomed out to one pixel per 4 clusters: the bucket with the stale L1 shows the L1's colours.
    const small = { pixels: new Uint32Array(4 * 4), width: 4, height: 4 };
    rasterize(small, { k: 0.5, x: 0, y: 0 }, pyr, makePaint(), null, false, freed);
    expect([ink(Role.L1_SNAPSHOT), tint(Role.L1_SNAPSHOT)]).toContain(small.pixels[0]);
    expect([ink(Role.DATA_SNAPSHOT), tint(Role.DATA_SNAPSHOT)]).toContain(small.pixels[3]);
  });
});
