// `qemu-img info --output=json` for a qcow2 image, as QEMU 7.2 or 10.0 builds it (block/qapi.c
// bdrv_query_image_info, block/qcow2.c qcow2_get_specific_info, qcow2-bitmap.c
// qcow2_get_bitmap_info_list, crypto/block-luks.c qcrypto_block_luks_get_info; field order from
// qapi/block-core.json). Objects come back with their keys in QEMU's print order (qemu-json.ts).
// 10.0's additions: the "children" list (info-children.ts) and LUKS's 'detached-header'.

import { parseLuksAlgorithms, type Structures, ICOUNT_NONE } from '../qcow2';
import { int64, qdictOrder, qemuDecodeCString, toQemuJson, utf8Bytes, type QValue } from './qemu-json';
import * as S from '../qcow2/spec';
import { fileChild, type FileNodeFacts, type QemuChildInfo } from './info-children';
import type { QemuVersion } from './version';

/** An int64 as QEMU prints it: a number, or a bigint beyond 2^53. */
export type QInt = number | bigint;

export type QemuSnapshotInfo = {
  id: string;
  name: string;
  'vm-state-size': QInt;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': QInt;
  'vm-clock-nsec': number;
  icount?: QInt;
};

export type QemuBitmapInfo = { name: string; granularity: number; flags: ('in-use' | 'auto')[] };

export type QemuLuksSlot = { active: boolean; iters?: number; stripes?: number; 'key-offset': number };

export type QemuEncryptInfo =
  | { format: 'aes' }
  | {
    format: 'luks';
    'cipher-alg': string;
    'cipher-mode': string;
    'ivgen-alg': string;
    'ivgen-hash-alg'?: string;
    'hash-alg': string;
    /** qemu-img 10.0 only: false for the header qcow2 embeds. */
    'detached-header'?: boolean;
    'payload-offset': QInt;
    'master-key-iters': number;
    uuid: string;
    slots: QemuLuksSlot[];
  };

export type QemuQcow2Info = {
  compat: '0.10' | '1.1';
  'data-file'?: string;
  'data-file-raw'?: boolean;
  'extended-l2'?: boolean;
  'lazy-refcounts'?: boolean;
  corrupt?: boolean;
  'refcount-bits': number;
  encrypt?: QemuEncryptInfo;
  bitmaps?: QemuBitmapInfo[];
  'compression-type': 'zlib' | 'zstd';
};

export type QemuInfoJson = {
  filename: string;
  format: 'qcow2';
  'dirty-flag': boolean;
  /** Allocated bytes on the host (st_blocks * 512); absent where unknown (the browser). */
  'actual-size'?: number;
  'virtual-size': QInt;
  'cluster-size': number;
  encrypted?: boolean;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'backing-filename-format'?: string;
  snapshots?: QemuSnapshotInfo[];
  'format-specific': { type: 'qcow2'; data: QemuQcow2Info };
  /** qemu-img 10.0 only: the protocol node the image was read from. */
  children?: QemuChildInfo[];
};

export interface QemuInfoOptions {
  /** The image name as given to qemu-img (QEMU prints it as is). Default: 'image'. */
  readonly filename?: string;
  /** Allocated bytes of the image (and of its external data file). Omitted when undefined. */
  readonly actualSize?: number;
  /** Overrides the full backing file name computed from `filename` (see fullBackingFilename). */
  readonly fullBackingFilename?: string;
  /** Whose output: '7.2' (the default) or '10.0'. */
  readonly version?: QemuVersion;
  /** 10.0: the image file's facts for its "file" child; without them "children" is left out. */
  readonly file?: FileNodeFacts;
}

/** QEMU's bdrv_make_absolute_filename for a file name: the backing name relative to the image's directory. */
export function fullBackingFilename(imageFilename: string, backing: string): string {
  const sep = backing.search(/[:/]/);
  if (backing.startsWith('/') || (sep >= 0 && backing[sep] === ':')) return backing;
  const slash = imageFilename.lastIndexOf('/');
  return (slash < 0 ? '' : imageFilename.slice(0, slash + 1)) + backing;
}

/** Bytes of extension `type` as a C string, decoded QEMU's way; null when absent. */
function extensionString(s: Structures, type: number): string | null {
  // Each extension of a type overwrites the one before (qcow2_read_extensions): the last one counts.
  const e = s.extensions.list.filter((x) => x.type === type).at(-1);
  return e ? qemuDecodeCString(e.data) : null;
}

/** pstrcpy into a QEMUSnapshotInfo field of `size` bytes, then JSON decoding. */
const snapshotString = (b: Uint8Array, size: number): string => qemuDecodeCString(b.subarray(0, size - 1));

function snapshotsInfo(s: Structures): QemuSnapshotInfo[] | null {
  const list = s.snapshotTable?.snapshots ?? [];
  // QEMU lists no internal snapshot of an image with an external data file (it reads the table,
  // but the snapshot list of such an image is not supported, so qemu-img info prints none).
  if (list.length === 0 || s.header.incompatibleFeatures & S.INCOMPAT_DATA_FILE) return null;
  return list.map((sn) => {
    const o: QemuSnapshotInfo = {
      id: snapshotString(sn.idBytes, 128),
      name: snapshotString(sn.nameBytes, 256),
      'vm-state-size': int64(sn.vmStateSize),
      'date-sec': sn.dateSec,
      'date-nsec': sn.dateNsec,
      'vm-clock-sec': int64(sn.vmClockNsec / 1_000_000_000n),
      'vm-clock-nsec': Number(sn.vmClockNsec % 1_000_000_000n),
    };
    if (sn.icount !== null && sn.icount !== ICOUNT_NONE) o.icount = int64(sn.icount);
    return o;
  });
}

