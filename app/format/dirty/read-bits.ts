// One bitmap's bits as extents over the guest disk (spec: "Bitmap table", "Bitmaps" data layout;
// QEMU's block/qcow2-bitmap.c load_bitmap_data). Bit n is bit (n % 8) of byte n / 8 of the bitmap's
// data (least significant first) and covers guest bytes [n·g, (n+1)·g), clipped to the disk length
// QEMU exports (whole 512-byte sectors). A table entry with offset 0 stands for a data cluster of
// all zeros (flag bit 0 clear) or all ones (set).
//
// Contract: every guest byte is CLEAN, DIRTY or UNKNOWN; UNKNOWN exactly where the bits cannot be
// read (an invalid table entry, a table or data cluster past the end of the file, a table shorter
// than the disk needs, a table that cannot be located) — never zeros presented as clean. Each cause
// is one finding naming the bitmap, the file offset and how many guest bytes it leaves unknown;
// all-ones table entries (valid, never written by QEMU) are one note with the first entry's offset.
// The seed's zero-offset empty bitmap is all clean; offset 1 ("all bits set?") is all dirty.

import { Findings, Qcow2Error, hex, type Finding } from '../qcow2/errors';
import type { Header } from '../qcow2/header';
import type { Bitmap } from '../qcow2/model';
import { readRanges, type ByteSource } from '../qcow2/source';
import * as S from '../qcow2/spec';
import { bitmapEntryKind, diskLength } from '../qcow2/bitmap-data';
import { readZeroFilled } from '../qcow2/zero-fill';
import { CLEAN, DIRTY, UNKNOWN, Extents, ExtentsBuilder } from './extents';

export interface BitmapExtents {
  readonly extents: Extents;
  /** Why bits are unknown or read against QEMU's rules; empty when the bits read cleanly. */
  readonly findings: readonly Finding[];
}

/** Data bytes read at once (bounds memory: a bitmap may hold 512 MiB of data). */
const CHUNK_BYTES = 16 * 1024 * 1024;

/** The 'what a bitmap is' part of a directory entry this file needs. */
export type BitmapRef = Pick<Bitmap, 'name' | 'entryOffset' | 'tableOffset' | 'tableSize' | 'granularityBits' | 'zeroOffsetEmpty' | 'offsetOneAllSet' | 'table'>;

/** Unknown bits by cause, reported once each. */
class Unknowns {
  private readonly causes = new Map<string, { count: number; offset: number; bytes: number; what: string }>();
  add(cause: string, offset: number, bytes: number, what: string): void {
    const c = this.causes.get(cause);
    if (c) {
      c.count++;
      c.bytes += bytes;
    } else this.causes.set(cause, { count: 1, offset, bytes, what });
  }
  report(f: Findings, structure: string): void {
    for (const c of this.causes.values()) {
      const more = c.count > 1 ? ` (${c.count} times; the first at ${hex(c.offset)})` : '';
      f.error('BITMAP_BITS_UNKNOWN', structure, c.offset, `${c.what}${more}: the bits of ${c.bytes} guest bytes are unknown`);
    }
  }
}

/** Scans bits in ascending order and emits runs in guest bytes. */
class BitRuns {
  private type = -1;
  private startBit = 0;
  constructor(private readonly out: ExtentsBuilder, private readonly g: number, private readonly len: number) {}
  /** Bits from `bit` on are of `type` (until the next mark). */
  mark(bit: number, type: number): void {
    if (type === this.type) return;
    this.flush(bit);
    this.type = type;
    this.startBit = bit;
  }
  flush(bit: number): void {
    if (this.type >= 0) this.out.push(Math.min(this.startBit * this.g, this.len), Math.min(bit * this.g, this.len), this.type);
    this.startBit = bit;
  }
}

/**
 * Reads bitmap `b` of the image in `src` (header `h`) into extents over its disk. Throws a
 * Qcow2Error only when the disk length is beyond 2^53 bytes (offsets would not be exact).
 */
