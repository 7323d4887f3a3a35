// inspect/: decoding one host cluster for the inspector: where it sits in the structure that owns
// it (place.ts), its 64-bit table entries with absolute numbers (decode.ts), and the fields of the
// header, bitmap directory and snapshot table entries it holds (decode-meta.ts). Pure: bytes and
// parsed structures in, rows out.

export { compressedIn, placeOf, type CompressedPiece, type Place, type PlaceInput, type TableSlice } from './place';
export { decodeTable, isTablePlace, refcountAt, subclusterMap, type DecodeContext, type Decoded, type EntryRow } from './decode';
export { bitmapEntryBlocks, headerRows, rawHex, snapshotEntryBlocks, type EntryBlock, type FieldRow } from './decode-meta';
