// Base64 of the saved analysis's compact forms: toBase64 against Node's own encoder, and back.
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from './rle';

describe('toBase64', () => {
  it("equals Node's base64 for every length remainder, every byte value and a long random buffer", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    let seed = 12345;
    const random = Uint8Array.from({ length: 200_003 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    const cases = [new Uint8Array(0), all, random, ...Array.from({ length: 9 }, (_, n) => all.subarray(250 - n, 250))];
    for (const b of cases) {
      const text = toBase64(b);
      expect(text).toBe(Buffer.from(b).toString('base64'));
      expect(fromBase64(text, 'x')).toEqual(b);
    }
  });
});
