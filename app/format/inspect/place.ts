// Where a host cluster sits in the structure that owns it, so the inspector can decode its bytes
// with absolute numbers: which L1 entry an L2 table serves (its guest range), which refcount block
// index it is (the host clusters it counts), which part of a multi-cluster table (first entry), which
// bitmap a table belongs to (the guest bytes each entry covers), which directory or snapshot table
// entries lie in it. Found from the structures that point at the cluster, so a damaged table still
// decodes as what it was meant to be. Pure: analysis in, place out.

import { INCOMPAT_EXTL2, reftableIndexOf, tableEntryOffset, type Bitmap, type Snapshot, type Structures } from '../qcow2';
import { compressedTouching, type CheckResult } from '../check';

/** What placing a cluster needs from an analysis (the worker's result without its per-cluster arrays has it). */
export interface PlaceInput {
  readonly structures: Structures;
  readonly check: Pick<CheckResult, 'clusterSize' | 'l2Tables' | 'reftable' | 'compressed'>;
}

/** Entries [firstEntry, firstEntry + count) of a table lie in the cluster, the first at byte `startAt`. */
export interface TableSlice {
  readonly firstEntry: number;
  readonly count: number;
  readonly startAt: number;
}

export type Place =
  | { readonly kind: 'header' }
  /** Entries firstEntry.. of an L1 table of `count` entries; entry i maps guest [i·l2Span, (i+1)·l2Span). */
  | ({ readonly kind: 'l1'; readonly owner: string; readonly l2Span: number } & TableSlice)
  /** An L2 table; `guestBase` is the guest offset of its entry 0 (null when only unknown L1 entries point here). */
  | { readonly kind: 'l2'; readonly owner: string; readonly guestBase: number | null; readonly alsoShared: number }
  /** Entries firstEntry.. of the refcount table; entry i points at the block counting clusters i·perBlock… */
  | ({ readonly kind: 'refcount-table'; readonly perBlock: number } & TableSlice)
  /** Refcount block number `blockIndex`: entry j counts host cluster blockIndex·perBlock + j. */
  | { readonly kind: 'refcount-block'; readonly blockIndex: number; readonly perBlock: number }
  /** Entries firstEntry.. of a bitmap's table; entry i covers guest bytes [i·guestPerEntry, …). */
  | ({ readonly kind: 'bitmap-table'; readonly name: string; readonly guestPerEntry: number } & TableSlice)
  /** Data cluster `entry` of a bitmap: bit j covers guest bytes [(firstBit + j)·granularity, …). */
  | { readonly kind: 'bitmap-data'; readonly name: string; readonly entry: number; readonly firstBit: number; readonly bitCount: number; readonly granularity: number }
  | { readonly kind: 'bitmap-directory'; readonly bitmaps: readonly Bitmap[] }
  | { readonly kind: 'snapshot-table'; readonly snapshots: readonly Snapshot[] }
  | { readonly kind: 'compressed' };

const overlaps = (off: number, len: number, lo: number, hi: number): boolean => len > 0 && off < hi && off + len > lo;

/** Entries of a table at `off` (8 bytes each, `n` in all) that lie in [lo, lo + cs). */
function slice(off: number, n: number, lo: number, cs: number): TableSlice {
  const firstEntry = Math.max(0, Math.ceil((lo - off) / 8));
  const end = Math.min(n, Math.floor((lo + cs - off) / 8));
  return { firstEntry, count: Math.max(0, end - firstEntry), startAt: off + firstEntry * 8 - lo };
}

