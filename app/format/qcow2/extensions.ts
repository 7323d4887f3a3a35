// Header extensions (spec: "Header extensions") and the backing file name. Extensions run from
// header_length to the backing file name or the end of cluster 0; each is u32 type, u32 length,
// data padded to 8 bytes; type 0 ends the list. Unknown extensions are kept as raw bytes.

import { Findings, QEMU_NOTE, hex } from './errors';
import type { Header } from './header';
import { Reader, decodeCString, decodeUtf8 } from './reader';
import * as S from './spec';

export interface Extension {
  readonly type: number;
  readonly name: string;
  /** File offset of the extension's type field. */
  readonly offset: number;
  readonly length: number;
  readonly data: Uint8Array;
  readonly known: boolean;
}

export interface FeatureNameEntry {
  readonly type: 'incompatible' | 'compatible' | 'autoclear' | 'unknown';
  readonly typeCode: number;
  readonly bit: number;
  readonly name: string;
  readonly offset: number;
}

export interface BitmapsExtension {
  readonly offset: number;
  readonly nbBitmaps: number;
  readonly reserved: number;
  readonly directorySize: bigint;
  readonly directoryOffset: bigint;
}

export interface CryptoHeaderExtension {
  readonly offset: number;
  readonly headerOffset: bigint;
  readonly headerLength: bigint;
}

export interface Extensions {
  readonly list: readonly Extension[];
  readonly backingFormat: string | null;
  readonly featureTable: readonly FeatureNameEntry[];
  readonly bitmaps: BitmapsExtension | null;
  readonly cryptoHeader: CryptoHeaderExtension | null;
  readonly dataFile: string | null;
  /** Map 'incompatible:3' → name, from the image's own feature name table. */
  readonly featureNames: ReadonlyMap<string, string>;
}

const FEATURE_TYPES = ['incompatible', 'compatible', 'autoclear'] as const;

/**
 * Opens the LUKS header a CRYPTO header extension names, as qcow2_read_extensions does right at
 * that extension (before it reads the next one), so that its refusals come in QEMU's order.
 */
type OpenLuks = (ch: CryptoHeaderExtension) => void;

/**
 * Parses the extensions from cluster 0 (`cluster0` holds the file's first bytes). `openLuks`, when
 * given, is called at each CRYPTO header extension that QEMU would open.
 */
export function parseExtensions(h: Header, cluster0: Uint8Array, f: Findings, openLuks?: OpenLuks): Extensions {
  const list: Extension[] = [];
  const featureTable: FeatureNameEntry[] = [];
  const featureNames = new Map<string, string>();
  let backingFormat: string | null = null;
  let bitmaps: BitmapsExtension | null = null;
  let cryptoHeader: CryptoHeaderExtension | null = null;
  let dataFile: string | null = null;
  const refuse = (offset: number, msg: string) => f.error('QEMU_REFUSES', 'header extension', offset, msg);

  // The list ends at the backing file name, else at the end of cluster 0 (qcow2_do_open's ext_end;
  // QEMU refuses clusters over 2 MiB, so no more is ever parsed). QEMU reads zeros past the end of
  // the file, so a file cut inside its extensions is parsed zero-filled, as QEMU parses it.
  const cs = Math.min(h.clusterSize || 512, 2 * 1024 * 1024);
  let end = cs;
  if (h.backingFileOffset > 0n && h.backingFileOffset < BigInt(end)) end = Number(h.backingFileOffset);
  let bytes = cluster0.subarray(0, end + 8);
  if (bytes.length < end + 8) {
    bytes = new Uint8Array(end + 8);
    bytes.set(cluster0.subarray(0, end + 8));
  }
  const r = new Reader(bytes, 0, 'header extension');
  let pos = h.headerLength;
  const seen = new Set<number>();
  while (pos < end) {
    const type = r.u32(pos);
    const length = r.u32(pos + 4);
    // qcow2_read_extensions checks the length before it looks at the type, the end marker's too.
    if (pos + 8 > end || length > end - pos - 8) {
      refuse(pos, `Header extension too large${QEMU_NOTE}type ${hex(type)}, length ${length} at offset ${pos}`);
      break;
    }
    if (type === S.EXT_END) break;
    const data = r.slice(pos + 8, length);
    const dr = new Reader(data, pos + 8, 'header extension');
    const known = type in S.EXTENSION_NAMES;
    list.push({ type, name: S.EXTENSION_NAMES[type] ?? `unknown extension ${hex(type)}`, offset: pos, length, data, known });
    if (seen.has(type) && known) f.warn('EXTENSION_REPEATED', 'header extension', pos, `extension ${hex(type)} appears more than once`);
    seen.add(type);
    switch (type) {
      case S.EXT_BACKING_FORMAT:
        backingFormat = decodeUtf8(data);
        break;
      case S.EXT_DATA_FILE:
        dataFile = decodeUtf8(data);
        break;
      case S.EXT_FEATURE_TABLE:
        for (let i = 0; i + 48 <= length; i += 48) {
          const typeCode = dr.u8(i);
          const bit = dr.u8(i + 1);
          const name = decodeCString(dr.slice(i + 2, 46));
          const t = FEATURE_TYPES[typeCode] ?? 'unknown';
          featureTable.push({ type: t, typeCode, bit, name, offset: pos + 8 + i });
          if (t !== 'unknown') featureNames.set(`${t}:${bit}`, name);
        }
        if (length % 48 !== 0) f.warn('FEATURE_TABLE_LENGTH', 'feature name table', pos + 4, `length ${length} is not a multiple of 48`);
        break;
      case S.EXT_BITMAPS: {
        if (length < 24) {
          refuse(pos + 4, 'bitmaps_ext: Invalid extension length');
          break;
        }
        const ext: BitmapsExtension = { offset: pos, nbBitmaps: dr.u32(0), reserved: dr.u32(4), directorySize: dr.u64(8), directoryOffset: dr.u64(16) };
        if (length !== 24) refuse(pos + 4, 'bitmaps_ext: Invalid extension length');
        if (!(h.autoclearFeatures & S.AUTOCLEAR_BITMAPS)) {
          f.warn('BITMAPS_INCONSISTENT', 'bitmaps extension', 88,
            'The bitmaps autoclear bit is clear: a program lacking bitmap support modified this file, so QEMU considers all bitmaps inconsistent and ignores them');
        } else {
          // QEMU's wording (block/qcow2.c qcow2_read_extensions), typos and all.
          if (ext.reserved !== 0) refuse(pos + 12, 'bitmaps_ext: Reserved field is not zero');
          if (ext.nbBitmaps > S.MAX_BITMAPS) refuse(pos + 8, `bitmaps_ext: Image has ${ext.nbBitmaps} bitmaps, exceeding the QEMU supported maximum of ${S.MAX_BITMAPS}`);
          if (ext.nbBitmaps === 0) refuse(pos + 8, 'found bitmaps extension with zero bitmaps');
          if (ext.directoryOffset % BigInt(cs) !== 0n) refuse(pos + 24, 'bitmaps_ext: invalid bitmap directory offset');
          if (ext.directorySize > BigInt(S.MAX_BITMAP_DIRECTORY_BYTES)) {
            refuse(pos + 16, `bitmaps_ext: bitmap directory size (${ext.directorySize}) exceeds the maximum supported size (${S.MAX_BITMAP_DIRECTORY_BYTES})`);
          }
        }
        bitmaps = ext;
        break;
      }
      case S.EXT_CRYPTO_HEADER:
        // QEMU's order: the method, then the size.
        if (h.cryptMethod !== S.CRYPT_LUKS) refuse(pos, 'CRYPTO header extension only expected with LUKS encryption method');
        if (length !== 16) {
          refuse(pos + 4, `CRYPTO header extension size ${length}, but expected size 16`);
          if (length < 16) break;
        }
        cryptoHeader = { offset: pos, headerOffset: dr.u64(0), headerLength: dr.u64(8) };
        // Then, still at this extension (before any later one is read), the header's alignment
        // and the LUKS header itself.
        if (h.clusterSize && cryptoHeader.headerOffset % BigInt(h.clusterSize) !== 0n) {
          refuse(pos + 8, `Encryption header offset '${cryptoHeader.headerOffset}' is not a multiple of cluster size '${h.clusterSize}'`);
        }
        // qcrypto_block_luks_open asks for the key first, when the image is opened for I/O.
        if (h.cryptMethod === S.CRYPT_LUKS) {
          f.info('QEMU_NEEDS_KEY', 'LUKS header', pos + 8, `Parameter 'encrypt.key-secret' is required for cipher${QEMU_NOTE}qemu-img check and map need the key; info does not`);
          openLuks?.(cryptoHeader);
        }
        break;
      default:
        break;
    }
    pos += 8 + Math.ceil(length / 8) * 8;
  }
  return { list, backingFormat, featureTable, bitmaps, cryptoHeader, dataFile, featureNames };
}

