// What the panels say about an analysis, computed from it: the one-line verdict, qemu-img check's
// counts, the space rows, per-snapshot and per-bitmap space, the cluster a finding concerns and the
// owner of a cluster. Pure functions of the store's data (and, for owners, the registry's arrays).

import { analysisVerdict, Role, type Bitmap, type Finding, type RoleId, type Verdict as EngineVerdict } from '../format';
import { clusterOwners, describeCluster, tableEntryOffset } from '../format';
import type { ClusterArrays } from '../state/registry';
import type { FileEntry } from '../state/store';
import type { AnalysisResult } from '../worker/protocol';
import { formatBytes, plural } from './format';

export type Verdict = EngineVerdict | { readonly kind: 'pending'; readonly severity: 'pending'; readonly text: string; readonly more: readonly string[] };

/** The engine's verdict (the report's and the CLI's too), or what is still being read. */
export function verdict(file: FileEntry): Verdict {
  const r = file.result;
  if (!r) return { kind: 'pending', severity: 'pending', text: file.stage ? 'Checking…' : 'Reading…', more: [] };
  return analysisVerdict(r);
}

interface CountCell {
  /** qemu-img check's JSON key without dashes' meaning lost: 'leaks', 'image-end-offset', … */
  readonly key: string;
  readonly label: string;
  readonly value: number;
}

/** qemu-img check's counts, every one (qemu-img's JSON omits those that are zero). */
export function checkCounts(r: AnalysisResult): CountCell[] {
  const c = r.check.counts;
  return [
    { key: 'corruptions', label: 'corruptions', value: c.corruptions },
    { key: 'leaks', label: 'leaked clusters', value: c.leaks },
    { key: 'check-errors', label: 'check errors', value: c.checkErrors },
    { key: 'image-end-offset', label: 'image end offset', value: c.imageEndOffset },
    { key: 'total-clusters', label: 'guest clusters', value: c.totalClusters },
    { key: 'allocated-clusters', label: 'allocated', value: c.allocatedClusters },
    { key: 'fragmented-clusters', label: 'fragmented', value: c.fragmentedClusters },
    { key: 'compressed-clusters', label: 'compressed', value: c.compressedClusters },
  ];
}

/** The host cluster a finding concerns: its own, or the one holding its file offset. */
export function findingCluster(f: Finding, clusterSize: number): number | null {
  if (f.cluster !== undefined) return f.cluster;
  if (f.offset === null || clusterSize <= 0) return null;
  return Math.floor(f.offset / clusterSize);
}

/** Who owns a host cluster, in words, or null while the arrays are missing. */
export function describeOwner(r: AnalysisResult, arrays: ClusterArrays | undefined, cluster: number): string | null {
  if (!arrays?.roles || !arrays.storedRefcounts) return null;
  const check = { ...r.check, roles: arrays.roles, storedRefcounts: arrays.storedRefcounts };
  return describeCluster({ structures: r.structures, check }, cluster);
}

/** Host clusters only each snapshot holds (what deleting it would free), by snapshot index. */
export function snapshotSpace(r: AnalysisResult): ReadonlyMap<number, number> {
  return new Map(r.space.snapshots.map((s) => [s.index, s.exclusiveClusters]));
}

export interface BitmapSpaceRow {
  readonly tableClusters: number;
  readonly dataClusters: number;
}

/** Clusters each bitmap costs, index-aligned with the bitmap directory. */
export function bitmapSpace(r: AnalysisResult): readonly BitmapSpaceRow[] {
  return r.space.bitmaps;
}

export interface SpaceRow {
  readonly key: string;
  readonly label: string;
  readonly bytes: number;
  readonly clusters: number;
  /** The role whose colour the row takes on the map, or null. */
  readonly role: RoleId | null;
}

