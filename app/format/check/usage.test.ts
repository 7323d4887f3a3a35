// The early map's usage summary: sent before any L2 table is scanned, and counting exactly the
// clusters whose stored refcount is not 0 (the check's own stored refcounts, bucket by bucket).

import { describe, expect, it } from 'vitest';
import { analyze, type AnalysisEvent } from '../analyze';
import { NodeFileSource } from '../node';
import { listSamples, samplePath } from '../../test-support/samples';
import { clusterUsage, MAX_USAGE_BUCKETS } from './usage';

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
        const u = (events[at] as Extract<AnalysisEvent, { kind: 'usage' }>).usage;
        const stored = a.check.storedRefcounts;
        expect(u.clusters).toBe(Math.ceil(a.fileSize / a.check.clusterSize));
        let want = 0;
        for (let k = 0; k < u.clusters; k++) if (stored[k] !== 0) want++;
        expect(u.used.reduce((x, y) => x + y, 0)).toBe(want);
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
    }
  });
});
