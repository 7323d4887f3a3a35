// The compact forms in a saved analysis, each a sequence of unsigned LEB128 varints, base64-encoded:
// - a per-cluster array as run-length runs (value, count): a 1 TiB image whose clusters fall in a
//   few thousand runs takes kilobytes;
// - qemu-img map's ranges, each as (flags, length, depth, offset delta from where the previous
//   range's host data ended): ranges are contiguous, so starts are implied.
// Decoding is bounded: runs must add up to exactly the length announced, values must fit their
// target, ranges are capped in number, and every number is a safe integer.

import type { MapRange } from '../guest';
import { ReportError } from './codec';

/** The names of the encodings, stored beside the data so a reader can refuse another. */
export const RLE_ENCODING = 'rle-leb128-base64';
export const MAP_ENCODING = 'map-leb128-base64';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

const B64_CODES = Uint8Array.from(B64, (c) => c.charCodeAt(0));
const ASCII = new TextDecoder();

/**
 * Standard base64 (with padding) of `b`: its ASCII bytes, decoded into one flat string (no string
 * pieces to concatenate: a scattered image's map was megabytes of short-lived cons strings).
 */
export function toBase64(b: Uint8Array): string {
  const n = b.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[o] = B64_CODES[v >> 18]!;
    out[o + 1] = B64_CODES[(v >> 12) & 63]!;
    out[o + 2] = B64_CODES[(v >> 6) & 63]!;
    out[o + 3] = B64_CODES[v & 63]!;
    o += 4;
  }
  if (i < n) {
    const two = i + 1 < n;
    const v = (b[i]! << 16) | (two ? b[i + 1]! << 8 : 0);
    out[o] = B64_CODES[v >> 18]!;
    out[o + 1] = B64_CODES[(v >> 12) & 63]!;
    out[o + 2] = two ? B64_CODES[(v >> 6) & 63]! : 61;
    out[o + 3] = 61;
  }
  return ASCII.decode(out);
}

/** Decodes standard base64; throws ReportError('BAD_FIELD') at `path` on any other character. */
export function fromBase64(s: string, path: string): Uint8Array {
  if (s.length % 4 !== 0) throw new ReportError('BAD_FIELD', path, 'base64 text whose length is not a multiple of 4');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = s.charCodeAt(i + k);
      const last = i + 4 === s.length;
      let v: number;
      if (c === 61 && last && k >= 4 - pad) v = 0;
      else v = c < 128 ? B64_INDEX[c]! : -1;
      if (v < 0) throw new ReportError('BAD_FIELD', path, `not base64 at character ${i + k}`);
      n = (n << 6) | v;
    }
    out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** A byte buffer that grows as varints are appended. */
export class ByteSink {
  private buf = new Uint8Array(1024);
  length = 0;

  /** Appends `v`, a non-negative safe integer (at most 8 bytes). */
  varint(v: number): void {
    if (this.length + 10 > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    let x = v;
    while (x >= 0x80) {
      this.buf[this.length++] = (x & 0x7f) | 0x80;
      x = Math.floor(x / 128);
    }
    this.buf[this.length++] = x;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Run-length runs of `values` (entries below 2^32) as base64 of (value, count) varint pairs. */
export function encodeRuns(values: Uint8Array | Uint16Array | Uint32Array): string {
  const sink = new ByteSink();
  // Long runs (the common case: a 1 TiB image is a few runs of millions) are skipped a 32-bit
  // word (4, 2 or 1 entries) at a time where the array is word-aligned.
  const per = 4 / values.BYTES_PER_ELEMENT;
  const words = values.byteOffset % 4 === 0 ? new Uint32Array(values.buffer, values.byteOffset, Math.floor(values.length / per)) : null;
  const wordEnd = words ? words.length * per : 0;
  const pairs = words && (words.byteOffset & 7) === 0 ? new Float64Array(words.buffer, words.byteOffset, words.length >> 1) : null;
  let k = 0;
  while (k < values.length) {
    const v = values[k]!;
    let j = k + 1;
    while (j < values.length && j % per !== 0 && values[j] === v) j++;
    if (words && j % per === 0 && j < wordEnd && values[j] === v) {
      const pattern = per === 4 ? Math.imul(v, 0x01010101) >>> 0 : per === 2 ? (v | (v << 16)) >>> 0 : v;
      j = skipWords(words, pairs, j / per, pattern) * per;
    }
    while (j < values.length && values[j] === v) j++;
    sink.varint(v);
    sink.varint(j - k);
    k = j;
  }
  return toBase64(sink.bytes());
}

/**
 * The first word at or after `w` that is not `pattern` (words.length when none). Two words at a time
 * through `pairs` (the same bytes as float64s, when 8-byte aligned): for a pattern whose doubled word
 * is a non-zero number (not ±0, not NaN), float equality is bit equality, so a float equal to it is
 * two words equal to `pattern`.
 */
function skipWords(words: Uint32Array, pairs: Float64Array | null, w: number, pattern: number): number {
  let i = w;
  const pair = pairs === null ? null : pairPattern(pattern);
  if (pairs !== null && pair !== null) {
    if ((i & 1) !== 0 && i < words.length && words[i] === pattern) i++;
    if ((i & 1) === 0) i = skipPairs(pairs, i >> 1, pair) * 2;
  }
  while (i < words.length && words[i] === pattern) i++;
  return i;
}

/**
 * The first float at or after `j` that is not `pair`. A loop alone in its function, returned from
 * at once: code after a loop that V8 optimised during its first call (on-stack replacement) has no
 * type feedback yet, and would send every later call back to the interpreter.
 */
function skipPairs(pairs: Float64Array, j: number, pair: number): number {
  while (j < pairs.length && pairs[j] === pair) j++;
  return j;
}

const PAIR_WORDS = new Uint32Array(2);
const PAIR_FLOAT = new Float64Array(PAIR_WORDS.buffer);

/** Two words of `pattern` read as one float64, when that number is non-zero and not NaN; else null. */
function pairPattern(pattern: number): number | null {
  PAIR_WORDS[0] = pattern;
  PAIR_WORDS[1] = pattern;
  const x = PAIR_FLOAT[0]!;
  return x !== 0 && !Number.isNaN(x) ? x : null;
}

/** Bytes of encoded runs, from their base64 text (for size reports). */
export function encodedBytes(b64: string): number {
  return (b64.length / 4) * 3 - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
}

/** Reads varints from decoded bytes; every failure is a ReportError at `path`. */
export class VarintReader {
  private p = 0;

  constructor(private readonly b: Uint8Array, private readonly path: string) {}

  get done(): boolean {
    return this.p >= this.b.length;
  }

  /**
   * The next varint: at most 10 bytes and 2^64. Above 2^53 a double holds the nearest value:
   * damaged entries point that far (host offsets there are multiples of 512, exact below 2^62).
   */
  next(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.b.length) throw new ReportError('BAD_FIELD', this.path, 'the data ends in the middle of a number');
      const byte = this.b[this.p++]!;
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (v > 2 ** 64) break;
        return v;
      }
      scale *= 128;
    }
    throw new ReportError('BAD_FIELD', this.path, 'a number above 2^64');
  }
}

