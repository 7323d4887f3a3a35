import { describe, expect, it } from 'vitest';
import { ROLE_COUNT, Role } from '../format';
import { gridFor, type Grid } from './layout';
import { bucketMask, buildPyramid, shownLevel } from './lod';
import { buildCoarsePyramid, coarsePyramidSteps, pyramidDims } from './lod-coarse';
import { bruteMask } from './lod-testing';

/** Runs of 1 to `maxRun` clusters of one role, a third of them data, with a lone other role sprinkled in. */
function runRoles(n: number, seed: number, maxRun: number): Uint8Array {
  const backing = new Uint8Array(n + 1);
  let s = seed;
  for (let i = 0; i < n; ) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const len = 1 + ((s >>> 8) % maxRun);
    const role = (s >>> 4) % 3 === 0 ? Role.DATA : (s >>> 16) % ROLE_COUNT;
    backing.fill(role, i + 1, Math.min(n, i + len) + 1);
    if ((s >>> 20) % 7 === 0) backing[i + 1 + ((s >>> 3) % len)] = Role.LEAKED;
    i += len;
  }
  return backing;
}

function finish<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

describe('coarse pyramid', () => {
  it('equals a cluster-by-cluster OR in every bucket of every level it builds, on aligned, unaligned and odd-width grids', () => {
    const n = 50_003;
    for (const maxRun of [3, 40, 700]) {
      const backing = runRoles(n, 11 + maxRun, maxRun);
      for (const roles of [backing.subarray(1), backing.subarray(0, n), new Uint8Array(backing.subarray(1))]) {
        const grids: Grid[] = [gridFor(n, 900, 500), { clusters: n, cols: 256, rows: Math.ceil(n / 256) }, { clusters: n, cols: 252, rows: Math.ceil(n / 252) }, { clusters: n, cols: 254, rows: Math.ceil(n / 254) }, { clusters: n, cols: 257, rows: Math.ceil(n / 257) }, { clusters: n - 5, cols: 64, rows: Math.ceil((n - 5) / 64) }];
        for (const g of grids) {
          for (const level of [1, 2, 3, 4, 6]) {
            // Small slices: the bucket rows cut between steps are joined right.
            const p = level === 6 ? buildCoarsePyramid(roles, g, level) : finish(coarsePyramidSteps(roles, g, level, 1000));
            expect(p.lowest).toBe(level);
            for (let l = level; l < p.dims.length; l++) {
              const d = p.dims[l]!;
              expect(p.levels[l]!.length).toBe(d.cols * d.rows);
              for (let row = 0; row < d.rows; row++) {
                for (let col = 0; col < d.cols; col++) {
                  const got = bucketMask(p, l, row, col);
                  const want = bruteMask(roles, g, l, row, col);
                  if (got !== want) expect(got, `maxRun ${maxRun}, cols ${g.cols}, offset ${roles.byteOffset}, level ${l}/${level}, bucket ${row},${col}`).toBe(want);
                }
              }
            }
            // Below its lowest level a bucket's mask is still exact (made from the role bytes when asked).
            for (const [row, col] of [[0, 0], [3, 5], [7, 1]] as const) expect(bucketMask(p, 1, row, col)).toBe(bruteMask(roles, g, 1, row, col));
          }
        }
      }
    }
  });

  it('is built in steps that give the same levels as the full pyramid, from the level asked up', () => {
    const n = 200_000;
    const roles = runRoles(n, 5, 5000).subarray(1);
    const g = gridFor(n, 700, 450);
    const whole = buildPyramid(roles, g);
    const steps = coarsePyramidSteps(roles, g, 3, 4096);
    let yields = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) yields++;
    expect(yields).toBeGreaterThan(10);
    const p = r.value;
    expect(p.dims).toEqual(whole.dims);
    expect(pyramidDims(g)).toEqual(whole.dims);
    for (let l = 0; l < 3; l++) expect(p.levels[l]!.length).toBe(0);
    for (let l = 3; l < p.dims.length; l++) expect(p.levels[l]).toEqual(whole.levels[l]);
  });

  it('is drawn at its lowest level when a finer one is asked for, and at level 0 from the role bytes', () => {
    const g: Grid = { clusters: 4096, cols: 64, rows: 64 };
    const roles = new Uint8Array(4096).fill(Role.DATA);
    const p = buildCoarsePyramid(roles, g, 3);
    const full = buildPyramid(roles, g);
    expect(shownLevel(1, p)).toBe(3);
    expect(shownLevel(4, p)).toBe(4);
    expect(shownLevel(0, p)).toBe(0);
    expect(shownLevel(1, full, null)).toBe(1);
    expect(shownLevel(2, full, p)).toBe(3);
    expect(shownLevel(40, p)).toBe(p.dims.length - 1);
  });
});