export async function readBitmapExtents(src: ByteSource, h: Header, b: BitmapRef, signal?: AbortSignal): Promise<BitmapExtents> {
  const f = new Findings();
  const structure = `bitmap "${b.name}"`;
  const lenBig = diskLength(h);
  if (lenBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Qcow2Error('DISK_TOO_LARGE', 'header', 24, `the virtual disk (${h.size} bytes) is beyond 2^53 bytes: its extents cannot be given exactly`);
  }
  const len = Number(lenBig);
  const done = (e: Extents): BitmapExtents => ({ extents: e, findings: f.list });
  if (b.zeroOffsetEmpty) return done(Extents.whole(len, CLEAN));
  if (b.offsetOneAllSet) return done(Extents.whole(len, DIRTY));
  const gb = b.granularityBits;
  if (gb < S.MIN_BITMAP_GRANULARITY_BITS || gb > S.MAX_BITMAP_GRANULARITY_BITS) {
    f.warn('BITMAP_GRANULARITY_RANGE', structure, b.entryOffset + 17, `granularity_bits ${gb} is outside the ${S.MIN_BITMAP_GRANULARITY_BITS}..${S.MAX_BITMAP_GRANULARITY_BITS} QEMU accepts; the bits are read as ${gb > 62 ? 'meaningless' : `${2 ** gb}-byte granules`}`);
  }
  const cs = h.clusterSize;
  const unreadable = (why: string): BitmapExtents => {
    f.error('BITMAP_BITS_UNKNOWN', structure, b.entryOffset, `${why}: the bits of all ${len} guest bytes are unknown`);
    return done(Extents.whole(len, UNKNOWN));
  };
  if (len === 0) return done(Extents.whole(0, CLEAN));
  if (gb > 62) return unreadable(`granularity_bits ${gb} gives no usable granule size`);
  if (b.tableOffset === 0n || b.tableSize === 0 || b.tableOffset % BigInt(cs) !== 0n || b.tableOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
    return unreadable(`the bitmap table (bitmap_table_offset ${hex(b.tableOffset)}, bitmap_table_size ${b.tableSize}) cannot be located`);
  }
  const g = 2 ** gb;
  const bitCount = Math.ceil(len / g);
  const bitsPerCluster = cs * 8;
  const needed = Math.ceil(bitCount / bitsPerCluster);
  const capped = Math.min(b.tableSize, Math.floor(S.BME_MAX_PHYS_SIZE / cs));
  const m = Math.min(capped, needed);
  const tableOffset = Number(b.tableOffset);
  const unknown = new Unknowns();
  const guestBytesOf = (i: number, j = i + 1) => Math.min(j * bitsPerCluster * g, len) - Math.min(i * bitsPerCluster * g, len);
  if (b.tableSize > needed) {
    f.warn('BITMAP_TABLE_SIZE', structure, b.entryOffset + 8, `bitmap_table_size ${b.tableSize} is more than the ${needed} entries a ${len}-byte disk needs at granularity ${g} (QEMU refuses to load the bitmap); the extra entries are ignored`);
  } else if (m < needed) {
    const why = b.tableSize < needed
      ? `bitmap_table_size ${b.tableSize} is less than the ${needed} entries a ${len}-byte disk needs at granularity ${g} (QEMU refuses to load the bitmap); guest bytes from ${Math.min(m * bitsPerCluster * g, len)} on have no table entry`
      : `bitmap_table_size ${b.tableSize} is beyond QEMU's limit; entries past ${m} are not read`;
    unknown.add('short', b.entryOffset + 8, guestBytesOf(m, needed), why);
  }
  const inFile = Math.max(0, Math.floor((src.size - tableOffset) / 8));
  const table = b.table && b.table.length >= m ? b.table : await readTable(src, tableOffset, m);

  const out = new ExtentsBuilder();
  const runs = new BitRuns(out, g, len);
  const ones = { count: 0, first: -1, bytes: 0 };
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / cs));
  for (let c0 = 0; c0 < m; c0 += perChunk) {
    if (signal?.aborted) throw new Qcow2Error('ABORTED', structure, null, 'cancelled');
    const c1 = Math.min(m, c0 + perChunk);
    const data = new Map<number, Uint8Array>();
    const ranges: { offset: number; length: number; key: number }[] = [];
    for (let i = c0; i < c1; i++) {
      const e = table[i]!;
      if (i < inFile && bitmapEntryKind(e, cs) === 'data') ranges.push({ offset: Number(e & S.BME_TABLE_ENTRY_OFFSET_MASK), length: cs, key: i });
    }
    await readRanges(src, ranges, (i, bytes) => void data.set(i, bytes.slice()));
    for (let i = c0; i < c1; i++) {
      const first = i * bitsPerCluster;
      const valid = Math.min(bitsPerCluster, bitCount - first);
      const entryAt = tableOffset + i * 8;
      if (i >= inFile) {
        unknown.add('table-eof', entryAt, guestBytesOf(i), `the bitmap table runs past the end of the file at entry ${i} (${hex(entryAt)})`);
        runs.mark(first, UNKNOWN);
        continue;
      }
      const e = table[i]!;
      const kind = bitmapEntryKind(e, cs);
      if (kind === 'invalid') {
        unknown.add('invalid', entryAt, guestBytesOf(i), `bitmap table entry ${i} (${hex(e)}) has reserved bits set or an unaligned offset`);
        runs.mark(first, UNKNOWN);
      } else if (kind === 'zeros' || kind === 'ones') {
        runs.mark(first, kind === 'ones' ? DIRTY : CLEAN);
        if (kind === 'ones') {
          if (ones.count++ === 0) ones.first = entryAt;
          ones.bytes += guestBytesOf(i);
        }
      } else {
        const bytes = data.get(i) ?? new Uint8Array(0);
        const readBits = Math.min(valid, bytes.length * 8);
        scanBits(bytes, first, readBits, runs);
        if (readBits < valid) {
          const at = Number(e & S.BME_TABLE_ENTRY_OFFSET_MASK) + bytes.length;
          unknown.add('data-eof', at, Math.min((first + valid) * g, len) - Math.min((first + readBits) * g, len), `bitmap data cluster ${hex(Number(e & S.BME_TABLE_ENTRY_OFFSET_MASK))} (table entry ${i}) runs past the end of the file`);
          runs.mark(first + readBits, UNKNOWN);
        }
      }
    }
  }
  if (m < needed) runs.mark(m * bitsPerCluster, UNKNOWN);
  runs.flush(bitCount);
  if (ones.count > 0) {
    const which = ones.count === 1 ? 'entry' : `entries (the first at ${hex(ones.first)})`;
    f.info('BITMAP_ALL_ONES', structure, ones.first, `${ones.count} bitmap table ${which} say "all ones": ${ones.bytes} guest bytes are dirty without a data cluster (valid; QEMU reads such entries but never writes them)`);
  }
  unknown.report(f, structure);
  return done(out.finish(len));
}

