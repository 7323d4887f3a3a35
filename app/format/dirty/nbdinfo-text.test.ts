// nbdinfo's layouts printed from typed arrays: equal to a plain formatter (String(n), padStart)
// for fixed-seed random maps with offsets up to 2^53, both JSON and text, across chunk edges.

import { describe, expect, it } from 'vitest';
import { prng } from '../../test-support/prng';
import { ALLOCATION_DESCRIPTIONS, ExtentsBuilder, type Extents } from './extents';
import { nbdinfoText } from './nbdinfo-text';

function plain(e: Extents, json: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < e.count; i++) {
    const [o, l, t] = [e.start(i), e.end(i) - e.start(i), e.type(i)];
    const d = ALLOCATION_DESCRIPTIONS[t]!;
    lines.push(json
      ? `{ "offset": ${o}, "length": ${l}, "type": ${t}, "description": "${d}"}`
      : `${String(o).padStart(10)}  ${String(l).padStart(10)}  ${String(t).padStart(3)}  ${d}\n`);
  }
  return json ? `[\n${lines.join(',\n')}${lines.length ? '\n' : ''}]\n` : lines.join('');
}

describe('nbdinfo text and JSON', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`equals a plain formatter (seed ${seed})`, () => {
      const r = prng(seed);
      const b = new ExtentsBuilder();
      // Lengths from 1 byte to 2^50 (runs of carries included), up to ~2^53.
      let pos = 0;
      let prev = -1;
      for (let i = 0; i < 20000 && pos < 2 ** 52; i++) {
        const len = r() < 0.05 ? Math.floor(r() * 2 ** (10 + Math.floor(r() * 40))) + 1 : r() < 0.5 ? 9999 : 1 + Math.floor(r() * 100);
        let t = Math.floor(r() * 5);
        if (t === prev) t = (t + 1) % 5;
        b.push(pos, pos + len, t);
        prev = t;
        pos += len;
      }
      const e = b.finish(pos);
      expect(e.size).toBeGreaterThan(2 ** 40);
      for (const json of [true, false]) expect(nbdinfoText(e, ALLOCATION_DESCRIPTIONS, json), `seed ${seed} json ${json}`).toBe(plain(e, json));
    });
  }

  it('a one-extent map up to 2^53 - 1', () => {
    const b = new ExtentsBuilder();
    b.push(0, 2 ** 53 - 1, 1);
    expect(nbdinfoText(b.finish(2 ** 53 - 1), ALLOCATION_DESCRIPTIONS, false)).toBe(`         0  ${2 ** 53 - 1}    1  dirty data\n`);
  });
});
