// Bitmap tables and data (spec: "Bitmap table", "Bitmaps" data layout): classifies each table
// entry as QEMU's check_table_entry does, and counts the set bits of every bitmap by reading its
// data clusters (one coalesced pass over all bitmaps). Bit n of a bitmap is bit (n % 8) of byte
// n / 8 of its serialized data (least significant first) and covers guest bytes [n·g, (n+1)·g).

import { Findings, hex } from './errors';
import type { FindingCode } from './finding-codes';
import type { Header } from './header';
import type { BitmapTableEntryKind } from './model';
import { readRanges, type ByteSource, type Range } from './source';
import * as S from './spec';
import { readZeroFilled } from './zero-fill';

/** Buckets of the per-bitmap "dirty strip" over the guest disk. */
export const BITMAP_STRIP_BUCKETS = 256;

/** What bitmaps.ts needs to know of a directory entry to read its table. */
interface BitmapTableRef {
  readonly name: string;
  readonly entryOffset: number;
  readonly tableOffset: bigint;
  readonly tableSize: number;
  readonly granularityBits: number;
}

export interface BitmapData {
  readonly table: BigUint64Array | null;
  readonly entryKinds: Readonly<Record<BitmapTableEntryKind, number>>;
  readonly setBits: number | null;
  readonly strip: Uint32Array;
}

export const emptyKinds = (): Record<BitmapTableEntryKind, number> => ({ zeros: 0, ones: 0, data: 0, invalid: 0 });

/** Kind of a bitmap table entry (QEMU's check_table_entry decides 'invalid'). */
export function bitmapEntryKind(e: bigint, clusterSize: number): BitmapTableEntryKind {
  if (e & S.BME_TABLE_ENTRY_RESERVED_MASK) return 'invalid';
  const off = e & S.BME_TABLE_ENTRY_OFFSET_MASK;
  if (off === 0n) return e & S.BME_TABLE_ENTRY_FLAG_ALL_ONES ? 'ones' : 'zeros';
  if (e & S.BME_TABLE_ENTRY_FLAG_ALL_ONES || off % BigInt(clusterSize) !== 0n) return 'invalid';
  return 'data';
}

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** Accumulates set bits per strip bucket; bucket of bit n = floor(n * 256 / bitCount). */
class Strip {
  readonly counts = new Float64Array(BITMAP_STRIP_BUCKETS);
  total = 0;
  constructor(readonly bitCount: number) {}
  private bucket(n: number): number {
    return Math.min(BITMAP_STRIP_BUCKETS - 1, Math.floor((n * BITMAP_STRIP_BUCKETS) / this.bitCount));
  }
  private start(k: number): number {
    return Math.ceil((k * this.bitCount) / BITMAP_STRIP_BUCKETS);
  }
  /** Bits [a, b) are all set. */
  addRange(a: number, b: number): void {
    if (b <= a) return;
    this.total += b - a;
    const last = this.bucket(b - 1);
    for (let k = this.bucket(a); k <= last; k++) {
      const lo = Math.max(a, k === 0 ? 0 : this.start(k));
      const hi = k === last ? b : Math.min(b, this.start(k + 1));
      this.counts[k]! += Math.max(0, hi - lo);
    }
  }
  /** Byte `v` holds bits [b0, b0 + 8), all below bitCount. */
  addByte(b0: number, v: number): void {
    const pop = POPCOUNT[v]!;
    this.total += pop;
    const first = this.bucket(b0);
    if (first === this.bucket(b0 + 7)) {
      this.counts[first]! += pop;
      return;
    }
    for (let i = 0; i < 8; i++) if (v & (1 << i)) this.counts[this.bucket(b0 + i)]! += 1;
  }
  toUint32(): Uint32Array {
    return Uint32Array.from(this.counts, (c) => Math.min(c, 0xffffffff));
  }
}

interface Pending {
  readonly table: BigUint64Array;
  readonly kinds: Record<BitmapTableEntryKind, number>;
  readonly strip: Strip;
  tailBits: number;
  /** False when the data-scan budget ran out before this table: its set bits stay unknown. */
  counted: boolean;
  /** Findings this table produced (code → count), repeated for every other bitmap sharing it. */
  readonly codes: Map<FindingCode, number>;
  /** Further directory entries with the same table and granularity (they share this result). */
  sharedBy: number;
}

/**
 * Bounds on the work over all the bitmaps of a directory. QEMU bounds each bitmap (its table and
 * data, BME_MAX_PHYS_SIZE) but not their sum: 65535 entries may all name the same large table.
 * Entries naming the same table with the same granularity share one reading; distinct tables
 * are read while the entry budget lasts and their data counted while the byte budget lasts.
 */
const BITMAP_TABLE_ENTRY_BUDGET = 1 << 22;
const BITMAP_DATA_BYTE_BUDGET = S.BME_MAX_PHYS_SIZE;

/**
 * Reads each bitmap's table and data; index-aligned with `refs`. Tables are bounded by QEMU's
 * physical limit (BME_MAX_PHYS_SIZE bytes of data, i.e. that many / cluster size entries), and
 * all of them together by the budgets above.
 */
