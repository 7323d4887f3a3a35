// The public surface of app/format: what the worker, the state layer, the map, the UI and the CLI
// may use (lint forbids deeper paths). Node-only pieces (NodeFileSource) are in ./node.ts, so the
// browser bundle never pulls in node:fs; test helpers live in app/test-support.

// The whole analysis and its events; stages, for callers that want the header before the rest.
export { analyze, Aborted, type Analysis, type AnalysisEvent, type Phase } from './analyze';
export { loadHeaderStage, loadStructures } from './qcow2';

// Reading images.
export { BlobSource, BytesSource, parseHeader, reftableRange, type BlobLike, type BlobSourceOptions, type ByteSource } from './qcow2';

// Parsed structures, and the on-disk constants the UI names or draws.
export type { Bitmap, Extension, Extensions, Header, RefcountArray, Snapshot, Structures } from './qcow2';
export { featureList, guestClusters } from './qcow2';
export {
  INCOMPAT_DATA_FILE, INCOMPAT_EXTL2, EXTENSION_NAMES, EXT_BACKING_FORMAT, EXT_FEATURE_TABLE, EXT_BITMAPS,
  EXT_CRYPTO_HEADER, EXT_DATA_FILE, MIN_CLUSTER_BITS, MAX_CLUSTER_BITS,
} from './qcow2';

// L1/L2 entry decoding.
export { entryOffset, geometry, tableEntryOffset } from './qcow2';

// Numbers for people: sizes, counts, hex, percentages, plurals, dates (one rule for every layer).
export { byteUnit, formatBytes, formatBytesExact, formatCount, formatDate, hex, hexByte, hexBytes, hexField, percent, plural } from './text';

// Problems.
export { Findings, FindingCode, Qcow2Error, QEMU_NOTE, qemuText, type Finding } from './qcow2';

// Who owns each host cluster.
export { Role, ROLE_COUNT, ROLE_INFO, type RoleId, type RoleInfo } from './check';
export { clusterOwners, compressedTouching, describeCluster, roleClusterCounts, type CompressedIndexView } from './check';

// qemu-img parity: info, check (text, JSON, the refusal prefix), map.
export { qemuInfo, qemuInfoText, qdictOrder, type QemuInfoJson, type QemuSnapshotInfo, type QValue } from './qemu-img';
export { qemuCheckHuman, qemuCheckJson, qemuCheckJsonText } from './qemu-img';
export { REFUSED } from './check';
export { changedRange, clusterUsage, ownerMasks, MAX_USAGE_BUCKETS, type ClusterUsage, type OwnerSummary } from './check';
export { guestMapJson, mapRangesFor, humanInfo, sizeToStr, type FileNodeFacts } from './qemu-img';
export { DEFAULT_QEMU_VERSION, QEMU_VERSIONS, isQemuVersion, profileForBanner, type QemuVersion } from './qemu-img';
export { convertEstimate, measure, measureInputOf, measureText } from './qemu-img/measure';
export type { ConvertEstimate } from './qemu-img/measure';
export { isValidOptionList, parseMeasureOptions, type MeasureFormat } from './qemu-img/measure-options';
export { CRYPT_AES, CRYPT_LUKS } from './qcow2';
export type { MapRange } from './guest';

// The saved analysis (one document for `qcowscope report --output=json` and the app's download)
// and the Markdown report.
export { buildReport, looksLikeReport, parseReport, MAX_REPORT_BYTES, ReportError, type ReportInput } from './report';
export { analysisVerdict, reportMarkdown, type Verdict, type VerdictKind, type VerdictSeverity } from './report';
export { entryPastEnd } from './qcow2/zero-fill';

// The safety verdict for untrusted images; dirty bitmaps' extents.
export * from './safety';
export * from './dirty';

// Compressed clusters.
export { assembleStored, decompressCluster, storedSpan, type Decompressed } from './compress';

// What free clusters held (the map's "what freed clusters held" view, the inspector's stale tables).
export { FREED_ROLE, freedRunAt, stalePlace, type FreedKind, type FreedResult, type FreedRun } from './freed';

// The inspector's decoding of one host cluster.
export {
  bitmapEntryBlocks, compressedIn, decodeTable, headerRows, isTablePlace, placeOf, snapshotEntryBlocks,
  type CompressedPiece, type Decoded, type EntryBlock, type FieldRow, type Place,
} from './inspect';
export { bitmapOwningTable, staleBitmapEntries, staleSnapshotEntries, type StaleEntries } from './inspect';
