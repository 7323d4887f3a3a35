// zstd (compression_type 1) of one compressed cluster, as QEMU's qcow2_zstd_decompress reads it
// (block/qcow2-threads.c). Frames are walked block by block (RFC 8878), every compressed block's
// literals, Huffman weights, FSE tables and sequence lengths checked, before fzstd decodes them into
// a buffer of exactly the size the walk found. fzstd trusts its input: a block whose sequences
// claim 6 GB of matches spins for seconds, and Huffman weights coded with zero-bit FSE states loop
// forever; the walk refuses both (zstd -d rejects them too).

import { decompress as zstdDecompress } from 'fzstd';
import { fails, messageOf, shortOf, type Decompressed } from './decompress-result';

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50–0x184D2A5F, a 4-byte size, that many bytes (RFC 8878 §3.1.2). */
const SKIPPABLE_MAGIC_HIGH = 0x184d2a5;
const BLOCK_SIZE_MAX = 128 * 1024;
/** libzstd's default limit on the window of a frame that declares no content size (ZSTD_WINDOWLOG_LIMIT_DEFAULT 27). */
const LIBZSTD_WINDOW_MAX = 2 ** 27;

const u32le = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const highBit = (v: number): number => 31 - Math.clz32(v);

interface FrameHeader {
  /** Offset of the first block header. */
  readonly end: number;
  readonly window: number;
  readonly contentSize: number | null;
  readonly dictionaryId: number;
  readonly checksum: boolean;
}

