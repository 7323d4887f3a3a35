import { describe, expect, it } from 'vitest';
import { Role } from '../format';
import type { Grid } from './layout';
import { roleLabel, tooltipFor } from './tooltip';

const g: Grid = { clusters: 1001, cols: 32, rows: 32 };
const roles = new Uint8Array(1001).fill(Role.DATA);
roles[0] = Role.HEADER;
roles[517] = Role.LEAKED;
const refcounts = new Uint32Array(1001).fill(1);
refcounts[517] = 2;

describe('tooltipFor', () => {
  it('describes one cluster: byte range, role, refcount and owner', () => {
    const t = tooltipFor(roles, g, 65536, 0, 16, 5, refcounts, (c) => `owner of ${c}`)!;
    expect(t.cluster).toBe(517);
    expect(t.range).toBe('0x2050000 – 0x205ffff');
    expect(t.rows).toEqual([{ role: Role.LEAKED, label: 'leaked (nothing references it: a repair frees it)', clusters: 1, bytes: '64 KiB' }]);
    expect(t.refcount).toBe(2);
    expect(t.owner).toBe('owner of 517');
  });

  it('gives exact counts by role for a zoomed-out bucket, damage first', () => {
    const t = tooltipFor(roles, g, 65536, 5, 0, 0, refcounts)!;
    expect(t.cluster).toBeNull();
    expect(t.rows.map((r) => [r.label, r.clusters])).toEqual([
      ['leaked (nothing references it: a repair frees it)', 1],
      ['header', 1],
      ['guest data', 999],
    ]);
    expect(t.what).toBe('1001 clusters (32 rows × 32 columns from cluster 0)');
    expect(t.range).toBe(`0x0 – 0x${(1001 * 65536 - 1).toString(16)}`);
    expect(t.refcount).toBeNull();
  });

  it('has nothing to say past the last cluster, and names unknown role bytes', () => {
    expect(tooltipFor(roles, g, 512, 0, 31, 31)).toBeNull();
    expect(roleLabel(Role.FREE)).toBe('free (refcount 0)');
    expect(roleLabel(99)).toBe('unknown role 99');
  });
});
