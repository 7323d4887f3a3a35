// qcow2/: the on-disk structures of a qcow2 image (docs/interop/qcow2.txt): constants and limits
// (spec), byte sources and bounded reads, the header and its extensions, L1/L2 entries (mapping),
// refcount tables and blocks, snapshots, bitmaps, LUKS, and the Findings every stage reports into.
// The node-only source (source-node.ts) is not here: see ../node.ts.

export * from './spec';
export { Findings, Qcow2Error, hex, type CheckClass, type Finding, type Severity } from './errors';
export { FindingCode, FINDING_CODES } from './finding-codes';
export {
  BlobSource, BytesSource, readRanges,
  type BlobLike, type BlobPart, type ByteRange, type ByteSource, type Range, type ReadRangesOptions,
} from './source';
export { decodeUtf8 } from './reader';
export { checkHeader, featureList, guestClusters, l1EntriesNeeded, parseHeader, qemuL1Needed, type Header, type HeaderField } from './header';
export {
  parseBackingFileName, parseExtensions, unsupportedFeatures,
  type BitmapsExtension, type CryptoHeaderExtension, type Extension, type Extensions, type FeatureNameEntry,
} from './extensions';
export {
  compressedDescriptor, entryOffset, extEntryInvalid, extSubclusterKind, geometry, hasOffset, hasZeroFlag, isCompressed,
  isCopied, Kind, l2Kind, l2Reserved, readU64Table, reftEntryOffset, reftReserved, stdEntryKind, tableEntryOffset,
  type CompressedDescriptor, type EntryFlags, type L2Kind, type MappingGeometry,
} from './mapping';
export {
  EMPTY_REFTABLE, ExpectedRefcounts, REFT_NONZERO, REFT_RESERVED, REFT_UNALIGNED, StoredRefcounts,
  loadStoredRefcounts, readReftable, refcountArray, refcountGeometry, reftableIndexOf,
  type RefcountArray, type RefcountGeometry, type Reftable,
} from './refcounts';
export { ICOUNT_NONE } from './snapshots';
export { BITMAP_STRIP_BUCKETS, bitmapEntryKind, diskLength } from './bitmap-data';
export { parseLuksAlgorithms, type LuksAlgorithms } from './luks';
export { detectForeign, type ForeignFormat, type ForeignKind } from './foreign';
export type {
  Bitmap, BitmapDirectory, BitmapTableEntryKind, LuksHeader, LuksKeySlot, Snapshot, SnapshotTable, Structures,
} from './model';
export { loadHeaderStage, loadStructures, type HeaderStage } from './structures';
