// Guest mapping (spec: "Cluster mapping"): L1 entries → L2 tables → host clusters. Decoding of
// L1/L2 and refcount-table entries: the one decoder of their bits (standard, zero, compressed,
// extended L2 entries; QEMU's qcow2_get_subcluster_type) that the check, the guest map and the
// inspector share.
//
// Hot loops read entries as two 32-bit halves (hi, lo) rather than bigint: 16.7 M entries per TiB.

import type { ByteSource } from './source';
import {
  HI_OFFSET_MASK, HI_OFLAG_COMPRESSED, HI_OFLAG_COPIED, L2E_HI_RESERVED_MASK, L2E_LO_RESERVED_MASK, L2E_OFFSET_MASK,
  LO_OFFSET_MASK, LO_OFLAG_ZERO, REFT_LO_RESERVED_MASK,
} from './spec';

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

// Entries as (hi, lo) 32-bit halves (spec.ts HI_*/LO_* masks). The functions are small so that the
// hot loops inline them; they allocate nothing.

/** Host offset bits 9..55 of an L1/L2/bitmap-table entry, as a number (< 2^56, exact below 2^53). */
export function entryOffset(hi: number, lo: number): number {
  return (hi & HI_OFFSET_MASK) * 0x1_0000_0000 + ((lo & LO_OFFSET_MASK) >>> 0);
}
/** Whether offset bits 9..55 are not all zero (int32 arithmetic only). */
export const hasOffset = (hi: number, lo: number): boolean => ((hi & HI_OFFSET_MASK) | (lo & LO_OFFSET_MASK)) !== 0;
export const isCopied = (hi: number): boolean => (hi & HI_OFLAG_COPIED) !== 0;
export const isCompressed = (hi: number): boolean => (hi & HI_OFLAG_COMPRESSED) !== 0;
export const hasZeroFlag = (lo: number): boolean => (lo & LO_OFLAG_ZERO) !== 0;
/** Whether a standard L2 entry has reserved bits (1..8, 56..61) set. */
export const l2Reserved = (hi: number, lo: number): boolean => ((hi & L2E_HI_RESERVED_MASK) | (lo & L2E_LO_RESERVED_MASK)) !== 0;
/** Offset bits 9..63 of a refcount-table entry. */
export function reftEntryOffset(hi: number, lo: number): number {
  return (hi >>> 0) * 0x1_0000_0000 + ((lo & LO_OFFSET_MASK) >>> 0);
}
/** Whether a refcount-table entry has reserved bits (0..8) set. */
export const reftReserved = (lo: number): boolean => (lo & REFT_LO_RESERVED_MASK) !== 0;
/** Offset bits 9..55 of an L1/L2/bitmap-table entry read as a bigint. */
export const tableEntryOffset = (e: bigint): number => Number(e & L2E_OFFSET_MASK);

/**
 * What a guest cluster or subcluster reads as (QEMU's QCow2SubclusterType, block/qcow2.h), as the
 * guest map and the check classify it; numbers so that run lists store them in typed arrays.
 */
export const Kind = {
  UNALLOCATED: 0,
  /** Extended L2: an allocated cluster's subcluster that is neither allocated nor zero. */
  UNALLOCATED_ALLOC: 1,
  ZERO: 2,
  ZERO_ALLOC: 3,
  DATA: 4,
  COMPRESSED: 5,
  /** An entry QEMU refuses to map (qemu-img map stops with an I/O error here). */
  INVALID: 6,
} as const;

/** How the image reads its L2 entries. */
export interface EntryFlags {
  /** An external data file: offset 0 with COPIED set is allocated, compressed entries are invalid. */
  readonly dataFile: boolean;
  /** Version 2 images: zero entries are an error. */
  readonly v2: boolean;
}

/**
 * qcow2_get_subcluster_type of a standard L2 entry (the whole cluster). `inClusterMask` is
 * (cluster size - 1) & LO_OFFSET_MASK: an allocated offset with such bits is unaligned, so invalid.
 */
export function stdEntryKind(hi: number, lo: number, fl: EntryFlags, inClusterMask: number): number {
  if (hi & HI_OFLAG_COMPRESSED) return fl.dataFile ? Kind.INVALID : Kind.COMPRESSED;
  const offNz = hasOffset(hi, lo);
  if (lo & LO_OFLAG_ZERO) {
    if (fl.v2) return Kind.INVALID;
    return offNz ? ((lo & inClusterMask) !== 0 ? Kind.INVALID : Kind.ZERO_ALLOC) : Kind.ZERO;
  }
  if (!offNz && !(fl.dataFile && (hi & HI_OFLAG_COPIED) !== 0)) return Kind.UNALLOCATED;
  return (lo & inClusterMask) !== 0 ? Kind.INVALID : Kind.DATA;
}

/** Whether an extended L2 entry's cluster has a host cluster (offset, or COPIED with a data file). */
function extAllocated(hi: number, lo: number, dataFile: boolean): boolean {
  return hasOffset(hi, lo) || (dataFile && (hi & HI_OFLAG_COPIED) !== 0);
}

/** qcow2_get_subcluster_type of subcluster `j` of an extended L2 entry, before alignment checks. */
export function extSubclusterKind(hi: number, lo: number, zeroBits: number, allocBits: number, j: number, dataFile: boolean): number {
  if (hi & HI_OFLAG_COMPRESSED) return dataFile ? Kind.INVALID : Kind.COMPRESSED;
  const bit = 1 << j;
  if (extAllocated(hi, lo, dataFile)) return zeroBits & bit ? Kind.ZERO_ALLOC : allocBits & bit ? Kind.DATA : Kind.UNALLOCATED_ALLOC;
  return zeroBits & bit ? Kind.ZERO : Kind.UNALLOCATED;
}

/** qcow2_get_subcluster_type's INVALID for a whole extended entry: overlapping zero and allocation bits, or allocation bits without a host cluster. */
export function extEntryInvalid(hi: number, lo: number, zeroBits: number, allocBits: number, dataFile: boolean): boolean {
  if (hi & HI_OFLAG_COMPRESSED) return false;
  return extAllocated(hi, lo, dataFile) ? (zeroBits & allocBits) !== 0 : allocBits !== 0;
}

export type L2Kind = 'unallocated' | 'zero-plain' | 'zero-alloc' | 'normal' | 'compressed';

/** The cluster type of an L2 entry as QEMU's qcow2_get_cluster_type names it (the inspector's words). */
export function l2Kind(hi: number, lo: number, extendedL2: boolean): L2Kind {
  if (isCompressed(hi)) return 'compressed';
  const off = hasOffset(hi, lo);
  if (!extendedL2 && hasZeroFlag(lo)) return off ? 'zero-alloc' : 'zero-plain';
  return off ? 'normal' : 'unallocated';
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

/** Reads a table of big-endian u64 entries (L1, refcount table, bitmap table). */
export async function readU64Table(src: ByteSource, offset: number, entries: number): Promise<BigUint64Array> {
  const bytes = await src.read(offset, entries * 8);
  const n = Math.floor(bytes.length / 8);
  const out = new BigUint64Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getBigUint64(i * 8);
  return out;
}
