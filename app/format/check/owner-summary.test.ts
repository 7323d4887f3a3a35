// The early map's owner summaries (check/usage.ts ownerMasks, CheckOptions.onOwners): per usage
// bucket, the roles claimed so far while the L2 tables are read. Checked against a byte-by-byte
// count on arrays of runs (aligned or not, any bucket size), and on images made by the live
// qemu-img: sent after the usage summary and before the roles, at most once per quarter of the
// L2 tables, never for images with few tables, and agreeing with the final roles.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze, type AnalysisEvent } from '../analyze';
import { NodeFileSource } from '../node';
import { hasQemuImg, mustRun } from '../../test-support/qemu-tools';
import { listSamples, samplePath } from '../../test-support/samples';
import { OWNER_REFINE_MIN_TABLES, OWNER_REFINES, runCheck } from './check';
import { Findings, loadHeaderStage, loadStructures } from '../qcow2';
import { Role } from './roles';
import { ownerMasks, ownerMasksInto, type OwnerSummary } from './usage';

/** ownerMasks one byte at a time. */
function bruteMasks(roles: Uint8Array, clusters: number, perBucket: number): Uint32Array {
  const out = new Uint32Array(Math.ceil(clusters / perBucket));
  for (let k = 0; k < Math.min(clusters, roles.length); k++) if (roles[k] !== 0) out[Math.floor(k / perBucket)]! |= 1 << roles[k]!;
  return out;
}

describe('owner masks', () => {
  it('a range of buckets counted again equals the whole count, and leaves the others as they are', () => {
    const roles = new Uint8Array(10_001);
    for (let k = 0; k < roles.length; k += 3) roles[k] = 1 + (k % 24);
    const want = ownerMasks(roles, roles.length, 64);
    for (const [b0, b1] of [[0, 0], [3, 9], [150, 157], [0, 157], [100, 1000]] as const) {
      const masks = new Uint32Array(want.length).fill(0xdead);
      ownerMasksInto(roles, roles.length, 64, masks, b0, b1);
      expect(masks.findIndex((m, b) => m !== (b >= b0 && b < Math.min(b1, want.length) ? want[b] : 0xdead))).toBe(-1);
    }
  });

  it('equal a byte-by-byte count: runs, single clusters, unaligned arrays, any bucket size', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (const n of [1, 5, 1000, 65_537, 300_001]) {
      const buf = new Uint8Array(n + 8);
      for (const shift of [0, 1, 3]) {
        const roles = buf.subarray(shift, shift + n);
        roles.fill(0);
        // Runs of one role (data behind an L2 table), gaps left unclaimed, and lone clusters.
        for (let k = 0; k < n;) {
          const len = 1 + rand(rand(4) === 0 ? 3 : 300);
          if (rand(3) !== 0) roles.fill(1 + rand(24), k, Math.min(n, k + len));
          k += len;
        }
        for (const per of [1, 3, 4, 64, 65, 4096]) {
          for (const clusters of [n, Math.max(0, n - 2)]) {
            const got = ownerMasks(roles, clusters, per);
            const want = bruteMasks(roles, clusters, per);
            expect(got.length).toBe(want.length);
            expect(got.findIndex((x, b) => x !== want[b])).toBe(-1);
          }
        }
      }
    }
  });
});

const owners = (events: AnalysisEvent[]) => events.flatMap((e, i) => (e.kind === 'owners' ? [{ i, o: e.owners }] : []));

describe('owner summaries during the check', () => {
  it('samples with fewer L2 tables than the minimum: none sent', async () => {
    for (const name of listSamples()) {
      const src = await NodeFileSource.open(samplePath(name));
      try {
        const events: AnalysisEvent[] = [];
        const a = await analyze(src, { onEvent: (e) => events.push(e) });
        const tables = new Set<number>();
        for (let k = 0; k < a.check.roles.length; k++) if (a.check.roles[k] === Role.L2_ACTIVE || a.check.roles[k] === Role.L2_SHARED || a.check.roles[k] === Role.L2_SNAPSHOT) tables.add(k);
        // The samples are small: every one of them has fewer tables than the minimum.
        expect(tables.size, name).toBeLessThan(OWNER_REFINE_MIN_TABLES);
        expect(owners(events), name).toEqual([]);
      } finally {
        await src.close();
      }
    }
  });
});

