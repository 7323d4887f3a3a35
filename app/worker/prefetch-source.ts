// The analysis worker's source for a File: a BlobSource that keeps the first bytes it read (the
// header and cluster 0, read by the chain planner and again by the engine) and can start a read
// before the engine asks for it (the L1 and refcount tables, known from the header): in Chromium
// every read of a File is a slice registered with the browser process, and these reads come one
// after another on the way to the refcount blocks (the early map). When the header's first bytes
// place cluster 0, the refcount table and the L1 table within SPAN_MAX of the file's start (as
// qemu-img lays them out), the three are read as one span, and every later read inside it is
// served from it.

import { BlobSource, parseHeader, type BlobLike, type BlobSourceOptions, type Header } from '../format';

/** Bytes at offset 0 kept at most (a cluster of the largest size the engine reads as cluster 0). */
const HEAD_KEEP = 2 * 1024 * 1024;
/** A prefetched range is at most this long (the refcount table QEMU accepts is at most 8 MiB). */
const PREFETCH_MAX = 8 * 1024 * 1024;
/** Cluster 0, the refcount table and the L1 table are read as one span when they end within this. */
export const SPAN_MAX = 256 * 1024;

const QCOW_MAGIC = 0x514649fb;

/**
 * Where the span from offset 0 ends (the end of cluster 0, the refcount table and the L1 table,
 * whichever is last), from the header's first bytes (read by the engine's parser); null when they
 * are not a qcow2 header the engine would go on with, or the span would be longer than SPAN_MAX.
 * Never past the file's end.
 */
export function headSpanEnd(head: Uint8Array, fileSize: number): number | null {
  let h: Header;
  try {
    h = parseHeader(head);
  } catch {
    return null;
  }
  if (h.magic !== QCOW_MAGIC || (h.version !== 2 && h.version !== 3) || h.clusterBits < 9 || h.clusterBits > 21) return null;
  let end = h.clusterSize;
  if (h.refcountTableClusters > 0) end = Math.max(end, Number(h.refcountTableOffset) + h.refcountTableClusters * h.clusterSize);
  if (h.l1Size > 0) end = Math.max(end, Number(h.l1TableOffset) + h.l1Size * 8);
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
