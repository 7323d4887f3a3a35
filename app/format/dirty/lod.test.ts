// The lanes' level-of-detail pyramid: a lone dirty extent among millions of others is in a dirty
// bucket at every level and drawn at every zoom; bucket counts add up to the raw extents; a
// redraw reads O(columns) buckets; against drawing every extent, a column is never hidden and
// widened by at most one pixel a side (fixed-seed random maps; the seed is in every message).

import { describe, expect, it } from 'vitest';
import { prng } from '../../test-support/prng';
import { CLEAN, DIRTY, DIRTY_UNALLOCATED, Extents, ExtentsBuilder } from './extents';
import { ExtentPyramid } from './lod';

const TiB = 2 ** 40;
const RANK = [0, 4, 3, 2, 1];
const rank = (t: number) => (t < 0 ? -1 : RANK[t] ?? 0);

/** `n` extents over 1 TiB alternating clean and unallocated, with one DIRTY extent of `len` at `at`. */
function millions(n: number, at: number, len: number): Extents {
  const b = new ExtentsBuilder();
  const step = Math.floor(TiB / n / 512) * 512;
  for (let i = 0, pos = 0; pos < TiB; i++) {
    const end = Math.min(TiB, pos + step);
    if (at >= pos && at < end) {
      b.push(pos, at, i % 2 ? DIRTY_UNALLOCATED : CLEAN);
      b.push(at, at + len, DIRTY);
      b.push(at + len, Math.max(end, at + len), i % 2 ? DIRTY_UNALLOCATED : CLEAN);
      pos = Math.max(end, at + len);
    } else {
      b.push(pos, end, i % 2 ? DIRTY_UNALLOCATED : CLEAN);
      pos = end;
    }
  }
  return b.finish(TiB);
}

const arrays = (e: Extents) => ({ starts: e.starts.subarray(0, e.count), types: e.types.subarray(0, e.count), size: e.size });

/** The reference, extent by extent: the mask of types overlapping each column. */
function direct(e: Extents, from: number, to: number, width: number): Uint8Array {
  const masks = new Uint8Array(width);
  const perPx = (to - from) / width;
  for (let i = 0; i < e.count; i++) {
    const s = e.start(i);
    const end = e.end(i);
    if (end <= from || s >= to) continue;
    const p0 = Math.max(0, Math.floor((s - from) / perPx));
    const p1 = Math.min(width - 1, Math.ceil((end - from) / perPx) - 1);
    for (let p = p0; p <= p1; p++) masks[p]! |= 1 << e.type(i);
  }
  return masks;
}

/** The highest-ranked type of a mask, -1 for none. */
function top(mask: number): number {
  let best = -1;
  for (let t = 0; t < 8; t++) if (mask & (1 << t) && rank(t) > rank(best)) best = t;
  return best;
}