/**
 * Strips of bitmaps with no set bit known are all this one array, read-only by contract: 65535
 * directory entries must not cost 65535 KiB of zeros (nor as many arrays to clone to the page).
 */
const zeroStrip = new Uint32Array(BITMAP_STRIP_BUCKETS);

export async function countBitmapData(
  src: ByteSource, h: Header, refs: readonly BitmapTableRef[], f: Findings,
  onProgress?: (done: number, total: number) => void,
): Promise<BitmapData[]> {
  const cs = h.clusterSize;
  const bitsPerCluster = cs * 8;
  const out: (BitmapData | Pending | null)[] = [];
  const ranges: Range<{ p: Pending; i: number }>[] = [];
  const seen = new Map<string, Pending | null>();
  const budget = { entries: BITMAP_TABLE_ENTRY_BUDGET, bytes: BITMAP_DATA_BYTE_BUDGET, tablesSkipped: 0, dataSkipped: 0 };
  for (const ref of refs) {
    const structure = `bitmap "${ref.name}"`;
    const bitCount = bitCountOf(h, ref.granularityBits);
    if (ref.tableOffset === 0n && ref.tableSize === 0) {
      out.push({ table: null, entryKinds: emptyKinds(), setBits: 0, strip: zeroStrip });
      continue;
    }
    if (ref.tableOffset === 1n && ref.tableSize === 0) {
      const strip = new Strip(bitCount);
      strip.addRange(0, bitCount);
      out.push({ table: null, entryKinds: emptyKinds(), setBits: bitCount, strip: strip.toUint32() });
      continue;
    }
    if (cs === 0 || ref.tableSize === 0 || ref.tableOffset === 0n || ref.tableOffset % BigInt(cs) !== 0n
      || ref.tableOffset > BigInt(Number.MAX_SAFE_INTEGER) || ref.granularityBits > 63) {
      out.push(null);
      continue;
    }
    const maxEntries = Math.floor(S.BME_MAX_PHYS_SIZE / cs);
    const n = Math.min(ref.tableSize, maxEntries);
    if (n < ref.tableSize) f.warn('BITMAP_TABLE_CAPPED', structure, ref.entryOffset + 8, `bitmap_table_size ${ref.tableSize} is beyond QEMU's limit; only the first ${n} entries are read`);
    const key = `${ref.tableOffset}:${n}:${ref.granularityBits}`;
    const shared = seen.get(key);
    if (shared !== undefined) {
      if (shared) shared.sharedBy++;
      else budget.tablesSkipped++;
      out.push(shared);
      continue;
    }
    if (n > budget.entries) {
      budget.tablesSkipped++;
      seen.set(key, null);
      out.push(null);
      continue;
    }
    budget.entries -= n;
    const p = await readTable(src, h, ref, n, bitCount, f, ranges, budget);
    seen.set(key, p);
    out.push(p);
  }
  await readRanges(src, ranges, ({ p, i }, data) => countCluster(p, i, data, bitsPerCluster), onProgress ? { onProgress } : {});
  refs.forEach((ref, k) => {
    const p = out[k];
    if (p && 'tailBits' in p && p.tailBits > 0 && !p.codes.has('BITMAP_TAIL_BITS')) {
      p.codes.set('BITMAP_TAIL_BITS', 1);
      f.warn('BITMAP_TAIL_BITS', `bitmap "${ref.name}"`, ref.entryOffset, `${p.tailBits} bits past the end of the bitmap are set in its last data cluster`);
    }
  });
  reportBudget(refs, budget, f);
  const results = new Map<Pending, BitmapData>();
  return out.map((p): BitmapData => {
    if (p === null) return { table: null, entryKinds: emptyKinds(), setBits: null, strip: zeroStrip };
    if (!('tailBits' in p)) return p;
    let r = results.get(p);
    if (!r) {
      r = { table: p.table, entryKinds: p.kinds, setBits: p.counted ? p.strip.total : null, strip: p.strip.toUint32() };
      results.set(p, r);
      for (const [code, count] of p.codes) f.countMore(code, count * p.sharedBy);
    }
    return r;
  });
}

