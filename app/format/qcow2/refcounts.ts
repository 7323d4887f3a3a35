// Refcounts (spec: "Host cluster management"): the refcount table and refcount blocks as stored,
// decoded for every refcount_order 0..6, and the expected refcounts that qemu-img check rebuilds
// from references (block/qcow2-refcount.c, qcow2_inc_refcounts_imrt). Both live in typed arrays
// sized to the file's clusters; nothing here allocates per cluster or per entry.

import type { Header } from './header';
import { readRanges, type ByteSource } from './source';
import { LO_OFFSET_MASK, MAX_REFTABLE_BYTES } from './spec';
import { reftEntryOffset, reftReserved } from './mapping';
import { LITTLE_ENDIAN, narrow16, swap16, swapWordsInPlace } from './refcount-words';

export interface RefcountGeometry {
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly refcountOrder: number;
  readonly refcountBits: number;
  /** Refcount entries per refcount block (refcount_block_size). */
  readonly entriesPerBlock: number;
  /** The largest refcount an entry can hold, clipped to 2^32 - 1 (our arrays are 32-bit). */
  readonly refcountMax: number;
}

export function refcountGeometry(h: Header): RefcountGeometry {
  const refcountBits = 2 ** h.refcountOrder;
  return {
    clusterBits: h.clusterBits,
    clusterSize: h.clusterSize,
    refcountOrder: h.refcountOrder,
    refcountBits,
    entriesPerBlock: (h.clusterSize * 8) / refcountBits,
    refcountMax: refcountBits >= 32 ? 0xffff_ffff : 2 ** refcountBits - 1,
  };
}

/**
 * The refcount table as qemu-img check reads it, in typed arrays (a hostile table has a million
 * entries; one object and one bigint each would be ~100 MB of heap). Plain data, so it survives
 * structured cloning from the worker; read it with the reftable* functions below.
 */
export interface Reftable {
  /** Bits 9..63 of each entry as a number (exact below 2^53; larger values are far past any file). */
  readonly offsets: Float64Array;
  /** REFT_NONZERO | REFT_RESERVED | REFT_UNALIGNED per entry. */
  readonly flags: Uint8Array;
}

/** The raw entry is not 0 (the entry is used, or damaged). */
export const REFT_NONZERO = 1;
/** Bits 0..8 (reserved) are set. */
export const REFT_RESERVED = 2;
/** The offset (bits 9..63, exactly) is not a multiple of the cluster size. */
export const REFT_UNALIGNED = 4;

/** QEMU's BDRV_MAX_LENGTH (as a double: exact, 2^63 - 2^30). */
const BDRV_MAX_LENGTH = 2 ** 63 - 2 ** 30;

export const EMPTY_REFTABLE: Reftable = { offsets: new Float64Array(0), flags: new Uint8Array(0) };

/** Index of the refcount table entry whose block is at `offset` (> 0), or -1. */
export function reftableIndexOf(t: Reftable, offset: number): number {
  return offset > 0 ? t.offsets.indexOf(offset) : -1;
}

/**
 * One stored refcount per host cluster: 16 bits when refcount_bits <= 16 (every value fits), else
 * 32 bits saturated at 2^32 - 1. Two bytes per cluster is what keeps a 1 TiB image in budget.
 */
export type RefcountArray = Uint16Array | Uint32Array;

/** The array type that holds every refcount of `refcountOrder` (saturated above 32 bits). */
export function refcountArray(refcountOrder: number, n: number): RefcountArray {
  return refcountOrder <= 4 ? new Uint16Array(n) : new Uint32Array(n);
}

/**
 * Stored refcounts as the check may hold them: a RefcountArray, or (loadStoredRefcounts' `narrow`)
 * one byte per cluster while every stored value fits in one (refcount_order <= 3 always; 16-bit
 * refcounts until a block holds a value above 255, which widens the array to 16-bit words).
 */
export type StoredRefcountArray = RefcountArray | Uint8Array;

/**
 * The stored refcounts of host clusters [0, values.length) (RefcountArray), plus lookups
 * past that range (refcount blocks covering clusters beyond the end of the file) loaded on demand.
 * While `swapped`, `values` holds 16-bit refcounts as stored (refcount-words.ts): read an entry
 * with swap16 (or `get`), compare it with `one`; toHostOrder ends that.
 */
