// The analysis worker's source for a File: a BlobSource that keeps the first bytes it read (the
// header and cluster 0, read by the chain planner and again by the engine) and can start a read
// before the engine asks for it (the L1 and refcount tables, known from the header): in Chromium
// every read of a File is a slice registered with the browser process, and these reads come one
// after another on the way to the refcount blocks (the early map). When the header's first bytes
// place cluster 0, the refcount table and the L1 table within SPAN_MAX of the file's start (as
// qemu-img lays them out), the three are read as one span, and every later read inside it is
// served from it.

import { BlobSource, type BlobLike, type BlobSourceOptions } from '../format';

/** Bytes at offset 0 kept at most (a cluster of the largest size the engine reads as cluster 0). */
const HEAD_KEEP = 2 * 1024 * 1024;
/** A prefetched range is at most this long (the refcount table QEMU accepts is at most 8 MiB). */
const PREFETCH_MAX = 8 * 1024 * 1024;
/** Cluster 0, the refcount table and the L1 table are read as one span when they end within this. */
export const SPAN_MAX = 256 * 1024;

const QCOW_MAGIC = 0x514649fb;

/**
 * Where the span from offset 0 ends (the end of cluster 0, the refcount table and the L1 table,
 * whichever is last), from the header's first bytes; null when the header is not readable as qcow2
 * or the span would be longer than SPAN_MAX. Never past the file's end.
 */
export function headSpanEnd(head: Uint8Array, fileSize: number): number | null {
  if (head.length < 72) return null;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = dv.getUint32(4);
  if (dv.getUint32(0) !== QCOW_MAGIC || (version !== 2 && version !== 3)) return null;
  const bits = dv.getUint32(20);
  if (bits < 9 || bits > 21) return null;
  const l1Size = dv.getUint32(36);
  const l1Offset = Number(dv.getBigUint64(40));
  const rtOffset = Number(dv.getBigUint64(48));
  const rtClusters = dv.getUint32(56);
  let end = 2 ** bits;
  if (rtClusters > 0) end = Math.max(end, rtOffset + rtClusters * 2 ** bits);
  if (l1Size > 0) end = Math.max(end, l1Offset + l1Size * 8);
  if (!(end <= SPAN_MAX)) return null;
  return Math.min(end, fileSize);
}

export class PrefetchSource extends BlobSource<Blob> {
  private head: Uint8Array | null = null;
  private readonly early = new Map<string, Promise<Uint8Array>>();
  /** The span read from offset 0 (see SPAN_MAX), once the header's first bytes are known. */
  private span: { readonly end: number; readonly bytes: Promise<Uint8Array> } | null = null;
  private spanTried = false;

  constructor(blob: BlobLike<Blob>, name: string, combine: (parts: Blob[]) => Blob, opts: BlobSourceOptions<Blob>) {
    super(blob, name, combine, opts);
  }

  /** Where the span read from offset 0 ends (0: none). */
  get spanEnd(): number {
    return this.span?.end ?? 0;
  }

  /**
   * Starts reading [offset, offset + length) now; a later read of exactly that range gets these
   * bytes (once). Ranges outside the file, empty, longer than PREFETCH_MAX or inside the span are
   * ignored.
   */
  prefetch(offset: number, length: number): void {
    if (!(offset >= 0 && length > 0 && length <= PREFETCH_MAX && offset < this.size)) return;
    if (this.inSpan(offset, length)) return;
    const key = `${offset}:${length}`;
    if (this.early.has(key)) return;
    const p = super.read(offset, length);
    // Never read by the engine (a damaged header it refuses first): no unhandled rejection.
    p.catch(() => undefined);
    this.early.set(key, p);
  }

  override async read(offset: number, length: number): Promise<Uint8Array> {
    const head = this.head;
    if (offset === 0 && head && length <= head.length) return head.slice(0, length);
    const span = this.span;
    if (span && this.inSpan(offset, length)) {
      const bytes = await span.bytes;
      return bytes.slice(offset, Math.min(bytes.length, offset + length));
    }
    const key = `${offset}:${length}`;
    const early = this.early.get(key);
    if (early) {
      this.early.delete(key);
      return early;
    }
    const got = await super.read(offset, length);
    if (offset === 0 && got.length <= HEAD_KEEP && got.length > (this.head?.length ?? 0)) this.head = got.slice();
    if (offset === 0 && !this.spanTried) {
      this.spanTried = true;
      const end = headSpanEnd(got, this.size);
      if (end !== null && end > got.length) {
        const bytes = super.read(0, end);
        bytes.catch(() => undefined);
        this.span = { end, bytes };
      }
    }
    return got;
  }

  /** [offset, offset + length) lies in the span (up to the file's end when the span reaches it). */
  private inSpan(offset: number, length: number): boolean {
    const s = this.span;
    if (!s || offset < 0 || length <= 0) return false;
    return offset + length <= s.end || (s.end === this.size && offset < s.end);
  }
}
