import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, BytesSource } from '../format';
import { samplePath } from '../test-support/samples';
import { splitClusterArrays, transferables } from './split';

describe('splitClusterArrays', () => {
  it('takes out one role and one stored refcount per host cluster, and nothing else', async () => {
    const bytes = new Uint8Array(readFileSync(samplePath('leak')));
    const a = await analyze(new BytesSource(bytes, 'leak.qcow2'));
    const { rest, arrays } = splitClusterArrays(a.check);
    const clusters = Math.ceil(bytes.length / a.check.clusterSize);
    expect(arrays.map(([n]) => n)).toEqual(['roles', 'storedRefcounts']);
    expect(arrays[0]![1].length).toBe(clusters);
    expect(arrays[0]![1]).toBe(a.check.roles);
    // leak.qcow2: the header cluster's refcount was raised to 2 (qemu-img: "Leaked cluster 0 refcount=2").
    expect(arrays[1]![1][0]).toBe(2);
    expect('roles' in rest || 'storedRefcounts' in rest).toBe(false);
    expect(rest.counts).toEqual(a.check.counts);
    expect(rest.owner).toBe(a.check.owner);
  });
});

describe('transferables', () => {
  it('lists the buffers of large typed arrays one level down, once each, never a Map', () => {
    const big = new Uint32Array(1 << 16);
    const small = new Uint8Array(16);
    const check = { owner: big, alias: big.subarray(8), compressed: { host: new Float64Array(1 << 14), n: 3 }, small, l2: new Map([[1, big]]) };
    const out = transferables(check);
    expect(out).toHaveLength(2);
    expect(out).toContain(big.buffer);
    expect(out).toContain(check.compressed.host.buffer);
    expect(transferables(check, 1)).toContain(small.buffer);
  });
});
