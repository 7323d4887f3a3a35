// The guest map's model: the virtual disk cut into equal cells (a cluster, a subcluster with
// extended L2, or a power-of-two multiple of one on large disks), each coloured by where its bytes
// live, from the guest map ranges (qemu-img map parity: start, length, depth, present, zero, data,
// offset?). A cell holding several kinds shows the most telling one (data over zeros over the backing
// file over unallocated), like the host map's level of detail. Pure: no DOM.

import { hex, type MapRange } from '../format';
import type { Grid } from './layout';

/** Where a guest range lives; the value is also the drawing priority (higher wins in a mixed cell). */
export const GuestKind = {
  /** Allocated nowhere in the chain: reads as zeros. */
  UNALLOCATED: 0,
  /** Zeros from a backing file (depth ≥ 1). */
  BACKING_ZERO: 1,
  /** Data read from a backing file (depth ≥ 1). */
  BACKING_DATA: 2,
  /** A zero cluster (or subclusters) of this image; preallocated ones keep a host offset. */
  ZERO: 3,
  /** Data in this file at a known host offset. */
  DATA: 4,
  /** Compressed data in this file (qemu-img map prints no offset). */
  COMPRESSED: 5,
  /** Encrypted data in this file (qemu-img map prints no offset for encrypted images). */
  ENCRYPTED: 6,
  /** Data in the external data file (offsets are that file's). */
  EXTERNAL: 7,
} as const;
type GuestKindId = (typeof GuestKind)[keyof typeof GuestKind];
export const GUEST_KIND_COUNT = 8;
/** A cell no range covers (the map stopped early: an error or the range cap). */
export const NOT_MAPPED = 0xff;

export const GUEST_KIND_LABEL: readonly string[] = [
  'unallocated (reads as zeros)', 'zeros from the backing file', 'data from the backing file', 'zero clusters',
  'data in this file', 'compressed data', 'encrypted data', 'data in the external data file',
];

/** What the kind of a range depends on besides the range itself. */
export interface GuestImageFlags {
  readonly encrypted: boolean;
  readonly externalData: boolean;
  /** File names of the backing chain, by depth − 1 (the image's own backing file first), where known. */
  readonly backingNames?: readonly string[];
}

export function kindOf(r: MapRange, f: GuestImageFlags): GuestKindId {
  if (!r.present) return GuestKind.UNALLOCATED;
  if (r.depth > 0) return r.data ? GuestKind.BACKING_DATA : GuestKind.BACKING_ZERO;
  if (!r.data) return GuestKind.ZERO;
  if (r.offset === undefined) return f.encrypted ? GuestKind.ENCRYPTED : GuestKind.COMPRESSED;
  return f.externalData ? GuestKind.EXTERNAL : GuestKind.DATA;
}

interface GuestCells {
  /** Guest bytes per cell (a power of two, at least the granule). */
  readonly unit: number;
  /** Virtual disk size in bytes. */
  readonly size: number;
  /** Kind per cell (GuestKind, or NOT_MAPPED). */
  readonly cells: Uint8Array;
  /** Bytes per kind over the whole disk, exact (from the ranges). */
  readonly bytes: Float64Array;
  /** Bytes no range covers. */
  readonly unmapped: number;
}

/** Smallest unit ≥ `granule` (doubling) that cuts `size` bytes into at most `maxCells` cells. */
export function cellUnit(size: number, granule: number, maxCells: number): number {
  let unit = Math.max(1, granule);
  while (Math.ceil(size / unit) > Math.max(1, maxCells)) unit *= 2;
  return unit;
}

/** Bytes per kind over the ranges, and the bytes of a `size`-byte disk no range covers. */
export function guestTotals(ranges: readonly MapRange[], size: number, f: GuestImageFlags): { bytes: Float64Array; unmapped: number } {
  const bytes = new Float64Array(GUEST_KIND_COUNT);
  let mapped = 0;
  for (const r of ranges) {
    const kind = kindOf(r, f);
    bytes[kind] = bytes[kind]! + r.length;
    mapped += r.length;
  }
  return { bytes, unmapped: Math.max(0, size - mapped) };
}

/** Cuts the disk into cells and colours them; `ranges` are sorted by start and do not overlap. */
export function guestCells(ranges: readonly MapRange[], size: number, granule: number, maxCells: number, f: GuestImageFlags): GuestCells {
  const unit = cellUnit(size, granule, maxCells);
  const n = Math.ceil(size / unit);
  const cells = new Uint8Array(n).fill(NOT_MAPPED);
  for (const r of ranges) {
    const kind = kindOf(r, f);
    const end = Math.min(n, Math.ceil((r.start + r.length) / unit));
    for (let i = Math.floor(r.start / unit); i < end; i++) {
      const cur = cells[i]!;
      if (cur === NOT_MAPPED || kind > cur) cells[i] = kind;
    }
  }
  return { unit, size, cells, ...guestTotals(ranges, size, f) };
}

/** Index of the first range ending after `offset` (ranges sorted and contiguous or not). */
export function firstRangeAfter(ranges: readonly MapRange[], offset: number): number {
  let a = 0;
  let b = ranges.length;
  while (a < b) {
    const m = (a + b) >> 1;
    const r = ranges[m]!;
    if (r.start + r.length <= offset) a = m + 1;
    else b = m;
  }
  return a;
}

/** The ranges overlapping guest bytes [start, end), at most `max` of them, and how many in all. */
export function rangesIn(ranges: readonly MapRange[], start: number, end: number, max = 8): { list: MapRange[]; total: number } {
  const list: MapRange[] = [];
  let total = 0;
  for (let i = firstRangeAfter(ranges, start); i < ranges.length && ranges[i]!.start < end; i++) {
    if (list.length < max) list.push(ranges[i]!);
    total++;
  }
  return { list, total };
}

/** One line for a range: what it is, where, and where its bytes live. */
export function describeRange(r: MapRange, f: GuestImageFlags, clusterSize: number): string {
  // qemu-img map says data and zero together where the host file has a hole (preallocated clusters).
  const kind = GUEST_KIND_LABEL[kindOf(r, f)]! + (r.data && r.zero ? ', reading as zeros' : '');
  const where = `${hex(r.start)}–${hex(r.start + r.length - 1)}`;
  let at = '';
  if (r.offset !== undefined) {
    if (r.depth > 0) {
      const name = f.backingNames?.[r.depth - 1];
      at = name !== undefined ? ` at ${hex(r.offset)} of ${name} (backing file${r.depth > 1 ? `, ${r.depth} levels down` : ''})` : ` at ${hex(r.offset)} of backing file ${r.depth}`;
    }
    else if (f.externalData) at = ` at ${hex(r.offset)} of the data file`;
    else at = ` → host ${hex(r.offset)} (cluster ${Math.floor(r.offset / clusterSize)}${r.data ? '' : ', preallocated'})`;
  }
  return `${where}: ${kind}${at}`;
}

/**
 * The grid with its columns rounded to a multiple of `align` cells when it has more columns than
 * that, so each row starts on a cluster boundary (align = cells per cluster with subclusters).
 */
export function alignGrid(g: Grid, align: number): Grid {
  if (align <= 1 || g.cols <= align) return g;
  const cols = Math.max(align, Math.round(g.cols / align) * align);
  return { clusters: g.clusters, cols, rows: Math.ceil(g.clusters / cols) };
}