describe.runIf(hasQemuImg())('owner summaries on images made by qemu-img', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-owners-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** 4 KiB clusters: an L2 table maps 2 MiB, so 256 MiB needs 128 of them. */
  function make(name: string, steps: (path: string) => void): string {
    const path = join(dir, name);
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096,preallocation=metadata', path, '256M']);
    steps(path);
    return path;
  }

  async function run(path: string): Promise<{ events: AnalysisEvent[]; sent: { i: number; o: OwnerSummary }[]; roles: Uint8Array; clusters: number }> {
    const src = await NodeFileSource.open(path);
    try {
      const events: AnalysisEvent[] = [];
      const a = await analyze(src, { onEvent: (e) => events.push(e) });
      return { events, sent: owners(events), roles: a.check.roles, clusters: Math.ceil(a.fileSize / a.check.clusterSize) };
    } finally {
      await src.close();
    }
  }

  it('a clean image: after the usage summary, before the roles, once per quarter; every bit is in the final roles', async () => {
    const path = make('clean.qcow2', (p) => mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 3M', '-c', 'write -P 2 100M 1M', '-c', 'discard 200M 8M', p]));
    const { events, sent, roles, clusters } = await run(path);
    const usageAt = events.findIndex((e) => e.kind === 'usage');
    const rolesAt = events.findIndex((e) => e.kind === 'roles');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThanOrEqual(OWNER_REFINES);
    expect(sent.every((s) => s.i > usageAt && s.i < rolesAt)).toBe(true);
    const usage = (events[usageAt] as Extract<AnalysisEvent, { kind: 'usage' }>).usage;
    const total = sent[0]!.o.total;
    expect(total).toBe(128);
    // The first after the L1 walk (the L2 tables' own clusters, none of their data yet); then
    // after each quarter of the tables.
    expect(sent.map((s) => s.o.done)).toEqual([0, ...sent.slice(1).map((s) => s.o.done)]);
    for (let j = 1; j < sent.length; j++) {
      expect(Math.floor((sent[j]!.o.done * OWNER_REFINES) / total)).toBe(j);
    }
    const final = ownerMasks(roles, clusters, usage.perBucket);
    let prevOwned = 0;
    // Each says which buckets changed since the one before it: outside them, its masks are that one's.
    expect(sent[0]!.o).toMatchObject({ after: -1, from: 0, to: usage.used.length });
    for (let j = 1; j < sent.length; j++) {
      const { o } = sent[j]!;
      const prev = sent[j - 1]!.o;
      expect(o.after).toBe(prev.done);
      expect(o.to).toBeGreaterThan(o.from);
      expect(o.masks.findIndex((m, b) => (b < o.from || b >= o.to) && m !== prev.masks[b])).toBe(-1);
      expect(o.masks[o.from]).not.toBe(prev.masks[o.from]);
      expect(o.masks[o.to - 1]).not.toBe(prev.masks[o.to - 1]);
    }
    for (const { o } of sent) {
      expect(o.perBucket).toBe(usage.perBucket);
      expect(o.masks.length).toBe(usage.used.length);
      expect(o.roles).toBe(o.masks.reduce((a, m) => (a | m) >>> 0, 0));
      // Every role claimed so far is a role of that bucket in the end (a clean image: nothing settles differently).
      expect(o.masks.findIndex((m, b) => (m & ~final[b]!) !== 0)).toBe(-1);
      const owned = o.masks.reduce((n, m) => n + (m !== 0 ? 1 : 0), 0);
      expect(owned).toBeGreaterThanOrEqual(prevOwned);
      prevOwned = owned;
    }
    const first = sent[0]!.o.masks;
    expect(first.some((m) => (m & (1 << Role.L2_ACTIVE)) !== 0)).toBe(true);
    expect(first.some((m) => (m & (1 << Role.DATA)) !== 0)).toBe(false);
    // Part of the data is known before the last table: fewer owned buckets than in the end.
    const last = sent.at(-1)!.o.masks;
    expect(last.some((m) => (m & (1 << Role.DATA)) !== 0)).toBe(true);
    expect(last.reduce((n, m) => n + (m !== 0 ? 1 : 0), 0)).toBeLessThan(final.reduce((n, m) => n + (m !== 0 ? 1 : 0), 0));
  });

  it('each summary, counted only where roles were written since the last, equals a whole count of the roles then', async () => {
    const path = make('exact.qcow2', (p) => {
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 4M', '-c', 'write -P 5 130M 2M', p]);
      mustRun('qemu-img', ['snapshot', '-c', 's1', p]);
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 2 1M 1M', '-c', 'write -P 3 200M 64k', '-c', 'discard 64M 16M', p]);
    });
    const src = await NodeFileSource.open(path);
    try {
      const f = new Findings();
      const s = await loadStructures(src, await loadHeaderStage(src, f), f);
      let clusters = 0;
      const seen: { o: OwnerSummary; whole: Uint32Array }[] = [];
      await runCheck(src, s, f, {
        onUsage: (u) => (clusters = u.clusters),
        onOwners: (o, roles) => seen.push({ o, whole: ownerMasks(roles, clusters, o.perBucket) }),
      });
      expect(seen.length).toBeGreaterThanOrEqual(3);
      for (const { o, whole } of seen) expect(o.masks.findIndex((m, b) => m !== whole[b]), `after ${o.done} tables`).toBe(-1);
    } finally {
      await src.close();
    }
  });

  it('with a snapshot: claims stay claimed; every bit is a role the walk can claim', async () => {
    const path = make('snap.qcow2', (p) => {
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 4M', p]);
      mustRun('qemu-img', ['snapshot', '-c', 's1', p]);
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 2 1M 1M', '-c', 'write -P 3 150M 64k', p]);
    });
    const { sent } = await run(path);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    const claimable = [Role.HEADER, Role.L1_ACTIVE, Role.L1_SNAPSHOT, Role.L2_ACTIVE, Role.L2_SHARED, Role.L2_SNAPSHOT, Role.DATA, Role.DATA_SHARED, Role.DATA_SNAPSHOT, Role.COMPRESSED, Role.MULTI_OWNED]
      .reduce((m, r) => m | (1 << r), 0);
    let prev: Uint32Array | null = null;
    for (const { o } of sent) {
      expect(o.masks.findIndex((m) => (m & ~claimable) !== 0)).toBe(-1);
      if (prev) expect(prev.findIndex((m, b) => m !== 0 && o.masks[b] === 0)).toBe(-1);
      prev = o.masks;
    }
    expect(prev!.some((m) => (m & (1 << Role.L2_SHARED)) !== 0)).toBe(true);
  });
});
