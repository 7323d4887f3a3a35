// The bitmap directory (spec: "Bitmaps extension" / "Bitmap directory"), read as QEMU 7.2 reads
// it (block/qcow2-bitmap.c: bitmap_list_load, check_dir_entry, then load_bitmap at open). Every
// reason QEMU would refuse the image goes into the bitmap's `qemuRefuses`, in QEMU's wording, and
// becomes a 'QEMU_REFUSES' finding when QEMU considers the bitmaps at all (autoclear bit 0 set).
//
// The seed (seed/000_e69da970bd6afba4.txt): bitmap_table_offset 0 with bitmap_table_size 0 is an
// empty bitmap that owns no cluster (`zeroOffsetEmpty`); offset 1 is "all bits set"
// (`offsetOneAllSet`). The merged spec adopted neither, so QEMU refuses both; we read them anyway.

import { Findings, QEMU_NOTE, hex } from './errors';
import type { BitmapsExtension } from './extensions';
import type { Header } from './header';
import type { Bitmap, BitmapDirectory } from './model';
import { Reader, decodeUtf8 } from './reader';
import type { ByteSource } from './source';
import * as S from './spec';
import { cStringBytes } from './snapshots';
import { bitCountOf, bitmapTableEntriesNeeded, countBitmapData, diskLength, emptyKinds, type BitmapData } from './bitmap-data';
import { entryPastEnd, readZeroFilled } from './zero-fill';

const BITMAP_DIR_ENTRY_BYTES = 24;
/** QEMU's BME_MAX_TABLE_SIZE: entries a bitmap table may have. */
const BME_MAX_TABLE_SIZE = 0x8000000;
/** QEMU treats every flag but in_use and auto as reserved (extra_data_compatible included). */
const QEMU_RESERVED_FLAGS = 0xfffffffc;

/** One directory entry as stored, before its table is read. */
interface DirEntry {
  readonly index: number;
  readonly entryOffset: number;
  readonly entryLength: number;
  readonly tableOffset: bigint;
  readonly tableSize: number;
  readonly flags: number;
  readonly type: number;
  readonly granularityBits: number;
  readonly nameSize: number;
  readonly extraDataSize: number;
  readonly extraData: Uint8Array;
  readonly nameBytes: Uint8Array;
  readonly name: string;
}


const EMPTY = new Uint8Array(0);
/** A copy, except that every empty one is the same array (65535 entries, no garbage). */
const copyOf = (b: Uint8Array): Uint8Array => (b.length ? b.slice() : EMPTY);

