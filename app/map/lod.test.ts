import { describe, expect, it } from 'vitest';
import { ROLE_COUNT, ROLE_INFO, Role } from '../format';
import { gridFor, type Grid } from './layout';
import {
  PRIORITY, ROLE_BIT, bucketExtent, bucketMask, buildPyramid, countBucket, countRoles, countRolesOnce, keepFromRanges, knowRoleCounts,
  maskOf, pickInBucket, pyramidSteps, topRole,
} from './lod';
import { bruteMask } from './lod-testing';

/** Deterministic pseudo-random role bytes (xorshift), mostly data with a sprinkling of others. */
function randomRoles(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s % 50 < 40 ? Role.DATA : s % ROLE_COUNT;
  }
  return out;
}

describe('priority', () => {
  it('ranks every role exactly once: damage above free above metadata above data', () => {
    expect([...PRIORITY].sort((a, b) => a - b)).toEqual(ROLE_INFO.map((r) => r.id));
    const rank = (r: number) => PRIORITY.indexOf(r as never);
    for (const d of ROLE_INFO.filter((r) => r.damage)) {
      for (const other of ROLE_INFO.filter((r) => !r.damage)) expect(rank(d.id), `${d.key} over ${other.key}`).toBeGreaterThan(rank(other.id));
    }
    expect(rank(Role.FREE)).toBeGreaterThan(rank(Role.HEADER));
    expect(rank(Role.L2_ACTIVE)).toBeGreaterThan(rank(Role.DATA));
    expect(rank(Role.REFCOUNT_BLOCK)).toBeGreaterThan(rank(Role.COMPRESSED));
  });

  it('shows the highest-priority role of a mask, and an unknown role byte as corrupt', () => {
    expect(topRole(maskOf([Role.DATA, Role.LEAKED, Role.HEADER]))).toBe(Role.LEAKED);
    expect(topRole(maskOf([Role.DATA, Role.FREE, Role.L1_ACTIVE]))).toBe(Role.FREE);
    expect(topRole(maskOf([Role.DATA, Role.L2_ACTIVE]))).toBe(Role.L2_ACTIVE);
    expect(topRole(0)).toBeNull();
    expect(topRole(ROLE_BIT[200] as number)).toBe(Role.CORRUPT);
  });
});

describe('buildPyramid', () => {
  it('makes a bucket of 1000 data clusters and one leaked cluster show as leaked', () => {
    const g: Grid = { clusters: 1001, cols: 32, rows: 32 };
    const roles = new Uint8Array(1001).fill(Role.DATA);
    roles[517] = Role.LEAKED;
    const p = buildPyramid(roles, g);
    expect(p.dims.map((d) => d.cols)).toEqual([32, 16, 8, 4, 2, 1]);
    expect(topRole(bucketMask(p, 5, 0, 0))).toBe(Role.LEAKED);
    // 517 is row 16, col 5: at level 4 it is in bucket (1, 0), and bucket (0, 0) stays data.
    expect(topRole(bucketMask(p, 4, 1, 0))).toBe(Role.LEAKED);
    expect(topRole(bucketMask(p, 4, 0, 0))).toBe(Role.DATA);
    const e = bucketExtent(g, 5, 0, 0);
    expect(e).not.toBeNull();
    const counts = countBucket(roles, g, e!);
    expect(counts[Role.DATA]).toBe(1000);
    expect(counts[Role.LEAKED]).toBe(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(pickInBucket(roles, g, e!)).toBe(517);
  });

  it('equals a cluster-by-cluster OR at every level, for ragged grids', () => {
    for (const [n, w, h, seed] of [[1, 100, 100, 1], [37, 100, 10, 2], [5000, 300, 200, 3], [123_457, 640, 480, 4], [200_003, 333, 211, 5]] as const) {
      const g = gridFor(n, w, h);
      const roles = randomRoles(n, seed);
      const p = buildPyramid(roles, g);
      expect(p.dims[p.dims.length - 1]).toEqual({ cols: 1, rows: 1 });
      for (let level = 0; level < p.dims.length; level++) {
        const d = p.dims[level]!;
        const step = Math.max(1, Math.floor((d.rows * d.cols) / 997));
        for (let b = 0; b < d.rows * d.cols; b += step) {
          const row = Math.floor(b / d.cols);
          const col = b % d.cols;
          expect(bucketMask(p, level, row, col)).toBe(bruteMask(roles, g, level, row, col));
        }
      }
      expect(bucketMask(p, p.dims.length - 1, 0, 0)).toBe(maskOf(roles));
    }
  });

  it('equals a cluster-by-cluster OR at level 1 over runs of one role, on word-aligned, unaligned and odd-width grids', () => {
    // Runs of 1 to 300 clusters of one role (a preallocated image is mostly long runs): the
    // word-at-a-time path fills runs and mixes words; a view at an odd byte offset and grids whose
    // width is not a multiple of 4 take the byte path. Every level-1 bucket is compared.
    const n = 70_001;
    const backing = new Uint8Array(n + 1);
    let s = 7;
    for (let i = 0; i < n; ) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const len = 1 + ((s >>> 8) % 300);
      const role = (s >>> 4) % 3 === 0 ? Role.DATA : (s >>> 16) % ROLE_COUNT;
      backing.fill(role, i + 1, Math.min(n, i + len) + 1);
      i += len;
    }
    for (const roles of [backing.subarray(1), backing.subarray(0, n), new Uint8Array(backing.subarray(1))]) {
      for (const g of [gridFor(n, 900, 500), { clusters: n, cols: 256, rows: Math.ceil(n / 256) }, { clusters: n, cols: 254, rows: Math.ceil(n / 254) }, { clusters: n, cols: 257, rows: Math.ceil(n / 257) }]) {
        const p = buildPyramid(roles, g);
        const d = p.dims[1]!;
        for (let row = 0; row < d.rows; row++) {
          for (let col = 0; col < d.cols; col++) {
            const got = bucketMask(p, 1, row, col);
            if (got !== bruteMask(roles, g, 1, row, col)) expect(got, `cols ${g.cols}, offset ${roles.byteOffset}, bucket ${row},${col}`).toBe(bruteMask(roles, g, 1, row, col));
          }
        }
        expect(bucketMask(p, p.dims.length - 1, 0, 0)).toBe(maskOf(roles));
      }
    }
  });

  it('counts a highlight pyramid only over the kept clusters', () => {
    const g: Grid = { clusters: 64, cols: 8, rows: 8 };
    const roles = new Uint8Array(64).fill(Role.DATA);
    roles[3] = Role.CORRUPT;
    roles[40] = Role.BITMAP_DATA;
    const keep = keepFromRanges(64, [{ start: 40, end: 42 }, { start: 60, end: 99 }]);
    expect([...keep.keys()].filter((i) => keep[i] === 1)).toEqual([40, 41, 60, 61, 62, 63]);
    const h = buildPyramid(roles, g, keep);
    expect(topRole(bucketMask(h, 3, 0, 0))).toBe(Role.BITMAP_DATA);
    expect(bucketMask(h, 0, 0, 3)).toBe(0);
    expect(bucketMask(h, 1, 0, 1)).toBe(0);
  });
});

