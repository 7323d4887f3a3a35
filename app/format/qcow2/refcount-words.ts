// 16-bit refcounts (refcount_order 4) as the refcount blocks store them: big-endian words. The
// check keeps them that way (StoredRefcounts.swapped), so that loading a block is a copy — or a
// read straight into place — instead of a byte swap per entry, and its hot readers work on the raw
// words: 0 is 0 in either order, and refcount 1 is the word 0x0100 on a little-endian host.
// swapWordsInPlace turns the array into host order once, for the check's result.

/** Whether this host stores typed arrays little-endian (then stored 16-bit words read swapped). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The refcount a stored 16-bit word holds, for a word read on a little-endian host. */
export const swap16 = (w: number): number => ((w >>> 8) | (w << 8)) & 0xffff;

/** Both halves of a 32-bit word of stored 16-bit refcounts swapped (as a uint32). */
export const swapPair = (x: number): number => (((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8)) >>> 0;

/** Byte-swaps every entry of `a` in place (its own inverse). */
export function swapWordsInPlace(a: Uint16Array): void {
  let done = 0;
  if (a.byteOffset % 4 === 0) {
    done = a.length - (a.length % 8);
    swapWords8(new Int32Array(a.buffer, a.byteOffset, done / 2));
  }
  for (let i = done; i < a.length; i++) a[i] = swap16(a[i]!);
}

/**
 * Swaps the 16-bit halves' bytes of every word of `w` (a multiple of 4 long), four words a step:
 * no tail loop in here, which a first call optimised mid-loop would not have run.
 */
function swapWords8(w: Int32Array): void {
  const m = w.length;
  for (let j = 0; j < m; j += 4) {
    const a = w[j]!;
    const b = w[j + 1]!;
    const c = w[j + 2]!;
    const d = w[j + 3]!;
    w[j] = ((a >> 8) & 0x00ff00ff) | ((a & 0x00ff00ff) << 8);
    w[j + 1] = ((b >> 8) & 0x00ff00ff) | ((b & 0x00ff00ff) << 8);
    w[j + 2] = ((c >> 8) & 0x00ff00ff) | ((c & 0x00ff00ff) << 8);
    w[j + 3] = ((d >> 8) & 0x00ff00ff) | ((d & 0x00ff00ff) << 8);
  }
}

/**
 * 16-bit stored refcounts (big-endian) into one byte per cluster, out[base...] for `count` entries
 * (cut by out's end and the block's): false, with part of them written, when one is above 255.
 */
export function narrow16(block: Uint8Array, out: Uint8Array, base: number, count: number): boolean {
  const n = Math.min(count, out.length - base);
  const have = Math.min(n, block.length >> 1);
  let i = 0;
  if (block.byteOffset % 4 === 0 && base % 4 === 0 && out.byteOffset % 4 === 0) {
    const quads = have >> 2;
    const w = new Uint32Array(block.buffer, block.byteOffset, 2 * quads);
    const o = new Uint32Array(out.buffer, out.byteOffset + base, quads);
    if (!narrowQuads(w, o, LITTLE_ENDIAN)) return false;
    i = 4 * quads;
  }
  for (; i < have; i++) {
    if (block[2 * i] !== 0) return false;
    out[base + i] = block[2 * i + 1]!;
  }
  if (have < n) out.fill(0, base + have, base + n);
  return true;
}

/** Four refcounts a step (two words of stored ones, one word of bytes out); false at a value > 255. */
function narrowQuads(w: Uint32Array, o: Uint32Array, little: boolean): boolean {
  const m = o.length;
  let high = 0;
  if (little) {
    // Stored bytes (0, a, 0, b) read as the word b << 24 | a << 8.
    for (let q = 0; q < m; q++) {
      const x = w[2 * q]!;
      const y = w[2 * q + 1]!;
      high |= x | y;
      o[q] = ((x >>> 8) & 0xff) | ((x >>> 16) & 0xff00) | ((y << 8) & 0xff0000) | (y & 0xff000000);
    }
    return (high & 0x00ff00ff) === 0;
  }
  for (let q = 0; q < m; q++) {
    const x = w[2 * q]!;
    const y = w[2 * q + 1]!;
    high |= x | y;
    o[q] = ((x << 8) & 0xff000000) | ((x << 16) & 0xff0000) | ((y >>> 8) & 0xff00) | (y & 0xff);
  }
  return (high & 0xff00ff00) === 0;
}
