// The first two stages of an analysis. The header stage reads cluster 0 (header, extensions,
// backing file name) and the LUKS header — what the UI shows within moments of a drop. The
// structures stage reads the snapshot table, the bitmap directory with its tables and data, the
// active L1 table and every snapshot's L1 table. A file that is not qcow2 is refused here with a
// Qcow2Error('NOT_QCOW2') that says what the file is.

import { Findings, QEMU_NOTE, Qcow2Error, hex } from './errors';
import { parseBackingFileName, parseExtensions, unsupportedFeatures, type CryptoHeaderExtension, type Extensions } from './extensions';
import { FOREIGN_HEAD_BYTES, FOREIGN_TAIL_BYTES, detectForeign, type ForeignFormat } from './foreign';
import { backingNameTooLong, checkHeader, parseHeader, type Header } from './header';
import { LUKS_HEADER_BYTES, parseLuksHeader } from './luks';
import type { LuksHeader, Snapshot, Structures } from './model';
import { loadBitmapDirectory } from './bitmaps';
import { loadSnapshotTable, cStringBytes } from './snapshots';
import { readRanges, type ByteSource } from './source';
import * as S from './spec';
import { readZeroFilled } from './zero-fill';

export interface HeaderStage {
  readonly fileSize: number;
  readonly header: Header;
  /** The file's first cluster (up to 2 MiB; shorter when the file is). */
  readonly cluster0: Uint8Array;
  readonly extensions: Extensions;
  readonly backingFile: string | null;
  readonly luks: LuksHeader | null;
  /**
   * Always null in a returned stage: a file that is not a readable qcow2 image makes
   * loadHeaderStage throw NOT_QCOW2 with this description instead.
   */
  readonly foreign: ForeignFormat | null;
}

const HEAD_BYTES = 4096;
const MAX_CLUSTER0_BYTES = 2 * 1024 * 1024;

/** Reads and checks cluster 0. Throws Qcow2Error('NOT_QCOW2') when the file is not qcow2. */
export async function loadHeaderStage(src: ByteSource, f: Findings): Promise<HeaderStage> {
  const head = await src.read(0, HEAD_BYTES);
  const magicOk = head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0) === S.QCOW_MAGIC;
  const foreign = magicOk
    ? detectForeign(head, src.size)
    : detectForeign(await src.read(0, FOREIGN_HEAD_BYTES), src.size, await src.read(Math.max(0, src.size - FOREIGN_TAIL_BYTES), FOREIGN_TAIL_BYTES));
  if (foreign) throw new Qcow2Error('NOT_QCOW2', 'header', 0, foreign.description);

  const bits = head.length >= 24 ? new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(20) : 0;
  const wanted = bits >= S.MIN_CLUSTER_BITS && bits <= S.MAX_CLUSTER_BITS ? 2 ** bits : HEAD_BYTES;
  const read0 = wanted <= head.length ? head : await src.read(0, Math.min(wanted, MAX_CLUSTER0_BYTES));
  // A file cut inside its header reads as if zeros followed, as QEMU reads it.
  const cluster0 = read0.length >= HEAD_BYTES ? read0 : await readZeroFilled(src, 0, HEAD_BYTES);
  if (src.size < HEAD_BYTES && src.size < (headerLengthOf(cluster0) ?? 0)) {
    f.error('HEADER_TRUNCATED', 'header', src.size, `the file ends at byte ${src.size}, inside the header; the rest reads as zeros, as in QEMU`);
  }
  const header = parseHeader(cluster0);
  // QEMU names unknown incompatible features from a first, silent pass over the extensions.
  const unknown = header.incompatibleFeatures & ~S.INCOMPAT_KNOWN;
  let unsupported: string | null = null;
  if (unknown && header.clusterSize) {
    const pass = new Findings();
    const first = parseExtensions(header, cluster0, pass);
    unsupported = unsupportedFeatures(unknown, first, firstFailingExtension(first, pass));
  }
  checkHeader(header, src.size, f, unsupported);
  // LUKS headers are opened in the middle of the extension walk (QEMU's order of refusals): read
  // the ones a first, silent walk finds, then walk again opening them from those bytes.
  const luksBytes = await readLuksHeaders(src, header, cluster0);
  let luks: LuksHeader | null = null;
  const extensions = parseExtensions(header, cluster0, f, (ch) => {
    luks = openLuks(src.size, ch, luksBytes.get(ch.offset) ?? null, f);
  });
  const backingFile = parseBackingFileName(header, cluster0, f);
  checkOpenExtras(header, extensions, f);
  if (header.cryptMethod === S.CRYPT_AES) {
    // qcrypto_block_open for the legacy method asks for the key when the image is opened for I/O.
    f.info('QEMU_NEEDS_KEY', 'header', 32, `Parameter 'encrypt.key-secret' is required for cipher${QEMU_NOTE}qemu-img check and map need the key; info does not`);
  }
  if (header.cryptMethod === S.CRYPT_LUKS && !extensions.cryptoHeader) {
    // QEMU's wording; 7.2 checks this only when it opens the image for I/O (qemu-img check, map),
    // and qemu-img info, which does not, crashes on such an image.
    f.error('QEMU_REFUSES', 'header', 32, `Missing CRYPTO header for crypt method 2${QEMU_NOTE}LUKS needs the full disk encryption header extension; qemu-img info 7.2 crashes on this image`);
  }
  if (backingNameTooLong(header)) f.error('QEMU_REFUSES', 'header', 16, 'Backing file name too long');
  return { fileSize: src.size, header, cluster0, extensions, backingFile, luks, foreign: null };
}

