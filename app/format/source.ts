// ByteSource: the one way app/format reads an image (zip.js's Reader contract). A source has a
// size and reads a byte range at any offset; it never loads the whole file. CachedSource coalesces
// many small reads into few large ones, since each read of a browser File costs about a millisecond.

export interface ByteSource {
  /** File size in bytes (always below 2^53). */
  readonly size: number;
  /** Display name of the file, when known. */
  readonly name: string;
  /**
   * Reads `length` bytes at `offset`. On return the array holds min(length, size - offset) bytes
   * (fewer only at the end of the file; empty past it). Never throws for ranges past the end.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Minimal Blob shape: a browser File/Blob or Node's Blob. */
export interface BlobLike {
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export class BlobSource implements ByteSource {
  readonly size: number;
  bytesRead = 0;
  reads = 0;
  constructor(private readonly blob: BlobLike, readonly name = 'image') {
    this.size = blob.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    this.reads++;
    this.bytesRead += end - offset;
    return new Uint8Array(await this.blob.slice(offset, end).arrayBuffer());
  }
}

export class BytesSource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array, readonly name = 'bytes') {
    this.size = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    return this.bytes.subarray(offset, end);
  }
}

/** A byte range to fetch; `key` lets the caller find its bytes again. */
export interface Range<K> {
  readonly offset: number;
  readonly length: number;
  readonly key: K;
}

/**
 * Reads many ranges with few reads: ranges are sorted and merged when the gap between them is at
 * most `maxGap` bytes and the merged read stays under `maxRead` bytes. Calls `onRange` for every
 * range, in offset order, with its bytes (shorter than asked at the end of the file). The next
 * merged read is started before the current one is handed out, so reading overlaps processing;
 * memory held at once is two merged reads.
 */
export async function readRanges<K>(
  src: ByteSource,
  ranges: readonly Range<K>[],
  onRange: (key: K, bytes: Uint8Array, offset: number) => void | Promise<void>,
  opts: { maxGap?: number; maxRead?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  const maxGap = opts.maxGap ?? 256 * 1024;
  const maxRead = opts.maxRead ?? 8 * 1024 * 1024;
  const sorted = [...ranges].filter((r) => r.offset < src.size && r.length > 0).sort((a, b) => a.offset - b.offset);
  // Merged reads: ranges sorted[from, to) are served by bytes [start, end).
  const groups: { from: number; to: number; start: number; end: number }[] = [];
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i]!;
    const start = first.offset;
    let end = first.offset + first.length;
    let j = i + 1;
    while (j < sorted.length) {
      const r = sorted[j]!;
      const rEnd = Math.max(end, r.offset + r.length);
      if (r.offset - end > maxGap || rEnd - start > maxRead) break;
      end = rEnd;
      j++;
    }
    groups.push({ from: i, to: j, start, end: Math.min(end, src.size) });
    i = j;
  }
  const fetch = (g: number) => (g < groups.length ? src.read(groups[g]!.start, groups[g]!.end - groups[g]!.start) : null);
  let next = fetch(0);
  try {
    for (let g = 0; g < groups.length; g++) {
      const buf = await next!;
      next = fetch(g + 1);
      const { from, to, start } = groups[g]!;
      for (let k = from; k < to; k++) {
        const r = sorted[k]!;
        const a = r.offset - start;
        const b = Math.min(buf.length, a + r.length);
        await onRange(r.key, buf.subarray(a, Math.max(a, b)), r.offset);
      }
      opts.onProgress?.(to, sorted.length);
    }
  } finally {
    // A read started ahead of a failing callback must not become an unhandled rejection.
    next?.catch(() => undefined);
  }
}