/**
 * Decodes runs into `out` (whose length is the number of entries announced). Every value must be
 * at most `maxValue`, every count at least 1, and the counts must add up to exactly out.length.
 */
export function decodeRuns<T extends Uint8Array | Uint16Array | Uint32Array>(b64: string, out: T, maxValue: number, path: string): T {
  const r = new VarintReader(fromBase64(b64, path), path);
  let k = 0;
  while (!r.done) {
    const v = r.next();
    const n = r.next();
    if (v > maxValue) throw new ReportError('BAD_FIELD', path, `value ${v} at entry ${k} is above ${maxValue}`);
    if (n === 0) throw new ReportError('BAD_FIELD', path, `an empty run at entry ${k}`);
    if (n > out.length - k) throw new ReportError('INCONSISTENT', path, `runs cover more than the ${out.length} entries announced`);
    out.fill(v, k, k + n);
    k += n;
  }
  if (k !== out.length) throw new ReportError('INCONSISTENT', path, `runs cover ${k} of the ${out.length} entries announced`);
  return out;
}

const PRESENT = 1;
const ZERO = 2;
const DATA = 4;
const HAS_OFFSET = 8;
/** The offset is below where the previous range's host data ended. */
const OFFSET_BACK = 16;
/** The range does not start where the previous one ended: its start follows. */
const HAS_START = 32;
/** Compressed clusters (qemu-img 10.0's "compressed"); documents saved before this flag lack it. */
const COMPRESSED = 64;

/** qemu-img map's ranges in compact form. */
export function encodeMap(ranges: readonly MapRange[]): string {
  const sink = new ByteSink();
  let end = 0;
  let hostEnd = 0;
  for (const r of ranges) {
    const delta = r.offset === undefined ? 0 : r.offset - hostEnd;
    sink.varint((r.present ? PRESENT : 0) | (r.zero ? ZERO : 0) | (r.data ? DATA : 0) | (r.offset !== undefined ? HAS_OFFSET : 0)
      | (delta < 0 ? OFFSET_BACK : 0) | (r.start !== end ? HAS_START : 0) | (r.compressed ? COMPRESSED : 0));
    if (r.start !== end) sink.varint(r.start);
    sink.varint(r.length);
    sink.varint(r.depth);
    if (r.offset !== undefined) {
      sink.varint(Math.abs(delta));
      hostEnd = r.offset + r.length;
    }
    end = r.start + r.length;
  }
  return toBase64(sink.bytes());
}

/** Decodes encodeMap's form; at most `max` ranges. */
export function decodeMap(b64: string, max: number, path: string): MapRange[] {
  const r = new VarintReader(fromBase64(b64, path), path);
  const out: MapRange[] = [];
  let end = 0;
  let hostEnd = 0;
  while (!r.done) {
    if (out.length >= max) throw new ReportError('BAD_FIELD', path, `more than ${max} ranges`);
    const flags = r.next();
    if (flags > 127) throw new ReportError('BAD_FIELD', path, `unknown flags ${flags} in range ${out.length}`);
    const start = flags & HAS_START ? r.next() : end;
    const length = r.next();
    const depth = r.next();
    const range: MapRange = {
      start, length, depth, present: (flags & PRESENT) !== 0, zero: (flags & ZERO) !== 0, data: (flags & DATA) !== 0,
      ...(flags & COMPRESSED ? { compressed: true } : {}),
    };
    end = start + length;
    if (end > 2 ** 64) throw new ReportError('BAD_FIELD', path, `range ${out.length} ends above 2^64`);
    if (flags & HAS_OFFSET) {
      const d = r.next();
      const offset = flags & OFFSET_BACK ? hostEnd - d : hostEnd + d;
      // A damaged L2 entry can point anywhere below 2^56 (qemu-img map prints it).
      if (offset < 0 || offset + length > 2 ** 64) throw new ReportError('BAD_FIELD', path, `range ${out.length} has an offset outside 0..2^64`);
      hostEnd = offset + length;
      out.push({ ...range, offset });
    } else {
      out.push(range);
    }
  }
  return out;
}
