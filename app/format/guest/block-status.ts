// qemu-img map --output=json parity (qemu-img.c img_map/get_block_status, block/io.c
// bdrv_co_block_status, block/qcow2.c qcow2_co_block_status, block/qcow2-cluster.c
// qcow2_get_host_offset and qcow2_get_subcluster_type, as of QEMU 7.2 and 10.0).
//
// Each image of the chain becomes a Layer: per L1 entry, the runs of its L2 table (shared by every
// entry pointing at it, never expanded), each run of one kind (unallocated, unallocated but
// preallocated, zero, preallocated zero, data, compressed, invalid) with the host offset of its
// first byte. The chain is resolved query by query as get_block_status does (descend while
// unallocated and inside the backing file; fail where QEMU's cluster scan meets an invalid entry)
// and coalesced as 10.0's entry_mergeable does (which also compares "compressed"), up to
// MAX_MAP_RANGES ranges; qemu-img/map-json.ts prints them as 7.2 or 10.0 does.

import {
  entryOffset, extEntryInvalid, extSubclusterKind, Kind, L1E_OFFSET_MASK, LO_OFFSET_MASK, stdEntryKind, type EntryFlags, type MappingGeometry,
} from '../qcow2';

export { Kind } from '../qcow2';

/** One line of `qemu-img map --output=json`. */
export interface MapRange {
  readonly start: number;
  readonly length: number;
  readonly depth: number;
  readonly present: boolean;
  readonly zero: boolean;
  readonly data: boolean;
  /** Set (true) on compressed clusters only: qemu-img 10.0 prints "compressed", 7.2 does not. */
  readonly compressed?: true;
  readonly offset?: number;
}

/**
 * Runs of one kind, contiguous on the guest side; `host` is -1 where QEMU reports no offset.
 * `poison` is -1, or the guest offset of an invalid extended-L2 cluster that a block-status query
 * starting in this run scans into (count_contiguous_subclusters then fails the whole query).
 */
export class RunList {
  // Room for 4 runs at first (a table of one run is common: a preallocated image has thousands of
  // such tables); arrays this small live on V8's heap rather than as separate backing stores.
  start = new Float64Array(4);
  len = new Float64Array(4);
  host = new Float64Array(4);
  poison = new Float64Array(4);
  kind = new Uint8Array(4);
  n = 0;

  push(start: number, len: number, kind: number, host: number, poison = -1): void {
    if (len <= 0) return;
    const m = this.n - 1;
    if (m >= 0 && this.kind[m] === kind && this.poison[m] === poison && this.start[m]! + this.len[m]! === start &&
      (host < 0 ? this.host[m]! < 0 : this.host[m]! >= 0 && this.host[m]! + this.len[m]! === host)) {
      this.len[m] = this.len[m]! + len;
      return;
    }
    if (this.n === this.start.length) this.grow();
    this.start[this.n] = start;
    this.len[this.n] = len;
    this.host[this.n] = host;
    this.poison[this.n] = poison;
    this.kind[this.n] = kind;
    this.n++;
  }

  private grow(): void {
    // From the first 4 straight to 64 (a table of several runs usually has dozens), then doubling.
    const m = Math.max(64, this.start.length * 2);
    const f = (a: Float64Array) => {
      const b = new Float64Array(m);
      b.set(a);
      return b;
    };
    this.start = f(this.start);
    this.len = f(this.len);
    this.host = f(this.host);
    this.poison = f(this.poison);
    const k = new Uint8Array(m);
    k.set(this.kind);
    this.kind = k;
  }