const CATEGORY_ROLE: Readonly<Record<string, RoleId>> = {
  header: Role.HEADER,
  l1Active: Role.L1_ACTIVE,
  l1Snapshots: Role.L1_SNAPSHOT,
  l2: Role.L2_ACTIVE,
  refcountTable: Role.REFCOUNT_TABLE,
  refcountBlocks: Role.REFCOUNT_BLOCK,
  snapshotTable: Role.SNAPSHOT_TABLE,
  bitmapDirectory: Role.BITMAP_DIRECTORY,
  bitmapTables: Role.BITMAP_TABLE,
  bitmapData: Role.BITMAP_DATA,
  luksHeader: Role.LUKS_HEADER,
  liveData: Role.DATA,
  snapshotData: Role.DATA_SNAPSHOT,
  compressed: Role.COMPRESSED,
  leaked: Role.LEAKED,
  overcounted: Role.OVERCOUNTED,
  orphaned: Role.ORPHANED,
  damaged: Role.CORRUPT,
  free: Role.FREE,
  tail: Role.TAIL,
};

/** Where the file's bytes go, largest first; the rows sum to the file size. */
export function spaceRows(r: AnalysisResult): SpaceRow[] {
  return r.space.categories
    .map((c) => ({ key: c.key, label: c.label, bytes: c.bytes, clusters: c.clusters, role: CATEGORY_ROLE[c.key] ?? null }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** Sentences under the space table: what compression saved. */
export function spaceNotes(r: AnalysisResult): string[] {
  const c = r.space.compressed;
  const out: string[] = [];
  if (c.guestClusters > 0) {
    const saved = c.savedBytes >= 0 ? `saving ${formatBytes(c.savedBytes)}` : `costing ${formatBytes(-c.savedBytes)} more`;
    out.push(`${plural(c.guestClusters, 'compressed guest cluster')} (${formatBytes(c.guestBytes)}) stored in ${formatBytes(c.hostBytes)}, ${saved}.`);
  }
  const freed = freedSummary(r);
  if (freed) out.push(freed);
  return out;
}

/** "What the free clusters held: 15 zeros, 2 bitmap-table, 1 l1-table" (the report lists the runs). */
export function freedSummary(r: AnalysisResult): string | null {
  const f = r.freed;
  if (!f || f.runs.length === 0) return null;
  const by = new Map<string, number>();
  for (const x of f.runs) by.set(x.was, (by.get(x.was) ?? 0) + x.clusters);
  const parts = [...by].sort((a, b) => b[1] - a[1]).map(([was, n]) => `${n} ${was}`);
  return `What the free clusters held: ${parts.join(', ')}${f.note ? ` (${f.note})` : ''}; "Copy report" lists them.`;
}

/** The host clusters a bitmap owns (its table and data clusters), as ranges for the map. */
export function bitmapClusterRanges(b: Bitmap, clusterSize: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  if (clusterSize <= 0) return out;
  const off = Number(b.tableOffset);
  if (b.tableSize > 0 && off > 1) out.push({ start: Math.floor(off / clusterSize), end: Math.ceil((off + b.tableSize * 8) / clusterSize) });
  if (b.table) {
    for (const e of b.table) {
      const data = tableEntryOffset(e);
      if (data !== 0) out.push({ start: Math.floor(data / clusterSize), end: Math.floor(data / clusterSize) + 1 });
    }
  }
  return out;
}

/** Findings by severity. */
export function findingSummary(findings: readonly Finding[]): Record<Finding['severity'], number> {
  const out = { error: 0, warning: 0, info: 0 };
  for (const f of findings) out[f.severity]++;
  return out;
}

/** The owner phrase alone ("L2 table for guest 0–512 MiB (active L1 entry 0)"), for the map tooltip. */
export function ownerPhrase(r: AnalysisResult, arrays: ClusterArrays | undefined, cluster: number): string | null {
  if (!arrays?.roles || !arrays.storedRefcounts) return null;
  const check = { ...r.check, roles: arrays.roles, storedRefcounts: arrays.storedRefcounts };
  const owners = clusterOwners({ structures: r.structures, check }, cluster);
  return owners.length ? owners.join('; ') : null;
}
