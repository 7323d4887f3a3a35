// The shapes of the parsed structures that the engine's stages hand each other. Each stage's
// file (snapshots.ts, bitmaps.ts, luks.ts, mapping.ts, refcounts.ts, check/, guest/block-status.ts,
// check/cluster-roles.ts, check/space.ts) produces or consumes these; analyze.ts runs the stages in order.

import type { Extensions } from './extensions';
import type { Finding } from './errors';
import type { Header } from './header';

/** One entry of the snapshot table (spec: "Snapshots"). */
export interface Snapshot {
  readonly index: number;
  /** File offset of this entry in the snapshot table. */
  readonly entryOffset: number;
  readonly entryLength: number;
  readonly l1TableOffset: bigint;
  readonly l1Size: number;
  readonly id: string;
  readonly name: string;
  /** Raw bytes of id and name, up to the first NUL (QEMU keeps them as C strings). */
  readonly idBytes: Uint8Array;
  readonly nameBytes: Uint8Array;
  readonly dateSec: number;
  readonly dateNsec: number;
  readonly vmClockNsec: bigint;
  /** vm_state_size: the 64-bit one from extra data when present, else the 32-bit field. */
  readonly vmStateSize: bigint;
  readonly extraDataSize: number;
  /** Disk size from extra data (bytes 8-15), or null when extra data is shorter. */
  readonly diskSize: bigint | null;
  /** icount from extra data (bytes 16-23), or null; -1 (all ones) means none. */
  readonly icount: bigint | null;
  readonly extra: Uint8Array;
}

export interface SnapshotTable {
  readonly offset: number;
  /** Bytes the table occupies (QEMU's snapshots_size): from its offset to the end of the last entry, entries 8-aligned. */
  readonly byteLength: number;
  readonly snapshots: readonly Snapshot[];
}

export type BitmapTableEntryKind = 'zeros' | 'ones' | 'data' | 'invalid';

/** One bitmap directory entry (spec: "Bitmaps extension") with its table and data summary. */
export interface Bitmap {
  readonly index: number;
  /** File offset of this directory entry. */
  readonly entryOffset: number;
  readonly entryLength: number;
  readonly name: string;
  /** Raw bytes of the name, up to the first NUL (QEMU keeps it as a C string). */
  readonly nameBytes: Uint8Array;
  readonly flags: number;
  readonly inUse: boolean;
  readonly auto: boolean;
  readonly extraDataCompatible: boolean;
  readonly type: number;
  readonly granularityBits: number;
  readonly tableOffset: bigint;
  readonly tableSize: number;
  readonly extraDataSize: number;
  readonly extraData: Uint8Array;
  /** The seed's proposal: bitmap_table_offset 0 and bitmap_table_size 0 — empty, owns no cluster. */
  readonly zeroOffsetEmpty: boolean;
  /** bitmap_table_offset 1: the seed's open question, "all bits set". */
  readonly offsetOneAllSet: boolean;
  /** Number of bits: ceil(virtual size / granularity). */
  readonly bitCount: number;
  /** Raw bitmap table entries (null when the table was not read). */
  readonly table: BigUint64Array | null;
  /** Counts of table entries by kind. */
  readonly entryKinds: Readonly<Record<BitmapTableEntryKind, number>>;
  /** Set bits over the whole bitmap (data clusters read + all-ones entries), or null if unknown. */
  readonly setBits: number | null;
  /** Set-bit counts in `strip.length` equal buckets over the guest disk (for the dirty strip). */
  readonly strip: Uint32Array;
  /** Problems QEMU would refuse the image for (qcow2-bitmap.c check_constraints and friends). */
  readonly qemuRefuses: readonly string[];
}

export interface BitmapDirectory {
  readonly offset: number;
  readonly byteLength: number;
  readonly bitmaps: readonly Bitmap[];
}

export interface LuksKeySlot {
  readonly index: number;
  readonly active: boolean;
  readonly iterations: number;
  readonly stripes: number;
  /** Key material offset in 512-byte sectors, relative to the LUKS header. */
  readonly keyMaterialOffset: number;
}

/** The LUKS v1 header the FDE extension points at (no key needed to read it). */
export interface LuksHeader {
  readonly offset: number;
  readonly length: number;
  readonly version: number;
  readonly cipherName: string;
  readonly cipherMode: string;
  readonly hashSpec: string;
  /** payload offset in 512-byte sectors. */
  readonly payloadOffset: number;
  readonly keyBytes: number;
  readonly masterKeyIterations: number;
  readonly uuid: string;
  readonly slots: readonly LuksKeySlot[];
}

/** Everything read from the image's fixed structures, before tables are scanned. */
export interface Structures {
  readonly fileSize: number;
  readonly header: Header;
  readonly extensions: Extensions;
  readonly backingFile: string | null;
  /** Raw bytes of the backing file name, up to the first NUL (for QEMU-exact decoding). */
  readonly backingFileBytes?: Uint8Array;
  readonly luks: LuksHeader | null;
  readonly snapshotTable: SnapshotTable | null;
  readonly bitmapDirectory: BitmapDirectory | null;
  /** Active L1 table entries (raw), or empty when unreadable. */
  readonly l1: BigUint64Array;
  /** Snapshot L1 tables, index-aligned with snapshotTable.snapshots (null where unreadable). */
  readonly snapshotL1: readonly (BigUint64Array | null)[];
}

export type { Finding };
