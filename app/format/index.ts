// The public surface of app/format: what the worker, the state layer, the UI and the CLI may use.
// Node-only pieces (source-node.ts) and test helpers (testing/) are deliberately not here, so the
// browser bundle never pulls in node:fs.

// The whole analysis and its events.
export { analyze, Aborted, type Analysis, type AnalysisEvent, type AnalyzeOptions, type Phase } from './analyze';

// Stages, for callers that want the header on screen before the rest.
export { loadHeaderStage, loadStructures, type HeaderStage } from './qcow2/structures';
export { detectForeign, type ForeignFormat, type ForeignKind } from './qcow2/foreign';

// Parsed structures.
export type {
  Bitmap, BitmapDirectory, BitmapTableEntryKind, LuksHeader, LuksKeySlot, Snapshot, SnapshotTable, Structures,
} from './qcow2/model';
export { featureList, guestClusters, l1EntriesNeeded, type Header, type HeaderField } from './qcow2/header';
export type { BitmapsExtension, CryptoHeaderExtension, Extension, Extensions, FeatureNameEntry } from './qcow2/extensions';
export { BITMAP_STRIP_BUCKETS, bitmapEntryKind, diskLength } from './qcow2/bitmap-data';
export { parseLuksAlgorithms, type LuksAlgorithms } from './qcow2/luks';

// Who owns each host cluster.
export { Role, ROLE_COUNT, ROLE_INFO, type RoleId, type RoleInfo } from './check/roles';

// Reading images.
export { BlobSource, BytesSource, readRanges, type BlobLike, type ByteSource, type Range } from './qcow2/source';
export { decodeUtf8 } from './qcow2/reader';

// Problems.
export { Findings, Qcow2Error, hex, type CheckClass, type Finding, type Severity } from './qcow2/errors';

// On-disk constants the UI names or draws.
export {
  QCOW_MAGIC, CRYPT_NONE, CRYPT_AES, CRYPT_LUKS, COMPRESSION_ZLIB, COMPRESSION_ZSTD,
  INCOMPAT_DIRTY, INCOMPAT_CORRUPT, INCOMPAT_DATA_FILE, INCOMPAT_COMPRESSION, INCOMPAT_EXTL2,
  COMPAT_LAZY_REFCOUNTS, AUTOCLEAR_BITMAPS, AUTOCLEAR_DATA_FILE_RAW, FEATURE_NAMES, EXTENSION_NAMES,
  EXT_BACKING_FORMAT, EXT_FEATURE_TABLE, EXT_BITMAPS, EXT_CRYPTO_HEADER, EXT_DATA_FILE,
  MIN_CLUSTER_BITS, MAX_CLUSTER_BITS, BME_FLAG_IN_USE, BME_FLAG_AUTO, BME_FLAG_EXTRA_DATA_COMPATIBLE,
} from './qcow2/spec';

// L1/L2 entry decoding (hex view, inspector).
export {
  compressedDescriptor, entryOffset, geometry, isCompressed, isCopied, l2Kind,
  type CompressedDescriptor, type L2Kind, type MappingGeometry,
} from './qcow2/mapping';

// qemu-img parity: info (this file's owner), check / map / space (see analyze's Analysis).
export {
  fullBackingFilename, qemuInfo, qemuInfoText,
  type QemuBitmapInfo, type QemuEncryptInfo, type QemuInfoJson, type QemuInfoOptions, type QemuLuksSlot, type QemuQcow2Info, type QemuSnapshotInfo, type QInt,
} from './qemu-img/info';
export { qdictOrder, qemuDecodeCString, toQemuJson, type QValue } from './qemu-img/qemu-json';
export type { CheckResult, CheckCounts, QemuCheckJson } from './check/check';
export { qemuCheckJson, qemuCheckJsonText } from './qemu-img/check-json';
export { convertEstimate } from './qemu-img/measure';
export { guestMapJson, type MapRange } from './guest/block-status';
export { DEFAULT_QEMU_VERSION, QEMU_VERSIONS, isQemuVersion, type QemuVersion } from './qemu-img/version';
export type { SpaceAccounting } from './check/space';
export { clusterOwners, describeCluster, roleCounts, roleRuns, type DescribeContext } from './check/cluster-roles';

// The saved analysis (one document for `qcowscope report --output=json` and the app's download)
// and the Markdown report.
export {
  buildReport, looksLikeReport, parseReport, MAX_REPORT_BYTES, REPORT_FORMAT, REPORT_VERSION,
  type ReportInput, type SavedAnalysis,
} from './report/saved-analysis';
export { ReportError, type ReportErrorCode } from './report/codec';
export { analysisVerdict, reportMarkdown, type Verdict, type VerdictKind } from './report/markdown';
export type { RefcountArray, Reftable } from './qcow2/refcounts';
export { reftableIndexOf, REFT_NONZERO, REFT_RESERVED, REFT_UNALIGNED } from './qcow2/refcounts';
export { assembleStored, decompressCluster, storedSpan, type Decompressed } from './compress/decompress';
// The safety verdict for untrusted images.
export * from './safety';
export * from './dirty';
