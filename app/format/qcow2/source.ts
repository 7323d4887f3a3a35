// ByteSource: the one way app/format reads an image (zip.js's Reader contract). A source has a
// size and reads a byte range at any offset; it never loads the whole file. readRanges coalesces
// many small reads into few large ones and keeps several in flight, and a source that can (a
// browser File) serves a batch of scattered ranges with one read: each read of a browser File
// costs about half a millisecond whatever its size, and a 1 TiB image has thousands of tables.

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
  /**
   * Optional: reads several ranges (each inside the file) with one request; on return element i
   * holds the bytes of ranges[i], as `read` would return them.
   */
  readBatch?(ranges: readonly ByteRange[]): Promise<Uint8Array[]>;
  /**
   * Optional: reads into `into` the bytes at `offset` (as many as it holds, fewer at the end of
   * the file); returns how many. For sources where filling a reused buffer is cheaper than a
   * fresh one (a local file: no page faults, no garbage per read). A source whose reads complete
   * at once (a local file read with pread) returns the number itself, not a promise: readRanges
   * then reads and hands out each range with no promise per read.
   */
  readInto?(offset: number, into: Uint8Array): number | Promise<number>;
  /**
   * Optional: reads several ranges (each inside the file) with one request, back to back into
   * `into` (at least their total length): element i holds ranges[i]'s bytes, and every element
   * views one buffer (a new ArrayBuffer over `into`'s memory where reading moved it). For sources
   * whose fresh buffers cost more than reusing one (a browser File: each batch's fresh
   * ArrayBuffer lives until the next garbage collection, which a small heap puts off).
   */
  readBatchInto?(ranges: readonly ByteRange[], into: Uint8Array): Promise<Uint8Array[]>;
  /**
   * Optional: the most bytes one merged read or batch should hold, for readRanges' default
   * maxRead (readRanges holds about inFlight + 1 of them at once).
   */
  readonly maxRead?: number;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** What a Blob slice must offer. */
export interface BlobPart {
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Minimal Blob shape: a browser File/Blob or Node's Blob, whose slices are `P`. */
export interface BlobLike<P extends BlobPart = BlobPart> {
  readonly size: number;
  slice(start: number, end: number): P;
}

/** How a BlobSource reads a batch into a reused buffer: fills `into` with `whole`'s bytes, returns the filled view. */
export type FillFromBlob<C> = (whole: C, into: Uint8Array) => Promise<Uint8Array>;

export interface BlobSourceOptions<C> {
  /** With `combine`: batches are read into buffers readRanges reuses (readBatchInto), by this. */
  readonly fill?: FillFromBlob<C>;
  /** The source's maxRead (see ByteSource.maxRead). */
  readonly maxRead?: number;
}

export class BlobSource<P extends BlobPart = BlobPart> implements ByteSource {
  readonly size: number;
  bytesRead = 0;
  reads = 0;
  readonly readBatch?: (ranges: readonly ByteRange[]) => Promise<Uint8Array[]>;
  readonly readBatchInto?: (ranges: readonly ByteRange[], into: Uint8Array) => Promise<Uint8Array[]>;
  readonly maxRead?: number;

  /**
   * `combine` joins slices into one blob (the browser's `parts => new Blob(parts)`): with it,
   * readBatch reads many scattered ranges in one request.
   */
  constructor(private readonly blob: BlobLike<P>, readonly name = 'image', combine?: (parts: P[]) => P, opts: BlobSourceOptions<P> = {}) {
    this.size = blob.size;
    if (combine) this.readBatch = (ranges) => this.batch(ranges, combine);
    const fill = opts.fill;
    if (combine && fill) this.readBatchInto = (ranges, into) => this.batch(ranges, combine, (whole) => fill(whole, into));
    if (opts.maxRead !== undefined) this.maxRead = opts.maxRead;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    this.reads++;
    this.bytesRead += end - offset;
    return new Uint8Array(await this.blob.slice(offset, end).arrayBuffer());
  }

