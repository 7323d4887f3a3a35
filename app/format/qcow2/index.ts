// qcow2/: the on-disk structures of a qcow2 image (docs/interop/qcow2.txt): constants and limits
// (spec), byte sources and bounded reads, the header and its extensions, L1/L2 entries (mapping),
// refcount tables and blocks, snapshots, bitmaps, LUKS, and the Findings every stage reports into.

export * from './spec';
export { Findings, Qcow2Error, hex, QEMU_NOTE, qemuText, type CheckClass, type Finding, type Severity } from './errors';
export { FindingCode, FINDING_CODES } from './finding-codes';
export { BlobSource, BytesSource, readRanges, type BlobLike, type BlobSourceOptions, type ByteSource } from './source';
export { decodeUtf8 } from './reader';
export { featureList, guestClusters, parseHeader, type Header, type HeaderField } from './header';
export {
  parseBackingFileName, parseExtensions, type BitmapsExtension, type CryptoHeaderExtension, type Extension,
  type Extensions, type FeatureNameEntry,
} from './extensions';
export {
  compressedDescriptor, entryOffset, extEntryInvalid, extSubclusterKind, geometry, hasZeroFlag, isCompressed,
  isCopied, Kind, l2Kind, l2Reserved, readU64Table, reftEntryOffset, stdEntryKind, tableEntryOffset, type EntryFlags,
  type MappingGeometry,
} from './mapping';
export {
  EMPTY_REFTABLE, ExpectedRefcounts, REFT_RESERVED, REFT_UNALIGNED, StoredRefcounts, loadStoredRefcounts,
  readReftable, refcountArray, refcountGeometry, reftableIndexOf, reftableRange, type RefcountArray, type Reftable, type StoredRefcountArray,
} from './refcounts';
export { swap16, swapPair } from './refcount-words';
export { ICOUNT_NONE } from './snapshots';
export { parseLuksAlgorithms } from './luks';
export type {
  Bitmap, BitmapDirectory, BitmapTableEntryKind, LuksHeader, LuksKeySlot, Snapshot, SnapshotTable, Structures,
} from './model';
export { loadHeaderStage, loadStructures, type HeaderStage } from './structures';
