// qemu-img check over the L2 tables (block/qcow2-refcount.c, check_refcounts_l2, plus the L2 half
// of check_oflag_copied): every distinct L2 table that the L1 tables point at (l1-tables.ts) is read
// once (coalesced) and scanned once; its references are applied as many times as L1 entries point
// at it, which is what QEMU's repeated scans add up to. The same pass over an active standard L2
// table builds its guest-map runs (guest/block-status.ts).

import type { L2Use } from './l1-tables';
import type { CheckState } from './state';
import type { CompressedIndex } from './compressed-index';
import {
  entryOffset, hasZeroFlag, hex, HI_OFFSET_MASK, isCompressed, isCopied, Kind, l2Reserved, LO_OFFSET_MASK, readRanges, stdEntryKind, swap16,
  type ByteSource, type FindingCode, type MappingGeometry,
} from '../qcow2';
import { RunList, tableRuns, type TableFlags } from '../guest';
import { OWNER_UNKNOWN } from './owners';
import { Role, type RoleId } from './roles';
import { firstOflagBreak, runAfter, zeroRun } from './l2-runs';

const NO_FLAGS: TableFlags = { dataFile: false, crypto: false, v2: false };

const bigHex = (hi: number, lo: number) => (hi >>> 0 ? (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0') : (lo >>> 0).toString(16));

interface TableScanOptions {
  readonly g: MappingGeometry;
  readonly dataFile: boolean;
  readonly compressed: CompressedIndex;
  /**
   * Called with the guest-map runs (guest/block-status.ts tableRuns) of every cluster-aligned L2 table the
   * active L1 maps guest data through; built in the check's own pass for standard L2 entries.
   */
  readonly onActiveRuns?: (u: L2Use, runs: RunList) => void;
  /** The guest map's view of the image (needed with onActiveRuns). */
  readonly mapFlags?: TableFlags;
  readonly onProgress?: (done: number, total: number) => void;
}

interface Deferred {
  cluster: number;
  copied: boolean;
  times: number;
  /** File offset of the L2 entry. */
  at: number;
  entry: string;
}

/** Reads every distinct L2 table inside the file once and applies check_refcounts_l2 to it. */
export async function scanL2(src: ByteSource, st: CheckState, uses: ReadonlyMap<number, L2Use>, o: TableScanOptions): Promise<void> {
  const ranges: { offset: number; length: number; key: L2Use }[] = [];
  for (const u of uses.values()) if (u.offset < st.fileSize) ranges.push({ offset: u.offset, length: o.g.clusterSize, key: u });
  // Synchronous unless an entry needs a refcount not loaded yet (then its promise is awaited).
  await readRanges(src, ranges, (u, got) => {
    // A table cut by the end of the file reads zero-filled, as QEMU reads it (an entry cut short
    // keeps its first bytes).
    let bytes = got;
    if (got.length < o.g.clusterSize) {
      bytes = new Uint8Array(o.g.clusterSize);
      bytes.set(got);
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const deferred: Deferred[] = [];
    const mapped = o.onActiveRuns && o.mapFlags && u.mapRefs > 0 && u.offset % o.g.clusterSize === 0 ? o.mapFlags : null;
    if (mapped && o.g.extendedL2) {
      scanTable(st, u, dv, o, deferred, null, mapped);
      o.onActiveRuns!(u, tableRuns(dv, o.g, mapped));
    } else if (mapped) {
      const runs = new RunList();
      scanTable(st, u, dv, o, deferred, runs, mapped);
      o.onActiveRuns!(u, runs);
    } else scanTable(st, u, dv, o, deferred, null, NO_FLAGS);
    if (deferred.length > 0) {
      return st.stored.ensure(src, deferred.map((d) => d.cluster)).then(() => {
        for (const d of deferred) oflagData(st, st.stored.get(d.cluster), d.copied, d.times, d.entry, d.cluster, d.at);
      });
    }
    return undefined;
  }, o.onProgress ? { onProgress: o.onProgress } : {});
}

/** check_oflag_copied on one data cluster; the finding names the L2 entry's file offset `at`. */
function oflagData(st: CheckState, refcount: number, copied: boolean, times: number, entry: string, cluster: number, at: number): void {
  if (refcount < 0 || (refcount === 1) === copied) return;
  st.corrupt(times, 'OFLAG_COPIED', 'L2 table', at, () =>
    `ERROR OFLAG_COPIED data cluster: l2_entry=${entry} refcount=${st.stored.exact(cluster)}`, cluster);
}

/** Per-table constants shared by the scan loop and its (rarely called) helpers. */
interface TableCtx {
  readonly st: CheckState;
  readonly u: L2Use;
  readonly o: TableScanOptions;
  readonly times: number;
  readonly role: RoleId;
  readonly snap: number;
  readonly guestBase: number;
  readonly where: string;
}

// The helpers below build messages in closures of their own: the scan loop itself creates no
// closure, so no per-entry context is allocated over millions of entries.

function entryError(c: TableCtx, code: FindingCode, i: number, hi: number, lo: number, what: string): void {
  const at = c.u.offset + i * c.o.g.l2EntrySize;
  const entry = bigHex(hi, lo);
  const off = entryOffset(hi, lo).toString(16);
  const text = what.replace('%entry', entry).replace('%off', off);
  c.st.corrupt(c.times, code, 'L2 table', at, () => `${text} — ${c.where}, L2 entry ${i}`);
}

const guestOwner = (guest: number) => Math.min(guest + 1, OWNER_UNKNOWN);

/** A compressed entry (QCOW2_CLUSTER_COMPRESSED); returns whether it counts as allocated. */
function compressedEntry(c: TableCtx, i: number, hi: number, lo: number, bits: number): boolean {
  const { st, o } = c;
  const g = o.g;
  const cs = g.clusterSize;
  const cbShift = 38 - g.clusterBits;
  const hiOffMask = 2 ** cbShift - 1;
  const exact = '0x' + ((BigInt(hi & hiOffMask) << 32n) | BigInt(lo)).toString(16);
  if (isCopied(hi)) entryError(c, 'COMPRESSED_COPIED', i, hi, lo, `ERROR: coffset=${exact}: copied flag must never be set for compressed clusters`);
  if (o.dataFile) {
    entryError(c, 'COMPRESSED_WITH_DATA_FILE', i, hi, lo, `ERROR compressed cluster ${i} with data file, entry=0x%entry`);
    return false;
  }
  if (bits !== 0) {
    entryError(c, 'COMPRESSED_SUBCLUSTERS', i, hi, lo, `ERROR compressed cluster ${i} with non-zero subcluster allocation bitmap, entry=0x%entry`);
    return false;
  }
  const coffset = (hi & hiOffMask) * 2 ** 32 + lo;
  const csize = (((hi >>> cbShift) & g.csizeMask) + 1) * 512 - (lo & 511);
  const guest = c.guestBase + i;
  const who = () => `compressed guest cluster ${hex(guest * cs)} — ${c.where}, L2 entry ${i}`;
  const before = st.corruptions;
  if (coffset > Number.MAX_SAFE_INTEGER) {
    // Beyond 2^53: far past any file; printed exactly, as QEMU prints it.
    st.corrupt(c.times, 'PAST_EOF', 'L2 table', c.u.offset + i * g.l2EntrySize, () =>
      `ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset ${exact} size ${hex(csize)} — ${who()}; the file ends at ${hex(st.fileSize)}`);
  } else st.ref(coffset, csize, c.times, Role.COMPRESSED, c.snap, who);
  if (st.corruptions === before) {
    for (let k = Math.floor(coffset / cs), last = Math.floor((coffset + csize - 1) / cs); k <= last; k++) st.owner.claim(k, guestOwner(guest));
    o.compressed.push(coffset, csize, guest);
  }
  return true;
}

/** References a data cluster that is unaligned or reaches past the end of the file. */
function slowDataRef(c: TableCtx, i: number, off: number): void {
  const { st } = c;
  const cs = c.o.g.clusterSize;
  const guest = c.guestBase + i;
  const before = st.corruptions;
  st.ref(off, cs, c.times, c.role, c.snap, () => `data of guest offset ${hex(guest * cs)} — ${c.where}, L2 entry ${i}`);
  if (st.corruptions !== before) return;
  for (let k = Math.floor(off / cs), last = Math.floor((off + cs - 1) / cs); k <= last; k++) st.owner.claim(k, guestOwner(guest));
}

function overflowRef(c: TableCtx, i: number, cluster: number): void {
  const guest = c.guestBase + i;
  c.st.addRef(cluster, c.times, () => `data of guest offset ${hex(guest * c.o.g.clusterSize)} — ${c.where}, L2 entry ${i}`);
}

/**
 * check_refcounts_l2 over one table. With `runs`, also appends the table's guest-map runs as
 * tableRuns would (standard L2 entries only), classified by `fl`.
 */
function scanTable(st: CheckState, u: L2Use, dv: DataView, o: TableScanOptions, deferred: Deferred[], runs: RunList | null, fl: TableFlags): void {
  const { g, dataFile } = o;
  const cs = g.clusterSize;
  const cb = g.clusterBits;
  const ext = g.extendedL2;
  const times = u.activeRefs + u.snapRefs;
  const fragTimes = u.activeRefs;
  const oflagTimes = u.mapRefs;
  const role = u.activeRefs > 0 ? (u.snapRefs > 0 ? Role.DATA_SHARED : Role.DATA) : Role.DATA_SNAPSHOT;
  const snap = u.snapMarker;
  const l1Index = u.firstL1 >= 0 ? u.firstL1 : u.firstSnapL1;
  const guestBase = l1Index * g.l2Entries;
  const where = u.firstL1 >= 0 ? `active L1 entry ${u.firstL1}` : `snapshot ${u.firstSnap} L1 entry ${u.firstSnapL1}`;
  const c: TableCtx = { st, u, o, times, role, snap, guestBase, where };
  const n = Math.min(g.l2Entries, Math.floor(dv.byteLength / g.l2EntrySize));
  const step = g.l2EntrySize;
  // The expected counters and what they hold as they are; both change when overflowRef (through
  // ExpectedRefcounts.add) widens the counters, and are read again after it.
  let counts = st.expected.counts;
  let limit = st.expected.limit;
  const roles = st.roles;
  const owner = st.owner;
  const fileClusters = st.fileClusters;
  const stored = st.stored;
  const storedValues = stored.values;
  const plainLookup = stored.badBlocks.size === 0;
  const one = stored.one;
  const swapped = stored.swapped;
  const snapOwner = st.snapOwner;
  const guestCap = 0xffff_fffe - guestBase;
  // Runs of contiguous entries take the fast path below: standard entries in the image file whose
  // refcounts are all readable (else every entry goes through the general path).
  const fastRuns = !ext && !dataFile && plainLookup;
  // Host cluster index from the entry's halves in int32 arithmetic: bits 9..55 >> cluster_bits.
  // An offset whose high half reaches 2^(cb-4) lies at or past cluster 2^28, beyond any file
  // analysed (MAX_CHECK_CLUSTERS), and takes the slow path.
  const hiShift = 32 - cb;
  // The last cluster when the file ends inside it, with extended L2 entries (else none).
  const cutLast = ext && !dataFile && st.fileSize % cs !== 0 ? Math.floor(st.fileSize / cs) : -1;
  const hiLimit = 2 ** (cb - 4);
  const inClusterMask = (cs - 1) & LO_OFFSET_MASK;
  // Pending run of fresh owners: host clusters runHost + j belong to entries runEntry + j.
  let runHost = -1;
  let runEntry = 0;
  let runLen = 0;
  // The guest-map run being built: kind, host offset of its first byte (-1: none), guest start, bytes.
  let mKind = -1;
  let mHost = -1;
  let mStart = 0;
  let mLen = 0;
  let nextContig = 0;
  // The range of roles written here (CheckState.rolesLo), kept in locals and merged at the end.
  let rolesLo = Infinity;
  let rolesHi = -1;
  let allocated = 0;
  let fragmented = 0;
  let compressedN = 0;
  // Standard entries as raw words, for skipping runs of all-zero (unallocated) entries in bulk.
  const zw = !ext && dv.byteOffset % 4 === 0 ? new Int32Array(dv.buffer, dv.byteOffset, n * 2) : null;
  for (let i = 0; i < n; i++) {
    if (zw !== null && (zw[2 * i]! | zw[2 * i + 1]!) === 0) {
      // UNALLOCATED entries reference nothing: only the guest map's run grows (as the loop below would).
      const z = zeroRun(zw, i, n);
      if (runs !== null) {
        if (mKind === Kind.UNALLOCATED && mHost < 0) mLen += z * cs;
        else {
          if (mLen > 0) runs.push(mStart, mLen, mKind, mHost);
          mStart = i * cs;
          mLen = z * cs;
          mKind = Kind.UNALLOCATED;
          mHost = -1;
        }
      }
      i += z - 1;
      continue;
    }
    const p = i * step;
    const hi = dv.getUint32(p);
    const lo = dv.getUint32(p + 4);
    const bhi = ext ? dv.getUint32(p + 8) : 0;
    const blo = ext ? dv.getUint32(p + 12) : 0;
    if (runs !== null) {
      // qcow2_get_subcluster_type for a standard entry, as guest/block-status.ts stdTableRuns.
      const kind = stdEntryKind(hi, lo, fl, inClusterMask);
      const host = (kind === Kind.DATA || kind === Kind.ZERO_ALLOC) && !fl.crypto ? entryOffset(hi, lo) : -1;
      if (kind === mKind && (host < 0 ? mHost < 0 : mHost >= 0 && mHost + mLen === host)) mLen += cs;
      else {
        if (mLen > 0) runs.push(mStart, mLen, mKind, mHost);
        mStart = i * cs;
        mLen = cs;
        mKind = kind;
        mHost = host;
      }
    }
    if ((hi | lo | bhi | blo) === 0) continue;
    if (isCompressed(hi)) {
      if (runLen > 0) owner.claimFresh(runHost, guestBase + runEntry + 1, runLen);
      runLen = 0;
      if (compressedEntry(c, i, hi, lo, bhi | blo)) {
        allocated++;
        compressedN++;
        fragmented++;
      }
      counts = st.expected.counts;
      limit = st.expected.limit;
      continue;
    }
    const reserved = l2Reserved(hi, lo);
    if (reserved) entryError(c, 'L2_RESERVED', i, hi, lo, 'ERROR found l2 entry with reserved bits set: %entry');
    const copied = isCopied(hi);
    const hiOff = hi & HI_OFFSET_MASK;
    const zeroFlag = !ext && hasZeroFlag(lo);
    if (hiOff === 0 && (lo & LO_OFFSET_MASK) === 0 && (zeroFlag || !(dataFile && copied))) {
      // ZERO_PLAIN, or UNALLOCATED: only the subcluster bitmap can be wrong.
      if (!zeroFlag && blo !== 0) entryError(c, 'SUBCLUSTER_BITMAP', i, hi, lo, 'ERROR: Unallocated cluster has non-zero subcluster allocation map');
      continue;
    }
    // NORMAL or ZERO_ALLOC.
    if ((bhi & blo) !== 0) entryError(c, 'SUBCLUSTER_BITMAP', i, hi, lo, 'ERROR offset=%off: Allocated cluster has corrupted subcluster allocation bitmap');
    const off = entryOffset(hi, lo);
    const aligned = (lo & inClusterMask) === 0;
    if (!aligned) {
      entryError(c, 'UNALIGNED', i, hi, lo, (ext ? blo !== 0 : !zeroFlag)
        ? 'ERROR offset=%off: Data cluster is not properly aligned; L2 entry corrupted.'
        : 'ERROR offset=%off: Preallocated cluster is not properly aligned; L2 entry corrupted.');
    }
    allocated++;
    if (nextContig !== 0 && off !== nextContig) fragmented++;
    nextContig = off + cs;
    const cluster = hiOff < hiLimit ? (hiOff << hiShift) | (lo >>> cb) : Math.floor(off / cs);
    // An allocated subcluster the end of the file cuts (QEMU writes subclusters whole): truncation.ts.
    if (cluster === cutLast && blo !== 0 && aligned) {
      const end = off + (32 - Math.clz32(blo)) * (cs / 32);
      if (end > st.fileSize) st.pastEnd.add(role, cluster, false, end);
    }
    if (!dataFile) {
      if (aligned && cluster < fileClusters) {
        if (times <= limit - counts[cluster]!) counts[cluster] = counts[cluster]! + times;
        else {
          overflowRef(c, i, cluster);
          counts = st.expected.counts;
          limit = st.expected.limit;
        }
        const r = roles[cluster]!;
        if (r === 0) {
          // Never claimed before: extend the pending run of fresh owners, or start one.
          roles[cluster] = role;
          if (cluster < rolesLo) rolesLo = cluster;
          if (cluster > rolesHi) rolesHi = cluster;
          if (snapOwner !== null) snapOwner[cluster] = snap;
          if (cluster === runHost + runLen && i === runEntry + runLen && i <= guestCap) runLen++;
          else {
            if (runLen > 0) owner.claimFresh(runHost, guestBase + runEntry + 1, runLen);
            if (i <= guestCap) {
              runHost = cluster;
              runEntry = i;
              runLen = 1;
            } else {
              runLen = 0;
              owner.claim(cluster, OWNER_UNKNOWN);
            }
          }
        } else {
          if (runLen > 0) owner.claimFresh(runHost, guestBase + runEntry + 1, runLen);
          runLen = 0;
          if (r !== role || (snapOwner !== null && snapOwner[cluster] !== snap)) st.claim(cluster, role, snap);
          owner.claim(cluster, i <= guestCap ? guestBase + i + 1 : OWNER_UNKNOWN);
        }
      } else {
        if (runLen > 0) owner.claimFresh(runHost, guestBase + runEntry + 1, runLen);
        runLen = 0;
        slowDataRef(c, i, off);
        counts = st.expected.counts;
        limit = st.expected.limit;
      }
    }
    if (oflagTimes) {
      const rc = dataFile ? 1 : plainLookup && cluster < storedValues.length ? (swapped ? swap16(storedValues[cluster]!) : storedValues[cluster]!) : stored.get(cluster);
      if (rc === -2) deferred.push({ cluster, copied, times: oflagTimes, entry: bigHex(hi, lo), at: u.offset + i * step });
      else if (rc >= 0 && (rc === 1) !== copied) oflagData(st, rc, copied, oflagTimes, bigHex(hi, lo), cluster, u.offset + i * step);
    }
    if (!fastRuns || !aligned || reserved) continue;
    // The entries that follow with the same flags and the next host cluster each (a preallocated
    // or sequentially written range), onto clusters never claimed before: found first, then applied
    // in bulk. A cluster never claimed has no expected reference yet (state.ts claims every cluster
    // it counts), so its count becomes `times`. The loop above handles whatever breaks the run.
    const m = times <= limit ? runAfter(dv, i, n, hi, lo, cs, roles, cluster, Math.min(fileClusters - 1 - cluster, guestCap - i)) : 0;
    if (m === 0) continue;
    const k0 = cluster + 1;
    const kEnd = cluster + 1 + m;
    counts.fill(times, k0, kEnd);
    roles.fill(role, k0, kEnd);
    if (k0 < rolesLo) rolesLo = k0;
    if (kEnd - 1 > rolesHi) rolesHi = kEnd - 1;
    if (snapOwner !== null) snapOwner.fill(snap, k0, kEnd);
    if (k0 === runHost + runLen && i + 1 === runEntry + runLen) runLen += m;
    else {
      if (runLen > 0) owner.claimFresh(runHost, guestBase + runEntry + 1, runLen);
      runHost = k0;
      runEntry = i + 1;
      runLen = m;
    }
    if (oflagTimes) {
      // Refcount 1 iff COPIED: only the clusters that break it are reported (in entry order).
      for (let k = firstOflagBreak(storedValues, one, k0, kEnd, copied); k < kEnd; k++) {
        if ((storedValues[k] === one) !== copied) oflagData(st, stored.get(k), copied, oflagTimes, bigHex(hi, lo + (k - cluster) * cs), k, u.offset + (i + k - cluster) * step);
      }
    }
    allocated += m;
    mLen += m * cs;
    i += m;
    const kLo = lo + m * cs;
    nextContig = entryOffset(hi, kLo) + cs;
  }
  if (runLen > 0) owner.claimFresh(runHost, guestBase + runEntry + 1, runLen);
  if (rolesLo < st.rolesLo) st.rolesLo = rolesLo;
  if (rolesHi > st.rolesHi) st.rolesHi = rolesHi;
  if (runs !== null) {
    if (mLen > 0) runs.push(mStart, mLen, mKind, mHost);
    if (n < g.l2Entries) runs.push(n * cs, (g.l2Entries - n) * cs, Kind.UNALLOCATED, -1);
  }
  // Only the active L1's tables count (CHECK_FRAG_INFO), once per L1 entry pointing here.
  st.frag.allocated += allocated * fragTimes;
  st.frag.fragmented += fragmented * fragTimes;
  st.frag.compressed += compressedN * fragTimes;
}