  private async batch(ranges: readonly ByteRange[], combine: (parts: P[]) => P, fill?: (whole: P) => Promise<Uint8Array>): Promise<Uint8Array[]> {
    const ends = ranges.map((r) => Math.max(r.offset, Math.min(this.size, r.offset + r.length)));
    const parts: P[] = [];
    ranges.forEach((r, i) => {
      if (ends[i]! > r.offset) parts.push(this.blob.slice(r.offset, ends[i]!));
    });
    let got: Uint8Array;
    if (parts.length === 0) got = new Uint8Array(0);
    else if (fill) got = await fill(combine(parts));
    else got = new Uint8Array(await combine(parts).arrayBuffer());
    this.reads++;
    this.bytesRead += got.length;
    let at = 0;
    return ranges.map((r, i) => {
      const n = Math.max(0, Math.min(ends[i]! - r.offset, got.length - at));
      const out = got.subarray(at, at + n);
      at += n;
      return out;
    });
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

export interface ReadRangesOptions {
  /**
   * Ranges closer than this are read as one, gap included (default 0: only touching or
   * overlapping ranges merge, so no byte outside the ranges is read; scattered ranges are
   * served by readBatch where the source has it).
   */
  readonly maxGap?: number;
  /** Bytes of one merged read at most (default: the source's maxRead, else 8 MiB; a single longer range is read whole). */
  readonly maxRead?: number;
  /** Merged reads in flight at once (default 4; 1 for a source with readInto, whose reads are synchronous). */
  readonly inFlight?: number;
  /** Merged reads served by one readBatch request at most (default 128). */
  readonly batchParts?: number;
  /**
   * Hand out each request's ranges as soon as it has arrived (default false: in offset order).
   * Ranges of one request still come in offset order; `onProgress` counts the ranges handed out.
   */
  readonly arrivalOrder?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Ranges sorted[from, to) are served by bytes [start, end) of the file. */
interface Group {
  readonly from: number;
  readonly to: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Reads many ranges with few reads: ranges are sorted and merged when the gap between them is at
 * most `maxGap` bytes and the merged read stays under `maxRead` bytes. Merged reads are fetched
 * `inFlight` at a time — several of them per request when the source has readBatch — while
 * earlier ones are handed out. Calls `onRange` for every range, in offset order (with
 * `arrivalOrder`, request by request as they arrive), with its bytes
 * (shorter than asked at the end of the file). Memory held at once is about inFlight + 1 requests
 * of at most maxRead bytes each (batchParts merged reads of ranges when batched).
 *
 * Contract: `bytes` may be a view into a buffer that is reused once onRange has returned (or its
 * promise has settled). A callback that keeps bytes must copy them.
 */
export async function readRanges<K>(
  src: ByteSource,
  ranges: readonly Range<K>[],
  onRange: (key: K, bytes: Uint8Array, offset: number) => void | Promise<void>,
  opts: ReadRangesOptions = {},
): Promise<void> {
  const maxGap = opts.maxGap ?? 0;
  const maxRead = opts.maxRead ?? src.maxRead ?? 8 * 1024 * 1024;
  const inFlight = Math.max(1, opts.inFlight ?? (src.readInto ? 1 : 4));
  const sorted = ranges.filter((r) => r.offset < src.size && r.length > 0).sort((a, b) => a.offset - b.offset);
  const groups: Group[] = [];
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
  // Requests: consecutive groups fetched together, [gFrom, gTo) of `groups`.
  const requests: [gFrom: number, gTo: number][] = [];
  const batch = src.readBatch ? Math.max(1, opts.batchParts ?? 128) : 1;
  for (let g = 0; g < groups.length;) {
    let h = g + 1;
    let bytes = groups[g]!.end - groups[g]!.start;
    for (; h < groups.length && h - g < batch; h++) {
      const more = groups[h]!.end - groups[h]!.start;
      if (bytes + more > maxRead) break;
      bytes += more;
    }
    requests.push([g, h]);
    g = h;
  }
  // Reused buffers for sources with readInto or readBatchInto: one per request in flight, plus the
  // one handed out.
  const pool: Uint8Array[] = [];
  const pooled = (bytes: number): Uint8Array => {
    let buf = pool.pop();
    if (!buf || buf.length < bytes) buf = new Uint8Array(Math.max(bytes, buf?.length ?? 0));
    return buf.subarray(0, bytes);
  };
  const fromPool: boolean[] = [];
  const fetch = (q: number): Promise<Uint8Array[]> => {
    const [gFrom, gTo] = requests[q]!;
    if (src.readInto && gTo - gFrom === 1) {
      const { start, end } = groups[gFrom]!;
      const into = pooled(end - start);
      fromPool[q] = true;
      return Promise.resolve(src.readInto(start, into)).then((n) => [into.subarray(0, n)]);
    }
    if (src.readBatchInto) {
      const parts = groups.slice(gFrom, gTo).map((x) => ({ offset: x.start, length: x.end - x.start }));
      fromPool[q] = true;
      return src.readBatchInto(parts, pooled(parts.reduce((n, x) => n + x.length, 0)));
    }
    if (src.readBatch && gTo - gFrom > 1) {
      return src.readBatch(groups.slice(gFrom, gTo).map((x) => ({ offset: x.start, length: x.end - x.start })));
    }
    return Promise.all(groups.slice(gFrom, gTo).map((x) => src.read(x.start, x.end - x.start)));
  };
  const pending = new Map<number, Promise<[number, Uint8Array[]]>>();
  let next = 0;
  let handed = 0;
  // Requests read into reused buffers (one merged read each) while the source's readInto returns
  // its count at once: read, then handed out, in offset order, with no promise per request and
  // callbacks awaited only when they return a promise. Its first promise hands the rest to the
  // path below, from that request on.
  if (src.readInto && batch === 1) {
    for (; next < requests.length; next++) {
      const { from, to, start, end } = groups[next]!;
      const into = pooled(end - start);
      const n = src.readInto(start, into);
      if (typeof n !== 'number') {
        const q = next++;
        fromPool[q] = true;
        pending.set(q, n.then((got): [number, Uint8Array[]] => [q, [into.subarray(0, got)]]));
        break;
      }
      for (let k = from; k < to; k++) {
        const r = sorted[k]!;
        const a = Math.min(r.offset - start, n);
        const done = onRange(r.key, into.subarray(a, Math.min(n, r.offset - start + r.length)), r.offset);
        if (done) await done;
      }
      handed += to - from;
      opts.onProgress?.(handed, sorted.length);
      pool.push(new Uint8Array(into.buffer));
    }
  }
  const first = next - pending.size;
  const fill = () => {
    while (next < requests.length && pending.size < inFlight) {
      const q = next++;
      pending.set(q, fetch(q).then((bufs): [number, Uint8Array[]] => [q, bufs]));
    }
  };
  try {
    fill();
    for (let k = first; k < requests.length; k++) {
      const [q, bufs] = await (opts.arrivalOrder ? Promise.race(pending.values()) : pending.get(k)!);
      pending.delete(q);
      fill();
      const [gFrom, gTo] = requests[q]!;
      for (let g = gFrom; g < gTo; g++) {
        const { from, to, start } = groups[g]!;
        const buf = bufs[g - gFrom]!;
        for (let k = from; k < to; k++) {
          const r = sorted[k]!;
          const a = r.offset - start;
          const b = Math.min(buf.length, a + r.length);
          await onRange(r.key, buf.subarray(Math.min(a, buf.length), Math.max(a, b)), r.offset);
        }
        handed += to - from;
        opts.onProgress?.(handed, sorted.length);
      }
      // Every view of a pooled request shares one buffer (readInto, readBatchInto).
      if (fromPool[q] && bufs[0]) pool.push(new Uint8Array(bufs[0].buffer));
    }
  } finally {
    // Reads started ahead of a failing callback must not become unhandled rejections.
    for (const p of pending.values()) p.catch(() => undefined);
  }
}
