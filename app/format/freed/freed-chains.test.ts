// Stale generations (chains.ts) on hand-made free clusters: a zeroed cluster takes a name from a
// stale chain only when every generation that may be the newest agrees; otherwise it stays zeros
// with the disagreement as evidence. Live histories are in freed-history.test.ts.

import { describe, expect, it } from 'vitest';
import { Role } from '../check/roles';
import { followStale, type Content, type Verdict } from './chains';
import { T_BITMAP_TABLE, T_L1, type PointerTable } from './content';
import type { FreedKind } from './types';

const CS = 512;
const table = (kinds: number, targets: number[]): Content => ({
  c: 'table',
  t: { kinds, used: targets.length, entries: 64, targets: Int32Array.from(targets), targetEntries: Int32Array.from(targets.keys()), l2Targets: null, compressedTargets: new Int32Array(0), flagged: 0 } satisfies PointerTable,
});
const dir = (...bitmaps: [string, number][]): Content => ({ c: 'dir', entries: bitmaps.map(([name, k]) => ({ name, tableOffset: k * CS, tableSize: 1, granularityBits: 16 })) });
const snap = (name: string, l1: number): Content => ({ c: 'snap', entries: [{ id: '1', name, l1Offset: l1 * CS, l1Size: 1 }] });
const ZEROS: Content = { c: 'zeros' };

/** Runs followStale over free clusters 1..n (cluster k holds cells[k-1]); the bytes' own verdicts for roots and tables. */
function follow(cells: Content[]): Verdict[] {
  const picked = cells.map((_, i) => i + 1);
  const at = new Map(picked.map((k, i) => [k, i]));
  const verdicts: (Verdict | null)[] = cells.map((c) =>
    c.c === 'dir' ? { was: 'bitmap-directory', evidence: 'dir' } : c.c === 'snap' ? { was: 'snapshot-table', evidence: 'snap' } : null);
  const bits: Partial<Record<FreedKind, number>> = { 'l1-table': T_L1, 'bitmap-table': T_BITMAP_TABLE, 'l2-table': 2, 'refcount-table': 8 };
  followStale({
    picked, at, content: cells, verdicts, roleOf: (k) => (k >= 1 && k <= cells.length ? Role.FREE : Role.DATA), clusterSize: CS,
    liveSnapshots: new Set(), liveBitmaps: new Set(['big']), kindBit: (k) => bits[k] ?? 0, tableWord: (b) => ({ 1: 'L1', 2: 'L2', 4: 'bitmap table', 8: 'refcount table' })[b],
  });
  return verdicts.map((v) => v!);
}

describe('stale generations and zeroed clusters', () => {
  it('one generation names its zeroed data, with what freed it', () => {
    // 1: dir (big → 2); 2: table → 3; 3: zeros
    const v = follow([dir(['big', 2]), table(T_BITMAP_TABLE, [3]), ZEROS]);
    expect(v[1]!.was).toBe('bitmap-table');
    expect(v[2]).toMatchObject({ was: 'bitmap-data', cause: { of: 'bitmap', name: 'big', gone: false } });
  });
  it('two undated generations: the zeroed data only one names stays zeros, and says why', () => {
    // 1: dir A (big → 2), 2: table → 3; 4: dir B (big → 5), 5: table → 6; 3 and 6 zeros.
    const v = follow([dir(['big', 2]), table(T_BITMAP_TABLE, [3]), ZEROS, dir(['big', 5]), table(T_BITMAP_TABLE, [6]), ZEROS]);
    expect(v[1]!.was).toBe('bitmap-table');
    expect(v[4]!.was).toBe('bitmap-table');
    for (const i of [2, 5]) {
      expect(v[i]!.was).toBe('zeros');
      expect(v[i]!.evidence).toMatch(/^all bytes zero; named as bitmap-data by .*, but 1 other stale bitmap directory \(0x[0-9a-f]+\) does not name it, and nothing dates them/);
    }
  });
  it('generations that agree name it', () => {
    // Both directories name the same table, which names 3.
    const v = follow([dir(['big', 2]), table(T_BITMAP_TABLE, [3]), ZEROS, dir(['big', 2])]);
    expect(v[2]!.was).toBe('bitmap-data');
  });
  it('a snapshot table and a bitmap chain that disagree on a zeroed cluster: zeros', () => {
    // 1: dir (big → 2), 2: table → 3; 4: snapshot table naming 3 as an L1.
    const v = follow([dir(['big', 2]), table(T_BITMAP_TABLE, [3]), ZEROS, snap('old', 3)]);
    expect(v[2]!.was).toBe('zeros');
    expect(v[2]!.evidence).toMatch(/stale structures disagree/);
  });
  it('a generation naming a cluster that holds other bytes is older: its zeroed claims are not taken', () => {
    // 1: snapshot table → L1 at 2 (table bytes) → L2 at 3 holding bytes no table holds; 4: zeros named through 2 as well.
    const v = follow([snap('old', 2), table(T_L1, [3, 4]), { c: 'other' }, ZEROS]);
    expect(v[1]!.was).toBe('l1-table');
    expect(v[3]!.was).toBe('zeros');
    expect(v[3]!.evidence).toMatch(/is older than the last use of a cluster it names/);
  });
});