export class StoredRefcounts {
  /** Exact values of 64-bit refcounts that do not fit in `values`. */
  private readonly big = new Map<number, bigint>();
  /** Blocks covering clusters at or past values.length, by refcount table index. */
  private readonly extra = new Map<number, Uint8Array>();
  /** Refcount table indices whose block offset is not cluster aligned (QEMU: -EIO on lookup). */
  readonly badBlocks: ReadonlySet<number>;
  private raw: boolean;

  constructor(
    readonly geo: RefcountGeometry,
    readonly reftable: Reftable,
    values: StoredRefcountArray,
    badBlocks: Set<number>,
    swapped = false,
  ) {
    this.badBlocks = badBlocks;
    this.vals = values;
    this.raw = swapped && values instanceof Uint16Array;
  }

  private vals: StoredRefcountArray;

  /** The stored refcounts of clusters [0, values.length). Final once loadStoredRefcounts returns. */
  get values(): StoredRefcountArray {
    return this.vals;
  }

  /**
   * One byte per cluster → stored 16-bit words (the loader, at the first value above 255): the
   * values so far as stored words (swapped on a little-endian host), the rest 0.
   */
  widen16(): Uint16Array {
    const narrow = this.vals;
    const wide = new Uint16Array(narrow.length);
    if (LITTLE_ENDIAN) {
      // Each byte b becomes the stored word b << 8: its bytes (0, b) in memory.
      for (let i = 0; i < narrow.length; i++) wide[i] = narrow[i]! << 8;
    } else wide.set(narrow);
    this.vals = wide;
    this.raw = LITTLE_ENDIAN;
    return wide;
  }

  /** Whether `values` holds stored 16-bit words that read byte-swapped on this host. */
  get swapped(): boolean {
    return this.raw;
  }

  /** The entry of `values` that means refcount 1 (0x0100 while swapped). */
  get one(): number {
    return this.raw ? 0x0100 : 1;
  }

  /** Puts `values` in host order (once; `swapped` is false after). */
  toHostOrder(): void {
    if (this.raw && this.vals instanceof Uint16Array) swapWordsInPlace(this.vals);
    this.raw = false;
  }

  /** Refcount table index of a host cluster. */
  tableIndex(cluster: number): number {
    return Math.floor(cluster / this.geo.entriesPerBlock);
  }

  /**
   * Stored refcount of `cluster` (saturated at 2^32 - 1): -1 when QEMU cannot read it (the block
   * offset is unaligned), -2 when its block lies past the loaded range and `ensure` must run first.
   */
  get(cluster: number): number {
    if (this.badBlocks.size > 0 && this.badBlocks.has(this.tableIndex(cluster))) return -1;
    const v = this.vals;
    if (cluster < v.length) return this.raw ? swap16(v[cluster]!) : v[cluster]!;
    const t = this.tableIndex(cluster);
    const off = this.reftable.offsets[t];
    if (off === undefined || off === 0) return 0;
    const block = this.extra.get(t);
    if (!block) return -2;
    return decodeOne(block, this.geo.refcountOrder, cluster - t * this.geo.entriesPerBlock);
  }

  /** The exact stored value, for messages (64-bit refcounts above 2^32 - 1 included). */
  exact(cluster: number): bigint {
    const b = this.big.get(cluster);
    if (b !== undefined) return b;
    const v = this.get(cluster);
    return BigInt(Math.max(0, v));
  }

  /** Loads the blocks behind clusters for which `get` returned -2. */
  async ensure(src: ByteSource, clusters: Iterable<number>): Promise<void> {
    const want = new Set<number>();
    for (const c of clusters) {
      const t = this.tableIndex(c);
      if (!this.extra.has(t) && (this.reftable.offsets[t] ?? 0) !== 0) want.add(t);
    }
    for (const t of want) {
      const off = this.reftable.offsets[t]!;
      const bytes = off < src.size ? await src.read(off, this.geo.clusterSize) : new Uint8Array(0);
      this.extra.set(t, bytes);
    }
  }

  /** Keeps the bytes of block `t` for `get` past the loaded range (used by the loader). */
  keepBlock(t: number, bytes: Uint8Array): void {
    this.extra.set(t, bytes);
  }

  /** Records an exact 64-bit value (used by the loader). */
  setBig(cluster: number, v: bigint): void {
    this.big.set(cluster, v);
  }
}

