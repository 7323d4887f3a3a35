// The codecs of a saved analysis (report.ts), one per engine structure: the header with its
// fields, the extensions, the LUKS header, snapshot and bitmap entries, findings, qemu-img's check
// counts and map ranges, and the space accounting. Each mirrors its interface field for field
// (TypeScript checks that), with bounds from spec.ts where the format has them and generous ones
// elsewhere (the document's total size is bounded too).

import type { CheckCounts, QemuCheckJson } from '../qemu-img';
import type { Finding, BitmapsExtension, CryptoHeaderExtension, Extension, Extensions, FeatureNameEntry, Header, HeaderField, Bitmap, BitmapTableEntryKind, LuksHeader, LuksKeySlot, Snapshot } from '../qcow2';
import { arr, bool, bytes, int, nullable, obj, oneOf, opt, pairs, str, u32s, u64, u64s, wide, finite } from './codec';
import type { BitmapSpace, SnapshotSpace, SpaceAccounting, SpaceCategory } from '../check';
import * as S from '../qcow2';

const U32 = 0xffff_ffff;
const u32 = int(0, U32);
/** A count of clusters, bits or bytes: from a damaged header (virtual size 2^64) past 2^53 too. */
const count = wide;
/**
 * A file offset or byte count held as a number: read from a possibly damaged header or table, so
 * anything up to 2^64 (the nearest double above 2^53).
 */
const offset = wide;
/** Anything the engine read from a cluster: at most the largest cluster. */
const CLUSTER_BYTES = 2 ** S.MAX_CLUSTER_BITS;
/** Longest free text kept (messages, names decoded from the file). */
const TEXT = 65_536;

/** Bitmap table entries kept in a saved analysis; longer tables are left out (table: null). */
export const MAX_SAVED_BITMAP_TABLE = 65_536;

const headerField = obj<HeaderField>({ name: str(64), offset: int(0, 4096), size: int(1, 8), value: u64, decoded: str(TEXT) });

export const header = obj<Header>({
  magic: u32,
  version: u32,
  backingFileOffset: u64,
  backingFileSize: u32,
  clusterBits: u32,
  clusterSize: int(0, 2 ** 30),
  size: u64,
  cryptMethod: u32,
  l1Size: u32,
  l1TableOffset: u64,
  refcountTableOffset: u64,
  refcountTableClusters: u32,
  nbSnapshots: u32,
  snapshotsOffset: u64,
  incompatibleFeatures: u64,
  compatibleFeatures: u64,
  autoclearFeatures: u64,
  refcountOrder: u32,
  headerLength: u32,
  compressionType: int(0, 255),
  fields: arr(headerField, 32),
});

const extension = obj<Extension>({ type: u32, name: str(256), offset, length: u32, data: bytes(CLUSTER_BYTES), known: bool });

const featureNameEntry = obj<FeatureNameEntry>({
  type: oneOf('incompatible', 'compatible', 'autoclear', 'unknown'),
  typeCode: int(0, 255),
  bit: int(0, 255),
  name: str(256),
  offset,
});

const bitmapsExtension = obj<BitmapsExtension>({ offset, nbBitmaps: u32, reserved: u32, directorySize: u64, directoryOffset: u64 });
const cryptoHeaderExtension = obj<CryptoHeaderExtension>({ offset, headerOffset: u64, headerLength: u64 });

export const extensions = obj<Extensions>({
  list: arr(extension, CLUSTER_BYTES / 8),
  backingFormat: nullable(str(TEXT)),
  featureTable: arr(featureNameEntry, CLUSTER_BYTES / 48),
  bitmaps: nullable(bitmapsExtension),
  cryptoHeader: nullable(cryptoHeaderExtension),
  dataFile: nullable(str(TEXT)),
  featureNames: pairs(CLUSTER_BYTES / 48, 256),
});

const luksKeySlot = obj<LuksKeySlot>({ index: int(0, 255), active: bool, iterations: u32, stripes: u32, keyMaterialOffset: u32 });

export const luksHeader = obj<LuksHeader>({
  offset,
  length: offset,
  version: int(0, 0xffff),
  cipherName: str(256),
  cipherMode: str(256),
  hashSpec: str(256),
  payloadOffset: u32,
  keyBytes: u32,
  masterKeyIterations: u32,
  uuid: str(256),
  slots: arr(luksKeySlot, 64),
});

