// The guest owner of each data host cluster (for the cluster map's tooltips): the first guest
// cluster whose L2 entry qemu-img check counts against that host cluster. Stored compactly: runs
// of host clusters mapped to consecutive guest clusters (a preallocated 1 TiB image is a few
// thousand runs), switched to one Uint32 per host cluster only when the runs would take more.
// The result is plain data (typed arrays and numbers), so it survives structured clone.

/** Guest cluster index + 1 per host cluster, as runs or dense; read it with guestOwner(). */
export interface OwnerIndex {
  /** One entry per host cluster (guest index + 1, 0 = none), or null when `host`/`guest`/`len` hold runs. */
  readonly dense: Uint32Array | null;
  /** Run starts, sorted and disjoint: host clusters [host[i], host[i] + len[i]) map to guest[i] + 0, 1, ... */
  readonly host: Uint32Array;
  readonly guest: Uint32Array;
  readonly len: Uint32Array;
  readonly n: number;
}

/** The index of an analysis that recorded no owners. */
export const NO_OWNERS: OwnerIndex = { dense: null, host: new Uint32Array(0), guest: new Uint32Array(0), len: new Uint32Array(0), n: 0 };

/** The recorded guest of a saturated guest index (beyond 2^32 - 2 clusters): "some guest data". */
export const OWNER_UNKNOWN = 0xffff_ffff;

/** Guest cluster index + 1 of the first guest cluster using host cluster `k`, 0 when none. */
export function guestOwner(o: OwnerIndex, k: number): number {
  if (o.dense) return k >= 0 && k < o.dense.length ? o.dense[k]! : 0;
  let a = 0;
  let b = o.n;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (o.host[m]! <= k) a = m + 1;
    else b = m;
  }
  const i = a - 1;
  if (i < 0 || k - o.host[i]! >= o.len[i]!) return 0;
  const g = o.guest[i]!;
  return g === OWNER_UNKNOWN ? g : g + (k - o.host[i]!);
}

/**
 * Builds an OwnerIndex while tables are scanned. claim() keeps the first claim of each cluster
 * (a bit per cluster says which are taken); runs extend while host and guest both step by one.
 */
export class OwnerBuilder {
  private readonly taken: Uint8Array;
  private dense: Uint32Array | null = null;
  private host = new Uint32Array(1024);
  private guest = new Uint32Array(1024);
  private len = new Uint32Array(1024);
  private n = 0;
  private lastHost = -2;
  private lastGuest = -2;
  /** Runs kept at most (1.5 bytes per cluster) before switching to the dense array. */
  private readonly maxRuns: number;

  constructor(readonly clusters: number) {
    this.taken = new Uint8Array((clusters + 7) >>> 3);
    this.maxRuns = Math.max(1024, clusters >>> 3);
  }

  /** Records guest index + 1 (`guest1`, OWNER_UNKNOWN when saturated) for cluster `k`, unless taken. */
  claim(k: number, guest1: number): void {
    if (k < 0 || k >= this.clusters) return;
    const byte = k >>> 3;
    const bit = 1 << (k & 7);
    const t = this.taken[byte]!;
    if (t & bit) return;
    this.taken[byte] = t | bit;
    this.add(k, guest1, k + 1);
  }

  /**
   * Records clusters [k, k + n) for guest clusters guest1 - 1 + 0, 1, ..., all below OWNER_UNKNOWN.
   * Contract: none of them was claimed before (the caller saw them unclaimed in its role array).
   */
  claimFresh(k: number, guest1: number, n: number): void {
    const end = Math.min(k + n, this.clusters);
    if (k < 0 || k >= end) return;
    const taken = this.taken;
    let j = k;
    for (; j < end && (j & 7) !== 0; j++) taken[j >>> 3]! |= 1 << (j & 7);
    if (end - j >= 8) {
      taken.fill(0xff, j >>> 3, end >>> 3);
      j = end & ~7;
    }
    for (; j < end; j++) taken[j >>> 3]! |= 1 << (j & 7);
    this.add(k, guest1, end);
  }

  /** Records [k, end) for guests guest1, guest1 + 1, ... (one cluster when guest1 is OWNER_UNKNOWN). */
  private add(k: number, guest1: number, end: number): void {
    if (this.dense === null) {
      if (k === this.lastHost + 1 && guest1 === this.lastGuest + 1 && guest1 !== OWNER_UNKNOWN) {
        this.len[this.n - 1]! += end - k;
      } else if (this.n < this.maxRuns) {
        if (this.n === this.host.length) this.grow();
        this.host[this.n] = k;
        this.guest[this.n] = guest1;
        this.len[this.n] = end - k;
        this.n++;
      } else this.toDense();
    }
    if (this.dense !== null) {
      for (let j = k; j < end; j++) this.dense[j] = guest1 === OWNER_UNKNOWN ? guest1 : guest1 + (j - k);
      return;
    }
    this.lastHost = end - 1;
    this.lastGuest = guest1 + (end - 1 - k);
  }

  private grow(): void {
    const m = Math.min(this.host.length * 2, this.maxRuns);
    const g = (a: Uint32Array) => {
      const b = new Uint32Array(m);
      b.set(a);
      return b;
    };
    this.host = g(this.host);
    this.guest = g(this.guest);
    this.len = g(this.len);
  }

  private toDense(): void {
    const d = new Uint32Array(this.clusters);
    for (let i = 0; i < this.n; i++) {
      const h = this.host[i]!;
      const g = this.guest[i]!;
      for (let j = 0, l = this.len[i]!; j < l; j++) d[h + j] = g === OWNER_UNKNOWN ? g : g + j;
    }
    this.dense = d;
    this.host = this.guest = this.len = new Uint32Array(0);
    this.n = 0;
  }

  /** The finished index (runs sorted by host cluster). The builder must not be used after. */
  finish(): OwnerIndex {
    if (this.dense) return { dense: this.dense, host: new Uint32Array(0), guest: new Uint32Array(0), len: new Uint32Array(0), n: 0 };
    const n = this.n;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = this.host[i - 1]! < this.host[i]!;
    if (sorted) return { dense: null, host: this.host.slice(0, n), guest: this.guest.slice(0, n), len: this.len.slice(0, n), n };
    // Host < 2^28 and run index < 2^25 (maxRuns), so host * 2^25 + index is exact in a double.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = this.host[i]! * 2 ** 25 + i;
    keys.sort();
    const host = new Uint32Array(n);
    const guest = new Uint32Array(n);
    const len = new Uint32Array(n);
    for (let j = 0; j < n; j++) {
      const i = keys[j]! % 2 ** 25;
      host[j] = this.host[i]!;
      guest[j] = this.guest[i]!;
      len[j] = this.len[i]!;
    }
    return { dense: null, host, guest, len, n };
  }
}
