// Extents: building merges equal neighbours; set arithmetic equals a byte-by-byte reference on
// random maps (three-valued, different lengths); the allocation split; nbdinfo's text layout.

import { describe, expect, it } from 'vitest';
import { prng } from '../../test-support/prng';
import { splitByAllocation } from './allocation';
import { CLEAN, DIRTY, DIRTY_DATA, DIRTY_UNALLOCATED, DIRTY_ZERO, UNKNOWN, Extents, ExtentsBuilder, combine, type SetOp } from './extents';
import { BITMAP_DESCRIPTIONS, nbdinfoText } from './index';

/** Random extents over [0, size) with types from `types`, on a grid of `step` bytes. */
function random(r: () => number, size: number, step: number, types: readonly number[]): Extents {
  const b = new ExtentsBuilder();
  let pos = 0;
  while (pos < size) {
    const end = Math.min(size, pos + step * (1 + Math.floor(r() * 5)));
    b.push(pos, end, types[Math.floor(r() * types.length)]!);
    pos = end;
  }
  return b.finish(size);
}

const typeAt = (e: Extents, pos: number): number | undefined => (pos < e.size ? e.type(e.find(pos)) : undefined);

function reference(op: SetOp, a: number, b: number | undefined): number {
  const bb = b ?? UNKNOWN;
  const known = (x: number) => x === CLEAN || x === DIRTY;
  if (!known(a) || !known(bb)) {
    // Unknown unless the known side decides it.
    if (op === 'and' && (a === CLEAN || bb === CLEAN)) return CLEAN;
    if (op === 'or' && (a === DIRTY || bb === DIRTY)) return DIRTY;
    if (op === 'minus' && (a === CLEAN || bb === DIRTY)) return CLEAN;
    return UNKNOWN;
  }
  if (op === 'and') return a & bb;
  if (op === 'or') return a | bb;
  return a & (1 - bb);
}

describe('Extents', () => {
  it('merges touching runs of one type and refuses gaps', () => {
    const b = new ExtentsBuilder();
    b.push(0, 10, CLEAN);
    b.push(10, 20, CLEAN);
    b.push(20, 20, DIRTY);
    b.push(20, 30, DIRTY);
    const e = b.finish(30);
    expect([e.count, e.start(1), e.end(1), e.type(1)]).toEqual([2, 20, 30, DIRTY]);
    expect(() => b.push(31, 40, CLEAN)).toThrow(/contiguous/);
    expect(e.bytesByType()).toEqual([20, 10]);
  });

  it('grows past its first arrays', () => {
    const b = new ExtentsBuilder();
    for (let i = 0; i < 10_000; i++) b.push(i, i + 1, i & 1);
    const e = b.finish(10_000);
    expect([e.count, e.countOf(DIRTY), e.find(7777)]).toEqual([10_000, 5000, 7777]);
  });

  for (const op of ['minus', 'and', 'or'] as const) {
    it(`${op} equals the byte-wise reference on random maps`, () => {
      const r = prng(op.length * 7919);
      for (let k = 0; k < 200; k++) {
        const size = 1 + Math.floor(r() * 300);
        const bSize = r() < 0.3 ? Math.floor(r() * 400) : size;
        const a = random(r, size, 1 + Math.floor(r() * 7), [CLEAN, DIRTY, DIRTY, UNKNOWN]);
        const b = random(r, bSize, 1 + Math.floor(r() * 7), r() < 0.5 ? [CLEAN, DIRTY] : [CLEAN, DIRTY, UNKNOWN]);
        const c = combine(a, b, op);
        expect(c.size).toBe(size);
        const got: (number | undefined)[] = [];
        const want: number[] = [];
        for (let pos = 0; pos < size; pos++) {
          got.push(typeAt(c, pos));
          want.push(reference(op, typeAt(a, pos)!, typeAt(b, pos)));
        }
        expect(got).toEqual(want);
        let merged = true;
        for (let i = 1; i < c.count; i++) merged &&= c.type(i) !== c.type(i - 1);
        expect(merged).toBe(true);
      }
    });
  }

  it('splits dirty ranges by allocation; unknown past the map and where the chain is incomplete', () => {
    const bits = Extents.whole(100, DIRTY);
    const ranges = [
      { start: 0, length: 20, depth: 0, present: true, zero: false, data: true, offset: 0 },
      { start: 20, length: 20, depth: 0, present: true, zero: true, data: false },
      { start: 40, length: 20, depth: 1, present: false, zero: true, data: false },
    ];
    const full = splitByAllocation(bits, { ranges, chainComplete: true });
    const cut = splitByAllocation(bits, { ranges, chainComplete: false });
    const list = (e: Extents) => Array.from({ length: e.count }, (_, i) => [e.start(i), e.type(i)]);
    expect(list(full)).toEqual([[0, DIRTY_DATA], [20, DIRTY_ZERO], [40, DIRTY_UNALLOCATED], [60, UNKNOWN]]);
    expect(list(cut)).toEqual([[0, DIRTY_DATA], [20, DIRTY_ZERO], [40, UNKNOWN]]);
  });

  it('prints as nbdinfo does, including an empty disk', () => {
    const b = new ExtentsBuilder();
    b.push(0, 4096, CLEAN);
    b.push(4096, 12_345_678_901, DIRTY);
    const e = b.finish(12_345_678_901);
    expect(nbdinfoText(e, BITMAP_DESCRIPTIONS, false)).toBe('         0        4096    0  clean\n      4096  12345674805    1  dirty\n');
    expect(nbdinfoText(e, BITMAP_DESCRIPTIONS, true)).toBe(
      '[\n{ "offset": 0, "length": 4096, "type": 0, "description": "clean"},\n{ "offset": 4096, "length": 12345674805, "type": 1, "description": "dirty"}\n]\n');
    expect(nbdinfoText(Extents.whole(0, CLEAN), BITMAP_DESCRIPTIONS, true)).toBe('[\n\n]\n');
  });
});
