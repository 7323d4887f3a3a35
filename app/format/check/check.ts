// qemu-img check 7.2, read-only (block/qcow2.c qcow2_co_check_locked; block/qcow2-refcount.c
// qcow2_check_refcounts): expected refcounts rebuilt from every reference, compared with the
// stored ones (leaks, corruptions, unreadable refcounts), OFLAG_COPIED checked, allocation and
// fragmentation counted over the active L1. The same pass settles the role of every host cluster
// (cluster-roles.ts) and collects the active L2 tables' runs for the guest map (guest/block-status.ts).

import { CheckState } from './state';
import { checkRefblocks, checkSnapshotEntries, l1ForCheck, referenceMetadata, snapshotTableFailure } from './metadata';
import { walkL1, type L2Use } from './l1-tables';
import { scanL2 } from './l2-tables';
import { CompressedIndex } from './compressed-index';
import { qemuCheckJson, type CheckCounts, type QemuCheckJson } from '../qemu-img';
import { Findings, hex, qemuText, geometry, type Structures, loadStoredRefcounts, readReftable, refcountGeometry, type StoredRefcountArray, type Reftable, EMPTY_REFTABLE, swap16, tableEntryOffset, type ByteSource, type FindingCode } from '../qcow2';
import { MAX_MAP_RANGES, qcow2Layer, resolveChain, type MapRange, type RunList, backingLayer, type OpenBacking } from '../guest';
import { settleRole } from './cluster-roles';
import { refcountSkipper } from './refcount-skip';
import { NO_OWNERS, type OwnerIndex } from './owners';
import { Role } from './roles';
import { diagnoseTruncation, reportTruncation } from './truncation';
import { UsageTally, changedRange, ownerMasks, ownerMasksInto, unionMask, type ClusterUsage, type OwnerSummary } from './usage';
import * as S from '../qcow2/spec';


/** How `failure` starts when QEMU would not open the image at all. */
export const REFUSED = 'Could not open the image:';

/** Host clusters analysed at most (2^28: a 1 TiB file of 4 KiB clusters, about 3 GiB of arrays). */
export const MAX_CHECK_CLUSTERS = 1 << 28;
/** L2 tables to scan at least for onOwners to be told (fewer are read before a map could show it). */
export const OWNER_REFINE_MIN_TABLES = 64;
/** onOwners calls during the L2 scan: after each this-th of the tables (not after the last). */
export const OWNER_REFINES = 4;

export interface CheckOptions {
  readonly onProgress?: (done: number, total: number) => void;
  /** Refcount blocks read of those to read, as they arrive (before any L2 table: the early map's phase). */
  readonly onRefcountProgress?: (done: number, total: number) => void;
  /** Opens a backing file by the name its overlay records (for the guest map's lower layers). */
  readonly openBacking?: OpenBacking;
  /** The name qemu-img would print as "filename" (default: the source's name). */
  readonly filename?: string;
  /** Told which clusters are in use as soon as the refcount blocks are read (before any L2 table). */
  readonly onUsage?: (usage: ClusterUsage) => void;
  /**
   * Told the owners claimed so far, per usage bucket, while the L2 tables are read (with onUsage,
   * when there are at least OWNER_REFINE_MIN_TABLES of them): once the L1 tables have been walked
   * (the L2 tables' own clusters), then after each OWNER_REFINES-th of the L2 tables. Each call
   * counts again only the buckets holding roles written since the call before (a word at a time
   * where a run of one role fills it). `roles`: the roles as the walk has them so far (read it
   * during the call only; nothing may write to it).
   */
  readonly onOwners?: (owners: OwnerSummary, roles: Uint8Array) => void;
  /**
   * Told the roles (CheckResult.roles, the same array) once they are final: nothing after this call
   * changes them (the rest of the check and the analysis only read them), so a copy taken now is
   * the result's roles. Called once, before the OFLAG_COPIED pass and the guest map. `spare`, when
   * not null, is memory the check is done with (the expected refcounts' counters, already written
   * to, so free of first-touch page faults) of at least roles.length bytes: the callee may copy
   * the roles into it and move it elsewhere; nothing reads it after this call.
   */
  readonly onRoles?: (roles: Uint8Array, spare: ArrayBuffer | null) => void;
  /**
   * The result's storedRefcounts may be one byte per cluster (a Uint8Array) when every stored value
   * fits: half the memory for 16-bit refcounts. For callers that index the array and do not tell
   * it from the roles by type (the CLI); the page's worker protocol wants a RefcountArray.
   */
  readonly narrowRefcounts?: boolean;
}

