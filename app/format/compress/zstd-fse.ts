// zstd FSE decoding tables (RFC 8878 §4.1): reading a table description within its bounds and
// building the decoding table, for the block walk (zstd-blocks.ts) to check sequence and Huffman
// weight streams before fzstd sees them.

/** Index of the highest set bit of `v` (v > 0). */
export const highBit = (v: number): number => 31 - Math.clz32(v);

export interface FseTable {
  readonly log: number;
  readonly symbol: Uint8Array;
  readonly bits: Uint8Array;
  readonly base: Uint16Array;
}

/** The decoding table of a normalized distribution (-1: "less than 1", one cell at the top). */
export function fseTable(norm: readonly number[], log: number): FseTable {
  const size = 1 << log;
  const symbol = new Uint8Array(size);
  const bits = new Uint8Array(size);
  const base = new Uint16Array(size);
  const next = new Uint16Array(norm.length);
  let high = size - 1;
  norm.forEach((p, s) => {
    if (p === -1) symbol[high--] = s;
    next[s] = p === -1 ? 1 : p;
  });
  const step = (size >> 1) + (size >> 3) + 3;
  let pos = 0;
  norm.forEach((p, s) => {
    for (let i = 0; i < p; i++) {
      symbol[pos] = s;
      do pos = (pos + step) & (size - 1);
      while (pos > high);
    }
  });
  for (let i = 0; i < size; i++) {
    const n = next[symbol[i]!]!++;
    const nb = log - highBit(n);
    bits[i] = nb;
    base[i] = (n << nb) - size;
  }
  return { log, symbol, bits, base };
}

export const rleTable = (s: number): FseTable => ({ log: 0, symbol: new Uint8Array([s]), bits: new Uint8Array(1), base: new Uint16Array(1) });

/** Up to 24 bits starting at bit `bit` of `b`, little-endian; bytes past the end read as 0. */
export function bitsAt(b: Uint8Array, bit: number, n: number): number {
  const i = bit >> 3;
  const v = (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
  return (v >>> (bit & 7)) & ((1 << n) - 1);
}

/** An FSE table description at `at`, within `end` (RFC 8878 §4.1.1): the table and where it ends. */
export function readFse(b: Uint8Array, at: number, end: number, maxLog: number, maxSymbol: number): { table: FseTable; end: number } | string {
  if (at >= end) return 'an FSE table description runs past its section';
  const log = (b[at]! & 15) + 5;
  if (log > maxLog) return `an FSE table of accuracy ${log}, above ${maxLog}`;
  let bit = at * 8 + 4;
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  const norm: number[] = [];
  while (remaining > 1) {
    if (norm.length > maxSymbol) return 'an FSE table with too many symbols';
    const max = 2 * threshold - 1 - remaining;
    let v = bitsAt(b, bit, nbBits - 1);
    if (v < max) bit += nbBits - 1;
    else {
      v = bitsAt(b, bit, nbBits);
      if (v >= threshold) v -= max;
      bit += nbBits;
    }
    const count = v - 1;
    remaining -= Math.abs(count);
    if (remaining < 1) return 'an FSE table whose counts overflow';
    norm.push(count);
    if (count === 0) {
      for (let r = 3; r === 3; ) {
        r = bitsAt(b, bit, 2);
        bit += 2;
        for (let k = 0; k < r; k++) norm.push(0);
        if (norm.length > maxSymbol + 1) return 'an FSE table with too many symbols';
      }
    }
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
    if (bit > end * 8) return 'an FSE table description runs past its section';
  }
  return { table: fseTable(norm, log), end: (bit + 7) >> 3 };
}
