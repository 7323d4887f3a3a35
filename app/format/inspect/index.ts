// inspect/: decoding one host cluster for the inspector: where it sits in the structure that owns
// it (place.ts), its 64-bit table entries with absolute numbers (decode.ts), and the fields of the
// header, bitmap directory and snapshot table entries it holds (decode-meta.ts). Pure: bytes and

export { compressedIn, placeOf, type CompressedPiece, type Place } from './place';
export { decodeTable, isTablePlace, type Decoded } from './decode';
export { bitmapEntryBlocks, headerRows, snapshotEntryBlocks, type EntryBlock, type FieldRow } from './decode-meta';
export { bitmapOwningTable, staleBitmapEntries, staleSnapshotEntries, type StaleEntries } from './stale';