/** QEMU's check_dir_entry: each violated constraint, described; empty when the entry passes. */
function dirEntryViolations(e: DirEntry, h: Header, fileSize: number): string[] {
  const out: string[] = [];
  const cs = BigInt(h.clusterSize || 1);
  if (entryPastEnd(e, fileSize)) {
    // Zeros read past the end of the file: no bitmap at all, whatever its fields seem to say.
    out.push('the entry lies past the end of the file: its fields are the zeros QEMU reads there');
    return out;
  }
  if (e.tableOffset === 0n && e.tableSize === 0) {
    out.push('bitmap_table_offset 0 and bitmap_table_size 0: the seed proposal\'s empty bitmap, which the spec never adopted');
  } else if (e.tableOffset === 1n && e.tableSize === 0) {
    out.push('bitmap_table_offset 1 and bitmap_table_size 0: "all bits set", the seed\'s open question, not in the spec');
  } else {
    if (e.tableSize === 0) out.push('bitmap_table_size is 0');
    if (e.tableOffset === 0n) out.push('bitmap_table_offset is 0');
    else if (e.tableOffset % cs !== 0n) out.push(`bitmap_table_offset ${hex(e.tableOffset)} is not cluster-aligned`);
  }
  if (e.tableSize > BME_MAX_TABLE_SIZE) out.push(`bitmap_table_size ${e.tableSize} exceeds ${BME_MAX_TABLE_SIZE}`);
  if (e.granularityBits > S.MAX_BITMAP_GRANULARITY_BITS || e.granularityBits < S.MIN_BITMAP_GRANULARITY_BITS) {
    out.push(`granularity_bits ${e.granularityBits} is outside ${S.MIN_BITMAP_GRANULARITY_BITS}..${S.MAX_BITMAP_GRANULARITY_BITS}`);
  }
  if ((e.flags & QEMU_RESERVED_FLAGS) >>> 0) out.push(`flags ${hex(e.flags)} has bits QEMU treats as reserved (it knows only in_use and auto)`);
  if (e.nameSize > S.MAX_BITMAP_NAME) out.push(`name_size ${e.nameSize} exceeds ${S.MAX_BITMAP_NAME}`);
  if (e.type !== S.BITMAP_TYPE_DIRTY_TRACKING) out.push(`type ${e.type} is not 1 (dirty tracking)`);
  if (out.length) return out;
  // check_dir_entry then asks bdrv_getlength, which fails with EFBIG past INT64_MAX bytes.
  if (h.size / 512n > (1n << 54n) - 1n) {
    out.push('the disk length cannot be read (bdrv_getlength: File too large)');
    return out;
  }
  const physBytes = BigInt(e.tableSize) * cs;
  if (physBytes > BigInt(S.BME_MAX_PHYS_SIZE)) {
    out.push(`the table's ${e.tableSize} clusters exceed QEMU's ${S.BME_MAX_PHYS_SIZE}-byte bitmap limit`);
  } else if (!(e.flags & S.BME_FLAG_IN_USE) && diskLength(h) > (physBytes * 8n) << BigInt(e.granularityBits)) {
    out.push(`the table's ${e.tableSize} clusters cannot hold a bit for every ${1 << e.granularityBits} bytes of the disk`);
  }
  return out;
}

/** A directory-level refusal, met by QEMU before it checks entry `before` (entries.length: after all). */
interface DirProblem {
  readonly before: number;
  readonly message: string;
}

/** Walks the directory bytes as bitmap_list_load does; directory-level problems go to `dirProblems`. */
function parseDirectory(dir: Uint8Array, base: number, ext: BitmapsExtension, dirProblems: DirProblem[]): DirEntry[] {
  const problem = (message: string) => dirProblems.push({ before: list.length, message });
  const r = new Reader(dir, base, 'bitmap directory');
  const list: DirEntry[] = [];
  let pos = 0;
  while (pos < dir.length) {
    if (pos + BITMAP_DIR_ENTRY_BYTES > dir.length) {
      problem('Broken bitmap directory');
      return list;
    }
    if (list.length + 1 > ext.nbBitmaps && !dirProblems.some((p) => p.message === 'More bitmaps found than specified in header extension')) {
      problem('More bitmaps found than specified in header extension');
    }
    if (list.length >= S.MAX_BITMAPS) return list;
    const nameSize = r.u16(pos + 18);
    const extraDataSize = r.u32(pos + 20);
    const entryLength = BITMAP_DIR_ENTRY_BYTES + extraDataSize + nameSize;
    // QEMU steps by dir_entry_size(), a C int: a huge extra_data_size wraps it, so the entry seems to
    // fit and QEMU stops at its extra data instead of calling the directory broken.
    const stepInC = (Math.ceil(entryLength / 8) * 8) | 0;
    if (pos + stepInC > dir.length) {
      problem('Broken bitmap directory');
      return list;
    }
    if (pos + Math.ceil(entryLength / 8) * 8 > dir.length) {
      problem('Bitmap extra data is not supported');
      return list;
    }
    const extraData = r.slice(pos + BITMAP_DIR_ENTRY_BYTES, extraDataSize);
    const nameBytes = cStringBytes(r.slice(pos + BITMAP_DIR_ENTRY_BYTES + extraDataSize, nameSize));
    list.push({
      index: list.length,
      entryOffset: base + pos,
      entryLength,
      tableOffset: r.u64(pos),
      tableSize: r.u32(pos + 8),
      flags: r.u32(pos + 12),
      type: r.u8(pos + 16),
      granularityBits: r.u8(pos + 17),
      nameSize,
      extraDataSize,
      extraData: copyOf(extraData),
      nameBytes: copyOf(nameBytes),
      name: decodeUtf8(nameBytes),
    });
    pos += Math.ceil(entryLength / 8) * 8;
  }
  if (list.length < ext.nbBitmaps) problem('Less bitmaps found than specified in header extension');
  return list;
}

