// The "what freed clusters held" view's display bytes (lod.ts FREED_BASE + former role): drawn as a
// hatch of the former role's colour over its pale tint at cell zoom, counted and filtered as FREE
// at every level, labelled as free in tooltips, and built only over FREE clusters (freed-view.ts).

import { describe, expect, it } from 'vitest';
import { Role, type FreedRun } from '../format';
import type { Grid } from './layout';
import { FREED_BASE, PRIORITY, ROLE_BIT, buildPyramid } from './lod';
import { FREED_KEEP, ROLE_COLOR, mix, packRgba, rgb } from './palette';
import { makePaint, rasterize } from './raster';
import { roleLabel } from './tooltip';
import { freedDisplayRoles } from './freed-view';

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