export interface CheckResult {
  /**
   * qemu-img check --output=json, keys in qemu-img's order; null when qemu-img prints none (the
   * check fails, or QEMU refuses to open the image).
   */
  readonly json: QemuCheckJson | null;
  /** qemu-img check's exit code: 0 clean, 1 check failed or image refused, 2 corruptions, 3 leaks only. */
  readonly exitCode: 0 | 1 | 2 | 3;
  /** qemu-img's "Check failed: …" reason, or REFUSED + QEMU's reason for not opening it; null when it checks. */
  readonly failure: string | null;
  /** Our own counts, also when qemu-img would not get to count (see `failure`). */
  readonly counts: CheckCounts;
  readonly clusterSize: number;
  /** Highest cluster that is referenced or has a refcount (image-end-offset / cluster size - 1). */
  readonly highestCluster: number;
  /** One Role per host cluster of the file. */
  readonly roles: Uint8Array;
  /** Stored refcount per host cluster (RefcountArray), one more than the file's clusters. */
  readonly storedRefcounts: StoredRefcountArray;
  /** The first guest cluster using each data or compressed host cluster (read with guestOwner()). */
  readonly owner: OwnerIndex;
  /** Compressed guest clusters by host byte range (sorted by host offset). */
  readonly compressed: { readonly n: number; readonly host: Float64Array; readonly length: Uint32Array; readonly guest: Float64Array };
  readonly l2Tables: ReadonlyMap<number, L2Use>;
  readonly reftable: Reftable;
  /** Per snapshot (index-aligned): host clusters only that snapshot references. */
  readonly snapshotExclusiveClusters: readonly number[];
  readonly guestMap: MapRange[];
  /** Set when qemu-img map would stop with an error part-way. */
  readonly mapError: string | null;
  /** Guest offset where the map was cut after MAX_MAP_RANGES ranges, or null. */
  readonly mapTruncatedAt: number | null;
}

