// The role of every host cluster of the file (roles.ts) and a description of its owner for the
// cluster map's tooltips. Roles are claimed while qemu-img check counts references (state.ts)
// and settled once stored and expected refcounts are compared. Owners are described from a compact
// index: the guest cluster of each data host cluster (check.owner) plus the small structures,
// rescanned on demand; nothing here holds an object per cluster.

import type { CheckResult } from './check';
import { hex, tableEntryOffset, type Structures } from '../qcow2';
import { formatBytesExact } from '../text';
import { guestOwner, OWNER_UNKNOWN } from './owners';
import { Role, ROLE_INFO, type RoleId } from './roles';
import * as S from '../qcow2/spec';

const L2_FAMILY: readonly number[] = [Role.L2_ACTIVE, Role.L2_SNAPSHOT, Role.L2_SHARED];
const DATA_FAMILY: readonly number[] = [Role.DATA, Role.DATA_SNAPSHOT, Role.DATA_SHARED];

/** The role of a cluster claimed as `a` and then as `b` (a !== b, both not FREE). */
export function claimRole(a: number, b: RoleId): RoleId {
  if (L2_FAMILY.includes(a) && L2_FAMILY.includes(b)) return Role.L2_SHARED;
  if (DATA_FAMILY.includes(a) && DATA_FAMILY.includes(b)) return Role.DATA_SHARED;
  return Role.MULTI_OWNED;
}

/**
 * The settled role of a cluster claimed as `r` once its stored refcount `s` and expected refcount
 * `e` are known: unreferenced clusters with a refcount are LEAKED (ORPHANED when `tablesMissing`:
 * the tables that could reference them lie past the end of the file), clusters referenced more
 * often than their refcount says are CORRUPT, clusters in use with a refcount above their
 * references OVERCOUNTED (kept as claimed when tables are missing: those may hold the other
 * references); data with refcount > 1 is shared. Unreferenced clusters without a refcount stay FREE
 * (check.ts turns those after the highest cluster in use that no refcount block covers into the TAIL).
 * `lazy`: the image's dirty bit is set (lazy refcounts, not closed cleanly). A refcount below the
 * references is then one QEMU had not written yet, which it writes from the references on its next
 * read-write open: the cluster keeps its owner's role, settled as if its refcount were `e`
 * (qemu-img check still counts the mismatch; the verdict calls it expected).
 */
export function settleRole(r: number, s: number, e: number, tablesMissing = false, lazy = false): number {
  if (r === Role.FREE) return s > 0 ? (tablesMissing ? Role.ORPHANED : Role.LEAKED) : Role.FREE;
  if (s < e) {
    if (!lazy) return Role.CORRUPT;
    s = e;
  }
  if (s > e && !tablesMissing) return Role.OVERCOUNTED;
  if (r === Role.DATA && s > 1) return Role.DATA_SHARED;
  return r;
}

export interface RoleCount {
  readonly role: RoleId;
  readonly key: string;
  readonly label: string;
  readonly clusters: number;
  readonly bytes: number;
}

/**
 * Clusters per role id (256 counters), counted once per roles array: the space accounting, the
 * saved analysis and the safety verdict all ask, and each pass is 16.7 M bytes on a 1 TiB image.
 * Contract: a roles array is final once counted (runCheck settles every role before it returns;
 * nothing writes to a result's roles afterwards).
 */
export function roleClusterCounts(roles: Uint8Array): Int32Array {
  let clusters = counted.get(roles);
  if (clusters === undefined) {
    clusters = countRoles(roles);
    counted.set(roles, clusters);
  }
  return clusters;
}

const counted = new WeakMap<Uint8Array, Int32Array>();

function countRoles(roles: Uint8Array): Int32Array {
  // Int32 counters (a file has at most 2^28 clusters here). Four role bytes at a time where the
  // array is aligned: four equal bytes (long runs of one role are the common case) count at once.
  const clusters = new Int32Array(256);
  let k = 0;
  if (roles.byteOffset % 4 === 0) {
    const words = new Uint32Array(roles.buffer, roles.byteOffset, roles.length >> 2);
    for (let j = 0; j < words.length; j++) {
      const w = words[j]!;
      const b = w & 0xff;
      if (w === Math.imul(b, 0x01010101) >>> 0) {
        let e = j + 1;
        while (e < words.length && words[e] === w) e++;
        clusters[b]! += 4 * (e - j);
        j = e - 1;
      } else {
        clusters[b]!++;
        clusters[(w >>> 8) & 0xff]!++;
        clusters[(w >>> 16) & 0xff]!++;
        clusters[w >>> 24]!++;
      }
    }
    k = words.length * 4;
  }
  for (; k < roles.length; k++) clusters[roles[k]!]!++;
  return clusters;
}

