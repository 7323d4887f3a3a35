// The qcow2 header (spec: "Header"), versions 2 and 3, with every field's byte offset and raw
// bytes so the UI can show and point at them. Also the checks QEMU makes on open
// (block/qcow2.c, qcow2_do_open) that refuse an image, reported as findings.

import { Findings, hex } from './errors';
import { Reader, toNum } from './reader';
import * as S from './spec';

export interface HeaderField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly value: bigint;
  readonly decoded: string;
}

export interface Header {
  readonly magic: number;
  readonly version: number;
  readonly backingFileOffset: bigint;
  readonly backingFileSize: number;
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly size: bigint;
  readonly cryptMethod: number;
  readonly l1Size: number;
  readonly l1TableOffset: bigint;
  readonly refcountTableOffset: bigint;
  readonly refcountTableClusters: number;
  readonly nbSnapshots: number;
  readonly snapshotsOffset: bigint;
  readonly incompatibleFeatures: bigint;
  readonly compatibleFeatures: bigint;
  readonly autoclearFeatures: bigint;
  readonly refcountOrder: number;
  readonly headerLength: number;
  readonly compressionType: number;
  readonly fields: readonly HeaderField[];
}

const FIELDS_V2: [name: string, offset: number, size: 4 | 8][] = [
  ['magic', 0, 4], ['version', 4, 4], ['backing_file_offset', 8, 8], ['backing_file_size', 16, 4],
  ['cluster_bits', 20, 4], ['size', 24, 8], ['crypt_method', 32, 4], ['l1_size', 36, 4],
  ['l1_table_offset', 40, 8], ['refcount_table_offset', 48, 8], ['refcount_table_clusters', 56, 4],
  ['nb_snapshots', 60, 4], ['snapshots_offset', 64, 8],
];
const FIELDS_V3: [string, number, 4 | 8][] = [
  ['incompatible_features', 72, 8], ['compatible_features', 80, 8], ['autoclear_features', 88, 8],
  ['refcount_order', 96, 4], ['header_length', 100, 4],
];

export function featureList(bits: bigint, kind: 'incompatible' | 'compatible' | 'autoclear', table?: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (let b = 0; b < 64; b++) {
    if (!(bits & (1n << BigInt(b)))) continue;
    out.push(table?.get(`${kind}:${b}`) ?? S.FEATURE_NAMES[kind][b] ?? `unknown ${kind} bit ${b}`);
  }
  return out;
}

function decodeField(name: string, v: bigint): string {
  switch (name) {
    case 'magic': return v === BigInt(S.QCOW_MAGIC) ? 'QFI\\xfb' : 'not qcow2';
    case 'cluster_bits': return v < 64n ? `${1n << v} bytes per cluster` : 'invalid';
    case 'crypt_method': return ['none', 'AES (legacy)', 'LUKS'][Number(v)] ?? 'unknown';
    case 'incompatible_features': return featureList(v, 'incompatible').join(', ') || 'none';
    case 'compatible_features': return featureList(v, 'compatible').join(', ') || 'none';
    case 'autoclear_features': return featureList(v, 'autoclear').join(', ') || 'none';
    case 'refcount_order': return v < 7n ? `${1n << v}-bit refcounts` : 'invalid';
    case 'compression_type': return ['zlib', 'zstd'][Number(v)] ?? 'unknown';
    default: return name.endsWith('offset') ? hex(v) : v.toString();
  }
}

/**
 * Parses the header from the first bytes of the file (at least 104 bytes for v3; the first cluster
 * when available). Throws Qcow2Error only when the magic is wrong or the fixed part is truncated.
 */