  /** Index of the run containing guest offset `pos` (runs are sorted and contiguous). */
  find(pos: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.start[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export interface TableFlags extends EntryFlags {
  /** Encrypted images report no offsets at all (qcow2_co_block_status: `!s->crypto`). */
  readonly crypto: boolean;
}

/**
 * The runs of one L2 table, guest positions relative to the start of the range it maps
 * (qcow2_get_subcluster_type per entry or subcluster).
 */
export function tableRuns(dv: DataView, g: MappingGeometry, fl: TableFlags): RunList {
  const n = Math.min(g.l2Entries, Math.floor(dv.byteLength / g.l2EntrySize));
  return g.extendedL2 ? extTableRuns(dv, g, fl, n) : stdTableRuns(dv, g, fl, n);
}

function stdTableRuns(dv: DataView, g: MappingGeometry, fl: TableFlags, n: number): RunList {
  const out = new RunList();
  const cs = g.clusterSize;
  const inClusterMask = (cs - 1) & LO_OFFSET_MASK;
  // The current run, pushed when the next entry does not continue it (hot: one pass per table).
  let runStart = 0;
  let runLen = 0;
  let runKind = -1;
  let runHost = -1;
  for (let i = 0; i < n; i++) {
    const hi = dv.getUint32(i * 8);
    const lo = dv.getUint32(i * 8 + 4);
    const kind = stdEntryKind(hi, lo, fl, inClusterMask);
    const host = (kind === Kind.DATA || kind === Kind.ZERO_ALLOC) && !fl.crypto ? entryOffset(hi, lo) : -1;
    if (kind === runKind && (host < 0 ? runHost < 0 : runHost >= 0 && runHost + runLen === host)) {
      runLen += cs;
      continue;
    }
    if (runLen > 0) out.push(runStart, runLen, runKind, runHost);
    runStart = i * cs;
    runLen = cs;
    runKind = kind;
    runHost = host;
  }
  if (runLen > 0) out.push(runStart, runLen, runKind, runHost);
  if (n < g.l2Entries) out.push(n * cs, (g.l2Entries - n) * cs, Kind.UNALLOCATED, -1);
  return out;
}

function extTableRuns(dv: DataView, g: MappingGeometry, fl: TableFlags, n: number): RunList {
  const cs = g.clusterSize;
  const sub = cs / 32;
  const hiOf = (i: number) => dv.getUint32(i * 16);
  const loOf = (i: number) => dv.getUint32(i * 16 + 4);
  const offOf = (i: number) => entryOffset(hiOf(i), loOf(i));
  const kindOf = (i: number, j: number) => extSubclusterKind(hiOf(i), loOf(i), dv.getUint32(i * 16 + 8), dv.getUint32(i * 16 + 12), j, fl.dataFile);
  const hardInvalid = (i: number) => extEntryInvalid(hiOf(i), loOf(i), dv.getUint32(i * 16 + 8), dv.getUint32(i * 16 + 12), fl.dataFile);
  const invalid = new Uint8Array(n);
  let anyInvalid = false;
  for (let i = 0; i < n; i++) {
    if (!hardInvalid(i)) continue;
    invalid[i] = 1;
    anyInvalid = true;
  }
  // Where each hard-invalid cluster poisons the runs that scan into it (see RunList.poison): one
  // subcluster range per invalid cluster, [from, to) in subcluster units, disjoint and ascending
  // (a walk back stops at the previous invalid cluster), so the loop below reads them in order.
  const pFrom: number[] = [];
  const pTo: number[] = [];
  const pAt: number[] = [];
  for (let i = 0; anyInvalid && i < n; i++) {
    if (!invalid[i]) continue;
    let from = i * 32;
    let c = i - 1;
    const t = c >= 0 && !invalid[c] ? kindOf(c, 31) : Kind.COMPRESSED;
    const hosted = t === Kind.DATA || t === Kind.ZERO_ALLOC || t === Kind.UNALLOCATED_ALLOC;
    while (t !== Kind.COMPRESSED && t !== Kind.INVALID && c >= 0) {
      let s = 31;
      while (s > 0 && kindOf(c, s - 1) === t) s--;
      from = c * 32 + s;
      if (s > 0 || c === 0 || invalid[c - 1] || kindOf(c - 1, 31) !== t) break;
      if (hosted && offOf(c - 1) + cs !== offOf(c)) break;
      c--;
    }
    if (from < i * 32) {
      pFrom.push(from);
      pTo.push(i * 32);
      pAt.push(i * cs);
    }
  }
  const out = new RunList();
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (invalid[i]) {
      out.push(i * cs, cs, Kind.INVALID, -1);
      continue;
    }
    const off = offOf(i);
    const hi = hiOf(i);
    const lo = loOf(i);
    const zb = dv.getUint32(i * 16 + 8);
    const ab = dv.getUint32(i * 16 + 12);
    for (let j = 0; j < 32; j++) {
      const u = i * 32 + j;
      while (p < pTo.length && pTo[p]! <= u) p++;
      const poison = p < pTo.length && pFrom[p]! <= u ? pAt[p]! : -1;
      let kind = extSubclusterKind(hi, lo, zb, ab, j, fl.dataFile);
      const hosted = kind === Kind.DATA || kind === Kind.ZERO_ALLOC || kind === Kind.UNALLOCATED_ALLOC;
      if (hosted && off % cs !== 0) kind = Kind.INVALID;
      const host = fl.crypto || !hosted || kind === Kind.INVALID ? -1 : off + j * sub;
      out.push(i * cs + j * sub, sub, kind, host, poison);
    }
  }
  if (n < g.l2Entries) out.push(n * cs, (g.l2Entries - n) * cs, Kind.UNALLOCATED, -1);
  return out;
}

/** One image of the backing chain, as qemu-img map sees it. */
export interface Layer {
  /** bdrv_getlength: the guest size (qcow2: virtual size rounded down to 512 bytes). */
  readonly size: number;
  /** Cluster size (for how far one block-status query scans); 512 for raw files. */
  readonly clusterSize: number;
  /** Guest bytes one L1 entry maps. */
  readonly span: number;
  /**
   * Per L1 entry: the runs of its L2 table (positions relative to the entry's span, shared by
   * every entry pointing at the table), or one kind for the whole span. Missing entries are
   * unallocated.
   */
  readonly entries: readonly (RunList | number)[];
  /** External data file: host offsets must equal guest offsets. */
  readonly dataFile: boolean;
  /** The backing image, null when there is none (or it could not be opened). */
  readonly backing: Layer | null;
}

/**
 * An image's layer from its active L1 table: `tables` holds the runs of every L2 table read (by
 * offset). Unaligned L2 offsets are invalid; offsets with no table read (past the end of the file)
 * read as unallocated.
 */
export function qcow2Layer(l1: BigUint64Array, size: number, g: MappingGeometry, tables: ReadonlyMap<number, RunList>, dataFile: boolean, backing: Layer | null): Layer {
  const span = g.l2Entries * g.clusterSize;
  // Only entries the L1 table has (QEMU: past l1_size all is unallocated), never one per span of a
  // possibly huge virtual size.
  const entries: (RunList | number)[] = new Array<RunList | number>(Math.min(Math.ceil(size / span), l1.length)).fill(Kind.UNALLOCATED);
  for (let i = 0; i < entries.length; i++) {
    const masked = l1[i]! & L1E_OFFSET_MASK;
    if (masked === 0n) continue;
    const l2 = Number(masked); // bits 9..55 only: exact as a double
    entries[i] = l2 % g.clusterSize !== 0 ? Kind.INVALID : tables.get(l2) ?? Kind.UNALLOCATED;
  }
  return { size, clusterSize: g.clusterSize, span, entries, dataFile, backing };
}

/** Coalesces block-status answers as qemu-img map's entry_mergeable does. */
class Emitter {
  readonly ranges: MapRange[] = [];
  // The range being extended, as plain fields (one object per range, made when it is complete).
  private has = false;
  private start = 0;
  private length = 0;
  private depth = 0;
  private present = false;
  private zero = false;
  private data = false;
  private compressed = false;
  private offset = -1;

  emit(start: number, length: number, depth: number, present: boolean, zero: boolean, data: boolean, offset: number, compressed = false): void {
    if (this.has && this.depth === depth && this.present === present && this.zero === zero && this.data === data && this.compressed === compressed &&
      (offset < 0 ? this.offset < 0 : this.offset >= 0 && this.offset + this.length === offset)) {
      this.length += length;
      return;
    }
    this.flush();
    this.has = true;
    this.start = start;
    this.length = length;
    this.depth = depth;
    this.present = present;
    this.zero = zero;
    this.data = data;
    this.compressed = compressed;
    this.offset = offset;
  }

  flush(): void {
    if (!this.has) return;
    const { start, length, depth, present, zero, data, offset } = this;
    // Keys in this order (qemu-img's): start, length, depth, present, zero, data, [compressed], [offset].
    let r: MapRange;
    if (this.compressed) r = offset >= 0 ? { start, length, depth, present, zero, data, compressed: true, offset } : { start, length, depth, present, zero, data, compressed: true };
    else r = offset >= 0 ? { start, length, depth, present, zero, data, offset } : { start, length, depth, present, zero, data };
    this.ranges.push(r);
    this.has = false;
  }
}

export interface GuestMap {
  readonly ranges: readonly MapRange[];
  /** Set when qemu-img map would stop with an error; `ranges` holds what it printed before. */
  readonly error: string | null;
  /** Guest offset where the map was cut at MAX_MAP_RANGES ranges, or null. */
  readonly truncatedAt?: number | null;
}

/** qcow2_co_block_status caps one query at INT_MAX bytes: the farthest its cluster scan reaches. */
const QUERY_MAX = 0x7fff_ffff;
/**
 * Ranges kept at most (about 10 MiB of objects); a map with more — qemu-img would print them all,
 * e.g. 16 M lines for every guest cluster of a 1 TiB disk mapped to one host cluster — is cut there,
 * with a finding.
 */
export const MAX_MAP_RANGES = 1 << 17;

interface Status {
  readonly n: number;
  readonly kind: number;
  readonly host: number;
}

/**
 * One bdrv_block_status query of `layer` for [p, p + bytes): the run at p, cut at the run end, or
 * null when QEMU fails it (an invalid entry at p, or one the cluster scan from p runs into).
 */
function query(layer: Layer, p: number, bytes: number): Status | null {
  const i = Math.floor(p / layer.span);
  const base = i * layer.span;
  const end = Math.min(base + layer.span, layer.size);
  const e = layer.entries[i] ?? Kind.UNALLOCATED;
  if (typeof e === 'number') {
    if (e === Kind.INVALID) return null;
    // The run goes on over following entries of the same kind, and past the L1 table's end.
    let j = i + 1;
    while (j < layer.entries.length && layer.entries[j] === e) j++;
    const runEnd = j >= layer.entries.length ? layer.size : Math.min(j * layer.span, layer.size);
    return { n: Math.min(runEnd - p, bytes), kind: e, host: -1 };
  }
  const r = e.find(p - base);
  const kind = e.kind[r]!;
  if (kind === Kind.INVALID) return null;
  const poison = e.poison[r]!;
  if (poison >= 0) {
    const cs = layer.clusterSize;
    const lastScanned = Math.floor(p / cs) + Math.ceil((Math.min(bytes, QUERY_MAX) + (p % cs)) / cs) - 1;
    if (Math.floor((base + poison) / cs) <= lastScanned) return null;
  }
  const host = e.host[r]! < 0 ? -1 : e.host[r]! + (p - base - e.start[r]!);
  if (layer.dataFile && host >= 0 && host !== p) return null;
  return { n: Math.min(base + e.start[r]! + e.len[r]!, end) - p, kind, host };
}

/** Resolves the chain over [0, top.size) as qemu-img map's loop over get_block_status does. */
export function resolveChain(top: Layer): GuestMap {
  const em = new Emitter();
  let pos = 0;
  while (pos < top.size) {
    if (em.ranges.length >= MAX_MAP_RANGES) return { ranges: em.ranges, error: null, truncatedAt: pos };
    let layer = top;
    let depth = 0;
    let bytes = top.size - pos;
    for (;;) {
      const st = query(layer, pos, bytes);
      if (!st) return { ranges: em.ranges, error: 'Could not read file metadata: Input/output error', truncatedAt: null };
      bytes = Math.min(bytes, st.n);
      if (st.kind === Kind.ZERO || st.kind === Kind.ZERO_ALLOC) em.emit(pos, bytes, depth, true, true, false, st.host);
      else if (st.kind === Kind.DATA || st.kind === Kind.COMPRESSED) em.emit(pos, bytes, depth, true, false, true, st.host, st.kind === Kind.COMPRESSED);
      else {
        const b = layer.backing;
        if (b && pos < b.size) {
          layer = b;
          depth++;
          bytes = Math.min(bytes, b.size - pos);
          continue;
        }
        em.emit(pos, bytes, depth, false, true, false, st.host);
      }
      break;
    }
    pos += bytes;
  }
  em.flush();
  return { ranges: em.ranges, error: null, truncatedAt: null };
}

export { guestMapJson } from '../qemu-img/map-json';