/** The header's length as stored (72 for version 2), or null when the version is not 2 or 3. */
function headerLengthOf(b: Uint8Array): number | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = dv.getUint32(4);
  return version === 2 ? S.HEADER_V2_LENGTH : version === 3 ? Math.max(S.HEADER_V3_MIN_LENGTH, dv.getUint32(100)) : null;
}

/**
 * QEMU 7.2 open checks on extensions that header.ts and extensions.ts leave to this stage:
 * 'QEMU_REFUSES' when every open fails, 'QEMU_REFUSES_IO' when only opens for I/O do.
 */
function checkOpenExtras(h: Header, ext: Extensions, f: Findings): void {
  const refuse = (offset: number | null, msg: string) => f.error('QEMU_REFUSES', 'header extension', offset, msg);
  for (const e of ext.list) {
    if (e.type === S.EXT_BACKING_FORMAT && e.length >= 16) refuse(e.offset, `ERROR: ext_backing_format: len=${e.length} too large (>=16)`);
  }
  // Checked only when QEMU opens the image for I/O: `qemu-img info` (no I/O) still opens it,
  // `qemu-img check` / `map` and a VM do not. Hence a code of their own.
  const refuseIo = (offset: number, msg: string) => f.error('QEMU_REFUSES_IO', 'header', offset, msg);
  const dataFile = (h.incompatibleFeatures & S.INCOMPAT_DATA_FILE) !== 0n;
  if (dataFile && ext.dataFile === null) refuseIo(72, "'data-file' is required for this image");
  if (dataFile && ext.dataFile !== null) {
    // Opened here, by the name up to its first NUL, relative to the working directory.
    const e = ext.list.find((x) => x.type === S.EXT_DATA_FILE);
    f.info('DATA_FILE_OPENED', 'header extension', e ? e.offset : null,
      `qemu-img check and map open the external data file '${ext.dataFile.split('\0')[0]}' (by this name, relative to their working directory)`);
  }
  if (!dataFile && h.autoclearFeatures & S.AUTOCLEAR_DATA_FILE_RAW) refuseIo(88, 'data-file-raw requires a data file');
}

/**
 * File offset of the first header extension QEMU fails on (Infinity when none): QEMU names unknown
 * features from a first pass over the extensions that stops there (qcow2_do_open).
 */
function firstFailingExtension(ext: Extensions, f: Findings): number {
  let first = Infinity;
  for (const x of f.list) {
    if (x.code !== 'QEMU_REFUSES' || x.offset === null || x.structure !== 'header extension') continue;
    const at = x.offset;
    const e = ext.list.find((y) => at >= y.offset && at < y.offset + 8 + y.length);
    first = Math.min(first, e ? e.offset : at);
  }
  return first;
}

/** QEMU's BDRV_MAX_LENGTH (INT64_MAX rounded down to 1 GiB): a read ending beyond it fails with EIO. */
const BDRV_MAX_LENGTH = (1n << 63n) - (1n << 30n);

