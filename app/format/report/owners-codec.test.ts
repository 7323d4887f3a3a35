// The owners in a saved analysis: on every sample, each host cluster read back from the document is
// described exactly as on the image (guest owner, L2 table, refcount block, compressed pieces); a
// document without owners still reads; a damaged owners part is a typed error, not a crash.

import { describe, expect, it } from 'vitest';
import { describeCluster } from '../check/cluster-roles';
import { analyzeSample } from '../../test-support/analyze-sample';
import { listSamples } from '../../test-support/samples';
import { buildReport, parseReport } from './saved-analysis';
import { ReportError } from './codec';

describe('a saved analysis describes every cluster as the image does', () => {
  it.each(listSamples())('%s', async (name) => {
    const a = await analyzeSample(name);
    const doc = buildReport(a, 'qcowscope test') as Record<string, unknown>;
    expect(doc.owners).toBeDefined();
    const back = parseReport(JSON.stringify(doc)).analysis;
    for (let k = 0; k < a.check.roles.length; k++) {
      expect(describeCluster(back, k), `cluster ${k}`).toBe(describeCluster(a, k));
    }
  });
});

describe('the owners part is optional and checked', () => {
  it('reads a document without it (no owners), and refuses a damaged one', async () => {
    const a = await analyzeSample('snapshots');
    const doc = buildReport(a, 'qcowscope test') as Record<string, unknown>;
    const { owners, ...without } = doc;
    const plain = parseReport(JSON.stringify(without)).analysis;
    expect(plain.check.owner.n).toBe(0);
    const bad = { ...doc, owners: { ...(owners as object), owner: '////' } };
    expect(() => parseReport(JSON.stringify(bad))).toThrow(ReportError);
  });
});