/**
 * QEMU's refusal of unknown incompatible features (block/qcow2.c report_unsupported_feature): the
 * bits named by the last feature name table (before the extension at `before`, where QEMU's pass
 * stopped), in table order up to its first entry with an empty name, then whatever bits are left,
 * in hex. The names are the image's own: data, never markup.
 */
export function unsupportedFeatures(mask: bigint, ext: Extensions, before = Infinity): string {
  const names: string[] = [];
  let rest = mask;
  // QEMU reads the table in a first pass made before it knows the crypt method, so a CRYPTO header
  // extension ends that pass as an error ("only expected with LUKS") wherever it stands.
  const crypto = ext.list.find((e) => e.type === S.EXT_CRYPTO_HEADER);
  const stop = Math.min(before, crypto ? crypto.offset : Infinity);
  const table = ext.list.filter((e) => e.type === S.EXT_FEATURE_TABLE && e.offset < stop).at(-1);
  for (let i = 0; table && i < table.data.length; i += 48) {
    const entry = new Uint8Array(48);
    entry.set(table.data.subarray(i, i + 48));
    if (entry[2] === 0) break;
    // The bit is a u8 that C shifts by; x86 takes the count modulo 64.
    const bit = 1n << BigInt(entry[1]! & 63);
    if (entry[0] === 0 && rest & bit) {
      names.push(decodeCString(entry.subarray(2, 48)));
      rest &= ~bit;
    }
  }
  if (rest) names.push(`Unknown incompatible feature: ${rest.toString(16)}`);
  return `Unsupported qcow2 feature(s): ${names.join(', ')}`;
}

/** Reads the backing file name from cluster 0, or null when there is none. */
export function parseBackingFileName(h: Header, cluster0: Uint8Array, f: Findings): string | null {
  if (h.backingFileOffset === 0n || h.backingFileSize === 0) return null;
  const off = Number(h.backingFileOffset);
  const len = Math.min(h.backingFileSize, S.MAX_BACKING_FILE_NAME);
  if (off + len > cluster0.length) {
    f.error('BACKING_NAME_TRUNCATED', 'backing file name', off, `the backing file name (${h.backingFileSize} bytes at ${off}) runs past cluster 0 or the end of the file`);
    return off < cluster0.length ? decodeUtf8(cluster0.subarray(off, Math.min(cluster0.length, off + len))) : null;
  }
  return decodeUtf8(cluster0.subarray(off, off + len));
}
