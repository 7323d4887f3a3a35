// Structure decoding for the inspector: the 64-bit entries of one host cluster read as the table its
// place (place.ts) says it is — L1 and L2 tables (spec: "Cluster mapping"), the refcount table and
// blocks ("Host cluster management"), bitmap tables ("Bitmap table") — with absolute numbers: guest
// offsets, host clusters, block indices. Pure: bytes in, rows out. Entries are read as 32-bit halves;
// only the rows shown are formatted.

import { compressedDescriptor, entryOffset, geometry, isCopied, l2Kind, reftEntryOffset } from '../qcow2';
import type { Place, TableSlice } from './place';

export interface EntryRow {
  /** Entry index within its table (absolute: a table may span several clusters). */
  readonly index: number;
  /** Byte offset of the entry within the cluster. */
  readonly at: number;
  /** Raw entry in hex (two words for extended L2). */
  readonly raw: string;
  readonly text: string;
  /** The number the entry is about: a guest offset (L1, L2, bitmap tables) or a host cluster (refcount block). */
  readonly subject?: number;
  /** File offset of the host cluster the entry points at (an L2 table, a data or refcount block cluster). */
  readonly target?: number;
}

export interface DecodeContext {
  readonly clusterBits: number;
  readonly extendedL2: boolean;
  readonly refcountOrder: number;
}

export interface Decoded {
  readonly title: string;
  /** Non-empty entries only (at most `limit`). */
  readonly rows: readonly EntryRow[];
  /** All non-empty entries, including those past the limit. */
  readonly nonEmpty: number;
  readonly entries: number;
  /** Replaces "n of m entries in use" where entries are not what is counted. */
  readonly summary?: string;
}

type TablePlace = Extract<Place, { kind: 'l1' | 'l2' | 'refcount-table' | 'refcount-block' | 'bitmap-table' | 'bitmap-data' }>;

const h32 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
const hexOff = (n: number): string => '0x' + n.toString(16);
const span = (a: number, len: number): string => `${hexOff(a)}–${hexOff(a + len - 1)}`;
const copied = (hi: number): string => (isCopied(hi) ? ', COPIED' : '');
/** The `target` of a row pointing at file offset `off` (none for 0: no pointer). */
const pointer = (off: number): { target?: number } => (off > 0 ? { target: off } : {});

/** True when `place` is a table of 64-bit entries decodeTable reads. */
export function isTablePlace(place: Place | null): place is TablePlace {
  return place !== null && ['l1', 'l2', 'refcount-table', 'refcount-block', 'bitmap-table', 'bitmap-data'].includes(place.kind);
}

/** The entries of a table cluster, numbered and explained by where the cluster sits. */
export function decodeTable(place: TablePlace, bytes: Uint8Array, ctx: DecodeContext, limit = 512): Decoded {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (place.kind) {
    case 'l1':
      return u64Table(`${place.owner}: entries → L2 tables`, dv, place, limit, (i, hi, lo) => ({
        text: `guest ${span(i * place.l2Span, place.l2Span)} → L2 table at ${hexOff(entryOffset(hi, lo))}${copied(hi)}`,
        subject: i * place.l2Span,
        ...pointer(entryOffset(hi, lo)),
      }));
    case 'refcount-table': {
      const per = place.perBlock;
      return u64Table('refcount table: entries → refcount blocks', dv, place, limit, (i, hi, lo) => ({
        text: `refcount block at ${hexOff(reftEntryOffset(hi, lo))}: host clusters ${i * per}–${(i + 1) * per - 1}`,
        ...pointer(reftEntryOffset(hi, lo)),
      }));
    }
    case 'bitmap-table': {
      // guestPerEntry 0: the granularity is not known (a removed bitmap's table): no guest ranges.
      const g = place.guestPerEntry;
      return u64Table(`table of bitmap '${place.name}': entries → bitmap data`, dv, place, limit, (i, hi, lo) => {
        const off = entryOffset(hi, lo);
        const what = off !== 0 ? `data cluster at ${hexOff(off)}` : lo & 1 ? 'all ones (no data cluster)' : 'all zeros';
        return g > 0 ? { text: `guest ${span(i * g, g)}: ${what}`, subject: i * g, ...pointer(off) } : { text: what, ...pointer(off) };
      });
    }
    case 'l2':
      return l2Table(dv, ctx, place.guestBase, limit, place.owner);
    case 'refcount-block':
      return refcountBlock(dv, ctx, place.blockIndex * place.perBlock, limit);
    case 'bitmap-data':
      return bitmapData(bytes, place, limit);
  }
}