/** Entry `i` of a refcount block; sub-byte widths count bit 0 as the least significant. */
function decodeOne(block: Uint8Array, order: number, i: number): number {
  if (order <= 2) {
    const bits = 1 << order;
    const per = 8 / bits;
    const byte = block[Math.floor(i / per)] ?? 0;
    return (byte >> ((i % per) * bits)) & ((1 << bits) - 1);
  }
  const w = 1 << (order - 3);
  const at = i * w;
  if (at + w > block.length) return 0;
  if (order === 3) return block[at]!;
  if (order === 4) return (block[at]! << 8) | block[at + 1]!;
  if (order === 5) return u32be(block, at);
  return u32be(block, at) !== 0 ? 0xffff_ffff : u32be(block, at + 4);
}

/** Big-endian by hand: no DataView (nor closure) per lookup — this runs once per cluster in some loops. */
const u32be = (block: Uint8Array, p: number): number => ((block[p]! << 24) | (block[p + 1]! << 16) | (block[p + 2]! << 8) | block[p + 3]!) >>> 0;

/**
 * Decodes `count` entries of `block` into out[base...]; returns 64-bit values above 2^32 - 1.
 * 16-bit entries are copied as stored (StoredRefcounts.swapped).
 */
function decodeBlock(block: Uint8Array, order: number, out: StoredRefcountArray, base: number, count: number, big: (c: number, v: bigint) => void): void {
  const n = Math.min(count, out.length - base);
  if (order <= 2) {
    const bits = 1 << order;
    const per = 8 / bits;
    const mask = (1 << bits) - 1;
    for (let i = 0; i < n; i++) {
      const byte = block[(i / per) | 0] ?? 0;
      out[base + i] = (byte >> ((i % per) * bits)) & mask;
    }
    return;
  }
  const w = 1 << (order - 3);
  const have = Math.min(n, Math.floor(block.length / w));
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  if (order === 3) for (let i = 0; i < have; i++) out[base + i] = block[i]!;
  else if (order === 4) new Uint8Array(out.buffer, out.byteOffset + base * 2, have * 2).set(block.subarray(0, have * 2));
  else if (order === 5) for (let i = 0; i < have; i++) out[base + i] = dv.getUint32(i * 4);
  else {
    for (let i = 0; i < have; i++) {
      const hi = dv.getUint32(i * 8);
      const lo = dv.getUint32(i * 8 + 4);
      if (hi === 0) out[base + i] = lo;
      else {
        out[base + i] = 0xffff_ffff;
        big(base + i, (BigInt(hi) << 32n) | BigInt(lo));
      }
    }
  }
  // A block cut short by the end of the file: the rest reads as zeros (fill, not a loop that
  // is almost never entered and would deoptimise this function on every call).
  if (have < n) out.fill(0, base + have, base + n);
}

/** The bytes readReftable reads (length 0: none), so that a source can start that read early. */
export function reftableRange(h: Header, fileSize: number): { offset: number; length: number } {
  const off = Number(h.refcountTableOffset);
  const inFile = off < fileSize && Number.isSafeInteger(off) ? Math.floor((fileSize - off) / 8) : 0;
  const entries = Math.max(0, Math.min((h.refcountTableClusters * h.clusterSize) / 8, MAX_REFTABLE_BYTES / 8, inFile));
  return { offset: off, length: entries * 8 };
}

/**
 * Reads the refcount table: at most QEMU's 8 MiB (it refuses larger ones at open), and only what
 * lies inside the file — past the end of the file QEMU reads zeros, which are unused entries.
 */
