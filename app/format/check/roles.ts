// The role of a host cluster: who owns it. One byte per host cluster in a Uint8Array (cluster-roles.ts),
// never an object per cluster. The numbering is part of the worker protocol and the saved-analysis
// format: append new roles, never renumber.

export const Role = {
  /**
   * Refcount 0 (a refcount block covers it) and referenced by nothing, wherever it lies: a freed hole
   * inside the file, or free at the end (after the highest cluster in use: a truncation would drop it).
   */
  FREE: 0,
  HEADER: 1,
  L1_ACTIVE: 2,
  L1_SNAPSHOT: 3,
  /** L2 table referenced only by the active L1. */
  L2_ACTIVE: 4,
  /** L2 table referenced only by snapshot L1 tables. */
  L2_SNAPSHOT: 5,
  /** L2 table referenced by the active L1 and at least one snapshot. */
  L2_SHARED: 6,
  REFCOUNT_TABLE: 7,
  REFCOUNT_BLOCK: 8,
  SNAPSHOT_TABLE: 9,
  BITMAP_DIRECTORY: 10,
  BITMAP_TABLE: 11,
  BITMAP_DATA: 12,
  /** Guest data of the active L1, refcount 1. */
  DATA: 13,
  /** Guest data with refcount > 1 (shared by the active image and snapshots). */
  DATA_SHARED: 14,
  /** Guest data referenced only by snapshots: what deleting them would free. */
  DATA_SNAPSHOT: 15,
  /** A host cluster holding (part of) compressed guest clusters. */
  COMPRESSED: 16,
  LUKS_HEADER: 17,
  /** Refcount > 0 but referenced by nothing (qemu-img check: leaked; a repair frees it). */
  LEAKED: 18,
  /** Referenced more often than its refcount says (qemu-img check: corruption), or damaged. */
  CORRUPT: 19,
  /** Claimed by two structures that must not share a cluster (e.g. an L2 table that is also data). */
  MULTI_OWNED: 20,
  /** Past image-end-offset and covered by no refcount block (no refcount entry describes it); nothing references it. */
  TAIL: 21,
  /** The last, partial cluster of a file cut short while something references all of it. */
  PAST_END: 22,
  /** Refcount > 0, referenced by nothing found, while tables that could reference it lie past the end of the file. */
  ORPHANED: 23,
  /** In use, with a refcount above its references (qemu-img check counts it as leaked; a repair frees nothing). */
  OVERCOUNTED: 24,
} as const;

export type RoleId = (typeof Role)[keyof typeof Role];

export const ROLE_COUNT = 25;

export interface RoleInfo {
  readonly id: RoleId;
  readonly key: keyof typeof Role;
  readonly label: string;
  /** Damage roles are drawn on top of everything else at low zoom. */
  readonly damage: boolean;
}

export const ROLE_INFO: readonly RoleInfo[] = [
  { id: Role.FREE, key: 'FREE', label: 'free (refcount 0)', damage: false },
  { id: Role.HEADER, key: 'HEADER', label: 'header', damage: false },
  { id: Role.L1_ACTIVE, key: 'L1_ACTIVE', label: 'L1 table (active)', damage: false },
  { id: Role.L1_SNAPSHOT, key: 'L1_SNAPSHOT', label: 'L1 table (snapshot)', damage: false },
  { id: Role.L2_ACTIVE, key: 'L2_ACTIVE', label: 'L2 table (active)', damage: false },
  { id: Role.L2_SNAPSHOT, key: 'L2_SNAPSHOT', label: 'L2 table (snapshot only)', damage: false },
  { id: Role.L2_SHARED, key: 'L2_SHARED', label: 'L2 table (shared)', damage: false },
  { id: Role.REFCOUNT_TABLE, key: 'REFCOUNT_TABLE', label: 'refcount table', damage: false },
  { id: Role.REFCOUNT_BLOCK, key: 'REFCOUNT_BLOCK', label: 'refcount block', damage: false },
  { id: Role.SNAPSHOT_TABLE, key: 'SNAPSHOT_TABLE', label: 'snapshot table', damage: false },
  { id: Role.BITMAP_DIRECTORY, key: 'BITMAP_DIRECTORY', label: 'bitmap directory', damage: false },
  { id: Role.BITMAP_TABLE, key: 'BITMAP_TABLE', label: 'bitmap table', damage: false },
  { id: Role.BITMAP_DATA, key: 'BITMAP_DATA', label: 'bitmap data', damage: false },
  { id: Role.DATA, key: 'DATA', label: 'guest data', damage: false },
  { id: Role.DATA_SHARED, key: 'DATA_SHARED', label: 'guest data (shared)', damage: false },
  { id: Role.DATA_SNAPSHOT, key: 'DATA_SNAPSHOT', label: 'guest data (snapshots only)', damage: false },
  { id: Role.COMPRESSED, key: 'COMPRESSED', label: 'compressed data', damage: false },
  { id: Role.LUKS_HEADER, key: 'LUKS_HEADER', label: 'LUKS header', damage: false },
  { id: Role.LEAKED, key: 'LEAKED', label: 'leaked (nothing references it: a repair frees it)', damage: true },
  { id: Role.CORRUPT, key: 'CORRUPT', label: 'corrupt / damaged', damage: true },
  { id: Role.MULTI_OWNED, key: 'MULTI_OWNED', label: 'multiply owned', damage: true },
  { id: Role.TAIL, key: 'TAIL', label: 'tail: past image end, no refcount entry covers it', damage: false },
  { id: Role.PAST_END, key: 'PAST_END', label: 'cut by the end of the file (referenced past it)', damage: true },
  { id: Role.ORPHANED, key: 'ORPHANED', label: 'allocated, owner unknown: its table is past the end', damage: true },
  { id: Role.OVERCOUNTED, key: 'OVERCOUNTED', label: 'refcount too high on a cluster in use (a repair frees nothing)', damage: true },
];