/** QEMU's refusals for one directory entry, in the order it checks them at open. */
function entryRefusals(e: DirEntry, h: Header, fileSize: number): string[] {
  const out: string[] = [];
  if (e.extraDataSize !== 0) out.push('Bitmap extra data is not supported');
  for (const v of dirEntryViolations(e, h, fileSize)) out.push(`Bitmap '${e.name}' doesn't satisfy the constraints${QEMU_NOTE}${v}`);
  return out;
}

/** Refusals from load_bitmap (run at open for bitmaps that are not in use). */
function loadRefusals(e: DirEntry, data: BitmapData, h: Header, created: Set<string>): string[] {
  const inUse = (e.flags & S.BME_FLAG_IN_USE) !== 0;
  if (inUse && created.has(e.name)) return [];
  if (created.has(e.name)) return [`Bitmap already exists: ${e.name}`];
  created.add(e.name);
  if (inUse) return [];
  // bitmap_table_load: a read ending past QEMU's BDRV_MAX_LENGTH fails (EIO) before any entry is checked.
  if (e.tableOffset + BigInt(e.tableSize) * 8n > (1n << 63n) - (1n << 30n)) return [`Could not read bitmap_table table from image for bitmap '${e.name}': Input/output error`];
  if (data.entryKinds.invalid > 0) return [`Could not read bitmap_table table from image for bitmap '${e.name}': Invalid argument`];
  if (BigInt(e.tableSize) !== bitmapTableEntriesNeeded(h, e.granularityBits)) return [`Could not read bitmap '${e.name}' from image: Invalid argument`];
  return [];
}

/**
 * Reads the bitmap directory the extension points at, each bitmap's table, and counts set bits in
 * the data clusters (coalesced reads). Returns null when the directory cannot be read at all.
 */
