// Decompression of one compressed guest cluster for the inspector's preview (spec: "Compressed
// Clusters Descriptor"; QEMU 7.2 block/qcow2-threads.c). compression_type 0 stores a RAW deflate
// stream (no zlib header), type 1 one zstd frame. The descriptor only knows the stored size to the
// sector, so trailing bytes after the stream are normal. QEMU accepts the result only when it fills
// the whole cluster; anything else is an I/O error on read, reported here as a problem beside
// whatever could be decompressed. Pure; never throws.

import { inflateSync } from 'fflate';
import { decompress as zstdDecompress } from 'fzstd';

export interface Decompressed {
  /** The decompressed bytes (at most one cluster), or null when nothing could be decompressed. */
  readonly bytes: Uint8Array | null;
  /** What QEMU would make of it, when not a full cluster: null means QEMU reads it fine. */
  readonly problem: string | null;
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Bytes of the first zstd frame at the start of `b`, found from its header and block headers
 * (RFC 8878 §3.1.1), or an error message. Skippable frames are not written by QEMU and not accepted.
 */
export function zstdFrameLength(b: Uint8Array): number | string {
  if (b.length < 6) return 'too short for a zstd frame';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0, true) !== ZSTD_MAGIC) return `no zstd frame magic (found ${dv.getUint32(0, true).toString(16).padStart(8, '0')})`;
  const fhd = b[4]!;
  if (fhd & 0x08) return 'reserved bit set in the zstd frame header';
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 2 ** fcsFlag;
  let p = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
  for (;;) {
    if (p + 3 > b.length) return 'the zstd frame runs past the stored bytes';
    const h = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
    const last = h & 1;
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 3) return 'reserved zstd block type';
    p += 3 + (type === 1 ? 1 : size);
    if (p > b.length) return 'the zstd frame runs past the stored bytes';
    if (last) break;
  }
  if (fhd & 0x04) p += 4;
  return p > b.length ? 'the zstd frame checksum runs past the stored bytes' : p;
}

/** The frame's declared content size, or null when it declares none. */
function zstdContentSize(b: Uint8Array): number | null {
  const fhd = b[4]!;
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (fcsFlag) {
    case 0: return singleSegment ? b[at]! : null;
    case 1: return dv.getUint16(at, true) + 256;
    case 2: return dv.getUint32(at, true);
    default: return Number(dv.getBigUint64(at, true));
  }
}

/** Largest zstd window the preview allocates for a frame that declares no content size. */
const MAX_WINDOW = 8 * 1024 * 1024;

function windowSize(b: Uint8Array): number {
  const wd = b[5]!;
  const base = 2 ** (10 + (wd >> 3));
  return base + (base / 8) * (wd & 7);
}

/** Decompresses `stored` (the descriptor's bytes) into at most `clusterSize` bytes. */
export function decompressCluster(type: 'zlib' | 'zstd', stored: Uint8Array, clusterSize: number): Decompressed {
  return type === 'zlib' ? inflateCluster(stored, clusterSize) : zstdCluster(stored, clusterSize);
}

function shortOf(n: number, cs: number): string | null {
  return n === cs ? null : `decompresses to ${n} bytes, not the ${cs} of a cluster: QEMU fails to read it (I/O error)`;
}

function inflateCluster(stored: Uint8Array, cs: number): Decompressed {
  try {
    // One byte more than a cluster tells "exactly a cluster" from "more": QEMU keeps the first cluster then.
    const out = inflateSync(stored, { out: new Uint8Array(cs + 1) });
    if (out.length > cs) return { bytes: out.subarray(0, cs), problem: 'the stream holds more than a cluster: QEMU reads only its first cluster' };
    return { bytes: out, problem: shortOf(out.length, cs) };
  } catch (e) {
    return { bytes: null, problem: `not a valid raw deflate stream (${e instanceof Error ? e.message : String(e)}): QEMU fails to read it (I/O error)` };
  }
}

function zstdCluster(stored: Uint8Array, cs: number): Decompressed {
  const len = zstdFrameLength(stored);
  if (typeof len === 'string') return { bytes: null, problem: `${len}: QEMU fails to read it (I/O error)` };
  const frame = stored.subarray(0, len);
  const declared = zstdContentSize(frame);
  if (declared !== null && declared > cs) return { bytes: null, problem: `the zstd frame declares ${declared} bytes, more than a cluster: QEMU fails to read it (I/O error)` };
  const singleSegment = (frame[4]! >> 5) & 1;
  if (declared === null && !singleSegment && windowSize(frame) > MAX_WINDOW) {
    return { bytes: null, problem: `the zstd frame asks for a ${windowSize(frame)}-byte window and declares no size; not previewed` };
  }
  try {
    const out = zstdDecompress(frame);
    if (out.length > cs) return { bytes: out.subarray(0, cs), problem: 'the frame holds more than a cluster: QEMU fails to read it (I/O error)' };
    return { bytes: out, problem: shortOf(out.length, cs) };
  } catch (e) {
    return { bytes: null, problem: `not a valid zstd frame (${e instanceof Error ? e.message : String(e)}): QEMU fails to read it (I/O error)` };
  }
}

/** Host clusters [first, last] to read for a descriptor's bytes, capped at two clusters of input. */
export function storedSpan(host: number, length: number, clusterSize: number): { first: number; last: number; length: number } {
  const len = Math.max(0, Math.min(length, 2 * clusterSize));
  const first = Math.floor(host / clusterSize);
  return { first, last: Math.floor((host + Math.max(1, len) - 1) / clusterSize), length: len };
}

/**
 * The descriptor's bytes cut out of the host clusters read from `first` on (`clusters[i]` is
 * cluster first + i, null when past the end of the file). Bytes past the end read as zeros, as
 * QEMU's file driver pads a read past the end of the file.
 */
export function assembleStored(host: number, length: number, clusterSize: number, first: number, clusters: readonly (Uint8Array | null)[]): Uint8Array {
  const out = new Uint8Array(length);
  const start = host - first * clusterSize;
  clusters.forEach((c, i) => {
    if (!c) return;
    const base = i * clusterSize - start;
    const from = Math.max(0, -base);
    const to = Math.min(c.length, length - base);
    if (to > from) out.set(c.subarray(from, to), base + from);
  });
  return out;
}