/** The frame header at `at` (RFC 8878 §3.1.1.1), or what is wrong with it. */
function frameHeader(b: Uint8Array, at: number): FrameHeader | string {
  if (b.length - at < 6) return 'too short for a zstd frame';
  if (u32le(b, at) !== ZSTD_MAGIC) return `no zstd frame magic (found ${u32le(b, at).toString(16).padStart(8, '0')})`;
  const fhd = b[at + 4]!;
  if (fhd & 0x08) return 'reserved bit set in the zstd frame header';
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 2 ** fcsFlag;
  let p = at + 5 + (singleSegment ? 0 : 1);
  const end = p + dictBytes + fcsBytes;
  if (end > b.length) return 'the zstd frame header runs past the stored bytes';
  let dictionaryId = 0;
  for (let i = 0; i < dictBytes; i++) dictionaryId += b[p + i]! * 2 ** (8 * i);
  p += dictBytes;
  let contentSize: number | null = null;
  if (fcsBytes) {
    contentSize = fcsFlag === 1 ? 256 : 0;
    for (let i = 0; i < fcsBytes; i++) contentSize += b[p + i]! * 2 ** (8 * i);
  }
  let window = contentSize ?? 0;
  if (!singleSegment) {
    const wd = b[at + 5]!;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  return { end, window, contentSize, dictionaryId, checksum: (fhd & 0x04) !== 0 };
}

/**
 * Bytes of the first zstd frame at the start of `b`, found from its header and block headers
 * (RFC 8878 §3.1.1), or an error message. Block contents are not checked here.
 */
export function zstdFrameLength(b: Uint8Array): number | string {
  const h = frameHeader(b, 0);
  if (typeof h === 'string') return h;
  let p = h.end;
  for (;;) {
    if (p + 3 > b.length) return 'the zstd frame runs past the stored bytes';
    const bh = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
    const type = (bh >> 1) & 3;
    if (type === 3) return 'reserved zstd block type';
    p += 3 + (type === 1 ? 1 : bh >>> 3);
    if (p > b.length) return 'the zstd frame runs past the stored bytes';
    if (bh & 1) break;
  }
  if (h.checksum) p += 4;
  return p > b.length ? 'the zstd frame checksum runs past the stored bytes' : p;
}

// FSE decoding tables (RFC 8878 §4.1) ---------------------------------------------------------

interface FseTable {
  readonly log: number;
  readonly symbol: Uint8Array;
  readonly bits: Uint8Array;
  readonly base: Uint16Array;
}

/** The decoding table of a normalized distribution (-1: "less than 1", one cell at the top). */
function fseTable(norm: readonly number[], log: number): FseTable {
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

const rleTable = (s: number): FseTable => ({ log: 0, symbol: new Uint8Array([s]), bits: new Uint8Array(1), base: new Uint16Array(1) });

/** Up to 24 bits starting at bit `bit` of `b`, little-endian; bytes past the end read as 0. */
function bitsAt(b: Uint8Array, bit: number, n: number): number {
  const i = bit >> 3;
  const v = (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24);
  return (v >>> (bit & 7)) & ((1 << n) - 1);
}

/** An FSE table description at `at`, within `end` (RFC 8878 §4.1.1): the table and where it ends. */
function readFse(b: Uint8Array, at: number, end: number, maxLog: number, maxSymbol: number): { table: FseTable; end: number } | string {
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
interface BlockState {
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
function compressedBlockSize(b: Uint8Array, start: number, end: number, max: number, st: BlockState): number | string {
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

interface WalkedFrame {
  /** The frame as fzstd is to see it: the stored bytes, or a copy cut after the block that overflows. */
  readonly bytes: Uint8Array;
  /** Exactly what `bytes` decompresses to. */
  readonly size: number;
  /** Offset just past the frame in the stored bytes (meaningless when `over`). */
  readonly end: number;
  /** The frame makes more than `room` bytes; `bytes` stops at the first block past it. */
  readonly over: boolean;
  /** A reason QEMU fails on a frame that decodes otherwise. */
  readonly note: string | null;
}

/**
 * Walks the frame at `at` through every block, to the first one that takes its output past
 * `room`. `budget.blocks` counts down the blocks the whole decompression may walk.
 */
function walkFrame(b: Uint8Array, at: number, room: number, cs: number, budget: { blocks: number }): WalkedFrame | string {
  const h = frameHeader(b, at);
  if (typeof h === 'string') return fails(h);
  if (h.contentSize !== null && h.contentSize > room) {
    return fails(`the zstd frame declares ${h.contentSize} bytes, more than ${room === cs ? 'a cluster' : `the ${room} bytes left of the cluster`}`);
  }
  if (h.dictionaryId) return fails(`the zstd frame needs dictionary ${h.dictionaryId}, and QEMU loads none`);
  if (h.window > LIBZSTD_WINDOW_MAX) {
    return h.contentSize === null ? fails(`the zstd frame asks for a ${h.window}-byte window and declares no size, more than libzstd accepts`) : `the zstd frame asks for a ${h.window}-byte window; not previewed`;
  }
  const max = Math.min(h.window, BLOCK_SIZE_MAX);
  const st: BlockState = { huffman: false, tables: null };
  let p = h.end;
  let size = 0;
  for (;;) {
    if (--budget.blocks < 0) return 'more zstd blocks than a cluster needs; not previewed';
    if (p + 3 > b.length) return fails('the zstd frame runs past the stored bytes');
    const bh = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
    const type = (bh >> 1) & 3;
    const blockSize = bh >>> 3;
    const start = p + 3;
    const end = start + (type === 1 ? 1 : blockSize);
    if (type === 3) return fails('reserved zstd block type');
    if (end > b.length) return fails('the zstd frame runs past the stored bytes');
    if (blockSize > max) return fails(`a zstd block of ${blockSize} bytes, more than the ${max}-byte maximum`);
    const out = type === 2 ? compressedBlockSize(b, start, end, max, st) : blockSize;
    if (typeof out === 'string') return fails(out);
    size += out;
    if (size > room) {
      const bytes = b.slice(at, end);
      bytes[4] = bytes[4]! & ~0x04; // no checksum: the frame now ends with this block
      bytes[p - at] = bytes[p - at]! | 1;
      return { bytes, size, end, over: true, note: null };
    }
    p = end;
    if (bh & 1) break;
  }
  const end = p + (h.checksum ? 4 : 0);
  if (end > b.length) return fails('the zstd frame checksum runs past the stored bytes');
  const note = h.contentSize !== null && h.contentSize !== size ? fails(`the zstd frame declares ${h.contentSize} bytes but its blocks make ${size}`) : null;
  return { bytes: b.subarray(at, end), size, end, over: false, note };
}

export interface ZstdDecompressed extends Decompressed {
  /** Output bytes handed to fzstd to fill: 0 when refused before decoding, else at most cluster size + 128 KiB. */
  readonly planned: number;
}

/**
 * Decompresses like QEMU's qcow2_zstd_decompress (ZSTD_decompressStream into one cluster): frames
 * one after another, skippable ones skipped, until the cluster is full; success only when a frame
 * ends exactly there. Content checksums are not verified (libzstd would).
 */
export function zstdCluster(stored: Uint8Array, cs: number): ZstdDecompressed {
  const frames: WalkedFrame[] = [];
  const budget = { blocks: 64 + (cs >> 10) };
  let total = 0;
  let at = 0;
  let problem: string | null = null;
  while (total < cs) {
    const left = stored.length - at;
    if (left >= 8 && u32le(stored, at) >>> 4 === SKIPPABLE_MAGIC_HIGH) {
      const next = at + 8 + u32le(stored, at + 4);
      if (next > stored.length) {
        problem = fails('a skippable zstd frame runs past the stored bytes');
        break;
      }
      at = next;
      continue;
    }
    // Past the first frame, bytes that start no frame end the data, short of a cluster.
    if (at > 0 && (left < 4 || u32le(stored, at) !== ZSTD_MAGIC)) break;
    const f = walkFrame(stored, at, cs - total, cs, budget);
    if (typeof f === 'string') {
      problem = f;
      break;
    }
    frames.push(f);
    total += f.size;
    problem ??= f.note;
    if (f.over) break;
    at = f.end;
  }
  if (frames.length === 0) return { bytes: null, problem: problem ?? shortOf(0, cs), planned: 0 };
  const out = new Uint8Array(total);
  try {
    let o = 0;
    for (const f of frames) {
      zstdDecompress(f.bytes, out.subarray(o, o + f.size));
      o += f.size;
    }
  } catch (e) {
    return { bytes: null, problem: fails(`not a valid zstd frame (${messageOf(e)})`), planned: total };
  }
  if (total > cs) return { bytes: out.subarray(0, cs), problem: fails('the frame holds more than a cluster'), planned: total };
  return { bytes: out, problem: problem ?? shortOf(total, cs), planned: total };
}
