// What the cluster map's tooltip says about the bucket under the pointer: for one cluster its byte
// range, role, stored refcount and owner; for a bucket of many clusters (zoomed out) the exact number
// of clusters of each role in it, highest drawing priority first. Pure: the React tooltip only lays
// these lines out.

import { ROLE_INFO } from '../format';
import { FREED_BASE, PRIORITY, bucketExtent, countBucket } from './lod';
import { formatBytes, hex } from '../format';
import type { Grid } from './layout';

interface TooltipRow {
  readonly role: number;
  readonly label: string;
  readonly clusters: number;
  readonly bytes: string;
}

export interface TooltipModel {
  /** Byte range of the first..last cluster: "0x30000 – 0x3ffff". */
  readonly range: string;
  /** "cluster 3" or "64 clusters (8 × 8 block, rows 0–7)". */
  readonly what: string;
  /** One row per role present, highest priority first; a single row for one cluster. */
  readonly rows: readonly TooltipRow[];
  /** Stored refcount of a single cluster, when known. */
  readonly refcount: number | null;
  /** Owner line from the app's describe(), for a single cluster. */
  readonly owner: string | null;
  /** The cluster, when the bucket is one cluster. */
  readonly cluster: number | null;
}

/** Label of a role byte, including bytes that are no known role. */
export function roleLabel(role: number): string {
  const was = role >= FREED_BASE ? ROLE_INFO[role - FREED_BASE] : undefined;
  if (was) return `${ROLE_INFO[0]!.label}, once ${was.label}`;
  return ROLE_INFO[role]?.label ?? `unknown role ${role}`;
}

/** Role bytes in the order a bucket's counts are listed: by drawing priority, then unknown bytes. */
const ORDER: readonly number[] = (() => {
  const known = [...PRIORITY].reverse() as number[];
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) if (!known.includes(b)) rest.push(b);
  return [...known, ...rest];
})();

export function tooltipFor(
  roles: Uint8Array,
  grid: Grid,
  clusterSize: number,
  level: number,
  row: number,
  col: number,
  refcounts: Uint16Array | Uint32Array | null = null,
  describe: ((cluster: number) => string) | null = null,
): TooltipModel | null {
  const e = bucketExtent(grid, level, row, col);
  if (!e) return null;
  const counts = countBucket(roles, grid, e);
  const rows: TooltipRow[] = [];
  for (const r of ORDER) {
    const n = counts[r] as number;
    if (n > 0) rows.push({ role: r, label: roleLabel(r), clusters: n, bytes: formatBytes(n * clusterSize) });
  }
  const range = `${hex(e.first * clusterSize)} – ${hex((e.last + 1) * clusterSize - 1)}`;
  if (e.first === e.last) {
    const c = e.first;
    const rc = refcounts && c < refcounts.length ? (refcounts[c] as number) : null;
    return { range, what: `cluster ${c}`, rows, refcount: rc, owner: describe ? describe(c) : null, cluster: c };
  }
  const total = rows.reduce((a, r) => a + r.clusters, 0);
  const w = e.colTo - e.colFrom;
  const h = e.rowTo - e.rowFrom;
  const block = h === 1 ? `clusters ${e.first}–${e.last}` : `${h} rows × ${w} columns from cluster ${e.first}`;
  return { range, what: `${total} clusters (${block})`, rows, refcount: null, owner: null, cluster: null };
}
