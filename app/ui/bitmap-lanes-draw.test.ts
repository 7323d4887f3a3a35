// Level of detail of the bitmap lanes: a lone dirty granule on a 1 TiB disk still owns a pixel
// column at the widest view; the hovered extent is the one drawn.

import { describe, expect, it } from 'vitest';
import { compact } from '../worker/bitmap-maps';
import { CLEAN, DIRTY, ExtentPyramid, ExtentsBuilder, UNKNOWN } from '../format';
import { extentAt, laneColumns } from './bitmap-lanes-draw';

const TiB = 2 ** 40;
const PRIORITY = [0, 2, 1];

function lone(at: number, len: number, type = DIRTY) {
  const b = new ExtentsBuilder();
  b.push(0, at, CLEAN);
  b.push(at, at + len, type);
  b.push(at + len, TiB, CLEAN);
  return compact(b.finish(TiB));
}

describe('bitmap lane level of detail', () => {
  it('never hides a lone 512-byte dirty extent of a 1 TiB disk', () => {
    for (const at of [0, 512, TiB / 3 - (TiB / 3) % 512, TiB - 512]) {
      const cols = laneColumns(lone(at, 512), 0, TiB, 800, PRIORITY);
      const dirty = [...cols].filter((t) => t === DIRTY).length;
      expect(dirty).toBe(1);
      expect(cols[Math.min(799, Math.floor((at / TiB) * 800))]).toBe(DIRTY);
    }
  });

  it('dirty wins a column over unknown, unknown over clean; hover finds what is drawn', () => {
    const b = new ExtentsBuilder();
    b.push(0, 100, CLEAN);
    b.push(100, 101, UNKNOWN);
    b.push(101, 102, DIRTY);
    b.push(102, 1000, CLEAN);
    const e = compact(b.finish(1000));
    const cols = laneColumns(e, 0, 1000, 10, PRIORITY);
    expect([...cols]).toEqual([0, DIRTY, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(extentAt(e, 100, 200, PRIORITY)).toEqual({ start: 101, end: 102, type: DIRTY });
    // Zoomed in on [100, 101): only the unknown byte.
    expect([...laneColumns(e, 100, 101, 4, PRIORITY)]).toEqual([UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN]);
  });

  it('draws a lane of 2 million extents from its pyramid: the lone dirty extent still shows', () => {
    const b = new ExtentsBuilder();
    const step = TiB / 2 ** 21;
    const at = 1234567 * step + 4096;
    for (let i = 0; i < 2 ** 21; i++) {
      const s = i * step;
      const t = i % 2 ? UNKNOWN : CLEAN;
      if (at > s && at < s + step) {
        b.push(s, at, t);
        b.push(at, at + 512, DIRTY);
        b.push(at + 512, s + step, t);
      } else b.push(s, s + step, t);
    }
    const e = compact(b.finish(TiB));
    const rank = (t: number) => (t < 0 ? -1 : PRIORITY[t] ?? 0);
    for (const [from, to] of [[0, TiB], [at - 2 ** 34, at + 2 ** 30], [at - 2 ** 28, at + 2 ** 28]] as const) {
      const cols = laneColumns(e, from, to, 800, PRIORITY);
      // The pyramid's answer (what the drawing loop used while more than 4 extents share a column),
      // and the extent's column dirty.
      if (to - from > 2 ** 30) expect([...cols]).toEqual([...ExtentPyramid.build(e)!.columns(from, to, 800, rank)]);
      expect(cols[Math.floor(((at - from) / (to - from)) * 800)]).toBe(DIRTY);
    }
  });
});