describe('counts', () => {
  it('counts a bucket cut by the grid edge and by the last cluster exactly', () => {
    const g: Grid = { clusters: 22, cols: 5, rows: 5 };
    const roles = new Uint8Array(22).map((_, i) => (i % 2 === 0 ? Role.DATA : Role.FREE));
    // Level 2: bucket (1, 1) covers rows 4..4, cols 4..4 → cluster 24, past the end.
    expect(bucketExtent(g, 2, 1, 1)).toBeNull();
    // Bucket (1, 0) covers row 4, cols 0..3 → clusters 20, 21 only.
    const e = bucketExtent(g, 2, 1, 0)!;
    expect([e.first, e.last]).toEqual([20, 21]);
    const c = countBucket(roles, g, e);
    expect([c[Role.DATA], c[Role.FREE]]).toEqual([1, 1]);
    const all = countRoles(roles);
    expect([all[Role.DATA], all[Role.FREE]]).toEqual([11, 11]);
  });

  it('counts every role of runs and mixtures, aligned or not, as a byte-by-byte count does', () => {
    const roles = randomRoles(100_003, 9);
    roles.fill(Role.DATA, 1000, 60_000);
    roles.fill(Role.FREE, 60_001, 60_010);
    for (const view of [roles, roles.subarray(1), roles.subarray(3, 99_998)]) {
      const naive = new Uint32Array(256);
      for (const b of view) naive[b]!++;
      expect(countRoles(view)).toEqual(naive);
    }
  });

  it('picks the first cluster of the filtered role when a filter is on', () => {
    const g: Grid = { clusters: 16, cols: 4, rows: 4 };
    const roles = new Uint8Array(16).fill(Role.DATA);
    roles[2] = Role.LEAKED;
    roles[9] = Role.L2_ACTIVE;
    const e = bucketExtent(g, 2, 0, 0)!;
    expect(pickInBucket(roles, g, e)).toBe(2);
    expect(pickInBucket(roles, g, e, maskOf([Role.L2_ACTIVE]))).toBe(9);
    expect(pickInBucket(roles, g, e, maskOf([Role.SNAPSHOT_TABLE]))).toBe(2);
  });
});

describe('knowRoleCounts', () => {
  it('hands countRolesOnce counts made elsewhere, and ignores counts that do not sum to the array', () => {
    const roles = randomRoles(1001, 9);
    const made = countRoles(roles);
    knowRoleCounts(roles, made);
    expect(countRolesOnce(roles)).toBe(made);
    const other = randomRoles(1001, 10);
    const wrong = countRoles(other);
    wrong[Role.DATA] = wrong[Role.DATA]! + 1;
    knowRoleCounts(other, wrong);
    expect(countRolesOnce(other)).not.toBe(wrong);
    expect(countRolesOnce(other)).toEqual(countRoles(other));
  });
});

describe('pyramidSteps', () => {
  it.each([[1, 1], [37, 7], [4096, 5]])('builds in small steps the pyramid buildPyramid builds at once (%i cells per step)', (cells, seed) => {
    const roles = randomRoles(10_007, seed);
    const g = gridFor(roles.length, 300, 170);
    const keep = seed === 5 ? keepFromRanges(g.clusters, [{ start: 100, end: 5000 }]) : null;
    const steps = pyramidSteps(roles, g, keep, cells);
    let n = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) n++;
    const whole = buildPyramid(roles, g, keep);
    expect(n).toBeGreaterThan(cells < 100 ? 10 : 1);
    expect(r.value.dims).toEqual(whole.dims);
    r.value.levels.forEach((level, i) => expect(level).toEqual(whole.levels[i]));
    if (!keep) for (const [row, col] of [[0, 0], [3, 5], [g.rows >> 2, g.cols >> 2]] as const) expect(bucketMask(r.value, 2, row, col)).toBe(bruteMask(roles, g, 2, row, col));
  });
});
