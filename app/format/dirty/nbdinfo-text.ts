// Extents printed exactly as `nbdinfo --map=CONTEXT [--json]` (libnbd info/map.c, print_extents
// and print_one_extent) prints them: JSON `[`, one `{ "offset": …, "length": …, "type": …,
// "description": "…"}` per extent joined by ",\n", `]`; text `%10u  %10u  %3u  description`.
// The output is produced as ASCII bytes in chunks of about 1 MiB, digits written straight into the
// buffer: millions of extents (hundreds of MB of JSON) stream out without a string per extent.

import type { Extents } from './extents';

const CHUNK_BYTES = 1 << 18;
/** Longest extent line: two 16-digit numbers, a 3-digit type and the longest description. */
const LINE_MAX = 160;

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0x7f);

function digitCount(n: number): number {
  let d = 1;
  for (let p = 10; n >= p && d < 17; p *= 10) d++;
  return d;
}

/** Writes integer n (0 ≤ n < 2^53) right-aligned in `width` columns at `pos`; returns the end. */
function putUint(buf: Uint8Array, pos: number, n: number, width = 0): number {
  const d = digitCount(n);
  for (let i = d; i < width; i++) buf[pos++] = 0x20;
  let x = n;
  let i = pos + d - 1;
  for (; x >= 0x80000000; i--) {
    const q = Math.floor(x / 10);
    buf[i] = 48 + (x - q * 10);
    x = q;
  }
  // Below 2^31: integer arithmetic.
  for (; i >= pos; i--) {
    const q = (x / 10) | 0;
    buf[i] = 48 + (x - q * 10);
    x = q;
  }
  return pos + d;
}

/** A constant, as big-endian 32-bit words and the bytes left over (writing words is ~3× faster). */
interface Constant {
  readonly words: Uint32Array;
  readonly rest: Uint8Array;
  readonly length: number;
}

function constant(text: string): Constant {
  const b = ascii(text);
  const n = b.length >> 2;
  const words = new Uint32Array(n);
  for (let k = 0; k < n; k++) words[k] = ((b[4 * k]! << 24) | (b[4 * k + 1]! << 16) | (b[4 * k + 2]! << 8) | b[4 * k + 3]!) >>> 0;
  return { words, rest: b.subarray(n * 4), length: b.length };
}

/** A chunk being filled. */
class Chunk {
  readonly bytes = new Uint8Array(CHUNK_BYTES);
  private readonly dv = new DataView(this.bytes.buffer);
  pos = 0;

  put(c: Constant): void {
    const w = c.words;
    let p = this.pos;
    for (let k = 0; k < w.length; k++, p += 4) this.dv.setUint32(p, w[k]!);
    const r = c.rest;
    for (let k = 0; k < r.length; k++) this.bytes[p + k] = r[k]!;
    this.pos += c.length;
  }

  uint(n: number, width = 0): void {
    this.pos = putUint(this.bytes, this.pos, n, width);
  }
}

/** nbdinfo's output for `e` as ASCII chunks; `descriptions[type]` names each type (ASCII words). */
export function* nbdinfoChunks(e: Extents, descriptions: readonly string[], json: boolean): Generator<Uint8Array> {
  // Per type, everything after the length (and, but for the last line, the start of the next line).
  const tailText = (t: number): string => {
    const d = descriptions[t];
    if (json) return `, "type": ${t}${d === undefined ? '' : `, "description": ${JSON.stringify(d)}`}}`;
    return `  ${String(t).padStart(3)}${d === undefined ? '' : `  ${d}`}\n`;
  };
  const next: Constant[] = [];
  const NEXT_LINE = json ? ',\n{ "offset": ' : '';
  const LENGTH = constant(json ? ', "length": ' : '  ');
  let chunk = new Chunk();
  if (json) chunk.put(constant(e.count > 0 ? '[\n{ "offset": ' : '[\n'));
  const starts = e.starts;
  const types = e.types;
  const width = json ? 0 : 10;
  for (let i = 0; i < e.count; i++) {
    const start = starts[i]!;
    const t = types[i]!;
    const last = i + 1 === e.count;
    chunk.uint(start, width);
    chunk.put(LENGTH);
    chunk.uint((last ? e.size : starts[i + 1]!) - start, width);
    chunk.put(last ? constant(tailText(t)) : next[t] ?? (next[t] = constant(tailText(t) + NEXT_LINE)));
    if (chunk.pos > CHUNK_BYTES - LINE_MAX) {
      yield chunk.bytes.subarray(0, chunk.pos);
      chunk = new Chunk();
    }
  }
  if (json) chunk.put(constant('\n]\n'));
  if (chunk.pos > 0) yield chunk.bytes.subarray(0, chunk.pos);
}

/** The chunks as one string (for the clipboard, small maps and tests). */
export function nbdinfoText(e: Extents, descriptions: readonly string[], json: boolean): string {
  const dec = new TextDecoder('latin1');
  let s = '';
  for (const c of nbdinfoChunks(e, descriptions, json)) s += dec.decode(c);
  return s;
}
