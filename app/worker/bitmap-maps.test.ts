// The page's guard on bitmap answers: typed arrays of matching lengths, or the message is refused.

import { describe, expect, it } from 'vitest';
import { CLEAN, DIRTY, ExtentsBuilder } from '../format';
import { compact, isBitmapMapsMsg, type BitmapMapsMsg } from './bitmap-maps';

describe('isBitmapMapsMsg', () => {
  const b = new ExtentsBuilder();
  b.push(0, 10, CLEAN);
  b.push(10, 20, DIRTY);
  const c = compact(b.finish(20));
  const lane = { ref: { file: 0, index: 0 }, name: 'x', plain: c, alloc: c, refusal: null, notes: [] };
  const ok: BitmapMapsMsg = { lanes: [lane], compare: null };

  it('accepts what the worker sends, with compact arrays trimmed to the extent count', () => {
    expect(c.starts.length).toBe(2);
    expect(c.bytes).toEqual([10, 10]);
    expect(isBitmapMapsMsg(ok)).toBe(true);
    expect(isBitmapMapsMsg({ lanes: [], compare: { aMinusB: c, bMinusA: c, aAndB: c } })).toBe(true);
  });

  it('refuses plain arrays, mismatched lengths and a missing comparison part', () => {
    expect(isBitmapMapsMsg({ lanes: [{ ...lane, plain: { ...c, starts: [0, 10] } }], compare: null })).toBe(false);
    expect(isBitmapMapsMsg({ lanes: [{ ...lane, plain: { ...c, types: new Uint8Array(3) } }], compare: null })).toBe(false);
    expect(isBitmapMapsMsg({ lanes: [], compare: { aMinusB: c, bMinusA: c } })).toBe(false);
    expect(isBitmapMapsMsg(null)).toBe(false);
  });
});
