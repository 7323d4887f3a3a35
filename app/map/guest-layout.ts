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
  /** Code per cell (codeOf: GuestKind with backing depth, or NOT_MAPPED). */
  readonly cells: Uint8Array;
  /** Bytes per code over the whole disk, exact (from the ranges). */
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

/**
 * A cell's code: its GuestKind, except that backing-file kinds of depth ≥ 2 get codes of their own
 * (DEEP_BASE + 2 × (depth − 2) + data), so that each layer of a chain has its colour. Depths past
 * MAX_CODED_DEPTH share the last code.
 */
export const DEEP_BASE = 16;
export const MAX_CODED_DEPTH = 9;

export function codeOf(r: MapRange, f: GuestImageFlags): number {
  const kind = kindOf(r, f);
  if ((kind !== GuestKind.BACKING_DATA && kind !== GuestKind.BACKING_ZERO) || r.depth < 2) return kind;
  return DEEP_BASE + 2 * (Math.min(r.depth, MAX_CODED_DEPTH) - 2) + (kind === GuestKind.BACKING_DATA ? 1 : 0);
}

/** The backing depth (≥ 1) of a backing code, or 0 for this file's own kinds. */
export function depthOfCode(code: number): number {
  if (code === GuestKind.BACKING_DATA || code === GuestKind.BACKING_ZERO) return 1;
  if (code >= DEEP_BASE && code < DEEP_BASE + 2 * (MAX_CODED_DEPTH - 1)) return 2 + ((code - DEEP_BASE) >> 1);
  return 0;
}

/** The GuestKind of a code. */
export function kindOfCode(code: number): number {
  if (code >= DEEP_BASE && code !== NOT_MAPPED) return (code - DEEP_BASE) & 1 ? GuestKind.BACKING_DATA : GuestKind.BACKING_ZERO;
  return code;
}

/** Drawing priority of each code (higher wins a mixed cell; a shallower layer wins over a deeper one). */
export const CODE_PRIORITY: Uint16Array = (() => {
  const p = new Uint16Array(256);
  for (let c = 0; c < 256; c++) p[c] = kindOfCode(c) * 32 + (31 - depthOfCode(c));
  p[NOT_MAPPED] = 0xffff;
  return p;
})();

/** Codes in legend order: by kind, then depth. */
export function codesInOrder(): number[] {
  const out: number[] = [];
  for (let k = 0; k < GUEST_KIND_COUNT; k++) {
    out.push(k);
    if (k === GuestKind.BACKING_ZERO || k === GuestKind.BACKING_DATA) {
      for (let d = 2; d <= MAX_CODED_DEPTH; d++) out.push(DEEP_BASE + 2 * (d - 2) + (k === GuestKind.BACKING_DATA ? 1 : 0));
    }
  }
  return out;
}

/** The backing file at a depth, named: "base.qcow2", else "the backing file 2 levels down". */
export function layerName(depth: number, f: GuestImageFlags): string {
  const name = f.backingNames?.[depth - 1];
  if (name !== undefined) return name;
  return depth === 1 ? 'the backing file' : `the backing file ${depth} levels down`;
}

/** " (N levels down)" after a named layer deeper than the backing file itself; '' otherwise. */
function levelsNote(depth: number, f: GuestImageFlags, plus = ''): string {
  return depth > 1 && f.backingNames?.[depth - 1] !== undefined ? ` (${depth}${plus} levels down)` : '';
}

/** Legend words for a code, with the backing file's name for backing codes. */
export function codeLabel(code: number, f: GuestImageFlags): string {
  const depth = depthOfCode(code);
  if (depth === 0) return GUEST_KIND_LABEL[code] ?? 'not mapped';
  const what = kindOfCode(code) === GuestKind.BACKING_DATA ? 'data' : 'zeros';
  return `${what} from ${layerName(depth, f)}${levelsNote(depth, f, depth === MAX_CODED_DEPTH ? '+' : '')}`;
}

/** Bytes per code over the ranges, and the bytes of a `size`-byte disk no range covers. */
export function guestTotals(ranges: readonly MapRange[], size: number, f: GuestImageFlags): { bytes: Float64Array; unmapped: number } {
  const bytes = new Float64Array(256);
  let mapped = 0;
  for (const r of ranges) {
    const code = codeOf(r, f);
    bytes[code] = bytes[code]! + r.length;
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
    const code = codeOf(r, f);
    const end = Math.min(n, Math.ceil((r.start + r.length) / unit));
    for (let i = Math.floor(r.start / unit); i < end; i++) {
      const cur = cells[i]!;
      if (cur === NOT_MAPPED || CODE_PRIORITY[code]! > CODE_PRIORITY[cur]!) cells[i] = code;
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
  const where = `${hex(r.start)}–${hex(r.start + r.length - 1)}`;
  if (r.depth > 0 && r.present) {
    const what = r.data ? 'data' : 'zeros';
    const levels = levelsNote(r.depth, f);
    return `${where}: ${what} from ${layerName(r.depth, f)}${r.offset !== undefined ? ` at ${hex(r.offset)}` : ''}${levels}`;
  }
  // qemu-img map says data and zero together where the host file has a hole (preallocated clusters).
  const kind = GUEST_KIND_LABEL[kindOf(r, f)]! + (r.data && r.zero ? ', reading as zeros' : '');
  let at = '';
  if (r.offset !== undefined) {
    if (f.externalData) at = ` at ${hex(r.offset)} of the data file`;
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
