// zstd compressed blocks (RFC 8878 §3.1.1.3): literals, Huffman weights and the sequences section
// of one block walked and checked (table descriptions, bitstream bounds, total match length), so
// that fzstd is given only blocks whose work is bounded. Frames are walked in zstd-frames.ts.

import { bitsAt, fseTable, highBit, readFse, rleTable, type FseTable } from './zstd-fse';

// Sequence codes (RFC 8878 §3.1.1.3.2.1): bits after each code, baselines accumulated from them.
const LL_BITS = [...Array<number>(16).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const ML_BITS = [...Array<number>(32).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const baselines = (bits: readonly number[], first: number): number[] => {
  let s = first;
  return bits.map((b) => (s += 2 ** b) - 2 ** b);
};
const LL_BASE = baselines(LL_BITS, 0);
const ML_BASE = baselines(ML_BITS, 3);

interface SequenceCode {
  readonly maxLog: number;
  readonly maxSymbol: number;
  readonly predefined: FseTable;
}

// Literal lengths, offsets, match lengths: the order of their modes and tables in a block.
const SEQUENCE_CODES: readonly SequenceCode[] = [
  { maxLog: 9, maxSymbol: 35, predefined: fseTable([4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1], 6) },
  { maxLog: 8, maxSymbol: 31, predefined: fseTable([1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1], 5) },
  { maxLog: 9, maxSymbol: 52, predefined: fseTable([1, 4, 3, 2, 2, 2, 2, 2, 2, ...Array<number>(37).fill(1), -1, -1, -1, -1, -1, -1, -1], 6) },
];

/** What a frame's blocks carry to the next: the last Huffman table and sequence tables. */
export interface BlockState {
  huffman: boolean;
  tables: readonly FseTable[] | null;
}

/**
 * End of the Huffman tree description at `at` (RFC 8878 §4.2.1), reading its weights exactly as
 * fzstd does, so that fzstd's loop over them is known to end and its table to stay ≤ 4096 entries.
 */
function huffmanDescription(b: Uint8Array, at: number, end: number): number | string {
  if (at >= end) return 'the Huffman tree description runs past the literals';
  const hb = b[at]!;
  const weights: number[] = [];
  let next: number;
  if (hb < 128) {
    next = at + 1 + hb;
    if (next > end) return 'the Huffman tree description runs past the literals';
    const fse = readFse(b, at + 1, next, 6, 12);
    if (typeof fse === 'string') return fse;
    if (fse.end >= next || b[next - 1] === 0) return 'the Huffman weights have no end mark';
    const t = fse.table;
    const from = fse.end * 8;
    let pos = (next - 1 - fse.end) * 8 + highBit(b[next - 1]!);
    let s1 = 0;
    let s2 = 0;
    let n1 = t.log;
    let n2 = t.log;
    // Two interleaved states until the bits run out (fzstd's rule); zero-bit states never do.
    for (;;) {
      pos -= n1;
      if (pos < 0) break;
      s1 += bitsAt(b, from + pos, n1);
      weights.push(t.symbol[s1]!);
      pos -= n2;
      if (pos < 0) break;
      s2 += bitsAt(b, from + pos, n2);
      weights.push(t.symbol[s2]!);
      if (weights.length > 255) return 'the Huffman weights do not end';
      n1 = t.bits[s1]!;
      s1 = t.base[s1]!;
      n2 = t.bits[s2]!;
      s2 = t.base[s2]!;
    }
  } else {
    const count = hb - 127;
    next = at + 1 + ((count + 1) >> 1);
    if (next > end) return 'the Huffman tree description runs past the literals';
    for (let i = 0; i < count; i++) weights.push(i & 1 ? b[at + 1 + (i >> 1)]! & 15 : b[at + 1 + (i >> 1)]! >> 4);
  }
  let sum = 0;
  for (const w of weights) {
    if (w > 11) return 'a Huffman weight above 11';
    if (w) sum += 2 ** (w - 1);
  }
  const maxBits = highBit(sum) + 1;
  const rest = 2 ** maxBits - sum;
  if (sum === 0 || maxBits > 12 || (rest & (rest - 1)) !== 0) return 'Huffman weights that make no valid tree';
  return next;
}

/**
 * Bytes that the compressed block b[start, end) decompresses to (RFC 8878 §3.1.1.3), found by
 * decoding its section headers and its sequences' literal and match lengths, or what is wrong.
 * Work: O(block bytes + 3 tables ≤ 512 cells + sequences), sequences ≤ `max` / 3.
 */
export function compressedBlockSize(b: Uint8Array, start: number, end: number, max: number, st: BlockState): number | string {
  if (start >= end) return 'an empty compressed zstd block';
  const b0 = b[start]!;
  const litType = b0 & 3;
  const format = (b0 >> 2) & 3;
  let p: number;
  let regen: number;
  let litEnd: number;
  if (litType < 2) {
    p = start + (format === 1 ? 2 : format === 3 ? 3 : 1);
    if (p > end) return 'the literals header runs past the block';
    regen = format === 1 ? (b0 >> 4) + (b[start + 1]! << 4) : format === 3 ? (b0 >> 4) + (b[start + 1]! << 4) + (b[start + 2]! << 12) : b0 >> 3;
    litEnd = p + (litType === 0 ? regen : 1);
  } else {
    p = start + (format < 2 ? 3 : format + 2);
    if (p > end) return 'the literals header runs past the block';
    let v = 0;
    for (let i = start; i < p; i++) v += b[i]! * 2 ** (8 * (i - start));
    const sizeBits = format < 2 ? 10 : format === 2 ? 14 : 18;
    regen = Math.floor(v / 16) % 2 ** sizeBits;
    litEnd = p + (Math.floor(v / 2 ** (4 + sizeBits)) % 2 ** sizeBits);
    if (litEnd > end) return 'the literals run past the block';
    if (litType === 2) {
      const e = huffmanDescription(b, p, litEnd);
      if (typeof e === 'string') return e;
      st.huffman = true;
    } else if (!st.huffman) return 'treeless literals with no Huffman table before them';
  }
  if (litEnd > end) return 'the literals run past the block';
  if (regen > max) return `${regen} literals in a block, more than its ${max}-byte maximum`;

  let q = litEnd;
  if (q >= end) return 'a compressed zstd block without a sequences section';
  const n0 = b[q++]!;
  const ns = n0 < 128 ? n0 : n0 < 255 ? ((n0 - 128) << 8) + (b[q++] ?? 0) : (b[q++] ?? 0) + ((b[q++] ?? 0) << 8) + 0x7f00;
  if (q > end) return 'the sequences header runs past the block';
  if (ns === 0) return regen;
  if (q >= end) return 'the sequences header runs past the block';
  const modes = b[q++]!;
  if (modes & 3) return 'reserved bits set in the sequence compression modes';
  const tables: FseTable[] = [];
  for (const [k, code] of SEQUENCE_CODES.entries()) {
    const mode = (modes >> (6 - 2 * k)) & 3;
    if (mode === 0) tables.push(code.predefined);
    else if (mode === 1) {
      if (q >= end || b[q]! > code.maxSymbol) return 'a bad RLE sequence code';
      tables.push(rleTable(b[q++]!));
    } else if (mode === 2) {
      const r = readFse(b, q, end, code.maxLog, code.maxSymbol);
      if (typeof r === 'string') return r;
      tables.push(r.table);
      q = r.end;
    } else if (st.tables) tables.push(st.tables[k]!);
    else return 'a repeated sequence table with none before it';
  }
  st.tables = tables;
  const [llT, ofT, mlT] = tables as [FseTable, FseTable, FseTable];

  // The sequences' bitstream, read backwards from the mark in its last byte.
  if (q >= end || b[end - 1] === 0) return 'the sequences bitstream has no end mark';
  const from = q * 8;
  let pos = (end - 1 - q) * 8 + highBit(b[end - 1]!);
  const read = (n: number): number => {
    pos -= n;
    return pos < 0 ? 0 : bitsAt(b, from + pos, n);
  };
  let ll = read(llT.log);
  let of = read(ofT.log);
  let ml = read(mlT.log);
  let literals = 0;
  let size = regen;
  for (let i = 0; i < ns; i++) {
    const llCode = llT.symbol[ll]!;
    const mlCode = mlT.symbol[ml]!;
    pos -= ofT.symbol[of]!; // offset bits: where a match reads from does not change its length
    size += ML_BASE[mlCode]! + read(ML_BITS[mlCode]!);
    literals += LL_BASE[llCode]! + read(LL_BITS[llCode]!);
    if (pos < 0) return 'the sequences bitstream runs out';
    if (literals > regen) return 'sequences that use more literals than the block holds';
    if (size > max) return `a compressed block that decompresses to more than its ${max}-byte maximum`;
    if (i + 1 < ns) {
      ll = llT.base[ll]! + read(llT.bits[ll]!);
      ml = mlT.base[ml]! + read(mlT.bits[ml]!);
      of = ofT.base[of]! + read(ofT.bits[of]!);
    }
  }
  if (pos !== 0) return 'the sequences bitstream is not used up exactly';
  return size;
}

