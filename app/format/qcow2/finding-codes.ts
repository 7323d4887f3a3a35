// Every finding code the engine reports, in one place: Findings, Qcow2Error and the saved analysis
// accept only these, and the CLI and the worker compare against these constants, never free strings.
// Codes are stable (saved analyses and scripts read them): add new ones, never rename.

const codes = <T extends string>(...c: T[]): { readonly [K in T]: K } => Object.fromEntries(c.map((k) => [k, k])) as { [K in T]: K };

export const FindingCode = codes(
  // The file itself and its header (header.ts, reader.ts, structures.ts).
  'NOT_QCOW2', 'TRUNCATED', 'HEADER_LENGTH_UNALIGNED', 'CORRUPT_BIT', 'LEGACY_AES',
  // Where QEMU 7.2 would refuse the image: at open, on an I/O error, or for another reason.
  'QEMU_REFUSES', 'QEMU_REFUSES_OPEN', 'QEMU_REFUSES_IO',
  // Header extensions (extensions.ts).
  'EXTENSION_REPEATED', 'FEATURE_TABLE_LENGTH', 'BACKING_NAME_TRUNCATED', 'BITMAPS_INCONSISTENT',
  // L1 tables (structures.ts, check/l1-tables.ts).
  'L1_PAST_EOF', 'L1_TOO_LARGE', 'L1_TRUNCATED', 'L1_UNALIGNED', 'L1_RESERVED', 'L2_UNALIGNED',
  // L2 entries (check/l2-tables.ts).
  'L2_RESERVED', 'UNALIGNED', 'SUBCLUSTER_BITMAP', 'COMPRESSED_COPIED', 'COMPRESSED_SUBCLUSTERS', 'COMPRESSED_WITH_DATA_FILE',
  // Refcounts as qemu-img check counts them (check/).
  'PAST_EOF', 'REFCOUNT_MISMATCH', 'REFCOUNT_OVERFLOW', 'REFCOUNT_UNREADABLE', 'LEAK', 'OFLAG_COPIED',
  'REFTABLE_RESERVED', 'REFBLOCK_OUTSIDE', 'REFBLOCK_REFCOUNT', 'REFBLOCK_UNALIGNED', 'DIRTY_REFCOUNTS', 'CHECK_FAILED',
  // Snapshots (snapshots.ts, check/metadata.ts).
  'SNAPSHOT_TABLE_PAST_EOF', 'SNAPSHOT_TABLE_UNREADABLE', 'SNAPSHOTS_CAPPED', 'SNAPSHOT_EXTRA_SHORT', 'SNAPSHOT_ID_REPEATED',
  'SNAPSHOT_DISK_SIZE', 'SNAPSHOT_L1_UNALIGNED', 'SNAPSHOT_L1_TOO_LARGE', 'SNAPSHOT_INCOMPLETE', 'CHECK_SNAPSHOT_L1',
  'SNAPSHOTS_WITH_DATA_FILE',
  // Bitmaps (bitmaps.ts, bitmap-data.ts).
  'BITMAP_DIRECTORY_PAST_EOF', 'BITMAP_DIRECTORY_UNREADABLE', 'BITMAP_DIRECTORY_DAMAGED', 'BITMAP_TABLE_PAST_EOF',
  'BITMAP_TABLE_CAPPED', 'BITMAP_TABLE_ENTRY_INVALID', 'BITMAP_TABLE_EXTRA_ENTRIES', 'BITMAP_TABLES_NOT_READ',
  'BITMAP_DATA_PAST_EOF', 'BITMAP_DATA_NOT_COUNTED', 'BITMAP_TAIL_BITS',
  // LUKS (luks.ts, structures.ts).
  'LUKS_PAST_EOF', 'LUKS_TRUNCATED', 'LUKS_UNREADABLE',
  // The guest map and the backing chain (guest/).
  'MAP_FAILED', 'MAP_TRUNCATED', 'BACKING_UNAVAILABLE', 'BACKING_UNREADABLE', 'BACKING_NOT_QCOW2',
  'BACKING_FORMAT_UNSUPPORTED', 'BACKING_CHAIN_CYCLE', 'BACKING_CHAIN_TOO_DEEP',
  // A file cut short (check/truncation.ts) and bitmaps left in use (bitmaps.ts).
  'FILE_TRUNCATED', 'BITMAP_IN_USE',
  // What opening meets short of a refusal (structures.ts, extensions.ts; cli/refusal.ts).
  'HEADER_TRUNCATED', 'QEMU_NEEDS_KEY', 'DATA_FILE_OPENED',
  // Reading a bitmap's bits for its extents (dirty/).
  'BITMAP_BITS_UNKNOWN', 'BITMAP_GRANULARITY_RANGE', 'BITMAP_TABLE_SIZE', 'BITMAP_ALL_ONES', 'DISK_TOO_LARGE', 'ABORTED',
);

export type FindingCode = (typeof FindingCode)[keyof typeof FindingCode];

/** Every code, for validating codes read back from a saved analysis. */
export const FINDING_CODES: readonly FindingCode[] = Object.values(FindingCode);