export async function readReftable(src: ByteSource, h: Header): Promise<Reftable> {
  const { offset: off, length } = reftableRange(h, src.size);
  const entries = length / 8;
  const bytes = entries > 0 ? await src.read(off, length) : new Uint8Array(0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets = new Float64Array(entries);
  const flags = new Uint8Array(entries);
  // Cluster sizes are powers of two up to 2 MiB, so alignment is decided by the low word alone.
  const alignMask = (h.clusterSize - 1) & LO_OFFSET_MASK;
  const have = Math.min(entries, Math.floor(bytes.length / 8));
  for (let i = 0; i < have; i++) {
    const hi = dv.getUint32(i * 8);
    const lo = dv.getUint32(i * 8 + 4);
    if (hi === 0 && lo === 0) continue;
    offsets[i] = reftEntryOffset(hi, lo);
    flags[i] = REFT_NONZERO | (reftReserved(lo) ? REFT_RESERVED : 0) | (lo & alignMask ? REFT_UNALIGNED : 0);
  }
  return { offsets, flags };
}

/**
 * Loads the stored refcounts of host clusters [0, nClusters): every refcount block read once, in
 * coalesced reads, each batch decoded as soon as it arrives. Blocks past the end of the file read
 * as zeros. `onSettled` is called after each block is decoded, with the clusters whose values it
 * has just made final (16-bit ones as stored: see StoredRefcounts.swapped).
 */
export async function loadStoredRefcounts(
  src: ByteSource,
  geo: RefcountGeometry,
  reftable: Reftable,
  nClusters: number,
  onProgress?: (done: number, total: number) => void,
  onSettled?: (values: StoredRefcountArray, from: number, to: number) => void,
  narrow = false,
): Promise<StoredRefcounts> {
  const values = narrow && geo.refcountOrder <= 4 ? new Uint8Array(nClusters) : refcountArray(geo.refcountOrder, nClusters);
  const bad = new Set<number>();
  const byOffset = new Map<number, number[]>();
  const E = geo.entriesPerBlock;
  const n = reftable.offsets.length;
  const lastTable = Math.min(n, Math.ceil(nClusters / E));
  // QEMU cannot read a block that is not cluster aligned, nor one ending past BDRV_MAX_LENGTH (EIO).
  const unreadable = (t: number) => (reftable.flags[t]! & REFT_UNALIGNED) !== 0 || reftable.offsets[t]! + geo.clusterSize > BDRV_MAX_LENGTH;
  for (let t = 0; t < lastTable; t++) {
    const off = reftable.offsets[t]!;
    if (off === 0) continue;
    if (unreadable(t)) {
      bad.add(t);
      continue;
    }
    if (off >= src.size) continue;
    const list = byOffset.get(off);
    if (list) list.push(t);
    else byOffset.set(off, [t]);
  }
  const stored = new StoredRefcounts(geo, reftable, values, bad, LITTLE_ENDIAN && geo.refcountOrder === 4);
  let out = stored.values;
  for (let t = lastTable; t < n; t++) if (reftable.offsets[t]! !== 0 && unreadable(t)) bad.add(t);
  const ranges = [...byOffset.keys()].map((offset) => ({ offset, length: geo.clusterSize, key: offset }));
  const big = (c: number, v: bigint) => stored.setBig(c, v);
  // The phase starts now (the first blocks take a while to arrive).
  onProgress?.(0, ranges.length);
  await readRanges(src, ranges, (off, bytes) => {
    for (const t of byOffset.get(off)!) {
      if (!(out instanceof Uint8Array && geo.refcountOrder === 4)) decodeBlock(bytes, geo.refcountOrder, out, t * E, E, big);
      else if (!narrow16(bytes, out, t * E, E)) {
        out = stored.widen16();
        decodeBlock(bytes, 4, out, t * E, E, big);
      }
      // A block reaching past nClusters is kept (a copy: readRanges may reuse its buffer), so that
      // `ensure` for the clusters just past the end does not read it again.
      if ((t + 1) * E > nClusters) stored.keepBlock(t, bytes.slice());
      onSettled?.(out, t * E, (t + 1) * E);
    }
  }, { arrivalOrder: true, ...noStraggler(ranges.length, geo.clusterSize, src.maxRead), ...(onProgress ? { onProgress } : {}) });
  return stored;
}

/** readRanges' defaults: 128 ranges and at most `maxRead` bytes per request, 4 requests in flight. */
const BATCH_PARTS = 128;
const IN_FLIGHT = 4;

/**
 * Request sizes for the refcount blocks that leave no small last request: it would be sent only
 * when a first one has arrived, after all the others (a 1 TiB image of 64 KiB clusters has 513
 * blocks: 4 × 128 and 1). When 4 requests of up to 5 % more each hold every block, they are asked
 * for at once instead; the buffers held stay 4, as before.
 */
function noStraggler(blocks: number, clusterSize: number, maxRead = 8 << 20): { batchParts?: number; maxRead?: number } {
  const per = Math.ceil(blocks / IN_FLIGHT);
  const usual = Math.min(BATCH_PARTS, Math.max(1, Math.floor(maxRead / clusterSize)));
  if (per <= usual || per > usual * 1.05) return {};
  return { batchParts: per, maxRead: per * clusterSize };
}

export { ExpectedRefcounts } from './expected-refcounts';
