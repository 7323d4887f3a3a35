// Strict structural tests of one free cluster's bytes (spec: L1/L2 entries, refcount table entries,
// bitmap table entries, bitmap directory entries, snapshot table entries, compressed clusters).
// A test passes only when EVERY entry of the cluster is one a qcow2 writer could have written:
// reserved bits zero, offsets cluster-aligned and inside the file, distinct targets, names that are
// text; random bytes, compressed streams and guest data that look like tables in part fail.

import { inflateCluster, zstdCluster } from '../compress/decompress';
import * as S from '../qcow2/spec';

export interface ContentContext {
  readonly clusterSize: number;
  readonly clusterBits: number;
  readonly fileSize: number;
  readonly extendedL2: boolean;
  /** compression_type: 0 zlib, 1 zstd. */
  readonly compressionType: number;
}

/** Table kinds a cluster of u64 entries may be. */
export const T_L1 = 1;
export const T_L2 = 2;
export const T_BITMAP_TABLE = 4;
export const T_REFTABLE = 8;

export interface PointerTable {
  /** T_* bits of the kinds every entry is valid for. */
  readonly kinds: number;
  /** Entries (of 8 bytes; 16 with extended L2 for the L2 reading) that are not zero. */
  readonly used: number;
  readonly entries: number;
  /** Host clusters the non-zero entries point at, read as L1, refcount or bitmap table entries. */
  readonly targets: Int32Array;
  /** The entry index of each of `targets` (a refcount table's entry j covers the j-th range of clusters). */
  readonly targetEntries: Int32Array;
  /** With extended L2, the clusters the entries point at read as L2 descriptors; null: the same as `targets`. */
  readonly l2Targets: Int32Array | null;
  /** Host clusters compressed L2 entries touch (when T_L2). */
  readonly compressedTargets: Int32Array;
  /** Entries with the COPIED, compressed or zero flag: only L2 (or L1 for COPIED) entries have them. */
  readonly flagged: number;
}

