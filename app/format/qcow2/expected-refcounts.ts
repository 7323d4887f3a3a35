// The expected refcounts qemu-img check rebuilds from references (refcounts.ts re-exports them).

/**
 * The in-memory refcount table qemu-img check builds: one counter per host cluster, at most
 * refcount_max (a further reference is an overflow corruption). `length` grows as QEMU's
 * nb_clusters does when a reference reaches into the cluster just past the end of the file.
 * Counters are one byte each while every count fits (almost every image: a cluster is referenced
 * once, a few times with snapshots); the first count above 255 widens them to 16 or 32 bits. That
 * halves the memory a 1 TiB image's check touches for them (16.7 MB instead of 33.5 MB).
 */
export class ExpectedRefcounts {
  /** The counters. Replaced when widened: read it again after add() rather than keeping it. */
  counts: Uint8Array | Uint16Array | Uint32Array;
  /** The largest count `counts` holds as it is (min(refcount_max, 255) until widened). */
  limit: number;
  length: number;
  /** References refused because the counter was at refcount_max (each one a corruption). */
  overflow = 0;

  constructor(nClusters: number, readonly max: number) {
    // QEMU never grows the table by more than one cluster past the end of the file.
    this.counts = new Uint8Array(nClusters + 1);
    this.limit = Math.min(max, 0xff);
    this.length = nClusters;
  }

  /** Adds `times` references to cluster `k` (k <= length); returns how many overflowed. */
  add(k: number, times: number): number {
    if (k >= this.length) this.length = k + 1;
    const now = this.counts[k]!;
    if (times <= this.limit - now) {
      this.counts[k] = now + times;
      return 0;
    }
    const room = this.max - now;
    const over = times <= room ? 0 : times - room;
    if (this.limit < this.max) this.widen();
    this.counts[k] = now + times - over;
    this.overflow += over;
    return over;
  }

  /** Counters wide enough for refcount_max (16 or 32 bits), holding the counts so far. */
  private widen(): void {
    const wide = this.max <= 0xffff ? new Uint16Array(this.counts.length) : new Uint32Array(this.counts.length);
    wide.set(this.counts);
    this.counts = wide;
    this.limit = this.max;
  }
}
