// On-disk constants of qcow2 (docs/interop/qcow2.txt) and the limits QEMU enforces when it opens
// an image (block/qcow2.h). Every variable-length read in app/format is bounded by one of these.

export const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"

export const HEADER_V2_LENGTH = 72;
export const HEADER_V3_MIN_LENGTH = 104;

export const MIN_CLUSTER_BITS = 9;
/** QEMU opens clusters up to 2 MiB. */
export const MAX_CLUSTER_BITS = 21;
export const MIN_EXTENDED_L2_CLUSTER_BITS = 14;

/** Table offsets keep bits 9..55. */
export const L1E_OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;
export const L2E_OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;
export const REFT_OFFSET_MASK = 0xffff_ffff_ffff_fe00n;
export const BME_TABLE_ENTRY_OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;

export const QCOW_OFLAG_COPIED = 1n << 63n;
export const QCOW_OFLAG_COMPRESSED = 1n << 62n;
export const QCOW_OFLAG_ZERO = 1n;
/** Bits of an L1 entry that must be zero: 0..8 and 56..62 (QEMU 7.2 L1E_RESERVED_MASK). */
export const L1E_RESERVED_MASK = 0x7f00_0000_0000_01ffn;
/** Bits of a standard L2 entry that must be zero: 1..8 and 56..61. */
export const L2E_STD_RESERVED_MASK = 0x3f00_0000_0000_01fen;
export const REFT_RESERVED_MASK = 0x1ffn;
export const BME_TABLE_ENTRY_RESERVED_MASK = 0xff00_0000_0000_01fen;
export const BME_TABLE_ENTRY_FLAG_ALL_ONES = 1n;

// The same bits on the 32-bit halves of an entry that the hot loops read from typed arrays and
// DataViews instead of bigints: hi = bits 32..63, lo = bits 0..31 (qcow2/mapping.ts decodes them).
/** QCOW_OFLAG_COPIED (bit 63) in hi. */
export const HI_OFLAG_COPIED = 0x8000_0000;
/** QCOW_OFLAG_COMPRESSED (bit 62) in hi. */
export const HI_OFLAG_COMPRESSED = 0x4000_0000;
/** QCOW_OFLAG_ZERO (bit 0) in lo. */
export const LO_OFLAG_ZERO = 1;
/** Offset bits 9..55 of L1, L2 and bitmap-table entries: bits 32..55 in hi… */
export const HI_OFFSET_MASK = 0x00ff_ffff;
/** …and bits 9..31 in lo (also the low half of a refcount-table entry's offset, bits 9..63). */
export const LO_OFFSET_MASK = 0xffff_fe00;
/** L2E_STD_RESERVED_MASK's halves: bits 56..61 in hi, bits 1..8 in lo. */
export const L2E_HI_RESERVED_MASK = 0x3f00_0000;
export const L2E_LO_RESERVED_MASK = 0x1fe;
/** REFT_RESERVED_MASK (bits 0..8), all in lo. */
export const REFT_LO_RESERVED_MASK = 0x1ff;

/** Incompatible feature bits. */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
export const INCOMPAT_KNOWN = 0x1fn;
/** Compatible feature bits. */
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;
/** Autoclear feature bits. */
export const AUTOCLEAR_BITMAPS = 1n << 0n;
export const AUTOCLEAR_DATA_FILE_RAW = 1n << 1n;

export const FEATURE_NAMES: Record<'incompatible' | 'compatible' | 'autoclear', Record<number, string>> = {
  incompatible: { 0: 'dirty bit', 1: 'corrupt bit', 2: 'external data file', 3: 'compression type', 4: 'extended L2 entries' },
  compatible: { 0: 'lazy refcounts' },
  autoclear: { 0: 'bitmaps', 1: 'raw external data' },
};

export const CRYPT_NONE = 0;
export const CRYPT_AES = 1;
export const CRYPT_LUKS = 2;

export const COMPRESSION_ZLIB = 0;
export const COMPRESSION_ZSTD = 1;

/** Header extension types. */
export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO_HEADER = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

export const EXTENSION_NAMES: Record<number, string> = {
  [EXT_BACKING_FORMAT]: 'backing file format name',
  [EXT_FEATURE_TABLE]: 'feature name table',
  [EXT_BITMAPS]: 'bitmaps',
  [EXT_CRYPTO_HEADER]: 'full disk encryption header pointer',
  [EXT_DATA_FILE]: 'external data file name',
};

// Limits (QEMU's, block/qcow2.h, or tighter where stated).
export const MAX_BACKING_FILE_NAME = 1023;
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
export const MAX_SNAPSHOT_TABLE_BYTES = 64 * 1024 * 1024;
export const MAX_SNAPSHOT_EXTRA_DATA = 1024;
/** sizeof(QCowSnapshotHeader): the fixed part of a snapshot table entry. */
export const SNAPSHOT_HEADER_BYTES = 40;
export const MAX_BITMAPS = 65535;
/** QEMU's QCOW2_MAX_BITMAP_DIRECTORY_SIZE: 1 KiB per bitmap, just under 64 MiB. */
export const MAX_BITMAP_DIRECTORY_BYTES = 1024 * MAX_BITMAPS;
export const MAX_BITMAP_NAME = 1023;
export const MIN_BITMAP_GRANULARITY_BITS = 9;
export const MAX_BITMAP_GRANULARITY_BITS = 31;
export const BITMAP_TYPE_DIRTY_TRACKING = 1;
export const BME_FLAG_IN_USE = 1 << 0;
export const BME_FLAG_AUTO = 1 << 1;
export const BME_FLAG_EXTRA_DATA_COMPATIBLE = 1 << 2;
/** QEMU's upper bound on a bitmap's bit count (BME_MAX_PHYS_SIZE in bits, block/qcow2-bitmap.c). */
export const BME_MAX_PHYS_SIZE = 0x20000000;
/** Findings of one class kept in full; beyond this only the count grows. */
export const FINDINGS_PER_CLASS_CAP = 1000;