/**
 * bdrv_open_driver, once qcow2 has opened the image (snapshots, bitmaps and all): a virtual size
 * past BDRV_MAX_LENGTH fails refresh_total_sectors. So this refusal comes after every other.
 */
function refuseSize(h: Header, f: Findings): void {
  if ((h.size / 512n) * 512n > BDRV_MAX_LENGTH) f.error('QEMU_REFUSES', 'header', 24, 'Could not refresh total sector count: File too large');
}

/** CRYPTO header extensions whose LUKS header bytes are read ahead (QEMU stops at the first that fails). */
const MAX_LUKS_OPENS = 8;

/** The LUKS header bytes (zero-filled past the end) of the first CRYPTO header extensions, by extension offset. */
async function readLuksHeaders(src: ByteSource, h: Header, cluster0: Uint8Array): Promise<Map<number, Uint8Array>> {
  const found: CryptoHeaderExtension[] = [];
  if (h.cryptMethod === S.CRYPT_LUKS) parseExtensions(h, cluster0, new Findings(), (ch) => void found.push(ch));
  const out = new Map<number, Uint8Array>();
  for (const ch of found.slice(0, MAX_LUKS_OPENS)) {
    if (ch.headerOffset <= BigInt(Number.MAX_SAFE_INTEGER - LUKS_HEADER_BYTES)) {
      out.set(ch.offset, await readZeroFilled(src, Number(ch.headerOffset), LUKS_HEADER_BYTES));
    }
  }
  return out;
}

/** qcrypto_block_open on the header `ch` names, from its bytes read ahead (null: not read). */
function openLuks(fileSize: number, ch: CryptoHeaderExtension, bytes: Uint8Array | null, f: Findings): LuksHeader | null {
  if (ch.headerOffset > BigInt(Number.MAX_SAFE_INTEGER - LUKS_HEADER_BYTES)) {
    // qcow2_crypto_hdr_read_func: the length is checked first, then the read fails.
    f.error('QEMU_REFUSES', 'LUKS header', ch.offset + 8, ch.headerLength < BigInt(LUKS_HEADER_BYTES)
      ? 'Request for data outside of extension header'
      : ch.headerOffset + BigInt(LUKS_HEADER_BYTES) > BDRV_MAX_LENGTH
        ? 'Could not read encryption header: Input/output error'
        : `Volume is not in LUKS format${QEMU_NOTE}QEMU reads zeros this far past the end of the file`);
    f.error('LUKS_UNREADABLE', 'LUKS header', ch.offset + 8, `the LUKS header offset ${hex(ch.headerOffset)} is beyond any file`);
    return null;
  }
  if (!bytes) return null;
  const offset = Number(ch.headerOffset);
  const length = ch.headerLength > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ch.headerLength);
  if (offset + LUKS_HEADER_BYTES > fileSize) {
    f.error('LUKS_PAST_EOF', 'LUKS header', offset, 'the LUKS header lies past the end of the file; QEMU reads zeros there');
  }
  return parseLuksHeader(bytes, offset, length, f);
}

/** Reads the structures cluster 0 points at. Bounded by QEMU's limits; damage becomes findings. */
export async function loadStructures(
  src: ByteSource, stage: HeaderStage, f: Findings,
  onProgress?: (done: number, total: number) => void,
): Promise<Structures> {
  const h = stage.header;
  const steps = 4;
  onProgress?.(0, steps);
  const snapshotTable = await loadSnapshotTable(src, h, f);
  onProgress?.(1, steps);
  const bitmapDirectory = stage.extensions.bitmaps ? await loadBitmapDirectory(src, h, stage.extensions.bitmaps, f) : null;
  onProgress?.(2, steps);
  const l1 = await loadActiveL1(src, h, f);
  onProgress?.(3, steps);
  const snapshotL1 = await loadSnapshotL1s(src, h, snapshotTable?.snapshots ?? [], f);
  onProgress?.(4, steps);
  const backingFileBytes = backingNameBytes(h, stage.cluster0);
  refuseSize(h, f);
  return {
    fileSize: src.size,
    header: h,
    extensions: stage.extensions,
    backingFile: stage.backingFile,
    ...(backingFileBytes ? { backingFileBytes } : {}),
    luks: stage.luks,
    snapshotTable,
    bitmapDirectory,
    l1,
    snapshotL1,
  };
}