/**
 * Runs of set bits of a bitmap data cluster as guest ranges (spec: "Bitmap data": bit j of byte k
 * is bit 8k + j of the cluster). `entries` counts the bits the bitmap has in this cluster.
 */
function bitmapData(bytes: Uint8Array, p: Extract<Place, { kind: 'bitmap-data' }>, limit: number): Decoded {
  const bits = Math.max(0, Math.min(bytes.length * 8, p.bitCount - p.firstBit));
  const rows: EntryRow[] = [];
  let runs = 0;
  let set = 0;
  for (let i = 0; i < bits; ) {
    if (bytes[i >> 3] === 0 && (i & 7) === 0) {
      i += 8;
      continue;
    }
    if (!((bytes[i >> 3]! >> (i & 7)) & 1)) {
      i++;
      continue;
    }
    let j = i;
    while (j < bits && (bytes[j >> 3]! >> (j & 7)) & 1) j++;
    runs++;
    set += j - i;
    if (rows.length < limit) {
      const g = (p.firstBit + i) * p.granularity;
      rows.push({ index: i, at: i >> 3, raw: `bits ${i}–${j - 1}`, text: `guest ${span(g, (j - i) * p.granularity)}: dirty`, subject: g });
    }
    i = j;
  }
  const title = `Data cluster ${p.entry} of bitmap '${p.name}' (guest ${span(p.firstBit * p.granularity, bits * p.granularity)}, ${p.granularity} bytes per bit)`;
  return { title, rows, nonEmpty: runs, entries: bits, summary: `${set} of ${bits} bits set, in ${runs} runs` };
}

function u64Table(
  title: string, dv: DataView, slice: TableSlice, limit: number,
  describe: (index: number, hi: number, lo: number) => { text: string; subject?: number },
): Decoded {
  const rows: EntryRow[] = [];
  const first = slice.firstEntry;
  const entries = Math.max(0, Math.min(slice.count, Math.floor((dv.byteLength - slice.startAt) / 8)));
  let nonEmpty = 0;
  for (let j = 0; j < entries; j++) {
    const at = slice.startAt + j * 8;
    const hi = dv.getUint32(at);
    const lo = dv.getUint32(at + 4);
    if (hi === 0 && lo === 0) continue;
    nonEmpty++;
    if (rows.length < limit) rows.push({ index: first + j, at, raw: h32(hi) + h32(lo), ...describe(first + j, hi, lo) });
  }
  return { title, rows, nonEmpty, entries };
}

/** Subclusters of an extended L2 entry, one character each: A allocated, Z zero, ! both (invalid), · neither. */
export function subclusterMap(allocBits: number, zeroBits: number): string {
  let s = '';
  for (let i = 0; i < 32; i++) {
    const a = (allocBits >>> i) & 1;
    const z = (zeroBits >>> i) & 1;
    s += a && z ? '!' : a ? 'A' : z ? 'Z' : '·';
  }
  return s;
}

