// What a free cluster (refcount 0, check/roles.ts FREE) held before it was freed: the kinds the
// classifier (classify.ts) names, and the runs it returns (one per stretch of equal kind and cause).

import { Role } from '../check/roles';

/** What a free cluster held, by its bytes and by what stale structures say of it. */
export type FreedKind =
  | 'l1-table'
  | 'l2-table'
  | 'refcount-block'
  | 'refcount-table'
  | 'snapshot-table'
  | 'bitmap-directory'
  | 'bitmap-table'
  | 'bitmap-data'
  | 'compressed-data'
  | 'data'
  | 'zeros'
  | 'unknown';

/** Every kind, in a fixed order: the index is the kind's number in FreedClassification.kinds. */
export const FREED_KINDS: readonly FreedKind[] = [
  'unknown', 'zeros', 'data', 'compressed-data', 'l1-table', 'l2-table', 'refcount-block', 'refcount-table',
  'snapshot-table', 'bitmap-directory', 'bitmap-table', 'bitmap-data',
];

/** One stretch of free clusters that held the same kind for the same cause. */
export interface FreedRun {
  /** File offset of the run's first cluster. */
  readonly offset: number;
  readonly clusters: number;
  /** Bytes of the file the run covers (the last, partial cluster counts its real bytes). */
  readonly bytes: number;
  readonly was: FreedKind;
  /** Why: the content test passed and/or the stale structure that names the cluster (of the run's first cluster). */
  readonly evidence: string;
  /** What freed it, when a stale structure says so ("table of removed bitmap 'big'"). */
  readonly freedBy?: string;
}

export interface FreedResult {
  /** Runs in file order, split wherever `was` or `freedBy` changes. */
  readonly runs: readonly FreedRun[];
  /** Free clusters classified (those read) and free clusters in the file. */
  readonly classified: number;
  readonly total: number;
  /** Set when not every free cluster was read: "classified the first N of M free clusters". */
  readonly note: string | null;
}

export const EMPTY_FREED: FreedResult = { runs: [], classified: 0, total: 0, note: null };

/** Free clusters read at most, in bytes (clusters beyond it are counted, not classified). */
export const MAX_FREED_BYTES = 64 * 1024 * 1024;
/** Free clusters read at most (small clusters: evidence strings stay bounded). */
export const MAX_FREED_CLUSTERS = 65536;
/** Free clusters tested for a compressed stream, in bytes of output at most (each test inflates up to a cluster). */
export const MAX_INFLATE_BYTES = 16 * 1024 * 1024;

/**
 * Entries of candidate tables kept at most (4 bytes each): 64 MiB of free clusters read as tables
 * hold up to 8 M; past this, further clusters are not tested as tables.
 */
export const MAX_STALE_REFERENCES = 1 << 22;

/** The role whose colour a freed cluster takes on the map ("what freed clusters held"); null for zeros and unknown. */
export const FREED_ROLE: Readonly<Record<FreedKind, number | null>> = {
  'l1-table': Role.L1_SNAPSHOT,
  'l2-table': Role.L2_SNAPSHOT,
  'refcount-block': Role.REFCOUNT_BLOCK,
  'refcount-table': Role.REFCOUNT_TABLE,
  'snapshot-table': Role.SNAPSHOT_TABLE,
  'bitmap-directory': Role.BITMAP_DIRECTORY,
  'bitmap-table': Role.BITMAP_TABLE,
  'bitmap-data': Role.BITMAP_DATA,
  'compressed-data': Role.COMPRESSED,
  data: Role.DATA_SNAPSHOT,
  zeros: null,
  unknown: null,
};

/** The run holding file offset `offset`, or null (binary search over runs in file order). */
export function freedRunAt(runs: readonly FreedRun[], offset: number): FreedRun | null {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (offset < r.offset) hi = mid - 1;
    else if (offset >= r.offset + r.bytes) lo = mid + 1;
    else return r;
  }
  return null;
}