/** The place of host cluster `k`, or null when it holds no structure the inspector decodes. */
export function placeOf(r: PlaceInput, k: number): Place | null {
  const s = r.structures;
  const h = s.header;
  const cs = r.check.clusterSize;
  if (cs <= 0 || k < 0) return null;
  if (k === 0) return { kind: 'header' };
  const lo = k * cs;
  const hi = lo + cs;
  const extL2 = (h.incompatibleFeatures & INCOMPAT_EXTL2) !== 0n;
  const l2Span = (cs / (extL2 ? 16 : 8)) * cs;

  const use = r.check.l2Tables.get(lo);
  if (use) {
    const refs = use.activeRefs + use.snapRefs;
    if (use.firstL1 >= 0) return { kind: 'l2', owner: `active L1 entry ${use.firstL1}`, guestBase: use.firstL1 * l2Span, alsoShared: refs - 1 };
    if (use.firstSnap >= 0) {
      const sn = s.snapshotTable?.snapshots[use.firstSnap];
      const who = sn ? `snapshot ${sn.id} '${sn.name}'` : `snapshot ${use.firstSnap}`;
      return { kind: 'l2', owner: `L1 entry ${use.firstSnapL1} of ${who}`, guestBase: use.firstSnapL1 * l2Span, alsoShared: refs - 1 };
    }
    return { kind: 'l2', owner: 'an L1 table', guestBase: null, alsoShared: 0 };
  }

  const perBlock = (cs * 8) / 2 ** h.refcountOrder;
  const block = reftableIndexOf(r.check.reftable, lo);
  if (block >= 0) return { kind: 'refcount-block', blockIndex: block, perBlock };
  const rtOff = Number(h.refcountTableOffset);
  if (overlaps(rtOff, h.refcountTableClusters * cs, lo, hi)) {
    return { kind: 'refcount-table', ...slice(rtOff, (h.refcountTableClusters * cs) / 8, lo, cs), perBlock };
  }

  const l1Off = Number(h.l1TableOffset);
  if (overlaps(l1Off, h.l1Size * 8, lo, hi)) return { kind: 'l1', owner: 'active L1 table', ...slice(l1Off, h.l1Size, lo, cs), l2Span };
  for (const sn of s.snapshotTable?.snapshots ?? []) {
    const off = Number(sn.l1TableOffset);
    if (overlaps(off, sn.l1Size * 8, lo, hi)) return { kind: 'l1', owner: `L1 table of snapshot ${sn.id} '${sn.name}'`, ...slice(off, sn.l1Size, lo, cs), l2Span };
  }

  const bitmaps = s.bitmapDirectory?.bitmaps ?? [];
  for (const b of bitmaps) {
    const off = Number(b.tableOffset);
    if (b.tableOffset > 1n && overlaps(off, b.tableSize * 8, lo, hi)) {
      // One data cluster holds cs·8 bits, each covering 2^granularity_bits guest bytes.
      return { kind: 'bitmap-table', name: b.name, ...slice(off, b.tableSize, lo, cs), guestPerEntry: cs * 8 * 2 ** b.granularityBits };
    }
  }
  for (const b of bitmaps) {
    const entry = b.table ? b.table.findIndex((e) => tableEntryOffset(e) === lo) : -1;
    if (entry >= 0) {
      return { kind: 'bitmap-data', name: b.name, entry, firstBit: entry * cs * 8, bitCount: b.bitCount, granularity: 2 ** b.granularityBits };
    }
  }
  const dir = s.bitmapDirectory;
  if (dir && overlaps(dir.offset, dir.byteLength, lo, hi)) {
    return { kind: 'bitmap-directory', bitmaps: bitmaps.filter((b) => overlaps(b.entryOffset, b.entryLength, lo, hi)) };
  }
  const st = s.snapshotTable;
  if (st && overlaps(st.offset, st.byteLength, lo, hi)) {
    return { kind: 'snapshot-table', snapshots: st.snapshots.filter((sn) => overlaps(sn.entryOffset, sn.entryLength, lo, hi)) };
  }
  if (compressedIn(r, k).length > 0) return { kind: 'compressed' };
  return null;
}

/** One compressed guest cluster whose stored bytes touch a host cluster. */
export interface CompressedPiece {
  /** Guest byte offset of the compressed guest cluster. */
  readonly guest: number;
  /** Host byte offset where its compressed stream starts, and the bytes its descriptor covers. */
  readonly host: number;
  readonly length: number;
}

/** The compressed guest clusters whose bytes lie (partly) in host cluster `k`, by host offset. */
export function compressedIn(r: PlaceInput, k: number, max = 4096): CompressedPiece[] {
  const ix = r.check.compressed;
  const cs = r.check.clusterSize;
  return compressedTouching(ix, cs, k, max).map((i) => ({ guest: ix.guest[i]! * cs, host: ix.host[i]!, length: ix.length[i]! }));
}