/** Whether every byte is zero. */
export function allZero(b: Uint8Array): boolean {
  const n = b.length >> 2;
  const w = b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, n) : null;
  if (w) {
    for (let i = 0; i < n; i++) if (w[i] !== 0) return false;
    for (let i = n * 4; i < b.length; i++) if (b[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Reads the cluster as a table of big-endian u64 entries and says for which table kinds every
 * non-zero entry is valid. Null when no kind fits or no entry is used.
 */
export function pointerTable(b: Uint8Array, ctx: ContentContext): PointerTable | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = Math.floor(b.length / 8);
  const alignLo = (ctx.clusterSize - 1) & S.LO_OFFSET_MASK;
  const inside = (off: number) => off > 0 && off < ctx.fileSize;
  let kinds = T_L1 | T_L2 | T_BITMAP_TABLE | T_REFTABLE;
  let used = 0;
  let flagged = 0;
  const targets: number[] = [];
  const targetEntries: number[] = [];
  const l2Targets: number[] = [];
  const compressed: number[] = [];
  const seen = new Set<number>();
  const seenL2 = new Set<number>();
  const csizeShift = 62 - (ctx.clusterBits - 8);
  const dropKinds = (bits: number) => {
    kinds &= ~bits;
  };
  for (let i = 0; i < n && kinds !== 0; i++) {
    const hi = dv.getUint32(i * 8);
    const lo = dv.getUint32(i * 8 + 4);
    if (hi === 0 && lo === 0) continue;
    used++;
    const off = (hi & S.HI_OFFSET_MASK) * 0x1_0000_0000 + ((lo & S.LO_OFFSET_MASK) >>> 0);
    const aligned = (lo & alignLo) === 0;
    const ptr = off !== 0 && aligned && inside(off);
    // L1: bits 0..8 and 56..62 reserved.
    if ((lo & 0x1ff) !== 0 || (hi & 0x7f00_0000) !== 0 || !ptr) dropKinds(T_L1);
    // Refcount table: bits 0..8 reserved; offsets above the file are invalid anyway.
    if ((lo & 0x1ff) !== 0 || (hi & 0xff00_0000) !== 0 || !ptr) dropKinds(T_REFTABLE);
    // Bitmap table: bits 1..8 and 56..63 reserved; bit 0 (all ones) only without an offset.
    if ((hi & 0xff00_0000) !== 0 || (lo & 0x1fe) !== 0 || (off === 0 ? (lo & 1) === 0 : (lo & 1) !== 0 || !ptr)) dropKinds(T_BITMAP_TABLE);
    if (off !== 0 && !(hi & S.HI_OFLAG_COMPRESSED)) {
      const k = Math.floor(off / ctx.clusterSize);
      // No real L1, refcount or bitmap table names one host cluster twice.
      if (seen.has(k)) dropKinds(T_L1 | T_REFTABLE | T_BITMAP_TABLE);
      seen.add(k);
      targets.push(k);
      targetEntries.push(i);
    }
    // Read as L2: with extended L2, odd entries are subcluster bitmaps (no bit both allocated and zero).
    if (ctx.extendedL2 && i % 2 === 1) {
      if ((hi & lo) !== 0) dropKinds(T_L2);
      continue;
    }
    if (hi & S.HI_OFLAG_COMPRESSED) {
      // Compressed: never COPIED; the stream starts inside the file.
      const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      const host = Number(v & ((1n << BigInt(csizeShift)) - 1n));
      if ((hi & S.HI_OFLAG_COPIED) !== 0 || !inside(host)) dropKinds(T_L2);
      else compressed.push(Math.floor(host / ctx.clusterSize));
      flagged++;
      continue;
    }
    const zeroFlag = !ctx.extendedL2 && (lo & 1) !== 0;
    const reserved = (hi & 0x3f00_0000) !== 0 || (lo & (ctx.extendedL2 ? 0x1ff : 0x1fe)) !== 0;
    const ok = !reserved && (off === 0 ? zeroFlag && (hi & S.HI_OFLAG_COPIED) === 0 : ptr);
    if (!ok) dropKinds(T_L2);
    if ((hi & S.HI_OFLAG_COPIED) !== 0 || zeroFlag) flagged++;
    if (off !== 0) {
      const k = Math.floor(off / ctx.clusterSize);
      // No real L2 table maps two guest clusters to one host cluster (compressed ones aside).
      if (seenL2.has(k)) dropKinds(T_L2);
      seenL2.add(k);
      if (ctx.extendedL2) l2Targets.push(k);
    }
  }
  if (kinds === 0 || used === 0) return null;
  // Without extended L2 every entry is a descriptor: the L2 reading names the same clusters.
  return { kinds, used, entries: n, targets: Int32Array.from(targets), targetEntries: Int32Array.from(targetEntries), l2Targets: ctx.extendedL2 ? Int32Array.from(l2Targets) : null, compressedTargets: Int32Array.from(compressed), flagged };
}

const printable = (b: Uint8Array): boolean => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return false;
  }
  return text.length > 0 && !/\p{Cc}/u.test(text);
};

export interface StaleBitmapEntry {
  readonly name: string;
  readonly tableOffset: number;
  readonly tableSize: number;
  readonly granularityBits: number;
}

/**
 * Bitmap directory entries from the cluster's start (spec: "Bitmap directory"): type 1, reserved
 * flag bits zero, granularity 9..31, a non-empty printable name, the table aligned and inside the
 * file. Stops at the first entry that fails; null when the first one does.
 */
export function bitmapDirectory(b: Uint8Array, ctx: ContentContext): StaleBitmapEntry[] | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: StaleBitmapEntry[] = [];
  let at = 0;
  while (at + 24 <= b.length && out.length < S.MAX_BITMAPS) {
    const table = Number(dv.getBigUint64(at));
    const tableSize = dv.getUint32(at + 8);
    const flags = dv.getUint32(at + 12);
    const type = dv.getUint8(at + 16);
    const gran = dv.getUint8(at + 17);
    const nameSize = dv.getUint16(at + 18);
    const extra = dv.getUint32(at + 20);
    const len = 24 + extra + nameSize;
    const ok = type === S.BITMAP_TYPE_DIRTY_TRACKING && (flags & ~7) === 0 && gran >= S.MIN_BITMAP_GRANULARITY_BITS && gran <= S.MAX_BITMAP_GRANULARITY_BITS &&
      nameSize >= 1 && nameSize <= S.MAX_BITMAP_NAME && extra <= 1024 && at + len <= b.length &&
      table % ctx.clusterSize === 0 && table > 0 && table < ctx.fileSize && tableSize >= 1 && tableSize <= (ctx.fileSize / 8);
    if (!ok) break;
    const nameBytes = b.subarray(at + 24 + extra, at + len);
    if (!printable(nameBytes)) break;
    const name = new TextDecoder().decode(nameBytes);
    // A directory never names a bitmap twice: a repeated name is an older directory's leftover bytes.
    if (out.some((e) => e.name === name)) break;
    out.push({ name, tableOffset: table, tableSize, granularityBits: gran });
    at += (len + 7) & ~7;
  }
  return out.length > 0 ? out : null;
}