/** Clusters and bytes per role; the last cluster counts only the bytes the file really has. */
export function roleCounts(roles: Uint8Array, clusterSize: number, fileSize: number): RoleCount[] {
  const clusters = roleClusterCounts(roles);
  const bytes = Array.from(clusters, (n) => n * clusterSize);
  if (roles.length > 0) {
    const last = roles[roles.length - 1]!;
    bytes[last] = bytes[last]! - (roles.length * clusterSize - fileSize);
  }
  return ROLE_INFO.map((ri) => ({ role: ri.id, key: ri.key, label: ri.label, clusters: clusters[ri.id]!, bytes: bytes[ri.id]! }));
}

/** Run-length runs of equal roles: [role, first cluster, cluster count] triples. */
export function roleRuns(roles: Uint8Array): [RoleId, number, number][] {
  const out: [RoleId, number, number][] = [];
  let k = 0;
  while (k < roles.length) {
    const r = roles[k]! as RoleId;
    let j = k + 1;
    while (j < roles.length && roles[j] === r) j++;
    out.push([r, k, j - k]);
    k = j;
  }
  return out;
}

/** A guest span, exact (a rounded figure would name the wrong place): "0–512 MiB", "1.5 GiB–2 GiB". */
const span = (a: number, b: number) => `${a === 0 ? '0' : formatBytesExact(a)}–${formatBytesExact(b)}`;

/** Owner phrases listed for one cluster at most (a hostile image can give one cluster thousands). */
const MAX_OWNERS = 16;

export interface DescribeContext {
  readonly structures: Structures;
  readonly check: CheckResult;
}

/** Everything that references host cluster `k` and how, one phrase each (for tooltips). */
export function clusterOwners(ctx: DescribeContext, k: number): string[] {
  const { structures: s, check: c } = ctx;
  const h = s.header;
  const cs = c.clusterSize;
  const lo = k * cs;
  const hi = lo + cs;
  const out: string[] = [];
  const overlaps = (off: number, len: number) => len > 0 && off < hi && off + len > lo;
  const entries = (off: number, len: number, entry: number) => {
    const a = Math.max(0, Math.floor((lo - off) / entry));
    const b = Math.min(len / entry, Math.ceil((hi - off) / entry)) - 1;
    return `entries ${a}–${b}`;
  };
  if (k === 0) out.push('header and header extensions');
  const l1Off = Number(h.l1TableOffset);
  if (overlaps(l1Off, h.l1Size * 8)) out.push(`active L1 table (${entries(l1Off, h.l1Size * 8, 8)})`);
  const snaps = s.snapshotTable?.snapshots ?? [];
  for (let i = 0; i < snaps.length && out.length < MAX_OWNERS; i++) {
    const sn = snaps[i]!;
    const off = Number(sn.l1TableOffset);
    if (overlaps(off, sn.l1Size * 8)) out.push(`L1 table of snapshot ${sn.id} '${sn.name}' (${entries(off, sn.l1Size * 8, 8)})`);
  }
  if (s.snapshotTable && overlaps(s.snapshotTable.offset, s.snapshotTable.byteLength)) out.push('snapshot table');
  const rtOff = Number(h.refcountTableOffset);
  if (overlaps(rtOff, h.refcountTableClusters * cs)) out.push(`refcount table (${entries(rtOff, h.refcountTableClusters * cs, 8)})`);
  const perBlock = (cs * 8) / 2 ** h.refcountOrder;
  const blocks = c.reftable.offsets;
  for (let i = 0; i < blocks.length && out.length < MAX_OWNERS; i++) {
    const off = blocks[i]!;
    if (off !== 0 && overlaps(off, cs)) out.push(`refcount block ${i}: refcounts of host clusters ${i * perBlock}–${(i + 1) * perBlock - 1}`);
  }
  const u = c.l2Tables.get(lo);
  if (u) {
    const l2Span = (cs / (h.incompatibleFeatures & 16n ? 16 : 8)) * cs;
    if (u.firstL1 >= 0) out.push(`L2 table for guest ${span(u.firstL1 * l2Span, (u.firstL1 + 1) * l2Span)} (active L1 entry ${u.firstL1}${u.activeRefs > 1 ? `, and ${u.activeRefs - 1} more` : ''})`);
    if (u.firstSnap >= 0) out.push(`L2 table of snapshot ${s.snapshotTable?.snapshots[u.firstSnap]?.id ?? u.firstSnap} (L1 entry ${u.firstSnapL1}${u.snapRefs > 1 ? `, ${u.snapRefs} snapshot references` : ''})`);
  }
  const crypt = s.extensions.cryptoHeader;
  if (crypt && overlaps(Number(crypt.headerOffset), Number(crypt.headerLength))) out.push('LUKS header');
  const bext = s.extensions.bitmaps;
  if (bext && overlaps(Number(bext.directoryOffset), Number(bext.directorySize))) out.push('bitmap directory');
  // Bitmaps naming the same table are described together; each distinct table is scanned once.
  const byTable = new Map<string, { names: string[]; table: BigUint64Array | null; offset: bigint; size: number }>();
  for (const b of s.bitmapDirectory?.bitmaps ?? []) {
    const key = `${b.tableOffset}:${b.tableSize}`;
    const t = byTable.get(key);
    if (t) t.names.push(b.name);
    else byTable.set(key, { names: [b.name], table: b.table, offset: b.tableOffset, size: b.tableSize });
  }
  for (const t of byTable.values()) {
    const who = t.names.length > 1 ? `bitmaps '${t.names[0]}' and ${t.names.length - 1} more` : `bitmap '${t.names[0]}'`;
    if (t.offset !== 0n && overlaps(Number(t.offset), t.size * 8)) out.push(`table of ${who}`);
    const e = t.table;
    // An entry with offset 0 owns no cluster (all zeros / all ones): never match cluster 0 with it.
    if (!e || lo === 0) continue;
    for (let i = 0; i < e.length && out.length < MAX_OWNERS; i++) {
      if (tableEntryOffset(e[i]!) === lo) out.push(`data of ${who}, bytes ${i * cs}–${(i + 1) * cs - 1} of the bitmap`);
    }
  }
  const guest = guestOwner(c.owner, k);
  const role = c.roles[k];
  const compressed = out.length < MAX_OWNERS ? compressedAt(c, lo, hi, out) : 0;
  if (compressed === 0 && guest > 0) {
    const whose = role === Role.DATA_SNAPSHOT ? 'held only by snapshots' : role === Role.DATA_SHARED ? 'shared' : 'active';
    if (role === Role.COMPRESSED) out.push(`compressed guest cluster ${hex((guest - 1) * cs)}`);
    else out.push(guest === OWNER_UNKNOWN ? `guest data (${whose})` : `data of guest offset ${hex((guest - 1) * cs)} (${whose})`);
  }
  return out;
}

