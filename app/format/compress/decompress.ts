// Decompression of one compressed guest cluster for the inspector's preview (spec: "Compressed
// Clusters Descriptor"; QEMU block/qcow2-threads.c). compression_type 0 stores a RAW deflate stream
// (no zlib header), type 1 zstd frames. The descriptor only knows the stored size to the sector, so
// trailing bytes after the stream are normal. QEMU accepts the result only when it fills the whole
// cluster; anything else is an I/O error on read, reported here as a problem beside whatever could
// be decompressed. Pure; never throws.
//
// This runs on the page's main thread (and in the fuzzer) on bytes from an untrusted image, so the
// work is bounded, not only the output: see inflate.ts and zstd-frames.ts.

import type { Decompressed } from './decompress-result';
import { inflateCluster } from './inflate';
import { zstdCluster } from './zstd-frames';

export type { Decompressed } from './decompress-result';
export { inflateCluster, inflateStep, type Inflated } from './inflate';
export { zstdCluster, zstdFrameLength, type ZstdDecompressed } from './zstd-frames';

/** Decompresses `stored` (the descriptor's bytes) into at most `clusterSize` bytes. */
export function decompressCluster(type: 'zlib' | 'zstd', stored: Uint8Array, clusterSize: number): Decompressed {
  const r = type === 'zlib' ? inflateCluster(stored, clusterSize) : zstdCluster(stored, clusterSize);
  return { bytes: r.bytes, problem: r.problem };
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