function bitmapsInfo(s: Structures): QemuBitmapInfo[] | null {
  const h = s.header;
  const considered = h.version >= 3 && (h.autoclearFeatures & S.AUTOCLEAR_BITMAPS) !== 0n && (s.extensions.bitmaps?.nbBitmaps ?? 0) > 0;
  const list = s.bitmapDirectory?.bitmaps ?? [];
  if (!considered || list.length === 0) return null;
  return list.map((b) => {
    const flags: QemuBitmapInfo['flags'] = [];
    if (b.flags & S.BME_FLAG_IN_USE) flags.push('in-use');
    if (b.flags & S.BME_FLAG_AUTO) flags.push('auto');
    return { name: qemuDecodeCString(b.nameBytes), granularity: 2 ** b.granularityBits, flags };
  });
}

function encryptInfo(s: Structures, version: QemuVersion): QemuEncryptInfo | null {
  if (s.header.cryptMethod === S.CRYPT_AES) return { format: 'aes' };
  const l = s.luks;
  if (s.header.cryptMethod !== S.CRYPT_LUKS || !l) return null;
  const { algorithms: a } = parseLuksAlgorithms(l);
  if (!a) return null;
  const o: Record<string, QValue> = { format: 'luks', 'cipher-alg': a.cipherAlg, 'cipher-mode': a.cipherMode, 'ivgen-alg': a.ivgenAlg };
  if (a.ivgenHashAlg !== null) o['ivgen-hash-alg'] = a.ivgenHashAlg;
  o['hash-alg'] = a.hashAlg;
  if (version === '10.0') o['detached-header'] = false;
  o['payload-offset'] = int64(BigInt(l.payloadOffset) * 512n);
  o['master-key-iters'] = l.masterKeyIterations;
  o.uuid = qemuDecodeCString(utf8Bytes(l.uuid));
  o.slots = l.slots.map((sl) => {
    const slot: Record<string, QValue> = { active: sl.active };
    if (sl.active) {
      slot.iters = sl.iterations;
      slot.stripes = sl.stripes;
    }
    slot['key-offset'] = sl.keyMaterialOffset * 512;
    return slot;
  });
  return o as unknown as QemuEncryptInfo;
}

/** ImageInfoSpecificQCow2, fields inserted in schema order (v2 images report only a few). */
function qcow2Info(s: Structures, version: QemuVersion): QemuQcow2Info {
  const h = s.header;
  const v3 = h.version >= 3;
  const o: Record<string, QValue> = { compat: v3 ? '1.1' : '0.10' };
  if (v3) {
    const dataFile = extensionString(s, S.EXT_DATA_FILE);
    if (dataFile !== null) o['data-file'] = dataFile;
    if (h.incompatibleFeatures & S.INCOMPAT_DATA_FILE) o['data-file-raw'] = (h.autoclearFeatures & S.AUTOCLEAR_DATA_FILE_RAW) !== 0n;
    o['extended-l2'] = (h.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n;
    o['lazy-refcounts'] = (h.compatibleFeatures & S.COMPAT_LAZY_REFCOUNTS) !== 0n;
    o.corrupt = (h.incompatibleFeatures & S.INCOMPAT_CORRUPT) !== 0n;
  }
  o['refcount-bits'] = 2 ** h.refcountOrder;
  const encrypt = encryptInfo(s, version);
  if (encrypt) o.encrypt = encrypt;
  const bitmaps = v3 ? bitmapsInfo(s) : null;
  if (bitmaps) o.bitmaps = bitmaps;
  o['compression-type'] = v3 && h.compressionType === S.COMPRESSION_ZSTD ? 'zstd' : 'zlib';
  return o as unknown as QemuQcow2Info;
}

/**
 * qemu-img info's JSON for the image, keys in QEMU's order. Strings are decoded from the image's
 * bytes as QEMU decodes them. Without `opts.actualSize`, 'actual-size' is left out; 10.0's
 * "children" needs `opts.file`.
 */
export function qemuInfo(s: Structures, opts: QemuInfoOptions = {}): QemuInfoJson {
  const h = s.header;
  const filename = opts.filename ?? 'image';
  const o: Record<string, QValue> = { filename, format: 'qcow2', 'dirty-flag': (h.incompatibleFeatures & S.INCOMPAT_DIRTY) !== 0n };
  if (opts.actualSize !== undefined) o['actual-size'] = opts.actualSize;
  o['virtual-size'] = int64((h.size / 512n) * 512n);
  o['cluster-size'] = h.clusterSize;
  if (h.cryptMethod !== S.CRYPT_NONE) o.encrypted = true;
  const backing = s.backingFileBytes ? qemuDecodeCString(s.backingFileBytes) : s.backingFile !== null ? qemuDecodeCString(utf8Bytes(s.backingFile)) : '';
  if (backing !== '') {
    o['backing-filename'] = backing;
    o['full-backing-filename'] = opts.fullBackingFilename ?? fullBackingFilename(filename, backing);
    const format = extensionString(s, S.EXT_BACKING_FORMAT);
    if (format) o['backing-filename-format'] = format;
  }
  const snapshots = snapshotsInfo(s);
  if (snapshots) o.snapshots = snapshots;
  const version = opts.version ?? '7.2';
  o['format-specific'] = { type: 'qcow2', data: qcow2Info(s, version) as unknown as QValue };
  if (version === '10.0' && opts.file) o.children = [fileChild(filename, opts.file) as unknown as QValue];
  return qdictOrder(o) as unknown as QemuInfoJson;
}

/** The JSON text qemu-img prints for `info` (no final newline). */
export function qemuInfoText(info: QemuInfoJson): string {
  return toQemuJson(info as unknown as QValue);
}
