// Test helper: minimal qcow2 v3 images built byte by byte, for shapes qemu-img never writes
// (every L1 entry sharing one L2 table, references far past the end of the file, …). Layout:
// cluster 0 header, 1 refcount table, 2 refcount block, then the L1 table, then the clusters the
// caller fills. Every cluster up to the end of the file gets refcount 1 unless told otherwise.

export interface CraftOptions {
  readonly clusterBits: number;
  readonly refcountOrder: 3 | 4;
  /** L1 entries; the virtual size is exactly what they map. */
  readonly l1Entries: number;
  /** Clusters after the L1 table (L2 tables, data), filled by `fill`. */
  readonly extraClusters: number;
  /** Writes L1/L2 entries; `cluster(k)` is the byte offset of extra cluster k. */
  readonly fill: (dv: DataView, l1Offset: number, cluster: (k: number) => number) => void;
}

export interface Crafted {
  readonly bytes: Uint8Array;
  readonly clusterSize: number;
  readonly l1Offset: number;
  readonly firstExtra: number;
}

export const COPIED = 1n << 63n;

export function craftImage(o: CraftOptions): Crafted {
  const cs = 2 ** o.clusterBits;
  const l1Clusters = Math.max(1, Math.ceil((o.l1Entries * 8) / cs));
  const l1Offset = 3 * cs;
  const firstExtra = l1Offset + l1Clusters * cs;
  const total = firstExtra / cs + o.extraClusters;
  const bytes = new Uint8Array(total * cs);
  const dv = new DataView(bytes.buffer);
  const l2Entries = cs / 8;
  dv.setUint32(0, 0x514649fb);
  dv.setUint32(4, 3);
  dv.setUint32(20, o.clusterBits);
  dv.setBigUint64(24, BigInt(o.l1Entries) * BigInt(l2Entries) * BigInt(cs));
  dv.setUint32(36, o.l1Entries);
  dv.setBigUint64(40, BigInt(l1Offset));
  dv.setBigUint64(48, BigInt(cs));
  dv.setUint32(56, 1);
  dv.setUint32(96, o.refcountOrder);
  dv.setUint32(100, 104);
  dv.setBigUint64(cs, BigInt(2 * cs));
  const width = 2 ** (o.refcountOrder - 3);
  for (let k = 0; k < total; k++) {
    if (o.refcountOrder === 3) dv.setUint8(2 * cs + k, 1);
    else dv.setUint16(2 * cs + k * width, 1);
  }
  o.fill(dv, l1Offset, (k) => firstExtra + k * cs);
  return { bytes, clusterSize: cs, l1Offset, firstExtra };
}
