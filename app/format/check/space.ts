// Where the bytes of the file go ("why is this image so big?"): the file size split by the role of
// each host cluster (cluster-roles.ts), summing exactly to the file size (the last, partial cluster counts
// only its real bytes); what compression saved; what deleting each snapshot would free; and the
// cost and content of each persistent bitmap.

import type { CheckResult } from './check';
import { roleCounts } from './cluster-roles';
import type { Structures } from '../qcow2';
import { Role, type RoleId } from './roles';

export interface SpaceCategory {
  readonly key: string;
  readonly label: string;
  readonly clusters: number;
  readonly bytes: number;
}

export interface SnapshotSpace {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  /** Host clusters only this snapshot references: what deleting it would free. */
  readonly exclusiveClusters: number;
  readonly exclusiveBytes: number;
}

export interface BitmapSpace {
  readonly name: string;
  readonly granularity: number;
  readonly tableClusters: number;
  readonly dataClusters: number;
  readonly setBits: number | null;
  /** Guest bytes the set bits cover (clipped to the disk size), or null when unknown. */
  readonly dirtyBytes: number | null;
}

export interface SpaceAccounting {
  readonly fileSize: number;
  readonly clusterSize: number;
  /** Sums exactly to fileSize, in bytes and (with the partial last cluster) in clusters. */
  readonly categories: readonly SpaceCategory[];
  readonly compressed: {
    readonly hostClusters: number;
    readonly hostBytes: number;
    /** Compressed guest clusters found in all L2 tables (active and snapshots). */
    readonly guestClusters: number;
    readonly guestBytes: number;
    /** guestBytes - hostBytes: what compression saved (negative if it cost). */
    readonly savedBytes: number;
  };
  readonly snapshots: readonly SnapshotSpace[];
  readonly bitmaps: readonly BitmapSpace[];
}

const CATEGORIES: readonly { key: string; label: string; roles: readonly RoleId[] }[] = [
  { key: 'header', label: 'header', roles: [Role.HEADER] },
  { key: 'l1Active', label: 'L1 table (active)', roles: [Role.L1_ACTIVE] },
  { key: 'l1Snapshots', label: 'L1 tables (snapshots)', roles: [Role.L1_SNAPSHOT] },
  { key: 'l2', label: 'L2 tables', roles: [Role.L2_ACTIVE, Role.L2_SNAPSHOT, Role.L2_SHARED] },
  { key: 'refcountTable', label: 'refcount table', roles: [Role.REFCOUNT_TABLE] },
  { key: 'refcountBlocks', label: 'refcount blocks', roles: [Role.REFCOUNT_BLOCK] },
  { key: 'snapshotTable', label: 'snapshot table', roles: [Role.SNAPSHOT_TABLE] },
  { key: 'bitmapDirectory', label: 'bitmap directory', roles: [Role.BITMAP_DIRECTORY] },
  { key: 'bitmapTables', label: 'bitmap tables', roles: [Role.BITMAP_TABLE] },
  { key: 'bitmapData', label: 'bitmap data', roles: [Role.BITMAP_DATA] },
  { key: 'luksHeader', label: 'LUKS header', roles: [Role.LUKS_HEADER] },
  { key: 'liveData', label: 'live guest data', roles: [Role.DATA, Role.DATA_SHARED] },
  { key: 'snapshotData', label: 'guest data held only by snapshots', roles: [Role.DATA_SNAPSHOT] },
  { key: 'compressed', label: 'compressed guest data', roles: [Role.COMPRESSED] },
  { key: 'leaked', label: 'leaked clusters (nothing references them: a repair frees them)', roles: [Role.LEAKED] },
  { key: 'overcounted', label: 'refcount too high on clusters in use (a repair frees nothing)', roles: [Role.OVERCOUNTED] },
  { key: 'orphaned', label: 'allocated, owner unknown (their tables lie past the end of the file)', roles: [Role.ORPHANED] },
  { key: 'damaged', label: 'corrupt, multiply owned or cut by the end of the file', roles: [Role.CORRUPT, Role.MULTI_OWNED, Role.PAST_END] },
  { key: 'free', label: 'free clusters (refcount 0)', roles: [Role.FREE] },
  { key: 'tail', label: 'tail after image-end-offset that no refcount entry covers', roles: [Role.TAIL] },
];

export function accountSpace(s: Structures, check: CheckResult): SpaceAccounting {
  const cs = check.clusterSize;
  const fileSize = s.fileSize;
  const byRole = roleCounts(check.roles, cs, fileSize);
  const categories: SpaceCategory[] = CATEGORIES.map((c) => ({
    key: c.key,
    label: c.label,
    clusters: c.roles.reduce<number>((n, r) => n + byRole[r]!.clusters, 0),
    bytes: c.roles.reduce<number>((n, r) => n + byRole[r]!.bytes, 0),
  }));
  const covered = check.roles.length > 0 ? fileSize : 0;
  if (covered < fileSize) categories.push({ key: 'unknown', label: 'not analysed', clusters: Math.ceil(fileSize / cs), bytes: fileSize - covered });

  const comp = categories.find((c) => c.key === 'compressed')!;
  const guestClusters = check.compressed.n;
  const snapshots = (s.snapshotTable?.snapshots ?? []).map((sn) => {
    const n = check.snapshotExclusiveClusters[sn.index] ?? 0;
    return { index: sn.index, id: sn.id, name: sn.name, exclusiveClusters: n, exclusiveBytes: n * cs };
  });
  const diskSize = Number(s.header.size);
  const bitmaps = (s.bitmapDirectory?.bitmaps ?? []).map((b): BitmapSpace => {
    const granularity = 2 ** b.granularityBits;
    const off = Number(b.tableOffset);
    const tableClusters = b.tableSize > 0 && off % cs === 0 ? Math.ceil((b.tableSize * 8) / cs) : 0;
    return {
      name: b.name,
      granularity,
      tableClusters,
      dataClusters: b.entryKinds.data,
      setBits: b.setBits,
      dirtyBytes: b.setBits === null ? null : Math.min(b.setBits * granularity, diskSize),
    };
  });
  return {
    fileSize,
    clusterSize: cs,
    categories,
    compressed: {
      hostClusters: comp.clusters,
      hostBytes: comp.bytes,
      guestClusters,
      guestBytes: guestClusters * cs,
      savedBytes: guestClusters * cs - comp.bytes,
    },
    snapshots,
    bitmaps,
  };
}

/**
 * The free clusters after the highest cluster in use (a sub-kind of free, not a role of its own):
 * what truncating the file at image-end-offset would drop. Bytes count the partial last cluster's real bytes.
 */
export function freeAtEnd(roles: Uint8Array, highestCluster: number, clusterSize: number, fileSize: number): { clusters: number; bytes: number } {
  let clusters = 0;
  let bytes = 0;
  for (let k = highestCluster + 1; k < roles.length; k++) {
    if (roles[k] !== Role.FREE) continue;
    clusters++;
    bytes += Math.min(clusterSize, fileSize - k * clusterSize);
  }
  return { clusters, bytes };
}
