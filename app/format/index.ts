// The public surface of app/format: what the worker, the state layer, the UI and the CLI may use.
// Node-only pieces (source-node.ts) and test helpers (testing/) are deliberately not here, so the
// browser bundle never pulls in node:fs.

// The whole analysis and its events.
export { analyze, Aborted, type Analysis, type AnalysisEvent, type AnalyzeOptions, type Phase } from './analyze';

// Stages, for callers that want the header on screen before the rest.
export { loadHeaderStage, loadStructures, type HeaderStage } from './structures';
export { detectForeign, type ForeignFormat, type ForeignKind } from './foreign';

// Parsed structures.
export type {
  Bitmap, BitmapDirectory, BitmapTableEntryKind, LuksHeader, LuksKeySlot, Snapshot, SnapshotTable, Structures,
} from './model';
export { featureList, guestClusters, l1EntriesNeeded, type Header, type HeaderField } from './header';
export type { BitmapsExtension, CryptoHeaderExtension, Extension, Extensions, FeatureNameEntry } from './extensions';
export { BITMAP_STRIP_BUCKETS, bitmapEntryKind, diskLength } from './bitmap-data';
export { parseLuksAlgorithms, type LuksAlgorithms } from './luks';

// Who owns each host cluster.
export { Role, ROLE_COUNT, ROLE_INFO, type RoleId, type RoleInfo } from './roles';

// Reading images.
export { BlobSource, BytesSource, readRanges, type BlobLike, type ByteSource, type Range } from './source';
export { decodeUtf8 } from './reader';

// Problems.
export { Findings, Qcow2Error, hex, type CheckClass, type Finding, type Severity } from './errors';

// On-disk constants the UI names or draws.
export {
  QCOW_MAGIC, CRYPT_NONE, CRYPT_AES, CRYPT_LUKS, COMPRESSION_ZLIB, COMPRESSION_ZSTD,
  INCOMPAT_DIRTY, INCOMPAT_CORRUPT, INCOMPAT_DATA_FILE, INCOMPAT_COMPRESSION, INCOMPAT_EXTL2,
  COMPAT_LAZY_REFCOUNTS, AUTOCLEAR_BITMAPS, AUTOCLEAR_DATA_FILE_RAW, FEATURE_NAMES, EXTENSION_NAMES,
  EXT_BACKING_FORMAT, EXT_FEATURE_TABLE, EXT_BITMAPS, EXT_CRYPTO_HEADER, EXT_DATA_FILE,
  MIN_CLUSTER_BITS, MAX_CLUSTER_BITS, BME_FLAG_IN_USE, BME_FLAG_AUTO, BME_FLAG_EXTRA_DATA_COMPATIBLE,
} from './spec';

// L1/L2 entry decoding (hex view, inspector).
export {
  compressedDescriptor, entryOffset, geometry, isCompressed, isCopied, l2Kind,
  type CompressedDescriptor, type L2Kind, type MappingGeometry,
} from './mapping';

// qemu-img parity: info (this file's owner), check / map / space (see analyze's Analysis).
export {
  fullBackingFilename, qemuInfo, qemuInfoText,
  type QemuBitmapInfo, type QemuEncryptInfo, type QemuInfoJson, type QemuInfoOptions, type QemuLuksSlot, type QemuQcow2Info, type QemuSnapshotInfo, type QInt,
} from './info';
export { qdictOrder, qemuDecodeCString, toQemuJson, type QValue } from './qemu-json';
export type { CheckResult, CheckCounts, QemuCheckJson } from './check';
export { qemuCheckJson, qemuCheckJsonText } from './check-json';
export { guestMapJson, type MapRange } from './guest-map';
export type { SpaceAccounting } from './space';
export { clusterOwners, describeCluster, roleCounts, roleRuns, type DescribeContext } from './layout';

// The saved analysis (one document for `qcowscope report --output=json` and the app's download)
// and the Markdown report.
export {
  buildReport, looksLikeReport, parseReport, MAX_REPORT_BYTES, REPORT_FORMAT, REPORT_VERSION,
  type ReportInput, type SavedAnalysis,
} from './report';
export { ReportError, type ReportErrorCode } from './report-codec';
export { analysisVerdict, reportMarkdown, type Verdict, type VerdictKind } from './report-markdown';
export type { RefcountArray, Reftable } from './refcount';
export { reftableIndexOf, REFT_NONZERO, REFT_RESERVED, REFT_UNALIGNED } from './refcount';
export { assembleStored, decompressCluster, storedSpan, type Decompressed } from './decompress';
