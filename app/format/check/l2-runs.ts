// The bulk paths of the L2 scan (l2-tables.ts): runs of entries that point at consecutive host
// clusters (a preallocated or sequentially written range) and runs of all-zero entries, found a
// word at a time; and the refcount-1-iff-COPIED rule checked over a run's clusters at once.

import type { StoredRefcountArray } from '../qcow2';

/**
 * How many entries after entry `i` (standard, 8 bytes each) continue its run: the same high word,
 * the next host cluster each, low word below 2^32, host clusters not claimed yet, at most `cap`.
 */
export function runAfter(dv: DataView, i: number, n: number, hi: number, lo: number, cs: number, roles: Uint8Array, cluster: number, cap: number): number {
  const limit = Math.min(n - 1 - i, cap, Math.floor((0xffff_ffff - lo) / cs));
  const m = matchRun(dv, (i + 1) * 8, limit, hi, lo + cs, cs);
  return m === 0 ? 0 : firstNonZero(roles, cluster + 1, cluster + 1 + m) - (cluster + 1);
}

/**
 * How many of the `limit` entries from byte `q` have high word `hi` and low words want, want + cs, ...
 * The loop is a function of its own that returns right after it: V8 optimises a long first call
 * on the loop (on-stack replacement), and code after the loop that had not run yet would send
 * every later call back to the interpreter (a deoptimisation per table, measured: 1167 of them on
 * a 1 TiB image).
 */
function matchRun(dv: DataView, q: number, limit: number, hi: number, want: number, cs: number): number {
  let m = 0;
  while (m < limit && dv.getUint32(q) === hi && dv.getUint32(q + 4) === want) {
    m++;
    q += 8;
    want += cs;
  }
  return m;
}

/** The first index in [from, to) whose byte is not 0, else `to` (four bytes at a time where aligned). */
function firstNonZero(a: Uint8Array, from: number, to: number): number {
  let k = from;
  while (k < to && (k & 3) !== 0) {
    if (a[k] !== 0) return k;
    k++;
  }
  if (a.byteOffset % 4 === 0 && to - k >= 4) {
    const words = new Uint32Array(a.buffer, a.byteOffset + k, (to - k) >> 2);
    let w = 0;
    while (w < words.length && words[w] === 0) w++;
    k += w * 4;
  }
  while (k < to && a[k] === 0) k++;
  return k;
}

/**
 * The first cluster in [from, to) whose stored refcount breaks check_oflag_copied for entries with
 * COPIED = `copied` (refcount 1 iff COPIED), else `to`; `one` is the entry of `values` meaning
 * refcount 1 (StoredRefcounts.one). Two 16-bit refcounts at a time for COPIED.
 */
export function firstOflagBreak(values: StoredRefcountArray, one: number, from: number, to: number, copied: boolean): number {
  let k = from;
  if (copied && values instanceof Uint16Array && values.byteOffset % 4 === 0) {
    if (k < to && (k & 1) !== 0) {
      if (values[k] !== one) return k;
      k++;
    }
    if (to - k >= 2) {
      const words = new Uint32Array(values.buffer, values.byteOffset + k * 2, (to - k) >> 1);
      const pair = (one * 0x1_0001) >>> 0;
      let w = 0;
      while (w < words.length && words[w] === pair) w++;
      k += w * 2;
    }
  }
  if (copied && values instanceof Uint8Array && values.byteOffset % 4 === 0) {
    while (k < to && (k & 3) !== 0) {
      if (values[k] !== one) return k;
      k++;
    }
    if (to - k >= 4) {
      const words = new Uint32Array(values.buffer, values.byteOffset + k, (to - k) >> 2);
      const quad = (one * 0x0101_0101) >>> 0;
      let w = 0;
      while (w < words.length && words[w] === quad) w++;
      k += w * 4;
    }
  }
  while (k < to && (values[k] === one) === copied) k++;
  return k;
}

/**
 * How many entries from `i` (standard, two int32 words each in `w`) are all zero, at least 1 (entry
 * `i` is). A loop alone in its function, returned from at once, for the same reason as matchRun.
 */
export function zeroRun(w: Int32Array, i: number, n: number): number {
  let j = i + 1;
  while (j < n && (w[2 * j]! | w[2 * j + 1]!) === 0) j++;
  return j - i;
}
