// The safety verdict for an untrusted image: can a cloud accept this file as a qcow2 disk from a
// stranger? "unsafe" when opening it would read other files or hosts, let another tool read it as a
// different format, destroy data on the first write, or cost memory and time out of proportion;
// "refused" when QEMU would not open it as qcow2 at all; "safe" otherwise. Every reason says what
// happens and the usual remedy; notes say what was seen and is harmless.

export type SafetyVerdict = 'safe' | 'unsafe' | 'refused';

export const UNSAFE_CODES = [
  'backing-absolute', 'backing-relative', 'backing-escapes', 'backing-json', 'backing-protocol',
  'data-file', 'polyglot',
  'refcount-too-low', 'overlapping-references', 'reference-past-end', 'corruption', 'truncated',
  'huge-l1', 'huge-refcount-table', 'many-snapshots', 'many-bitmaps', 'huge-bitmaps', 'compressed-oversized',
] as const;

export const REFUSED_CODES = [
  'unknown-incompatible-features', 'unaligned-table', 'zero-offset-bitmap', 'corrupt-bit', 'legacy-aes',
  'qemu-refuses', 'qcow1', 'truncated-header', 'not-qcow2', 'unreadable',
] as const;

export const NOTE_CODES = ['leaks', 'unknown-extension', 'extended-l2', 'encrypted', 'dirty', 'bitmaps-in-use'] as const;

export type UnsafeCode = (typeof UNSAFE_CODES)[number];
export type RefusedCode = (typeof REFUSED_CODES)[number];
export type SafetyCode = UnsafeCode | RefusedCode;
export type NoteCode = (typeof NOTE_CODES)[number];

export interface SafetyReason {
  readonly code: SafetyCode;
  /** Which verdict this reason leads to. */
  readonly kind: 'unsafe' | 'refused';
  /** What is wrong, with the names and numbers from the file. */
  readonly message: string;
  /** What happens if the image is used anyway, in one sentence. */
  readonly consequence: string;
  /** The usual remedy. */
  readonly remedy: string;
  /** File offset of the field or bytes concerned, when one applies. */
  readonly offset?: number;
  /** A name from the file (backing file, data file) or the formats found. */
  readonly name?: string;
  readonly formats?: readonly string[];
  /** How many instances (clusters, snapshots, bitmaps) when the reason counts them. */
  readonly count?: number;
}

export interface SafetyNote {
  readonly code: NoteCode;
  readonly message: string;
}

export interface Safety {
  readonly verdict: SafetyVerdict;
  /** Empty exactly when the verdict is safe. */
  readonly reasons: readonly SafetyReason[];
  readonly notes: readonly SafetyNote[];
}

/**
 * Sizes QEMU accepts but that cost memory or time out of proportion to any real disk. QEMU's own
 * limits (spec.ts) are 32 MiB of L1, 8 MiB of refcount table, 65536 snapshots, 65535 bitmaps.
 */
export const SAFETY_LIMITS = {
  /** The active L1 table QEMU reads into memory at open: 8 MiB = 1 Mi entries (64 TiB at 64 KiB clusters). */
  activeL1Bytes: 8 * 1024 * 1024,
  /** All L1 tables together (active and every snapshot's), which check, convert and snapshot switches read. */
  allL1Bytes: 64 * 1024 * 1024,
  /** The refcount table QEMU reads at open: 4 MiB (half QEMU's limit; 1 PiB of file at 64 KiB clusters). */
  refcountTableBytes: 4 * 1024 * 1024,
  snapshots: 10_000,
  bitmaps: 10_000,
  /** Bitmap data QEMU holds in memory for the bitmaps it loads at open (all of them together). */
  bitmapBytes: 256 * 1024 * 1024,
  /** Bytes a compressed cluster may span beyond its cluster: QEMU writes under a cluster, rounded to sectors. */
  compressedSlack: 511,
} as const;

/** The verdict a list of reasons leads to: unsafe wins over refused. */
export function verdictOf(reasons: readonly SafetyReason[]): SafetyVerdict {
  if (reasons.some((r) => r.kind === 'unsafe')) return 'unsafe';
  return reasons.length ? 'refused' : 'safe';
}
