// Roles of host clusters, cross-checked with what qemu-img says: the host ranges its map puts guest
// data at are data clusters owned by those guest offsets; the clusters its check calls leaked or
// corrupt are exactly those; everything past image-end-offset is tail; and the structures the
// header points at have their roles.

import { describe, expect, it } from 'vitest';
import type { Analysis } from '../analyze';
import { clusterOwners, describeCluster, roleCounts, roleRuns, settleRole } from './cluster-roles';
import { guestOwner } from './owners';
import { Role, ROLE_COUNT, ROLE_INFO } from './roles';
import { analyzeSample, referenceText } from '../../test-support/analyze-sample';
import { listSamples, reference } from '../../test-support/samples';
import { INCOMPAT_DIRTY } from '../qcow2/spec';

const samples = listSamples();
const DATA_ROLES: readonly number[] = [Role.DATA, Role.DATA_SHARED];

async function withMap(name: string) {
  const a = await analyzeSample(name);
  const map = reference<{ start: number; length: number; depth: number; offset?: number; data: boolean }[]>(name, 'map.json') ?? [];
  return { a, map };
}

/** Host ranges of this image's own data according to qemu-img map (not a backing or data file). */
function ownHostRanges(a: Analysis, map: { start: number; length: number; depth: number; offset?: number }[]) {
  if (a.structures.extensions.dataFile !== null) return [];
  return map.filter((r) => r.depth === 0 && r.offset !== undefined);
}

describe('roles agree with qemu-img map: its host ranges are data of those guest offsets', () => {
  it.each(samples)('%s', async (name) => {
    const { a, map } = await withMap(name);
    const c = a.check;
    const cs = c.clusterSize;
    const damaged = new Set<number>([Role.CORRUPT, Role.LEAKED, Role.OVERCOUNTED]);
    for (const r of ownHostRanges(a, map)) {
      for (let g = r.start; g < r.start + r.length; g += cs) {
        const k = Math.floor((r.offset! + (g - r.start)) / cs);
        if (damaged.has(c.roles[k]!)) continue;
        expect(DATA_ROLES, `${name}: host cluster ${k}`).toContain(c.roles[k]);
        expect(guestOwner(c.owner, k) - 1, `${name}: owner of host cluster ${k}`).toBe(Math.floor(g / cs));
        expect(describeCluster({ structures: a.structures, check: c }, k)).toContain(`data of guest offset 0x${(Math.floor(g / cs) * cs).toString(16)}`);
      }
    }
  });
});