/** Adds the compressed guest clusters whose bytes lie in [lo, hi); returns how many. */
function compressedAt(c: CheckResult, lo: number, hi: number, out: string[]): number {
  const ix = c.compressed;
  // Entries are sorted by host offset and none is longer than two clusters.
  let a = 0;
  let b = ix.n;
  const from = lo - 2 * c.clusterSize;
  while (a < b) {
    const m = (a + b) >> 1;
    if (ix.host[m]! < from) a = m + 1;
    else b = m;
  }
  let n = 0;
  for (let i = a; i < ix.n && ix.host[i]! < hi && out.length < MAX_OWNERS; i++) {
    const s = ix.host[i]!;
    const e = s + ix.length[i]!;
    if (e <= lo) continue;
    out.push(`compressed guest cluster ${hex(ix.guest[i]! * c.clusterSize)}, bytes ${Math.max(s, lo) - lo}–${Math.min(e, hi) - lo - 1} of this host cluster`);
    n++;
  }
  return n;
}

/** One line for a tooltip: the role, the stored refcount, and who references the cluster. */
export function describeCluster(ctx: DescribeContext, k: number): string {
  const c = ctx.check;
  if (k < 0 || k >= c.roles.length) return `cluster ${k} is outside the file`;
  const role = c.roles[k]!;
  const label = ROLE_INFO[role]?.label ?? 'unknown';
  const stored = k < c.storedRefcounts.length ? c.storedRefcounts[k]! : 0;
  const owners = clusterOwners(ctx, k);
  const shown = owners.slice(0, MAX_OWNERS);
  const who = owners.length === 0 ? 'nothing references it' : shown.join('; ') + (owners.length > shown.length ? `; and ${owners.length - shown.length} more` : '');
  // Referenced with refcount 0 in a dirty image (lazy refcounts): a refcount QEMU had not written.
  const lazy = stored === 0 && owners.length > 0 && (ctx.structures.header.incompatibleFeatures & S.INCOMPAT_DIRTY) !== 0n;
  return `cluster ${k} at ${hex(k * c.clusterSize)}: ${label}, refcount ${stored}${lazy ? ' (not written yet: lazy refcounts, dirty bit set)' : ''} — ${who}`;
}
