// The early map's usage summary: sent before any L2 table is scanned, and counting exactly the
// clusters whose stored refcount is not 0 (the check's own stored refcounts, bucket by bucket).

import { describe, expect, it } from 'vitest';
import { analyze, type AnalysisEvent } from '../analyze';
import { NodeFileSource } from '../node';
import { listSamples, samplePath } from '../../test-support/samples';
import { clusterUsage, MAX_USAGE_BUCKETS, UsageTally } from './usage';

describe('usage summary', () => {
  for (const name of listSamples()) {
    it(`${name}: in use per bucket, before the L2 scan`, async () => {
      const src = await NodeFileSource.open(samplePath(name));
      const events: AnalysisEvent[] = [];
      try {
        const a = await analyze(src, { onEvent: (e) => events.push(e) });
        const at = events.findIndex((e) => e.kind === 'usage');
        const firstL2 = events.findIndex((e) => e.kind === 'progress' && e.phase === 'l2');
        expect(at).toBeGreaterThanOrEqual(0);
        if (firstL2 >= 0) expect(at).toBeLessThan(firstL2);
        // The refcount blocks' own progress phase, before the summary, counting up to all of them.
        const rc = events.flatMap((e, i) => (e.kind === 'progress' && e.phase === 'refcounts' ? [{ i, done: e.done, total: e.total }] : []));
        expect(rc.length).toBeGreaterThan(0);
        expect(rc.every((r) => r.i < at)).toBe(true);
        expect(rc[0]!.done).toBe(0);
        expect(rc.at(-1)!.done).toBe(rc.at(-1)!.total);
        const u = (events[at] as Extract<AnalysisEvent, { kind: 'usage' }>).usage;
        const stored = a.check.storedRefcounts;
        expect(u.clusters).toBe(Math.ceil(a.fileSize / a.check.clusterSize));
        let want = 0;
        for (let k = 0; k < u.clusters; k++) if (stored[k] !== 0) want++;
        expect(u.used.reduce((x, y) => x + y, 0)).toBe(want);
        expect(u.inUse).toBe(want);
      } finally {
        await src.close();
      }
    });
  }

  it('buckets stay within the cap and cover every cluster', () => {
    for (const n of [0, 1, 7, MAX_USAGE_BUCKETS, MAX_USAGE_BUCKETS + 1, 16_777_217]) {
      const values = new Uint16Array(n + 1);
      for (let k = 0; k < n; k += 3) values[k] = 1;
      const u = clusterUsage(values, n);
      expect(u.used.length).toBeLessThanOrEqual(MAX_USAGE_BUCKETS);
      expect(u.used.length * u.perBucket).toBeGreaterThanOrEqual(n);
      expect(u.used.reduce((x, y) => x + y, 0)).toBe(Math.ceil(n / 3));
      expect(u.inUse).toBe(Math.ceil(n / 3));
    }
  });

  it('a tally settled block by block, in any order and with overlaps, equals the summary of the final values', () => {
    // Values written range by range, each range settled right after it is written (as the refcount
    // blocks are decoded), with a value written before settling so that a bucket counted early
    // would be wrong; bucket sizes odd and even, the last bucket short, 16- and 32-bit values.
    for (const [n, block] of [[MAX_USAGE_BUCKETS * 3 + 5, 4096], [MAX_USAGE_BUCKETS * 2 + 1, 1000], [1000, 64], [MAX_USAGE_BUCKETS * 4, 32768]] as const) {
      for (const wide of [false, true]) {
        const values = wide ? new Uint32Array(n + 1) : new Uint16Array(n + 1);
        const tally = new UsageTally(n);
        const blocks = Math.ceil(n / block);
        // A fixed shuffle of the blocks; every fifth block is never settled (finish counts it).
        const order = Array.from({ length: blocks }, (_, i) => (i * 7919) % blocks);
        for (const t of new Set(order)) {
          for (let k = t * block; k < Math.min(n, (t + 1) * block); k++) values[k] = (k * 2654435761) % 7 === 0 ? 1 : 0;
          if (t % 5 !== 4) tally.settle(values, t * block, (t + 1) * block);
        }
        // One range settled twice (a block listed by two refcount table entries).
        tally.settle(values, 0, block);
        const want = clusterUsage(values, n);
        const got = tally.finish(values);
        expect(got.perBucket).toBe(want.perBucket);
        expect(got.used.length).toBe(want.used.length);
        // The first bucket that differs (-1: none); toEqual over 2^18 elements is slow.
        expect(got.used.findIndex((x, b) => x !== want.used[b])).toBe(-1);
        let inUse = 0;
        for (let k = 0; k < n; k++) if (values[k] !== 0) inUse++;
        expect(got.used.reduce((x, y) => x + y, 0)).toBe(inUse);
        // The total kept while counting, with buckets counted twice (the range settled again).
        expect(got.inUse).toBe(inUse);
      }
    }
  });

  it('a bucket is not counted before the whole of it has been settled', () => {
    const n = MAX_USAGE_BUCKETS * 4;
    const values = new Uint16Array(n);
    const tally = new UsageTally(n);
    // Clusters [0, 6) and [10, 20) settled while buckets 1 (clusters 4..7) and 2 (8..11) are still
    // being written.
    tally.settle(values, 0, 6);
    tally.settle(values, 10, 20);
    values[6] = 3;
    values[9] = 1;
    values[8] = 2;
    const u = tally.finish(values);
    expect(u.perBucket).toBe(4);
    expect([u.used[0], u.used[1], u.used[2]]).toEqual([0, 1, 2]);
  });
});
