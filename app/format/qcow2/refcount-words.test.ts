// The stored 16-bit refcount words (refcount-words.ts): swapped whole, in place, for every length
// and alignment (the check's result is an array of the file's clusters plus one: often odd).

import { describe, expect, it } from 'vitest';
import { LITTLE_ENDIAN, swap16, swapPair, swapWordsInPlace } from './refcount-words';

describe('stored 16-bit refcount words', () => {
  it('swap16 and swapPair read big-endian words', () => {
    const bytes = new Uint8Array([0x01, 0x00, 0x00, 0x01, 0xff, 0x00, 0x12, 0x34]);
    const words = new Uint16Array(bytes.buffer);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < 4; i++) expect(LITTLE_ENDIAN ? swap16(words[i]!) : words[i]).toBe(dv.getUint16(2 * i));
    const pairs = new Uint32Array(bytes.buffer);
    const swapped = new Uint16Array(new Uint32Array([swapPair(pairs[0]!), swapPair(pairs[1]!)]).buffer);
    for (let i = 0; i < 4; i++) expect(swapped[i]).toBe(swap16(words[i]!));
  });

  it.each([0, 1, 2, 7, 8, 9, 15, 16, 17, 33])('swapWordsInPlace over %i entries, aligned and not', (n) => {
    for (const at of [0, 1, 2]) {
      const whole = Uint16Array.from({ length: n + at + 3 }, (_, i) => (i * 0x0731 + 0x0100) & 0xffff);
      const before = whole.slice();
      swapWordsInPlace(whole.subarray(at, at + n));
      for (let i = 0; i < whole.length; i++) {
        const inside = i >= at && i < at + n;
        expect(whole[i], `entry ${i} of ${n} from ${at}`).toBe(inside ? swap16(before[i]!) : before[i]);
      }
    }
  });
});
