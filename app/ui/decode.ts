// Structure decoding for the inspector: the entries of one host cluster read as the table its role
// says it is (L1 and L2 tables, refcount table and blocks, bitmap tables). Pure: bytes in, rows out.
// Entries are read as 32-bit halves; only the shown rows are formatted.

import { compressedDescriptor, entryOffset, geometry, l2Kind, Role } from '../format';

export interface EntryRow {
  /** Entry index within the cluster. */
  readonly index: number;
  /** Byte offset of the entry within the cluster. */
  readonly at: number;
  /** Raw entry in hex (two words for extended L2). */
  readonly raw: string;
  readonly text: string;
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
}

const h32 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
const hexOff = (n: number): string => '0x' + n.toString(16);

/** Entries of a table cluster, or null when the role has no table layout to decode. */
export function decodeCluster(role: number, bytes: Uint8Array, ctx: DecodeContext, limit = 512): Decoded | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (role) {
    case Role.L1_ACTIVE:
    case Role.L1_SNAPSHOT:
      return u64Table('L1 table entries → L2 tables', dv, limit, (hi, lo) => `L2 table at ${hexOff(entryOffset(hi, lo))}${hi & 0x80000000 ? ', COPIED' : ''}`);
    case Role.REFCOUNT_TABLE:
      return u64Table('refcount table entries → refcount blocks', dv, limit, (hi, lo) => `refcount block at ${hexOff((hi >>> 0) * 0x1_0000_0000 + ((lo & 0xfffffe00) >>> 0))}`);
    case Role.BITMAP_TABLE:
      return u64Table('bitmap table entries → bitmap data', dv, limit, (hi, lo) => {
        const off = entryOffset(hi, lo);
        return off === 0 ? (lo & 1 ? 'all ones (no data cluster)' : 'all zeros') : `data cluster at ${hexOff(off)}`;
      });
    case Role.L2_ACTIVE:
    case Role.L2_SNAPSHOT:
    case Role.L2_SHARED:
      return l2Table(dv, ctx, limit);
    case Role.REFCOUNT_BLOCK:
      return refcountBlock(dv, ctx, limit);
    default:
      return null;
  }
}

function u64Table(title: string, dv: DataView, limit: number, text: (hi: number, lo: number) => string): Decoded {
  const rows: EntryRow[] = [];
  const entries = Math.floor(dv.byteLength / 8);
  let nonEmpty = 0;
  for (let i = 0; i < entries; i++) {
    const hi = dv.getUint32(i * 8);
    const lo = dv.getUint32(i * 8 + 4);
    if (hi === 0 && lo === 0) continue;
    nonEmpty++;
    if (rows.length < limit) rows.push({ index: i, at: i * 8, raw: h32(hi) + h32(lo), text: text(hi, lo) });
  }
  return { title, rows, nonEmpty, entries };
}

function l2Table(dv: DataView, ctx: DecodeContext, limit: number): Decoded {
  const g = geometry(ctx.clusterBits, ctx.extendedL2);
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
      text = `${kind === 'zero-alloc' ? 'reads as zeros, preallocated at' : 'data at'} ${hexOff(entryOffset(hi, lo))}${hi & 0x80000000 ? ', COPIED' : ''}`;
    }
    if (ctx.extendedL2) {
      const alloc = bmLo >>> 0;
      const zero = bmHi >>> 0;
      text += `; subclusters allocated ${popcount(alloc)}/32, zero ${popcount(zero)}/32`;
    }
    const raw = h32(hi) + h32(lo) + (ctx.extendedL2 ? ' ' + h32(bmHi) + h32(bmLo) : '');
    rows.push({ index: i, at, raw, text: `guest cluster +${i}: ${text}` });
  }
  return { title: `L2 table entries (${ctx.extendedL2 ? 'extended, 16' : '8'} bytes each)`, rows, nonEmpty, entries };
}

function refcountBlock(dv: DataView, ctx: DecodeContext, limit: number): Decoded {
  const bits = 2 ** ctx.refcountOrder;
  const entries = Math.floor((dv.byteLength * 8) / bits);
  const rows: EntryRow[] = [];
  let nonEmpty = 0;
  for (let i = 0; i < entries; i++) {
    const v = refcountAt(dv, i, bits);
    if (v === 0n) continue;
    nonEmpty++;
    if (rows.length < limit) rows.push({ index: i, at: Math.floor((i * bits) / 8), raw: v.toString(16), text: `refcount ${v} for cluster +${i}` });
  }
  return { title: `refcount block entries (${bits}-bit)`, rows, nonEmpty, entries };
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

function popcount(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v) {
    v &= v - 1;
    n++;
  }
  return n;
}
