// The public surface of app/format: what the worker, the state layer, the map, the UI and the CLI
// may use. Node-only pieces (NodeFileSource) are in ./node.ts, so the browser bundle never pulls in
// node:fs; test helpers live in app/test-support.

// The whole analysis and its events.
export { analyze, Aborted, type Analysis, type AnalysisEvent, type AnalyzeOptions, type Phase } from './analyze';

// Stages, for callers that want the header on screen before the rest.
export { loadHeaderStage, loadStructures, type HeaderStage } from './qcow2';
export { detectForeign, type ForeignFormat, type ForeignKind } from './qcow2';

// Parsed structures.
export type {
  Bitmap, BitmapDirectory, BitmapTableEntryKind, LuksHeader, LuksKeySlot, Snapshot, SnapshotTable, Structures,
} from './qcow2';
export { featureList, guestClusters, l1EntriesNeeded, type Header, type HeaderField } from './qcow2';
export type { BitmapsExtension, CryptoHeaderExtension, Extension, Extensions, FeatureNameEntry } from './qcow2';
export { BITMAP_STRIP_BUCKETS, bitmapEntryKind, diskLength } from './qcow2';
export { parseLuksAlgorithms, type LuksAlgorithms } from './qcow2';

// Who owns each host cluster.
export { Role, ROLE_COUNT, ROLE_INFO, type RoleId, type RoleInfo } from './check';

// Reading images.
export { BlobSource, BytesSource, readRanges, type BlobLike, type ByteSource, type Range } from './qcow2';
export { decodeUtf8 } from './qcow2';

// Problems.
export { Findings, FindingCode, Qcow2Error, hex, type CheckClass, type Finding, type Severity } from './qcow2';

// On-disk constants the UI names or draws.
export {
  QCOW_MAGIC, CRYPT_NONE, CRYPT_AES, CRYPT_LUKS, COMPRESSION_ZLIB, COMPRESSION_ZSTD,
  INCOMPAT_DIRTY, INCOMPAT_CORRUPT, INCOMPAT_DATA_FILE, INCOMPAT_COMPRESSION, INCOMPAT_EXTL2,
  COMPAT_LAZY_REFCOUNTS, AUTOCLEAR_BITMAPS, AUTOCLEAR_DATA_FILE_RAW, FEATURE_NAMES, EXTENSION_NAMES,
  EXT_BACKING_FORMAT, EXT_FEATURE_TABLE, EXT_BITMAPS, EXT_CRYPTO_HEADER, EXT_DATA_FILE,
  MIN_CLUSTER_BITS, MAX_CLUSTER_BITS, BME_FLAG_IN_USE, BME_FLAG_AUTO, BME_FLAG_EXTRA_DATA_COMPATIBLE,
} from './qcow2';

// L1/L2 entry decoding (hex view, inspector).
export {
  compressedDescriptor, entryOffset, geometry, isCompressed, isCopied, l2Kind, reftEntryOffset, tableEntryOffset,
  type CompressedDescriptor, type L2Kind, type MappingGeometry,
} from './qcow2';

// qemu-img parity: info, check (text, JSON, the refusal prefix), map.
export {
  fullBackingFilename, qemuInfo, qemuInfoText,
  type QemuBitmapInfo, type QemuEncryptInfo, type QemuInfoJson, type QemuInfoOptions, type QemuLuksSlot, type QemuQcow2Info, type QemuSnapshotInfo, type QInt,
} from './qemu-img';
export { qdictOrder, qemuDecodeCString, toQemuJson, type QValue } from './qemu-img';
export { qemuCheckHuman, qemuCheckJson, qemuCheckJsonText, type CheckCounts, type QemuCheckJson } from './qemu-img';
export { REFUSED, type CheckResult } from './check';
export { guestMapJson, type MapRange } from './guest';
export type { SpaceAccounting } from './check';
export { clusterOwners, compressedTouching, describeCluster, roleCounts, roleRuns, type CompressedIndexView, type DescribeContext } from './check';

// The saved analysis (one document for `qcowscope report --output=json` and the app's download)
// and the Markdown report.
export {
  buildReport, looksLikeReport, parseReport, MAX_REPORT_BYTES, REPORT_FORMAT, REPORT_VERSION,
  type ReportInput, type SavedAnalysis,
} from './report';
export { ReportError, type ReportErrorCode } from './report';
export { analysisVerdict, reportMarkdown, type Verdict, type VerdictKind } from './report';
export type { RefcountArray, Reftable } from './qcow2';
export { reftableIndexOf, REFT_NONZERO, REFT_RESERVED, REFT_UNALIGNED } from './qcow2';
export { assembleStored, decompressCluster, storedSpan, type Decompressed } from './compress';

// The inspector's decoding of one host cluster.
export {
  bitmapEntryBlocks, compressedIn, decodeTable, headerRows, isTablePlace, placeOf, snapshotEntryBlocks,
  type CompressedPiece, type Decoded, type EntryBlock, type FieldRow, type Place,
} from './inspect';