export function parseHeader(bytes: Uint8Array): Header {
  const r = new Reader(bytes, 0, 'header');
  const fields: HeaderField[] = [];
  const get = (name: string, offset: number, size: 1 | 4 | 8): bigint => {
    const value = size === 8 ? r.u64(offset) : BigInt(size === 4 ? r.u32(offset) : r.u8(offset));
    fields.push({ name, offset, size, value, decoded: decodeField(name, value) });
    return value;
  };
  const v: Record<string, bigint> = {};
  for (const [name, off, size] of FIELDS_V2) v[name] = get(name, off, size);
  const version = Number(v.version);
  if (version >= 3) {
    for (const [name, off, size] of FIELDS_V3) v[name] = get(name, off, size);
  }
  const headerLength = version >= 3 ? Number(v.header_length) : S.HEADER_V2_LENGTH;
  let compressionType = 0;
  if (version >= 3 && headerLength > 104 && r.has(104, 1)) compressionType = Number(get('compression_type', 104, 1));
  const clusterBits = Number(v.cluster_bits);
  return {
    magic: Number(v.magic),
    version,
    backingFileOffset: v.backing_file_offset!,
    backingFileSize: Number(v.backing_file_size),
    clusterBits,
    clusterSize: clusterBits >= 9 && clusterBits <= 30 ? 2 ** clusterBits : 0,
    size: v.size!,
    cryptMethod: Number(v.crypt_method),
    l1Size: Number(v.l1_size),
    l1TableOffset: v.l1_table_offset!,
    refcountTableOffset: v.refcount_table_offset!,
    refcountTableClusters: Number(v.refcount_table_clusters),
    nbSnapshots: Number(v.nb_snapshots),
    snapshotsOffset: v.snapshots_offset!,
    incompatibleFeatures: v.incompatible_features ?? 0n,
    compatibleFeatures: v.compatible_features ?? 0n,
    autoclearFeatures: v.autoclear_features ?? 0n,
    refcountOrder: version >= 3 ? Number(v.refcount_order) : 4,
    headerLength,
    compressionType,
    fields,
  };
}

/** Virtual disk size in guest clusters, rounded up (qemu-img check's total-clusters). */
export function guestClusters(h: Header): number {
  if (h.clusterSize === 0) return 0;
  return toNum((h.size + BigInt(h.clusterSize) - 1n) / BigInt(h.clusterSize));
}

/** L1 entries needed to map the whole virtual disk. */
export function l1EntriesNeeded(h: Header, extendedL2: boolean): number {
  if (h.clusterSize === 0) return 0;
  const l2Entries = BigInt(h.clusterSize / (extendedL2 ? 16 : 8));
  const span = l2Entries * BigInt(h.clusterSize);
  return toNum((h.size + span - 1n) / span);
}

/**
 * Adds a finding with code 'QEMU_REFUSES' for each reason QEMU 7.2 would refuse to open the image,
 * using QEMU's wording where it has one. `fileSize` bounds table offsets.
 */
