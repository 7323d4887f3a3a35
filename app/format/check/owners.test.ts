// The owner index against a plain array of first claims: runs, unsorted runs, saturated guests,
// the switch to one entry per cluster, and claimFresh's bulk claims.

import { describe, expect, it } from 'vitest';
import { guestOwner, OwnerBuilder, OWNER_UNKNOWN } from './owners';

/** Applies claims to both the builder and a naive first-claim array; returns both. */
function replay(clusters: number, claims: readonly [k: number, guest1: number][]) {
  const b = new OwnerBuilder(clusters);
  const naive = new Uint32Array(clusters);
  for (const [k, g] of claims) {
    b.claim(k, g);
    if (k >= 0 && k < clusters && naive[k] === 0) naive[k] = g;
  }
  return { index: b.finish(), naive };
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

describe('OwnerBuilder', () => {
  it('keeps a preallocated layout (runs of consecutive guests) as few runs', () => {
    const claims: [number, number][] = [];
    // L2 table at cluster 10 + t * 101, then its 100 data clusters for guests t * 100 + 1 ...
    for (let t = 0; t < 50; t++) for (let i = 0; i < 100; i++) claims.push([11 + t * 101 + i, t * 100 + i + 1]);
    const { index, naive } = replay(6000, claims);
    expect(index.dense).toBeNull();
    expect(index.n).toBe(50);
    for (let k = 0; k < 6000; k++) expect(guestOwner(index, k)).toBe(naive[k]);
  });

  it('keeps the first claim of a cluster claimed twice, and sorts runs claimed out of order', () => {
    const claims: [number, number][] = [[500, 7], [501, 8], [10, 3], [500, 99], [11, 4], [12, 1], [700, OWNER_UNKNOWN], [701, OWNER_UNKNOWN], [-1, 5], [9999, 5]];
    const { index, naive } = replay(1000, claims);
    expect(index.dense).toBeNull();
    for (let k = 0; k < 1000; k++) expect(guestOwner(index, k), `cluster ${k}`).toBe(naive[k]);
    expect(guestOwner(index, 500)).toBe(7);
    expect(guestOwner(index, 701)).toBe(OWNER_UNKNOWN);
    expect(guestOwner(index, -3)).toBe(0);
    expect(guestOwner(index, 5000)).toBe(0);
  });

  it('switches to one entry per cluster when scattered claims would need more runs', () => {
    const rnd = lcg(42);
    const clusters = 20_000;
    const claims: [number, number][] = [];
    for (let i = 0; i < 6000; i++) claims.push([Math.floor(rnd() * clusters), Math.floor(rnd() * 1e6) + 1]);
    const { index, naive } = replay(clusters, claims);
    expect(index.dense).not.toBeNull();
    for (let k = 0; k < clusters; k++) expect(guestOwner(index, k)).toBe(naive[k]);
  });

  it('claimFresh records a whole run at once, as claims one by one would', () => {
    const b = new OwnerBuilder(100);
    b.claimFresh(3, 11, 20); // clusters 3..22 → guests 11..30
    b.claimFresh(23, 31, 5); // continues the run
    b.claim(10, 999); // already taken
    b.claimFresh(95, 1, 10); // cut at the end
    const index = b.finish();
    expect(index.n).toBe(2);
    expect([2, 3, 10, 27, 28, 95, 99].map((k) => guestOwner(index, k))).toEqual([0, 11, 18, 35, 0, 1, 5]);
  });
});