describe('extent pyramid (level of detail for lanes)', () => {
  const at = 3 * 2 ** 37 + 7 * 512; // inside an extent, not on a bucket edge
  const e = millions(2_000_000, at, 512);
  const pyr = ExtentPyramid.build(arrays(e))!;

  it('a lone 512-byte dirty extent among 2 million others is in a dirty bucket at every level', () => {
    expect(e.count).toBeGreaterThan(2_000_000);
    expect(e.countOf(DIRTY)).toBe(1);
    for (const [l, level] of pyr.levels.entries()) {
      const k = Math.floor(at / level.width);
      expect(level.masks[k]! & (1 << DIRTY), `level ${l}`).not.toBe(0);
      const dirtyBuckets = [...level.masks].filter((m) => m & (1 << DIRTY)).length;
      expect(dirtyBuckets, `level ${l}`).toBe(1);
    }
  });

  it('bucket counts add up to the raw extents at every level, and match them bucket by bucket', () => {
    for (const level of pyr.levels) expect(level.counts.reduce((s, c) => s + c, 0)).toBe(e.count);
    const base = pyr.levels[0]!;
    const want = new Uint32Array(base.counts.length);
    for (let i = 0; i < e.count; i++) want[Math.min(want.length - 1, Math.floor(e.start(i) / base.width))]!++;
    expect(want.findIndex((c, k) => c !== base.counts[k])).toBe(-1);
    expect(pyr.levels[pyr.levels.length - 1]!.masks[0]).toBe((1 << CLEAN) | (1 << DIRTY) | (1 << DIRTY_UNALLOCATED));
  });

  it('draws the lone extent at every zoom, with O(columns) bucket reads', () => {
    const width = 800;
    for (let span = TiB; span >= pyr.levels[0]!.width * width; span /= 3) {
      for (const shift of [0, 0.37, 0.999]) {
        const from = Math.max(0, at - span * shift);
        const cols = pyr.columns(from, from + span, width, rank)!;
        expect(cols, `span ${span}`).not.toBeNull();
        const p = Math.floor(((at - from) / span) * width);
        if (p < 0 || p >= width) continue;
        expect(cols[p], `span ${span} shift ${shift}`).toBe(DIRTY);
        expect([...cols].filter((t) => t === DIRTY).length).toBeLessThanOrEqual(3);
        expect(pyr.lastWork).toBeLessThanOrEqual(4 * width);
      }
    }
    // Finer than level 0 (down to 1 byte a column): the extents of each column by index, exactly.
    const logN = Math.ceil(Math.log2(e.count));
    for (let span = pyr.levels[0]!.width * width / 2; span >= width; span /= 7) {
      const from = at - span / 2;
      const cols = pyr.columns(from, from + span, width, rank);
      const perPx = span / width;
      const overlapping = Array.from({ length: width }, (_, c) => from + c * perPx < at + 512 && from + (c + 1) * perPx > at).filter(Boolean).length;
      expect(overlapping).toBeGreaterThan(0);
      expect([...cols].filter((t) => t === DIRTY).length, `span ${span}`).toBe(overlapping);
      expect(pyr.lastWork).toBeLessThanOrEqual(width * (4 * logN + 2));
    }
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`never hides a column, widens by at most a pixel a side (seed ${seed})`, () => {
      const r = prng(seed);
      const size = 512 * (1000 + Math.floor(r() * 1e6));
      const b = new ExtentsBuilder();
      for (let pos = 0; pos < size;) {
        const len = Math.min(size - pos, 512 * (1 + Math.floor(r() * (r() < 0.9 ? 4 : 3000))));
        b.push(pos, pos + len, Math.floor(r() * 5));
        pos += len;
      }
      const ex = b.finish(size);
      const p = ExtentPyramid.build(arrays(ex), 1 << (6 + Math.floor(r() * 10)))!;
      for (let view = 0; view < 40; view++) {
        const width = 50 + Math.floor(r() * 900);
        const span = Math.max(width, size * r() ** 3);
        const from = r() * (size - span);
        const got = p.columns(from, from + span, width, rank);
        const exact = p.levelFor(span / width) === null;
        // The reference with one more column each side (a column may show what lies just off-view).
        const perPx = span / width;
        const want = direct(ex, from - perPx, from + span + perPx, width + 2);
        for (let c = 0; c < width; c++) {
          // Shown: at least the column's own best type, and only a type found within a pixel of it.
          const own = want[c + 1]!;
          const near = want[c]! | own | want[c + 2]!;
          const msg = `seed ${seed} view ${view} column ${c}: shows ${got[c]}, has mask ${own}, near ${near}`;
          expect(rank(got[c]!) >= rank(top(own)), msg).toBe(true);
          expect(got[c]! >= 0 && (near & (1 << got[c]!)) !== 0, msg).toBe(true);
          // Finer than level 0 the answer is exact.
          if (exact) expect(got[c], msg).toBe(top(own));
        }
        const logN = Math.ceil(Math.log2(ex.count));
        expect(p.lastWork, `seed ${seed}`).toBeLessThanOrEqual(exact ? width * (4 * logN + 2) : 4 * width);
      }
    });
  }

  it('builds no pyramid for types it cannot mask', () => {
    expect(ExtentPyramid.build({ starts: [0], types: [9], size: 10 })).toBeNull();
    expect(ExtentPyramid.build({ starts: [], types: [], size: 0 })).toBeNull();
  });
});