export function checkHeader(h: Header, fileSize: number, f: Findings, unsupported: string | null = null): void {
  const refuse = (offset: number | null, msg: string) => f.error('QEMU_REFUSES', 'header', offset, msg);
  if (h.version < 2 || h.version > 3) refuse(4, `Unsupported qcow2 version ${h.version}`);
  if (h.clusterBits < S.MIN_CLUSTER_BITS || h.clusterBits > S.MAX_CLUSTER_BITS) {
    refuse(20, `Unsupported cluster size: 2^${h.clusterBits}`);
    return;
  }
  // In qcow2_do_open's order: the first refusal is the one qemu-img prints.
  const cs = h.clusterSize;
  if (h.version >= 3) {
    if (h.headerLength < S.HEADER_V3_MIN_LENGTH) refuse(100, 'qcow2 header too short');
    if (h.headerLength % 8 !== 0) f.warn('HEADER_LENGTH_UNALIGNED', 'header', 100, `header_length ${h.headerLength} is not a multiple of 8`);
  }
  if (h.headerLength > cs) refuse(100, 'qcow2 header exceeds cluster size');
  if (h.backingFileOffset > BigInt(cs)) refuse(8, 'Invalid backing file offset');
  if (h.version >= 3) {
    // validate_compression_type: an unknown type first, then the incompatible bit.
    if (h.compressionType > 1) refuse(104, `qcow2: unknown compression type: ${h.compressionType}`);
    else if (h.compressionType !== 0 && !(h.incompatibleFeatures & S.INCOMPAT_COMPRESSION)) refuse(104, 'qcow2: Compression type incompatible feature bit must be set');
    else if (h.compressionType === 0 && h.incompatibleFeatures & S.INCOMPAT_COMPRESSION) refuse(72, 'qcow2: Compression type incompatible feature bit must not be set');
  }
  if (unsupported !== null) refuse(72, unsupported);
  const extL2 = (h.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n;
  // 32 subclusters each of at least 512 bytes (qcow2_do_open's subcluster size check).
  if (extL2 && h.clusterBits < S.MIN_EXTENDED_L2_CLUSTER_BITS) refuse(20, `Unsupported subcluster size: ${cs / 32}`);
  if (h.refcountOrder > 6) refuse(96, 'Reference count entry width too large; may not exceed 64 bits');
  // qcow2_validate_table: the size against the limit, then offset + size within INT64_MAX, aligned.
  // The snapshot table's refusals name the structure 'snapshot table': qemu-img check (BDRV_O_CHECK)
  // skips them and checks the table itself.
  const tableOk = (name: string, offsetField: number, off: bigint, entries: number, entryLen: number, max: number) => {
    const bytes = BigInt(entries) * BigInt(entryLen);
    const at = (msg: string) => f.error('QEMU_REFUSES', name === 'Snapshot table' ? 'snapshot table' : 'header', offsetField, msg);
    if (BigInt(entries) > BigInt(max) / BigInt(entryLen)) at(`${name} too large`);
    else if (INT64_MAX - bytes < off || off % BigInt(cs) !== 0n) at(`${name} offset invalid`);
  };
  if (h.refcountTableClusters === 0) {
    // Only qemu-img check (BDRV_O_CHECK) opens such an image.
    f.error('QEMU_REFUSES_OPEN', 'header', 56, 'Image does not contain a reference count table');
  }
  tableOk('Reference count table', 48, h.refcountTableOffset, h.refcountTableClusters, cs, S.MAX_REFTABLE_BYTES);
  tableOk('Snapshot table', 64, h.snapshotsOffset, h.nbSnapshots, S.SNAPSHOT_HEADER_BYTES, S.SNAPSHOT_HEADER_BYTES * S.MAX_SNAPSHOTS);
  tableOk('Active L1 table', 40, h.l1TableOffset, h.l1Size, 8, S.MAX_L1_BYTES);
  const l1Needed = qemuL1Needed(h, extL2);
  if (l1Needed > INT_MAX) refuse(24, 'Image is too big');
  else if (BigInt(h.l1Size) < l1Needed) refuse(36, 'L1 table is too small');
  // qcow2_update_options_prepare prints the field as a C int.
  if (h.cryptMethod > S.CRYPT_LUKS) refuse(32, `Unsupported encryption method ${h.cryptMethod | 0}`);
  // The header extensions come next (extensions.ts), then the backing file name (backingNameTooLong).
  // Unknown incompatible features are refused once the feature name table is read (QEMU names
  // them from it): extensions.ts unsupportedFeatures, called by the header stage.
  if (h.cryptMethod === S.CRYPT_AES) f.warn('LEGACY_AES', 'header', 32, 'Legacy AES encryption: QEMU only opens it read-only for conversion');
  if (h.incompatibleFeatures & S.INCOMPAT_CORRUPT) f.warn('CORRUPT_BIT', 'header', 72, 'The corrupt bit is set: QEMU opens this image read-only only');
  // A virtual size past BDRV_MAX_LENGTH is refused last of all: structures.ts refuseSize.
  void fileSize;
}

const INT_MAX = 0x7fff_ffffn;
const INT64_MAX = (1n << 63n) - 1n;

/** QEMU's size_to_l1: L1 entries `size` bytes need, in u64 arithmetic (a size near 2^64 wraps to few). */
export function qemuL1Needed(h: Header, extendedL2: boolean): bigint {
  const shift = BigInt(2 * h.clusterBits - (extendedL2 ? 4 : 3));
  return ((h.size + (1n << shift) - 1n) & 0xffff_ffff_ffff_ffffn) >> shift;
}

/** qcow2_do_open's check of the backing file name's length (made after the extensions are read). */
export function backingNameTooLong(h: Header): boolean {
  if (h.backingFileOffset === 0n || h.clusterSize === 0) return false;
  return h.backingFileSize > S.MAX_BACKING_FILE_NAME || BigInt(h.backingFileSize) > BigInt(h.clusterSize) - h.backingFileOffset;
}