export async function loadBitmapDirectory(
  src: ByteSource, h: Header, ext: BitmapsExtension, f: Findings,
  onProgress?: (done: number, total: number) => void,
): Promise<BitmapDirectory | null> {
  const considered = h.version >= 3 && (h.autoclearFeatures & S.AUTOCLEAR_BITMAPS) !== 0n;
  const dirProblems: DirProblem[] = [];
  if (ext.directorySize === 0n) dirProblems.push({ before: 0, message: 'Requested bitmap directory size is zero' });
  // Beyond QEMU's BDRV_MAX_LENGTH the read fails; short of it, past the end of the file, it
  // reads zeros (and an offset past 2^53 is past any file, so the rounding of Number() is harmless).
  const tooFar = ext.directoryOffset + ext.directorySize > (1n << 63n) - (1n << 30n);
  if (ext.directorySize > BigInt(S.MAX_BITMAP_DIRECTORY_BYTES) || tooFar) {
    if (tooFar && ext.directorySize !== 0n && ext.directorySize <= BigInt(S.MAX_BITMAP_DIRECTORY_BYTES)) dirProblems.push({ before: 0, message: 'Failed to read bitmap directory: Input/output error' });
    f.error('BITMAP_DIRECTORY_UNREADABLE', 'bitmap directory', ext.offset + 8,
      `the bitmap directory (${ext.directorySize} bytes at ${hex(ext.directoryOffset)}) is too large or too far to read`);
    reportDirectory([], dirProblems, considered, Number(ext.directoryOffset), f);
    return null;
  }
  const offset = Number(ext.directoryOffset);
  const size = Number(ext.directorySize);
  if (offset + size > src.size) {
    f.error('BITMAP_DIRECTORY_PAST_EOF', 'bitmap directory', offset, `the bitmap directory runs past the end of the file; QEMU reads the missing bytes as zeros`);
  }
  const entries = size === 0 ? [] : parseDirectory(await readZeroFilled(src, offset, size), offset, ext, dirProblems);
  const data = await countBitmapData(src, h, entries, f, onProgress);
  const created = new Set<string>();
  const dirOk = dirProblems.length === 0 && entries.every((e) => entryRefusals(e, h, src.size).length === 0);
  // The same refusal, worded the same, is one string however many entries share it.
  const interned = new Map<string, string>();
  const intern = (m: string): string => {
    const have = interned.get(m);
    if (have !== undefined) return have;
    if (interned.size < 4096) interned.set(m, m);
    return m;
  };
  const bitmaps: Bitmap[] = entries.map((e, i) => {
    const d = data[i] ?? { table: null, entryKinds: emptyKinds(), setBits: null, strip: new Uint32Array(0) };
    const refusals = entryRefusals(e, h, src.size).map(intern);
    if (dirOk) refusals.push(...loadRefusals(e, d, h, created).map(intern));
    return {
      index: e.index,
      entryOffset: e.entryOffset,
      entryLength: e.entryLength,
      name: e.name,
      nameBytes: e.nameBytes,
      flags: e.flags,
      inUse: (e.flags & S.BME_FLAG_IN_USE) !== 0,
      auto: (e.flags & S.BME_FLAG_AUTO) !== 0,
      extraDataCompatible: (e.flags & S.BME_FLAG_EXTRA_DATA_COMPATIBLE) !== 0,
      type: e.type,
      granularityBits: e.granularityBits,
      tableOffset: e.tableOffset,
      tableSize: e.tableSize,
      extraDataSize: e.extraDataSize,
      extraData: e.extraData,
      zeroOffsetEmpty: e.tableOffset === 0n && e.tableSize === 0,
      offsetOneAllSet: e.tableOffset === 1n && e.tableSize === 0,
      bitCount: bitCountOf(h, e.granularityBits),
      table: d.table,
      entryKinds: d.entryKinds,
      setBits: d.setBits,
      strip: d.strip,
      qemuRefuses: considered ? refusals : [],
    };
  });
  reportDirectory(bitmaps, dirProblems, considered, offset, f, src.size);
  return { offset, byteLength: size, bitmaps };
}

/**
 * Reports QEMU's refusals in the order bitmap_list_load meets them: per entry, the directory's own
 * problems met before it, then the entry's; then what is left (load_bitmap's refusals last). Bitmaps
 * left in use (and not read past the end of the file) get a warning of their own.
 */
function reportDirectory(bitmaps: readonly Bitmap[], dirProblems: readonly DirProblem[], considered: boolean, offset: number, f: Findings, fileSize = Infinity): void {
  for (const b of bitmaps) {
    if (considered && b.inUse && !entryPastEnd(b, fileSize)) {
      f.warn('BITMAP_IN_USE', `bitmap "${b.name}"`, b.entryOffset, `Bitmap '${b.name}' is marked in use: it was not saved cleanly, its contents are stale, and QEMU will refuse to use it until it is removed`);
    }
  }
  if (!considered) {
    if (dirProblems.length) f.warn('BITMAP_DIRECTORY_DAMAGED', 'bitmap directory', offset, `${dirProblems.map((p) => p.message).join('; ')} (QEMU ignores the bitmaps: autoclear bit 0 is clear)`);
    return;
  }
  const dir = (i: number) => {
    for (const p of dirProblems) if (p.before === i) f.error('QEMU_REFUSES', 'bitmap directory', offset, p.message);
  };
  for (const b of bitmaps) {
    dir(b.index);
    for (const p of b.qemuRefuses) f.error('QEMU_REFUSES', `bitmap "${b.name}"`, b.entryOffset, p);
  }
  for (const p of dirProblems) if (p.before >= bitmaps.length) f.error('QEMU_REFUSES', 'bitmap directory', offset, p.message);
}