export const snapshot = obj<Snapshot>({
  index: int(0, S.MAX_SNAPSHOTS),
  entryOffset: offset,
  entryLength: offset,
  l1TableOffset: u64,
  l1Size: u32,
  id: str(TEXT),
  name: str(TEXT),
  idBytes: bytes(TEXT),
  nameBytes: bytes(TEXT),
  dateSec: u32,
  dateNsec: u32,
  vmClockNsec: u64,
  vmStateSize: u64,
  extraDataSize: u32,
  diskSize: nullable(u64),
  icount: nullable(u64),
  extra: bytes(S.MAX_SNAPSHOT_EXTRA_DATA),
});

const entryKinds = obj<Record<BitmapTableEntryKind, number>>({ zeros: count, ones: count, data: count, invalid: count });

export const bitmap = obj<Bitmap>({
  index: int(0, S.MAX_BITMAPS),
  entryOffset: offset,
  entryLength: offset,
  name: str(TEXT),
  nameBytes: bytes(TEXT),
  flags: u32,
  inUse: bool,
  auto: bool,
  extraDataCompatible: bool,
  type: int(0, 255),
  granularityBits: int(0, 255),
  tableOffset: u64,
  tableSize: u32,
  extraDataSize: u32,
  extraData: bytes(S.MAX_BITMAP_DIRECTORY_BYTES),
  zeroOffsetEmpty: bool,
  offsetOneAllSet: bool,
  bitCount: count,
  table: nullable(u64s(MAX_SAVED_BITMAP_TABLE)),
  entryKinds,
  setBits: nullable(count),
  strip: u32s(4096),
  qemuRefuses: arr(str(TEXT), 64),
});

export const finding = obj<Finding>({
  code: oneOf(...S.FINDING_CODES),
  severity: oneOf('error', 'warning', 'info'),
  structure: str(TEXT),
  // Where the damage is: past the end of the file (and past 2^53) when an entry points there.
  offset: nullable(wide),
  message: str(TEXT),
  checkClass: oneOf('corruption', 'leak', 'check-error', 'none'),
  cluster: opt(wide),
});

export const checkCounts = obj<CheckCounts>({
  corruptions: count,
  leaks: count,
  checkErrors: count,
  imageEndOffset: count,
  totalClusters: count,
  allocatedClusters: count,
  fragmentedClusters: count,
  compressedClusters: count,
});

/** qemu-img check's JSON object, in QAPI schema order (report.ts restores QEMU's key order). */
export const qemuCheck = obj<QemuCheckJson>({
  filename: str(TEXT),
  format: str(64),
  'check-errors': count,
  'image-end-offset': opt(count),
  corruptions: opt(count),
  leaks: opt(count),
  'total-clusters': opt(count),
  'allocated-clusters': opt(count),
  'fragmented-clusters': opt(count),
  'compressed-clusters': opt(count),
});

const spaceCategory = obj<SpaceCategory>({ key: str(64), label: str(256), clusters: count, bytes: count });
const snapshotSpace = obj<SnapshotSpace>({ index: int(0, S.MAX_SNAPSHOTS), id: str(TEXT), name: str(TEXT), exclusiveClusters: count, exclusiveBytes: count });
const bitmapSpace = obj<BitmapSpace>({
  name: str(TEXT),
  // 2^granularity_bits, up to 2^255 in a damaged directory.
  granularity: finite,
  tableClusters: count,
  dataClusters: count,
  setBits: nullable(count),
  dirtyBytes: nullable(count),
});

export const space = obj<SpaceAccounting>({
  fileSize: count,
  clusterSize: count,
  categories: arr(spaceCategory, 64),
  compressed: obj<SpaceAccounting['compressed']>({
    hostClusters: count,
    hostBytes: count,
    guestClusters: count,
    guestBytes: count,
    savedBytes: int(Number.MIN_SAFE_INTEGER),
  }),
  snapshots: arr(snapshotSpace, S.MAX_SNAPSHOTS),
  bitmaps: arr(bitmapSpace, S.MAX_BITMAPS),
});