describe('roles agree with qemu-img check', () => {
  it.each(samples.filter((n) => referenceText(n, 'check.json') !== null))('%s: tail, leaks, corruptions', async (name) => {
    const a = await analyzeSample(name);
    const c = a.check;
    const end = reference<{ 'image-end-offset': number }>(name, 'check.json')!['image-end-offset'];
    const err = referenceText(name, 'check.err') ?? '';
    const listed = (re: RegExp) => [...err.matchAll(re)].map((m) => Number(m[1])).sort((x, y) => x - y);
    const indices = (role: number) => [...c.roles.keys()].filter((k) => c.roles[k] === role);
    // qemu-img's leaks are ours split in two: nothing references the cluster (reference=0), or its refcount is too high.
    expect(indices(Role.LEAKED)).toEqual(listed(/Leaked cluster (\d+) refcount=\d+ reference=0\b/g));
    expect(indices(Role.OVERCOUNTED)).toEqual(listed(/Leaked cluster (\d+) refcount=\d+ reference=[1-9]/g));
    // With the dirty bit (lazy refcounts) a refcount below the references is one not written yet:
    // the cluster keeps its owner (settleRole); otherwise it is damage.
    const dirty = (a.structures.header.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n;
    const behind = listed(/ERROR cluster (\d+)/g);
    expect(indices(Role.CORRUPT)).toEqual(dirty ? [] : behind);
    if (dirty) {
      expect(behind.length).toBeGreaterThan(0);
      for (const k of behind) expect(ROLE_INFO[c.roles[k]!]!.damage, `${name}: cluster ${k}`).toBe(false);
    }
    // Past image-end-offset every cluster is free: FREE where a refcount block covers it, else the TAIL.
    const tail = indices(Role.TAIL);
    const past = [...c.roles.keys()].filter((k) => k >= end / c.clusterSize);
    expect(past.every((k) => c.roles[k] === Role.TAIL || c.roles[k] === Role.FREE)).toBe(true);
    if (tail.length) expect(tail[0]).toBeGreaterThanOrEqual(end / c.clusterSize);
    const perBlock = (c.clusterSize * 8) / 2 ** a.structures.header.refcountOrder;
    for (const k of past) expect(c.roles[k] === Role.FREE, `cluster ${k}`).toBe((c.reftable.offsets[Math.floor(k / perBlock)] ?? 0) > 0);
  });
});

describe('structures the header points at have their roles', () => {
  it.each(samples)('%s', async (name) => {
    const a = await analyzeSample(name);
    const c = a.check;
    const h = a.structures.header;
    const cs = c.clusterSize;
    const roleAt = (off: bigint | number) => c.roles[Math.floor(Number(off) / cs)];
    const ok = (off: bigint | number, role: number) => {
      const r = roleAt(off);
      if (r !== Role.LEAKED && r !== Role.OVERCOUNTED && r !== Role.CORRUPT) expect(r, `${name}: cluster at ${off}`).toBe(role);
    };
    ok(0, Role.HEADER);
    ok(h.l1TableOffset, Role.L1_ACTIVE);
    ok(h.refcountTableOffset, Role.REFCOUNT_TABLE);
    for (const off of c.reftable.offsets) if (off) ok(off, Role.REFCOUNT_BLOCK);
    for (const sn of a.structures.snapshotTable?.snapshots ?? []) ok(sn.l1TableOffset, Role.L1_SNAPSHOT);
    if (a.structures.snapshotTable) ok(a.structures.snapshotTable.offset, Role.SNAPSHOT_TABLE);
    if (a.structures.luks) ok(a.structures.luks.offset, Role.LUKS_HEADER);
    const bext = a.structures.extensions.bitmaps;
    if (bext && h.autoclearFeatures & 1n) {
      ok(bext.directoryOffset, Role.BITMAP_DIRECTORY);
      for (const b of a.structures.bitmapDirectory?.bitmaps ?? []) {
        if (b.tableSize > 0) ok(b.tableOffset, Role.BITMAP_TABLE);
        for (const e of b.table ?? []) if (e & 0x00fffffffffffe00n) ok(e & 0x00fffffffffffe00n, Role.BITMAP_DATA);
      }
    }
    for (const u of c.l2Tables.values()) {
      if (u.offset === 0 || u.offset >= a.fileSize) continue;
      const want = u.activeRefs && u.snapRefs ? Role.L2_SHARED : u.activeRefs ? Role.L2_ACTIVE : Role.L2_SNAPSHOT;
      ok(u.offset, want);
    }
  });

  it('clusters freed by the seed proposal are free, and the zero-offset bitmap owns none', async () => {
    const base = await analyzeSample('seed-base');
    const seed = await analyzeSample('seed-zero-offset-bitmap');
    const empty = base.structures.bitmapDirectory!.bitmaps.find((b) => b.name === 'empty')!;
    const k = Number(empty.tableOffset) / base.check.clusterSize;
    expect(base.check.roles[k]).toBe(Role.BITMAP_TABLE);
    expect(seed.check.roles[k]).toBe(Role.FREE);
    expect(clusterOwners({ structures: seed.structures, check: seed.check }, k)).toEqual([]);
  });
});

describe('describing clusters', () => {
  it('compressed host clusters name the guest clusters qemu-img maps without an offset', async () => {
    const { a, map } = await withMap('compressed-mixed');
    const c = a.check;
    const compressedGuest = map.filter((r) => r.depth === 0 && r.data && r.offset === undefined);
    const described = [...c.roles.keys()].filter((k) => c.roles[k] === Role.COMPRESSED)
      .map((k) => describeCluster({ structures: a.structures, check: c }, k)).join('\n');
    for (const r of compressedGuest) {
      for (let g = r.start; g < r.start + r.length; g += c.clusterSize) expect(described).toContain(`compressed guest cluster 0x${g.toString(16)}, bytes`);
    }
  });

  it('counts and runs cover the file', async () => {
    for (const name of ['snapshots', 'bitmaps', 'leak']) {
      const a = await analyzeSample(name);
      const c = a.check;
      const counts = roleCounts(c.roles, c.clusterSize, a.fileSize);
      expect(counts.length).toBe(ROLE_COUNT);
      expect(counts.reduce((n, x) => n + x.bytes, 0)).toBe(a.fileSize);
      const runs = roleRuns(c.roles);
      expect(runs.reduce((n, [, , len]) => n + len, 0)).toBe(c.roles.length);
      for (const [role, start, len] of runs) expect(c.roles.subarray(start, start + len).every((r) => r === role)).toBe(true);
    }
  });

  it('an L2 table says which guest range it maps', async () => {
    const a = await analyzeSample('v3');
    const u = [...a.check.l2Tables.values()][0]!;
    const text = describeCluster({ structures: a.structures, check: a.check }, u.offset / a.check.clusterSize);
    expect(text).toContain(`L2 table for guest 0–512 MiB (active L1 entry ${u.firstL1})`);
  });

  it('the header cluster is owned by the header only, even when bitmap table entries are 0', async () => {
    for (const name of ['bitmaps', 'seed-all-ones-bitmap']) {
      const a = await analyzeSample(name);
      const zeroEntries = (a.structures.bitmapDirectory?.bitmaps ?? []).some((b) => b.table?.some((e) => (e & 0x00ff_ffff_ffff_fe00n) === 0n));
      expect(zeroEntries, name).toBe(true);
      expect(clusterOwners({ structures: a.structures, check: a.check }, 0), name).toEqual(['header and header extensions']);
    }
  });
});

describe('what compareRefcounts may skip (check.ts PairSkipper)', () => {
  // The skipper leaves a cluster's role as claimed when stored = expected = 0, and when stored =
  // expected = 1 on a claimed cluster; settleRole must agree, or the skipper must change with it.
  it('settleRole keeps the claimed role for refcount 0/0 and 1/1', () => {
    for (let r = 0; r < ROLE_COUNT; r++) {
      for (const missing of [false, true]) {
        expect(settleRole(r, 0, 0, missing)).toBe(r);
        if (r !== Role.FREE) expect(settleRole(r, 1, 1, missing)).toBe(r);
      }
    }
  });
});

describe('settleRole with the dirty bit (lazy refcounts)', () => {
  it('a refcount below the references is one not written yet: settled as if it were', () => {
    expect(settleRole(Role.DATA, 0, 1, false, true)).toBe(Role.DATA);
    expect(settleRole(Role.L2_ACTIVE, 0, 1, false, true)).toBe(Role.L2_ACTIVE);
    expect(settleRole(Role.DATA, 1, 2, false, true)).toBe(Role.DATA_SHARED);
    expect(settleRole(Role.MULTI_OWNED, 1, 2, false, true)).toBe(Role.MULTI_OWNED);
    // Without it, damage; a refcount above the references stays what qemu-img counts it as (a leak).
    expect(settleRole(Role.DATA, 0, 1, false, false)).toBe(Role.CORRUPT);
    expect(settleRole(Role.DATA, 2, 1, false, true)).toBe(Role.OVERCOUNTED);
    expect(settleRole(Role.FREE, 1, 0, false, true)).toBe(Role.LEAKED);
  });
});
