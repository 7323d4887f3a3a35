// The analysis worker's source for a File: a BlobSource that keeps the first bytes it read (the
// header and cluster 0, read by the chain planner and again by the engine) and can start a read
// before the engine asks for it (the L1 and refcount tables, known from the header): in Chromium
// every read of a File is a slice registered with the browser process, and these reads come one
// after another on the way to the refcount blocks (the early map).

import { BlobSource, type BlobLike, type BlobSourceOptions } from '../format';

/** Bytes at offset 0 kept at most (a cluster of the largest size the engine reads as cluster 0). */
const HEAD_KEEP = 2 * 1024 * 1024;
/** A prefetched range is at most this long (the refcount table QEMU accepts is at most 8 MiB). */
const PREFETCH_MAX = 8 * 1024 * 1024;

export class PrefetchSource extends BlobSource<Blob> {
  private head: Uint8Array | null = null;
  private readonly early = new Map<string, Promise<Uint8Array>>();

  constructor(blob: BlobLike<Blob>, name: string, combine: (parts: Blob[]) => Blob, opts: BlobSourceOptions<Blob>) {
    super(blob, name, combine, opts);
  }

  /**
   * Starts reading [offset, offset + length) now; a later read of exactly that range gets these
   * bytes (once). Ranges outside the file, empty or longer than PREFETCH_MAX are ignored.
   */
  prefetch(offset: number, length: number): void {
    if (!(offset >= 0 && length > 0 && length <= PREFETCH_MAX && offset < this.size)) return;
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
    const key = `${offset}:${length}`;
    const early = this.early.get(key);
    if (early) {
      this.early.delete(key);
      return early;
    }
    const got = await super.read(offset, length);
    if (offset === 0 && got.length <= HEAD_KEEP && got.length > (this.head?.length ?? 0)) this.head = got.slice();
    return got;
  }
}

