// zstd (compression_type 1) of one compressed cluster, as QEMU's qcow2_zstd_decompress reads it
// (block/qcow2-threads.c). Frames are walked block by block (RFC 8878), every compressed block's
// literals, Huffman weights, FSE tables and sequence lengths checked, before fzstd decodes them into
// a buffer of exactly the size the walk found. fzstd trusts its input: a block whose sequences
// claim 6 GB of matches spins for seconds, and Huffman weights coded with zero-bit FSE states loop
// forever; the walk refuses both (zstd -d rejects them too).

import { decompress as zstdDecompress } from 'fzstd';
import { fails, messageOf, shortOf, type Decompressed } from './decompress-result';
import { compressedBlockSize, type BlockState } from './zstd-blocks';

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50–0x184D2A5F, a 4-byte size, that many bytes (RFC 8878 §3.1.2). */
const SKIPPABLE_MAGIC_HIGH = 0x184d2a5;
const BLOCK_SIZE_MAX = 128 * 1024;
/** libzstd's default limit on the window of a frame that declares no content size (ZSTD_WINDOWLOG_LIMIT_DEFAULT 27). */
const LIBZSTD_WINDOW_MAX = 2 ** 27;

const u32le = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

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