/** Runs the check, the role layout and the guest map over one image. */
export async function runCheck(src: ByteSource, s: Structures, f: Findings, opts: CheckOptions = {}): Promise<CheckResult> {
  const h = s.header;
  if (h.clusterBits < S.MIN_CLUSTER_BITS || h.clusterBits > S.MAX_CLUSTER_BITS || h.refcountOrder > 6) {
    return failed(`Unsupported cluster size 2^${h.clusterBits} or refcount order ${h.refcountOrder}`, h.clusterSize || 512);
  }
  const cs = h.clusterSize;
  const extL2 = (h.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n;
  const dataFile = (h.incompatibleFeatures & S.INCOMPAT_DATA_FILE) !== 0n;
  const g = geometry(h.clusterBits, extL2);
  const nb = Math.ceil(src.size / cs);
  // QEMU gives up above INT_MAX clusters (-EFBIG). We need 5 bytes per cluster while checking
  // (roles, 16-bit stored and expected refcounts), up to 15 with 32-bit refcounts, snapshots and
  // scattered data (owners then take 4).
  if (nb > MAX_CHECK_CLUSTERS) return failed(nb > 0x7fff_ffff ? 'File too large' : `The file has ${nb} clusters; more than ${MAX_CHECK_CLUSTERS} are not analysed`, cs);
  const readRefusal = f.list.find((x) => x.code === 'QEMU_REFUSES' && x.structure === 'snapshot table' && !/^Snapshot table (too large|offset invalid)$/.test(x.message));
  const snapshotsUnreadable = snapshotTableFailure(s, readRefusal ? qemuText(readRefusal.message) : null);
  let failure: string | null = null;

  const geo = refcountGeometry(h);
  const reftable = await readReftable(src, h);
  // The early map's summary is counted block by block while later blocks are still being read.
  const tally = opts.onUsage ? new UsageTally(nb) : null;
  const stored = await loadStoredRefcounts(src, geo, reftable, nb + 1, opts.onRefcountProgress, tally ? (v, a, b) => tally.settle(v, a, b) : undefined, opts.narrowRefcounts === true);
  if (tally) opts.onUsage?.(tally.finish(stored.values));
  const st = new CheckState(src.size, h.clusterBits, geo.refcountMax, stored, f, h.nbSnapshots);

  if (snapshotsUnreadable) {
    // qcow2_check_read_snapshot_table fails before anything is counted (qemu-img check prints
    // nothing else); our own count below goes on, for the page.
    st.checkErrors++;
    st.finding('check-error', 'CHECK_FAILED', 'snapshot table', 64, () => snapshotsUnreadable.lines);
    failure = snapshotsUnreadable.errno;
  }
  st.ref(0, cs, 1, Role.HEADER, 0xffff, () => 'header');
  const uses = new Map<number, L2Use>();
  const l1Offset = Number(h.l1TableOffset);
  const activeL1 = await l1ForCheck(src, s.l1, l1Offset, h.l1Size);
  walkL1(st, activeL1, h.l1Size, l1Offset, -1, uses);
  for (const sn of checkSnapshotEntries(st, s, dataFile)) {
    walkL1(st, await l1ForCheck(src, s.snapshotL1[sn.index] ?? null, sn.offset, sn.size), sn.size, sn.offset, sn.index, uses);
  }

  const compressed = new CompressedIndex();
  const tables = new Map<number, RunList>();
  const flags = { dataFile, crypto: h.cryptMethod !== 0, v2: h.version < 3 };
  const onOwners = opts.onOwners && tally && uses.size >= OWNER_REFINE_MIN_TABLES ? opts.onOwners : null;
  let sentOwners: { masks: Uint32Array; done: number } | null = null;
  const owners = (done: number, total: number) => {
    if (!onOwners) return;
    const per = tally!.perBucket;
    // Only the buckets holding roles written since the last summary are counted again.
    const { lo, hi } = st.markRoles();
    let masks: Uint32Array;
    let changed = { from: 0, to: 0 };
    if (!sentOwners) {
      masks = ownerMasks(st.roles, nb, per);
      changed = { from: 0, to: masks.length };
    } else {
      masks = sentOwners.masks.slice();
      if (hi >= lo) {
        const b0 = Math.floor(lo / per);
        const b1 = Math.min(masks.length, Math.floor(hi / per) + 1);
        ownerMasksInto(st.roles, nb, per, masks, b0, b1);
        const c = changedRange(sentOwners.masks.subarray(b0, b1), masks.subarray(b0, b1));
        changed = c.to > c.from ? { from: b0 + c.from, to: b0 + c.to } : changed;
      }
    }
    const after = sentOwners?.done ?? -1;
    // The callee may move the masks (the worker transfers them): the next summary starts from a copy.
    sentOwners = { masks: masks.slice(), done };
    onOwners({ perBucket: per, masks, roles: unionMask(masks), after, ...changed, done, total }, st.roles);
  };
  owners(0, uses.size);
  let refined = 0;
  const onProgress = opts.onProgress || onOwners ? (done: number, total: number) => {
    opts.onProgress?.(done, total);
    const step = Math.floor((done * OWNER_REFINES) / Math.max(1, total));
    if (onOwners && done < total && step > refined) {
      refined = step;
      owners(done, total);
    }
  } : null;
  await scanL2(src, st, uses, {
    g, dataFile, compressed,
    mapFlags: flags,
    onActiveRuns: (u, runs) => tables.set(u.offset, runs),
    ...(onProgress ? { onProgress } : {}),
  });
  compressed.sort();
  await referenceMetadata(src, st, s);
  checkRefblocks(st, reftable, Number(h.refcountTableOffset));
  const truncation = await diagnoseTruncation(src, s, st, reftable);
  if (truncation) reportTruncation(truncation, f);
  const highest = compareRefcounts(st, truncation?.tablesMissing ?? false, (h.incompatibleFeatures & S.INCOMPAT_DIRTY) !== 0n);
  // The last cluster, cut by the end of the file while something references all of it.
  if (truncation && st.pastEnd.partly && src.size % cs !== 0 && st.roles.length > 0) st.roles[st.roles.length - 1] = Role.PAST_END;
  // The last write to the roles: from here on they are only read. The expected refcounts were
  // last read by compareRefcounts.
  if (opts.onRoles) {
    const spare = st.expected.counts.buffer;
    opts.onRoles(st.roles, spare instanceof ArrayBuffer && spare.byteLength >= st.roles.length && spare.byteLength <= st.roles.length + 4096 ? spare : null);
  }
  await oflagCopiedL1(src, st, activeL1, h.l1Size, l1Offset);
  // The check's last reader of raw stored words is done: the result holds host-order refcounts.
  stored.toHostOrder();
  const exclusive = snapshotExclusive(st, s.snapshotTable?.snapshots.length ?? 0);
  if (h.incompatibleFeatures & S.INCOMPAT_DIRTY) {
    f.info('DIRTY_REFCOUNTS', 'header', 72, 'The dirty bit is set (lazy refcounts): refcounts were not updated before the image was closed, so ' +
      'qemu-img check reports the mismatches as corruptions; QEMU repairs them when it opens the image read-write.');
  }
  if (st.checkErrors > 0 && !failure) failure = 'Check failed';
  // qemu-img check cannot open an image QEMU refuses (for any open, or for I/O): it prints no JSON
  // and exits 1. Our own counts above still describe the image.
  // (The snapshot table's refusals do not apply: BDRV_O_CHECK skips them, see above.)
  const refusal = f.list.find((x) => (x.code === 'QEMU_REFUSES' || x.code === 'QEMU_REFUSES_IO') && x.structure !== 'snapshot table');
  if (refusal) failure = `${REFUSED} ${refusal.message}`;

  const size = Number((h.size / 512n) * 512n);
  const backing = s.backingFile !== null ? await backingLayer(src, s.backingFile, s.extensions.backingFormat, opts.openBacking, f, 1) : null;
  const top = qcow2Layer(activeL1, size, g, tables, dataFile, backing);
  const map = resolveChain(top);
  if (map.error) {
    const last = map.ranges.at(-1);
    f.error('MAP_FAILED', 'guest map', null, `qemu-img map would stop after guest offset ${hex(last ? last.start + last.length : 0)}: ${map.error}`);
  }
  if (map.truncatedAt) {
    f.warn('MAP_TRUNCATED', 'guest map', null, `The guest map has more than ${MAX_MAP_RANGES} ranges; only those before guest offset ${hex(map.truncatedAt)} are kept (qemu-img map prints them all).`);
  }

  const counts: CheckCounts = {
    corruptions: st.corruptions,
    leaks: st.leaks,
    checkErrors: st.checkErrors,
    imageEndOffset: (highest + 1) * cs,
    totalClusters: Math.ceil(size / cs),
    allocatedClusters: st.frag.allocated,
    fragmentedClusters: st.frag.fragmented,
    compressedClusters: st.frag.compressed,
  };
  const json = failure !== null && failure !== 'Check failed' ? null : qemuCheckJson(opts.filename ?? src.name, counts);
  return {
    json,
    exitCode: failure ? 1 : counts.corruptions ? 2 : counts.leaks ? 3 : 0,
    failure,
    counts,
    clusterSize: cs,
    highestCluster: highest,
    roles: st.roles,
    storedRefcounts: stored.values,
    owner: st.owner.finish(),
    compressed,
    l2Tables: uses,
    reftable,
    snapshotExclusiveClusters: exclusive,
    guestMap: map.ranges as MapRange[],
    mapError: map.error,
    mapTruncatedAt: map.truncatedAt ?? null,
  };
}

/**
 * compare_refcounts: stored vs expected for every cluster QEMU knows, and in the same pass the
 * settled role of every host cluster (cluster-roles.ts settleRole; the tail — past the highest cluster in
 * use and covered by no refcount block — once that cluster is known). `tablesMissing`: tables that reference clusters lie past the end of the file, so an
 * unreferenced cluster with a refcount has an unknown owner rather than none. `lazy`: the dirty bit is
 * set, so a refcount below the references is one not written yet (settleRole). Returns that highest cluster.
 */
function compareRefcounts(st: CheckState, tablesMissing: boolean, lazy: boolean): number {
  const n = st.expected.length;
  const counts = st.expected.counts;
  const values = st.stored.values;
  const roles = st.roles;
  const nRoles = roles.length;
  const hasBad = st.stored.badBlocks.size > 0;
  const swapped = st.stored.swapped;
  const cap = S.FINDINGS_PER_CLASS_CAP;
  let highest = 0;
  let nLeaks = 0;
  let nErrors = 0;
  let nUnreadable = 0;
  const leaks: number[] = [];
  const errors: number[] = [];
  const unreadable: number[] = [];
  const skip = hasBad ? null : refcountSkipper(values, swapped, counts, roles, Math.min(n, nRoles));
  for (let i = 0; i < n; i++) {
    if (skip && (i & 1) === 0) {
      const to = skip.from(i);
      if (to > i) {
        if (skip.lastUsed >= i) highest = skip.lastUsed;
        i = to - 1;
        continue;
      }
    }
    const sv = hasBad ? st.stored.get(i) : swapped ? swap16(values[i]!) : values[i]!;
    if (sv < 0) {
      if (nUnreadable++ < cap) unreadable.push(i);
      continue;
    }
    const e = counts[i]!;
    if (sv > 0 || e > 0) highest = i;
    if (i < nRoles) {
      const r = roles[i]!;
      const settled = settleRole(r, sv, e, tablesMissing, lazy);
      if (settled !== r) roles[i] = settled;
    }
    if (sv === e) continue;
    if (sv < e) {
      if (nErrors++ < cap) errors.push(i);
    } else if (nLeaks++ < cap) leaks.push(i);
  }
  // After the highest cluster in use, a cluster no refcount block covers (its refcount table entry
  // is missing or 0) is the tail; one a block covers with refcount 0 stays FREE, wherever it lies.
  const perBlock = st.stored.geo.entriesPerBlock;
  const blocks = st.stored.reftable.offsets;
  for (let k = highest + 1; k < nRoles; k++) {
    if (roles[k] === Role.FREE && !((blocks[Math.floor(k / perBlock)] ?? 0) > 0)) roles[k] = Role.TAIL;
  }
  st.checkErrors += nUnreadable;
  st.corruptions += nErrors;
  st.leaks += nLeaks;
  const cs = st.clusterSize;
  const report = (list: number[], total: number, code: FindingCode, cls: 'leak' | 'corruption' | 'check-error', msg: (k: number) => string) => {
    for (const k of list) st.finding(cls, code, 'refcounts', k * cs, () => msg(k), k);
    if (total > list.length) st.f.countMore(code, total - list.length);
  };
  report(unreadable, nUnreadable, 'REFCOUNT_UNREADABLE', 'check-error', (k) => `Can't get refcount for cluster ${k}: Input/output error — its refcount block offset is not cluster-aligned, or too far to read`);
  report(errors, nErrors, 'REFCOUNT_MISMATCH', 'corruption', (k) => `ERROR cluster ${k} refcount=${st.stored.exact(k)} reference=${counts[k]}`);
  report(leaks, nLeaks, 'LEAK', 'leak', (k) => `Leaked cluster ${k} refcount=${st.stored.exact(k)} reference=${counts[k]}`);
  return highest;
}

/** The L1 half of check_oflag_copied: COPIED on an active L1 entry iff its L2 table's refcount is 1. */
async function oflagCopiedL1(src: ByteSource, st: CheckState, l1: BigUint64Array, l1Size: number, l1Offset: number): Promise<void> {
  const cs = st.clusterSize;
  const pending: number[] = [];
  const n = Math.min(l1Size, l1.length);
  for (let i = 0; i < n; i++) {
    const e = l1[i] ?? 0n;
    const l2 = tableEntryOffset(e);
    if (l2 !== 0 && st.stored.get(Math.floor(l2 / cs)) === -2) pending.push(Math.floor(l2 / cs));
  }
  if (pending.length) await st.stored.ensure(src, pending);
  for (let i = 0; i < n; i++) {
    const e = l1[i] ?? 0n;
    const l2 = tableEntryOffset(e);
    if (l2 === 0) continue;
    const k = Math.floor(l2 / cs);
    const rc = st.stored.get(k);
    if (rc < 0 || (rc === 1) === ((e >> 63n) === 1n)) continue;
    st.corrupt(1, 'OFLAG_COPIED', 'active L1 table', l1Offset + 8 * i, () => `ERROR OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${e.toString(16)} refcount=${st.stored.exact(k)}`, k);
  }
}

function snapshotExclusive(st: CheckState, nbSnapshots: number): number[] {
  const out = new Array<number>(nbSnapshots).fill(0);
  const so = st.snapOwner;
  if (!so) return out;
  for (let k = 0; k < so.length; k++) {
    const m = so[k]!;
    if (m !== 0 && m !== 0xffff && m <= nbSnapshots) out[m - 1]!++;
  }
  return out;
}

function failed(reason: string, cs: number): CheckResult {
  const counts: CheckCounts = { corruptions: 0, leaks: 0, checkErrors: 1, imageEndOffset: 0, totalClusters: 0, allocatedClusters: 0, fragmentedClusters: 0, compressedClusters: 0 };
  return {
    json: null, exitCode: 1, failure: reason, counts, clusterSize: cs, highestCluster: 0,
    roles: new Uint8Array(0), storedRefcounts: new Uint32Array(0), owner: NO_OWNERS,
    compressed: { n: 0, host: new Float64Array(0), length: new Uint32Array(0), guest: new Float64Array(0) },
    l2Tables: new Map(), reftable: EMPTY_REFTABLE, snapshotExclusiveClusters: [], guestMap: [], mapError: reason, mapTruncatedAt: null,
  };
}
