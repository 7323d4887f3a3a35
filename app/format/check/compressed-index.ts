// The compressed guest clusters found while L2 tables are scanned, indexed by host byte range,
// so that a compressed host cluster can be described (cluster-roles.ts) without scanning tables again.

/** Compressed guest clusters by host byte range, for describing compressed host clusters. */
export class CompressedIndex {
  host = new Float64Array(1024);
  length = new Uint32Array(1024);
  guest = new Float64Array(1024);
  n = 0;
  /** Compressed clusters seen beyond the cap (not indexed). */
  dropped = 0;
  constructor(readonly cap = 1 << 20) {}

  push(host: number, length: number, guest: number): void {
    if (this.n >= this.cap) {
      this.dropped++;
      return;
    }
    if (this.n === this.host.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.host = grow(this.host, (n) => new Float64Array(n));
      this.length = grow(this.length, (n) => new Uint32Array(n));
      this.guest = grow(this.guest, (n) => new Float64Array(n));
    }
    this.host[this.n] = host;
    this.length[this.n] = length;
    this.guest[this.n] = guest;
    this.n++;
  }

  /** Sorts the entries by host offset (describeCluster binary-searches them). */
  sort(): void {
    const order = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    const host = this.host;
    order.sort((a, b) => host[a]! - host[b]!);
    const h = new Float64Array(this.n);
    const l = new Uint32Array(this.n);
    const g = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      h[i] = host[order[i]!]!;
      l[i] = this.length[order[i]!]!;
      g[i] = this.guest[order[i]!]!;
    }
    this.host = h;
    this.length = l;
    this.guest = g;
  }
}

/** The check's compressed index: entries sorted by host offset; `guest` is a guest cluster index. */
export interface CompressedIndexView {
  readonly n: number;
  readonly host: Float64Array;
  readonly length: Uint32Array;
  readonly guest: Float64Array;
}

/** Compressed index entries whose stored bytes touch host cluster `k`, as entry numbers. */
export function compressedTouching(ix: CompressedIndexView, clusterSize: number, k: number, max = 4096): number[] {
  const lo = k * clusterSize;
  const hi = lo + clusterSize;
  // A descriptor covers at most two clusters: start looking two clusters back.
  let a = 0;
  let b = ix.n;
  while (a < b) {
    const m = (a + b) >> 1;
    if (ix.host[m]! < lo - 2 * clusterSize) a = m + 1;
    else b = m;
  }
  const out: number[] = [];
  for (let i = a; i < ix.n && ix.host[i]! < hi && out.length < max; i++) if (ix.host[i]! + ix.length[i]! > lo) out.push(i);
  return out;
}
