// Guest mapping (spec: "Cluster mapping"): L1 entries → L2 tables → host clusters. Decoding of
// L1/L2 entries (standard, zero, compressed, extended L2) and one coalesced pass that reads every
// distinct L2 table once, whoever references it (the active L1 and every snapshot L1).
//
// Hot loops read entries as two 32-bit halves (hi, lo) rather than bigint: 16.7 M entries per TiB.

import { readRanges, type ByteSource } from './source';

export interface MappingGeometry {
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly extendedL2: boolean;
  /** Bytes per L2 entry: 8, or 16 with extended L2. */
  readonly l2EntrySize: number;
  /** Entries per L2 table. */
  readonly l2Entries: number;
  /** Compressed descriptor split: host offset in bits 0..x-1, additional sectors in x..61. */
  readonly csizeShift: number;
  readonly csizeMask: number;
}

export function geometry(clusterBits: number, extendedL2: boolean): MappingGeometry {
  const clusterSize = 2 ** clusterBits;
  const l2EntrySize = extendedL2 ? 16 : 8;
  const csizeShift = 62 - (clusterBits - 8);
  return {
    clusterBits, clusterSize, extendedL2, l2EntrySize,
    l2Entries: clusterSize / l2EntrySize,
    csizeShift,
    csizeMask: 2 ** (clusterBits - 8) - 1,
  };
}

// Entries as (hi, lo) 32-bit halves. Offsets keep bits 9..55: hi & 0x00ffffff, lo & 0xfffffe00.
const HI_OFFSET_MASK = 0x00ffffff;
const LO_OFFSET_MASK = 0xfffffe00;

/** Host offset bits 9..55 of an L1/L2/bitmap-table entry, as a number (< 2^56, exact below 2^53). */
export function entryOffset(hi: number, lo: number): number {
  return (hi & HI_OFFSET_MASK) * 0x1_0000_0000 + ((lo & LO_OFFSET_MASK) >>> 0);
}
export const isCopied = (hi: number): boolean => (hi & 0x80000000) !== 0;
export const isCompressed = (hi: number): boolean => (hi & 0x40000000) !== 0;

export type L2Kind = 'unallocated' | 'zero-plain' | 'zero-alloc' | 'normal' | 'compressed';

/** Kind of a standard (non-extended) L2 entry, as QEMU's qcow2_get_cluster_type. */
export function l2Kind(hi: number, lo: number, extendedL2: boolean): L2Kind {
  if (isCompressed(hi)) return 'compressed';
  const off = entryOffset(hi, lo);
  if (!extendedL2 && (lo & 1) !== 0) return off === 0 ? 'zero-plain' : 'zero-alloc';
  return off === 0 ? 'unallocated' : 'normal';
}

export interface CompressedDescriptor {
  /** Host byte offset where the compressed stream starts (not aligned). */
  readonly hostOffset: number;
  /** Bytes the descriptor covers: (additional sectors + 1) * 512 minus the offset within the sector. */
  readonly length: number;
  readonly sectors: number;
}

/** Decodes a compressed L2 entry: bits 0..x-1 offset, x..61 additional 512-byte sectors. */
export function compressedDescriptor(g: MappingGeometry, hi: number, lo: number): CompressedDescriptor {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const shift = BigInt(g.csizeShift);
  const hostOffset = Number(v & ((1n << shift) - 1n));
  const sectors = Number((v >> shift) & BigInt(g.csizeMask)) + 1;
  // QEMU reads `sectors * 512 - (offset & 511)` bytes starting at the offset.
  return { hostOffset, sectors, length: sectors * 512 - (hostOffset & 511) };
}

/** Who points at an L2 table. */
export interface L2Ref {
  readonly l2Offset: number;
  /** Active L1 indices referencing this table (usually one). */
  readonly activeL1Indices: number[];
  /** (snapshot index, L1 index) pairs referencing this table. */
  readonly snapshotRefs: { snapshot: number; l1Index: number }[];
}

/**
 * Collects the distinct L2 tables referenced by the given L1 tables (active first, then each
 * snapshot's). Entries with offset 0 are skipped; unaligned or out-of-range ones are the
 * caller's to report (check.ts) and are still listed so they can be read if inside the file.
 */
export function collectL2Refs(active: BigUint64Array, snapshots: readonly (BigUint64Array | null)[]): Map<number, L2Ref> {
  const refs = new Map<number, L2Ref>();
  const add = (table: BigUint64Array, fn: (r: L2Ref, i: number) => void) => {
    for (let i = 0; i < table.length; i++) {
      const e = table[i]!;
      const off = Number(e & 0x00ff_ffff_ffff_fe00n);
      if (off === 0) continue;
      let r = refs.get(off);
      if (!r) {
        r = { l2Offset: off, activeL1Indices: [], snapshotRefs: [] };
        refs.set(off, r);
      }
      fn(r, i);
    }
  };
  add(active, (r, i) => r.activeL1Indices.push(i));
  snapshots.forEach((t, s) => {
    if (t) add(t, (r, i) => r.snapshotRefs.push({ snapshot: s, l1Index: i }));
  });
  return refs;
}

/**
 * Reads every L2 table in `refs` once, in file order with coalesced reads, and calls `onTable`
 * with a DataView over exactly one cluster (shorter if the file ends inside the table; empty when
 * the table lies past the end of the file — then `onTable` is still called so callers can report).
 */
export async function scanL2Tables(
  src: ByteSource,
  g: MappingGeometry,
  refs: ReadonlyMap<number, L2Ref>,
  onTable: (ref: L2Ref, table: DataView) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const inFile: { offset: number; length: number; key: L2Ref }[] = [];
  for (const r of refs.values()) {
    if (r.l2Offset >= src.size) onTable(r, new DataView(new ArrayBuffer(0)));
    else inFile.push({ offset: r.l2Offset, length: g.clusterSize, key: r });
  }
  await readRanges(src, inFile, (ref, bytes) => {
    onTable(ref, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }, onProgress ? { onProgress } : {});
}

/** Reads a table of big-endian u64 entries (L1, refcount table, bitmap table). */
export async function readU64Table(src: ByteSource, offset: number, entries: number): Promise<BigUint64Array> {
  const bytes = await src.read(offset, entries * 8);
  const n = Math.floor(bytes.length / 8);
  const out = new BigUint64Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getBigUint64(i * 8);
  return out;
}