async function readTable(src: ByteSource, offset: number, n: number): Promise<BigUint64Array> {
  const bytes = await readZeroFilled(src, offset, n * 8);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getBigUint64(i * 8);
  return out;
}

/** Marks bits [first, first + count) from `bytes` (bit k of byte j is bit first + 8j + k). */
function scanBits(bytes: Uint8Array, first: number, count: number, runs: BitRuns): void {
  const whole = Math.floor(count / 32);
  const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let w = 0; w < whole; w++) {
    let v = words.getUint32(w * 4, true);
    const at = first + w * 32;
    if (v === 0) runs.mark(at, CLEAN);
    else if (v === 0xffffffff) runs.mark(at, DIRTY);
    else {
      // One mark per run of equal bits: the run's length is the count of trailing equal bits.
      let k = 0;
      while (k < 32) {
        const bit = v & 1;
        const rest = bit ? ~v : v;
        const n = rest === 0 ? 32 - k : Math.min(32 - k, 31 - Math.clz32(rest & -rest));
        runs.mark(at + k, bit);
        k += n;
        v = n >= 32 ? 0 : v >>> n;
      }
    }
  }
  for (let bit = whole * 32; bit < count; bit++) runs.mark(first + bit, (bytes[bit >> 3]! >> (bit & 7)) & 1);
}