function l2Table(dv: DataView, ctx: DecodeContext, guestBase: number | null, limit: number, owner: string): Decoded {
  const g = geometry(ctx.clusterBits, ctx.extendedL2);
  const cs = g.clusterSize;
  const rows: EntryRow[] = [];
  const entries = Math.floor(dv.byteLength / g.l2EntrySize);
  let nonEmpty = 0;
  for (let i = 0; i < entries; i++) {
    const at = i * g.l2EntrySize;
    const hi = dv.getUint32(at);
    const lo = dv.getUint32(at + 4);
    const bmHi = ctx.extendedL2 ? dv.getUint32(at + 8) : 0;
    const bmLo = ctx.extendedL2 ? dv.getUint32(at + 12) : 0;
    if (hi === 0 && lo === 0 && bmHi === 0 && bmLo === 0) continue;
    nonEmpty++;
    if (rows.length >= limit) continue;
    const kind = l2Kind(hi, lo, ctx.extendedL2);
    let text: string;
    if (kind === 'compressed') {
      const d = compressedDescriptor(g, hi, lo);
      text = `compressed: ${d.length} bytes at ${hexOff(d.hostOffset)} (${d.sectors} sectors)`;
    } else if (kind === 'unallocated') {
      text = 'unallocated';
    } else if (kind === 'zero-plain') {
      text = 'reads as zeros';
    } else {
      text = `${kind === 'zero-alloc' ? 'reads as zeros, preallocated at' : 'data at'} ${hexOff(entryOffset(hi, lo))}${copied(hi)}`;
    }
    const target = kind === 'compressed' ? compressedDescriptor(g, hi, lo).hostOffset : kind === 'unallocated' || kind === 'zero-plain' ? 0 : entryOffset(hi, lo);
    if (ctx.extendedL2) text += `; subclusters ${subclusterMap(bmLo, bmHi)}`;
    const raw = h32(hi) + h32(lo) + (ctx.extendedL2 ? ' ' + h32(bmHi) + h32(bmLo) : '');
    const where = guestBase === null ? `guest cluster +${i}` : `guest ${hexOff(guestBase + i * cs)}`;
    rows.push({ index: i, at, raw, text: `${where}: ${text}`, ...(guestBase === null ? {} : { subject: guestBase + i * cs }), ...pointer(target) });
  }
  const layout = ctx.extendedL2 ? 'extended, 16 bytes each: entry + subcluster bitmap' : '8 bytes each';
  const base = guestBase === null ? '' : `, guest ${span(guestBase, entries * cs)}`;
  return { title: `L2 table of ${owner}${base} (${layout})`, rows, nonEmpty, entries };
}

function refcountBlock(dv: DataView, ctx: DecodeContext, firstCluster: number, limit: number): Decoded {
  const bits = 2 ** ctx.refcountOrder;
  const entries = Math.floor((dv.byteLength * 8) / bits);
  const cs = 2 ** ctx.clusterBits;
  const rows: EntryRow[] = [];
  let nonEmpty = 0;
  for (let i = 0; i < entries; i++) {
    const v = refcountAt(dv, i, bits);
    if (v === 0n) continue;
    nonEmpty++;
    const k = firstCluster + i;
    if (rows.length < limit) {
      rows.push({ index: i, at: Math.floor((i * bits) / 8), raw: v.toString(16), text: `host cluster ${k} (${hexOff(k * cs)}): refcount ${v}`, subject: k });
    }
  }
  const title = `refcount block for host clusters ${firstCluster}–${firstCluster + entries - 1} (${bits}-bit entries)`;
  return { title, rows, nonEmpty, entries };
}

/** Refcount entry `i` of a block; sub-byte widths count bit 0 as the least significant. */
export function refcountAt(dv: DataView, i: number, bits: number): bigint {
  if (bits < 8) {
    const per = 8 / bits;
    const byte = dv.getUint8(Math.floor(i / per));
    return BigInt((byte >> ((i % per) * bits)) & ((1 << bits) - 1));
  }
  switch (bits) {
    case 8: return BigInt(dv.getUint8(i));
    case 16: return BigInt(dv.getUint16(i * 2));
    case 32: return BigInt(dv.getUint32(i * 4));
    default: return dv.getBigUint64(i * 8);
  }
}
