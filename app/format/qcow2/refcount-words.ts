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