export interface StaleSnapshotEntry {
  readonly id: string;
  readonly name: string;
  readonly l1Offset: number;
  readonly l1Size: number;
}

/**
 * Snapshot table entries from the cluster's start (spec: "Snapshot table"): the L1 aligned, inside
 * the file and ending inside it, a printable id, a printable (possibly empty) name, nanoseconds below
 * 10^9, extra data at most 1024 bytes. Stops at the first entry that fails; null when the first one does.
 */
export function snapshotTable(b: Uint8Array, ctx: ContentContext): StaleSnapshotEntry[] | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: StaleSnapshotEntry[] = [];
  let at = 0;
  while (at + S.SNAPSHOT_HEADER_BYTES <= b.length && out.length < S.MAX_SNAPSHOTS) {
    const l1 = Number(dv.getBigUint64(at));
    const l1Size = dv.getUint32(at + 8);
    const idLen = dv.getUint16(at + 12);
    const nameLen = dv.getUint16(at + 14);
    const nsec = dv.getUint32(at + 20);
    const extra = dv.getUint32(at + 36);
    const len = S.SNAPSHOT_HEADER_BYTES + extra + idLen + nameLen;
    const ok = l1 > 0 && l1 % ctx.clusterSize === 0 && l1Size >= 1 && l1 + l1Size * 8 <= ctx.fileSize && idLen >= 1 && idLen <= 128 &&
      nameLen <= 1023 && nsec < 1e9 && extra <= S.MAX_SNAPSHOT_EXTRA_DATA && at + len <= b.length;
    if (!ok) break;
    const idBytes = b.subarray(at + S.SNAPSHOT_HEADER_BYTES + extra, at + S.SNAPSHOT_HEADER_BYTES + extra + idLen);
    const nameBytes = b.subarray(at + S.SNAPSHOT_HEADER_BYTES + extra + idLen, at + len);
    if (!printable(idBytes) || (nameLen > 0 && !printable(nameBytes))) break;
    const id = new TextDecoder().decode(idBytes);
    // Snapshot ids are unique: a repeated one is an older table's leftover bytes.
    if (out.some((e) => e.id === id)) break;
    out.push({ id, name: new TextDecoder().decode(nameBytes), l1Offset: l1, l1Size });
    at += (len + 7) & ~7;
  }
  return out.length > 0 ? out : null;
}

/**
 * Whether the first 32 bytes hold at least 8 distinct values: a deflate stream's Huffman codes or a
 * zstd frame header do; a cluster of one repeated pattern, which no compressed cluster starts with, does not.
 */
export function varied(b: Uint8Array): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < Math.min(32, b.length); i++) seen.add(b[i]!);
  return seen.size >= 8;
}

/**
 * Whether the cluster starts with a compressed cluster as QEMU writes them: a raw deflate stream
 * (or a zstd frame with compression_type 1) that decompresses to exactly one full cluster.
 */
export function startsCompressed(b: Uint8Array, ctx: ContentContext): boolean {
  if (!varied(b)) return false;
  if (ctx.compressionType === 1) {
    if (b.length < 4 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return false;
    const z = zstdCluster(b, ctx.clusterSize);
    return z.problem === null && z.bytes?.length === ctx.clusterSize;
  }
  const r = inflateCluster(b, ctx.clusterSize);
  return r.problem === null && r.bytes?.length === ctx.clusterSize;
}