/** Reads and classifies one table; queues its data clusters while the byte budget lasts. */
async function readTable(
  src: ByteSource, h: Header, ref: BitmapTableRef, n: number, bitCount: number, f: Findings,
  ranges: Range<{ p: Pending; i: number }>[], budget: { bytes: number; dataSkipped: number },
): Promise<Pending> {
  const cs = h.clusterSize;
  const bitsPerCluster = cs * 8;
  const structure = `bitmap "${ref.name}"`;
  const p: Pending = { table: new BigUint64Array(n), kinds: emptyKinds(), strip: new Strip(bitCount), tailBits: 0, counted: true, codes: new Map(), sharedBy: 0 };
  const count = (code: FindingCode) => p.codes.set(code, (p.codes.get(code) ?? 0) + 1);
  const tableOffset = Number(ref.tableOffset);
  if (tableOffset + n * 8 > src.size) {
    count('BITMAP_TABLE_PAST_EOF');
    f.error('BITMAP_TABLE_PAST_EOF', structure, tableOffset, 'the bitmap table runs past the end of the file; QEMU reads the missing bytes as zeros');
  }
  const bytes = await readZeroFilled(src, tableOffset, n * 8);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const needed = Math.ceil(bitCount / bitsPerCluster);
  const data: number[] = [];
  let extra = 0;
  for (let i = 0; i < n; i++) {
    const e = dv.getBigUint64(i * 8);
    p.table[i] = e;
    const kind = bitmapEntryKind(e, cs);
    p.kinds[kind]++;
    if (kind === 'invalid') {
      count('BITMAP_TABLE_ENTRY_INVALID');
      f.error('BITMAP_TABLE_ENTRY_INVALID', structure, tableOffset + i * 8, `bitmap table entry ${i} (${hex(e)}) has reserved bits set or an unaligned offset`);
    } else if (i >= needed && kind !== 'zeros') {
      extra++;
    } else if (kind === 'ones') {
      p.strip.addRange(i * bitsPerCluster, Math.min(bitCount, (i + 1) * bitsPerCluster));
    } else if (kind === 'data') {
      const off = Number(e & S.BME_TABLE_ENTRY_OFFSET_MASK);
      if (off >= src.size) {
        count('BITMAP_DATA_PAST_EOF');
        f.error('BITMAP_DATA_PAST_EOF', structure, tableOffset + i * 8, `bitmap data cluster ${hex(off)} lies past the end of the file (QEMU reads zeros)`);
      }
      data.push(i);
    }
  }
  if (extra) {
    count('BITMAP_TABLE_EXTRA_ENTRIES');
    f.warn('BITMAP_TABLE_EXTRA_ENTRIES', structure, tableOffset, `${extra} table entries beyond the bitmap's ${bitCount} bits are not zero`);
  }
  if (data.length * cs > budget.bytes) {
    p.counted = false;
    budget.dataSkipped++;
  } else {
    budget.bytes -= data.length * cs;
    for (const i of data) ranges.push({ offset: Number(p.table[i]! & S.BME_TABLE_ENTRY_OFFSET_MASK), length: cs, key: { p, i } });
  }
  return p;
}

function reportBudget(refs: readonly BitmapTableRef[], budget: { tablesSkipped: number; dataSkipped: number }, f: Findings): void {
  if (budget.tablesSkipped) {
    f.warn('BITMAP_TABLES_NOT_READ', 'bitmap directory', refs[0]?.entryOffset ?? null,
      `${budget.tablesSkipped} bitmap tables were not read: together the bitmaps name more than ${BITMAP_TABLE_ENTRY_BUDGET} distinct table entries`);
  }
  if (budget.dataSkipped) {
    f.warn('BITMAP_DATA_NOT_COUNTED', 'bitmap directory', refs[0]?.entryOffset ?? null,
      `the set bits of ${budget.dataSkipped} bitmap tables were not counted: together their data exceeds ${BITMAP_DATA_BYTE_BUDGET} bytes`);
  }
}

/** Virtual disk length as QEMU sees it: whole 512-byte sectors (bdrv_getlength). */
export const diskLength = (h: Header): bigint => (h.size / 512n) * 512n;

/** Bits of a bitmap: ceil(disk length / granularity). */
function bitmapBitCount(h: Header, granularityBits: number): bigint {
  if (granularityBits > 63) return 0n;
  const g = 1n << BigInt(granularityBits);
  return (diskLength(h) + g - 1n) / g;
}

/** Table entries a bitmap needs: ceil(bits / 8 / cluster size). */
export function bitmapTableEntriesNeeded(h: Header, granularityBits: number): bigint {
  const bytes = (bitmapBitCount(h, granularityBits) + 7n) / 8n;
  const cs = BigInt(h.clusterSize || 1);
  return (bytes + cs - 1n) / cs;
}

/** bitmapBitCount as a number, clamped to 2^53 - 1. */
export function bitCountOf(h: Header, granularityBits: number): number {
  const bits = bitmapBitCount(h, granularityBits);
  return bits > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(bits);
}

/** Counts the bits of data cluster `i` (bytes shorter than a cluster read as zeros past them). */
function countCluster(p: Pending, i: number, data: Uint8Array, bitsPerCluster: number): void {
  const first = i * bitsPerCluster;
  const valid = Math.max(0, Math.min(bitsPerCluster, p.strip.bitCount - first));
  const fullBytes = Math.min(data.length, Math.floor(valid / 8));
  for (let j = 0; j < fullBytes; j++) {
    const v = data[j]!;
    if (v !== 0) p.strip.addByte(first + j * 8, v);
  }
  const rest = valid % 8;
  if (rest && fullBytes < data.length) {
    const v = data[fullBytes]!;
    for (let b = 0; b < rest; b++) if (v & (1 << b)) p.strip.addRange(first + fullBytes * 8 + b, first + fullBytes * 8 + b + 1);
    p.tailBits += POPCOUNT[v >> rest]!;
  }
  for (let j = fullBytes + (rest ? 1 : 0); j < data.length; j++) p.tailBits += POPCOUNT[data[j]!]!;
}