/** The backing file name's bytes as QEMU keeps them (a C string), or null when there is none. */
function backingNameBytes(h: Header, cluster0: Uint8Array): Uint8Array | null {
  if (h.backingFileOffset === 0n || h.backingFileOffset >= BigInt(cluster0.length)) return null;
  const off = Number(h.backingFileOffset);
  return cStringBytes(cluster0.subarray(off, Math.min(cluster0.length, off + Math.min(h.backingFileSize, S.MAX_BACKING_FILE_NAME)))).slice();
}

/** Decodes big-endian u64 entries; `bytes.length` is a multiple of 8. */
function u64Entries(bytes: Uint8Array): BigUint64Array {
  const out = new BigUint64Array(bytes.length / 8);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getBigUint64(i * 8);
  return out;
}

/**
 * Whether an L1 table can be read: bounded (QEMU's 32 MiB), cluster-aligned, starting inside the
 * file. Reports why not; a table running past the end of the file is read zero-filled, as QEMU does.
 */
function l1Readable(src: ByteSource, h: Header, offset: bigint, entries: number, structure: string, at: number, f: Findings): boolean {
  if (entries === 0) return false;
  if (entries > S.MAX_L1_BYTES / 8) {
    f.error('L1_TOO_LARGE', structure, at, `${structure}: ${entries} entries exceed QEMU's 32 MiB limit; not read`);
    return false;
  }
  if (h.clusterSize === 0) return false;
  if (offset % BigInt(h.clusterSize) !== 0n) {
    f.error('L1_UNALIGNED', structure, at, `${structure}: offset ${hex(offset)} is not cluster-aligned; not read`);
    return false;
  }
  if (offset >= BigInt(src.size)) {
    f.error('L1_PAST_EOF', structure, at, `${structure}: offset ${hex(offset)} is past the end of the file (QEMU reads zeros: nothing is mapped)`);
    return false;
  }
  if (Number(offset) + entries * 8 > src.size) {
    f.error('L1_TRUNCATED', structure, Number(offset), `${structure}: the table runs past the end of the file; the missing entries read as zeros, as in QEMU`);
  }
  return true;
}

async function loadActiveL1(src: ByteSource, h: Header, f: Findings): Promise<BigUint64Array> {
  if (!l1Readable(src, h, h.l1TableOffset, h.l1Size, 'active L1 table', 40, f)) return new BigUint64Array(0);
  return u64Entries(await readZeroFilled(src, Number(h.l1TableOffset), h.l1Size * 8));
}

/** Each snapshot's L1 table (null where it cannot be read), with coalesced reads. */
async function loadSnapshotL1s(src: ByteSource, h: Header, list: readonly Snapshot[], f: Findings): Promise<(BigUint64Array | null)[]> {
  const out: (BigUint64Array | null)[] = list.map(() => null);
  const ranges: { offset: number; length: number; key: { index: number; length: number } }[] = [];
  for (const sn of list) {
    const structure = `L1 table of snapshot ${sn.id} (${sn.name})`;
    if (sn.l1Size === 0) out[sn.index] = new BigUint64Array(0);
    else if (sn.l1Size <= S.MAX_L1_BYTES / 8 && h.clusterSize && sn.l1TableOffset % BigInt(h.clusterSize) === 0n && sn.l1TableOffset >= BigInt(src.size)) {
      f.error('L1_PAST_EOF', structure, sn.entryOffset, `${structure}: offset ${hex(sn.l1TableOffset)} is past the end of the file (QEMU reads zeros: nothing is mapped)`);
      out[sn.index] = new BigUint64Array(0);
    } else if (sn.l1Size <= S.MAX_L1_BYTES / 8 && h.clusterSize && sn.l1TableOffset % BigInt(h.clusterSize) === 0n) {
      const offset = Number(sn.l1TableOffset);
      if (offset + sn.l1Size * 8 > src.size) f.error('L1_TRUNCATED', structure, offset, `${structure}: the table runs past the end of the file; the missing entries read as zeros, as in QEMU`);
      ranges.push({ offset, length: sn.l1Size * 8, key: { index: sn.index, length: sn.l1Size * 8 } });
    }
  }
  await readRanges(src, ranges, ({ index, length }, bytes) => {
    const full = bytes.length === length ? bytes : new Uint8Array(length);
    if (full !== bytes) full.set(bytes);
    out[index] = u64Entries(full);
  });
  return out;
}
