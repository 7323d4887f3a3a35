// What each free cluster (refcount 0) held: its bytes tested against every qcow2 structure
// (content.ts), then the stale structures found among the free clusters followed as QEMU left them
// (a stale snapshot table names a deleted snapshot's L1, a stale L1 its L2 tables, a stale L2 its
// data, a stale bitmap directory its bitmap tables, a stale bitmap table its data clusters) — so a
// cluster QEMU discarded (zeros) can still be named by what pointed at it, and what freed it.
// Work is bounded: at most MAX_FREED_BYTES of free clusters are read, in file order, batched.

import { Role } from '../check/roles';
import type { ByteSource } from '../qcow2/source';
import { readRanges } from '../qcow2/source';
import type { Structures } from '../qcow2/model';
import * as S from '../qcow2/spec';
import { formatBytes, formatCount, hex, plural } from '../text';
import {
  allZero, bitmapDirectory, pointerTable, snapshotTable, startsCompressed, varied, T_BITMAP_TABLE, T_L1, T_L2, T_REFTABLE,
  type ContentContext, type PointerTable, type StaleBitmapEntry, type StaleSnapshotEntry,
} from './content';
import { MAX_FREED_BYTES, MAX_FREED_CLUSTERS, MAX_INFLATE_BYTES, MAX_STALE_REFERENCES, type FreedKind, type FreedResult, type FreedRun } from './types';

export interface FreedInput {
  readonly structures: Structures;
  /** One role per host cluster (check/roles.ts). */
  readonly roles: Uint8Array;
  readonly clusterSize: number;
  /** Bytes of free clusters read at most (default MAX_FREED_BYTES; tests pass less). */
  readonly maxBytes?: number;
}

/** What a selected free cluster's bytes are. */
type Content =
  | { readonly c: 'zeros' }
  | { readonly c: 'other' }
  | { readonly c: 'compressed' }
  | { readonly c: 'table'; readonly t: PointerTable }
  | { readonly c: 'dir'; readonly entries: readonly StaleBitmapEntry[] }
  | { readonly c: 'snap'; readonly entries: readonly StaleSnapshotEntry[] };

/** What freed a cluster: a snapshot that was deleted, a bitmap that was removed, or a rewrite of a live one. */
interface Cause {
  readonly of: 'snapshot' | 'bitmap';
  readonly name: string;
  readonly gone: boolean;
}

interface Verdict {
  was: FreedKind;
  evidence: string;
  cause?: Cause;
}

/** What a verdict rests on, so that a run never mixes clusters known by different evidence. */
const basis = (v: Verdict): string => v.evidence.replace(/[\d,]+/g, '#').replace(/0x[0-9a-f]+/g, '#');

const WHAT: Partial<Record<FreedKind, string>> = {
  'l1-table': 'L1', 'l2-table': 'L2 table', data: 'data', 'compressed-data': 'compressed data', 'bitmap-table': 'table', 'bitmap-data': 'data',
};

/** "L1 of deleted snapshot 'old'", "table of removed bitmap 'big'", "old table of bitmap 'b' (rewritten)". */
function freedBy(was: FreedKind, c: Cause): string {
  const what = WHAT[was] ?? was;
  if (c.of === 'snapshot') return c.gone ? `${what} of deleted snapshot '${c.name}'` : `old ${what} of snapshot '${c.name}'`;
  return c.gone ? `${what} of removed bitmap '${c.name}'` : `old ${what} of bitmap '${c.name}' (rewritten)`;
}

const L2_ROLES: readonly number[] = [Role.L2_ACTIVE, Role.L2_SNAPSHOT, Role.L2_SHARED];
const DATA_ROLES: readonly number[] = [Role.DATA, Role.DATA_SHARED, Role.DATA_SNAPSHOT, Role.COMPRESSED];

const TABLE_WORDS: Readonly<Record<number, string>> = { [T_L1]: 'L1', [T_L2]: 'L2', [T_BITMAP_TABLE]: 'bitmap table', [T_REFTABLE]: 'refcount table' };
const TABLE_KIND: Readonly<Record<number, FreedKind>> = { [T_L1]: 'l1-table', [T_L2]: 'l2-table', [T_BITMAP_TABLE]: 'bitmap-table', [T_REFTABLE]: 'refcount-table' };

export async function classifyFreed(src: ByteSource, input: FreedInput): Promise<FreedResult> {
  const { structures: s, roles, clusterSize: cs } = input;
  const h = s.header;
  const fileSize = src.size;
  const ctx: ContentContext = {
    clusterSize: cs, clusterBits: h.clusterBits, fileSize,
    extendedL2: (h.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n, compressionType: h.compressionType,
  };
  const budget = Math.max(1, Math.min(MAX_FREED_CLUSTERS, Math.floor((input.maxBytes ?? MAX_FREED_BYTES) / cs)));
  const picked: number[] = [];
  const total = freeClusters(roles, budget, picked);
  if (total === 0) return { runs: [], classified: 0, total: 0, note: null };
  const at = new Map<number, number>(picked.map((k, i) => [k, i]));
  const content: Content[] = new Array<Content>(picked.length);
  let refsKept = 0;
  let tablesCapped = false;
  let inflated = 0;
  let inflateCapped = false;
  await readRanges(src, picked.map((k, i) => ({ offset: k * cs, length: cs, key: i })), (i, bytes) => {
    let c: Content;
    if (allZero(bytes)) c = { c: 'zeros' };
    else {
      const snap = snapshotTable(bytes, ctx);
      const dir = snap ? null : bitmapDirectory(bytes, ctx);
      if (!snap && !dir && refsKept > MAX_STALE_REFERENCES) tablesCapped = true;
      const t = snap || dir || refsKept > MAX_STALE_REFERENCES ? null : pointerTable(bytes, ctx);
      if (t) refsKept += t.targets.length + (t.l2Targets?.length ?? 0) + t.compressedTargets.length;
      let comp = false;
      if (!snap && !dir && !t && varied(bytes)) {
        // Each attempt inflates up to a cluster: attempts are bounded by MAX_INFLATE_BYTES in all.
        if (inflated + cs <= MAX_INFLATE_BYTES) {
          inflated += cs;
          comp = startsCompressed(bytes, ctx);
        } else inflateCapped = true;
      }
      c = snap ? { c: 'snap', entries: snap } : dir ? { c: 'dir', entries: dir } : t ? { c: 'table', t } : comp ? { c: 'compressed' } : { c: 'other' };
    }
    content[i] = c;
  }, { maxRead: 8 * 1024 * 1024 });

  const verdicts: (Verdict | null)[] = new Array<Verdict | null>(picked.length).fill(null);
  const roleOf = (k: number) => (k < roles.length ? roles[k]! : -1);
  const contentAt = (k: number): Content | null => {
    const i = at.get(k);
    return i === undefined ? null : content[i] ?? null;
  };

  const pointsAtData = (t: PointerTable): boolean => {
    let yes = 0;
    let no = 0;
    for (const k of [...(t.l2Targets ?? t.targets), ...t.compressedTargets]) {
      const r = roleOf(k);
      if (DATA_ROLES.includes(r)) yes++;
      else if (r !== Role.FREE) no++;
    }
    return yes > 0 && yes > no;
  };
  // Tables by their own bytes, corroborated by what their entries point at.
  const tableKind = (t: PointerTable): { bit: number; support: number; what: string } | null => {
    const score = (bit: number, ok: (k: number) => boolean | null): number => {
      if (!(t.kinds & bit)) return -1;
      let yes = 0;
      let no = 0;
      for (const k of bit === T_L2 ? [...(t.l2Targets ?? t.targets), ...t.compressedTargets] : t.targets) {
        const r = ok(k);
        if (r === true) yes++;
        else if (r === false) no++;
      }
      return yes > 0 && yes > no ? yes : 0;
    };
    const free = (k: number) => roleOf(k) === Role.FREE;
    const cands: [number, number, string][] = [
      [T_L2, score(T_L2, (k) => (DATA_ROLES.includes(roleOf(k)) ? true : free(k) ? null : false)), 'guest data in use'],
      [T_L1, score(T_L1, (k) => {
        if (L2_ROLES.includes(roleOf(k))) return true;
        if (!free(k)) return false;
        // A freed L2 table counts only when its own entries point at guest data in use.
        const c = contentAt(k);
        return c?.c === 'table' && (c.t.kinds & T_L2) !== 0 && pointsAtData(c.t) ? true : null;
      }), 'L2 tables (in use or freed)'],
      [T_BITMAP_TABLE, score(T_BITMAP_TABLE, (k) => (roleOf(k) === Role.BITMAP_DATA ? true : free(k) ? null : false)), 'bitmap data in use'],
      [T_REFTABLE, score(T_REFTABLE, (k) => (roleOf(k) === Role.REFCOUNT_BLOCK ? true : free(k) ? null : false)), 'refcount blocks in use'],
    ];
    cands.sort((a, b) => b[1] - a[1]);
    const best = cands[0]!;
    if (best[1] > 0 && best[1] !== cands[1]![1]) return { bit: best[0], support: best[1], what: best[2] };
    // Only L2 entries carry the zero and compressed flags, and COPIED is never on a bitmap or refcount table entry.
    if ((t.kinds & T_L2) && !(t.kinds & T_L1) && t.flagged > 0 && t.used >= 4) return { bit: T_L2, support: 0, what: '' };
    // All targets freed: only an L2 table points at clusters holding bytes that are no table (an L1
    // points at L2 tables; QEMU zeroes the bitmap data it frees; a refcount table points at blocks in use).
    if ((t.kinds & T_L2) && t.used >= 2) {
      const all = [...(t.l2Targets ?? t.targets)];
      const kinds = all.map((k) => contentAt(k)?.c ?? null);
      // (Freed clusters past the read budget are not known either way.)
      if (all.every((k) => roleOf(k) === Role.FREE) && kinds.includes('other') && kinds.every((c) => c === 'other' || c === 'zeros' || c === null)) return { bit: T_L2, support: -1, what: '' };
    }
    return null;
  };
  const tableEvidence = (t: PointerTable, bit: number, support: number, what: string) =>
    `${formatCount(t.entries)} entries, ${plural(t.used, `valid ${TABLE_WORDS[bit]!} entry`, `valid ${TABLE_WORDS[bit]!} entries`)} pointing inside the file` +
    (support > 0 ? `, ${formatCount(support)} at ${what}` : support < 0 ? ', all at freed clusters holding bytes no table holds (guest data)' : ', flags only L2 entries carry');

  for (let i = 0; i < picked.length; i++) {
    const c = content[i]!;
    if (c.c === 'snap') verdicts[i] = { was: 'snapshot-table', evidence: `${plural(c.entries.length, 'snapshot table entry', 'snapshot table entries')}: ${names(c.entries.map((e) => `'${e.name}' (id ${e.id})`))}` };
    else if (c.c === 'dir') verdicts[i] = { was: 'bitmap-directory', evidence: `${plural(c.entries.length, 'bitmap directory entry', 'bitmap directory entries')}: ${names(c.entries.map((e) => `'${e.name}'`))}` };
    else if (c.c === 'compressed') verdicts[i] = { was: 'compressed-data', evidence: `a ${ctx.compressionType === 1 ? 'zstd frame' : 'raw deflate stream'} at its start decompresses to one full ${formatBytes(cs)} cluster` };
    else if (c.c === 'table') {
      const tk = tableKind(c.t);
      if (tk) verdicts[i] = { was: TABLE_KIND[tk.bit]!, evidence: tableEvidence(c.t, tk.bit, tk.support, tk.what) };
    }
  }

  // Stale references, followed breadth-first: snapshot tables and bitmap directories first, then
  // what the L1 and bitmap tables they name point at, then the L2 tables' data.
  const liveSnap = new Set((s.snapshotTable?.snapshots ?? []).map((x) => `${x.id}\u0000${x.name}`));
  const liveBitmaps = new Set((s.bitmapDirectory?.bitmaps ?? []).map((b) => b.name));
  const queue: number[] = [];
  const named = new Uint8Array(picked.length);
  const hints = new Map<number, string>();
  const name = (k: number, was: FreedKind, via: string, cause: Cause | undefined, fits: (c: Content) => boolean) => {
    const i = at.get(k);
    if (i === undefined || named[i]) return;
    const c = content[i]!;
    const v = verdicts[i];
    // Bytes that already say what the stale structure says: the structure adds the cause.
    if (v && v.was === was) {
      named[i] = 1;
      verdicts[i] = { was, evidence: `${v.evidence}; named by ${via}`, ...(cause ? { cause } : {}) };
      queue.push(i);
      return;
    }
    // A stale structure's word beats a table guessed from its own bytes, when those bytes fit it too.
    if (verdicts[i] && !(c.c === 'table' && fits(c))) return;
    // QEMU frees bitmap tables without discarding them: a zeroed cluster named as one was reused since.
    if (was === 'bitmap-table' ? c.c !== 'table' : !(c.c === 'zeros' || c.c === 'other' || fits(c))) return;
    // Zeros say nothing themselves: they take the name only from a chain that starts at a stale
    // snapshot table or bitmap directory; a table found by its bytes alone may be older than the
    // cluster's last use, so its word is kept as a hint.
    if (c.c === 'zeros' && !cause) {
      hints.set(i, `named as ${was} by ${via}, which may be older than the cluster's last use`);
      return;
    }
    named[i] = 1;
    const own = c.c === 'zeros' ? 'all bytes zero (QEMU discarded them)' : c.c === 'table' ? plural(c.t.used, 'valid entry', 'valid entries') : 'its bytes';
    verdicts[i] = { was, evidence: `${own}; named by ${via}`, ...(cause ? { cause } : {}) };
    queue.push(i);
  };
  const isTable = (bit: number) => (c: Content) => c.c === 'table' && (c.t.kinds & bit) !== 0;
  const anyData = (c: Content) => c.c === 'compressed' || c.c === 'table';
  const clustersOf = (off: number, bytes: number) => {
    const out: number[] = [];
    for (let k = Math.floor(off / cs); k * cs < off + bytes && out.length < 4096; k++) out.push(k);
    return out;
  };
  // A stale directory or snapshot table is followed only while every cluster it names still fits
  // what it says (in use as that, or free with zeros or that table's bytes): one naming a cluster
  // that now holds something else is older than that cluster's last use, and says nothing of it.
  const fits = (k: number, live: readonly number[], bit: number): boolean => {
    const r = roleOf(k);
    if (live.includes(r)) return true;
    if (r !== Role.FREE) return false;
    const c = contentAt(k);
    return c === null || c.c === 'zeros' || (c.c === 'table' && (c.t.kinds & bit) !== 0);
  };
  const current = (c: Content): boolean => {
    if (c.c === 'dir') return c.entries.every((e) => clustersOf(e.tableOffset, e.tableSize * 8).every((k) => fits(k, [Role.BITMAP_TABLE], T_BITMAP_TABLE)));
    if (c.c === 'snap') return c.entries.every((e) => clustersOf(e.l1Offset, e.l1Size * 8).every((k) => fits(k, [Role.L1_SNAPSHOT, Role.L1_ACTIVE], T_L1)));
    return false;
  };
  for (let i = 0; i < picked.length; i++) {
    const c = content[i]!;
    const where = hex(picked[i]! * cs);
    if ((c.c === 'snap' || c.c === 'dir') && !current(c)) {
      verdicts[i]!.evidence += '; older than clusters it names (they now hold other things), so not followed';
      continue;
    }
    if (c.c === 'snap') {
      for (const e of c.entries) {
        const by: Cause = { of: 'snapshot', name: e.name, gone: !liveSnap.has(`${e.id}\u0000${e.name}`) };
        for (const k of clustersOf(e.l1Offset, e.l1Size * 8)) name(k, 'l1-table', `a stale snapshot table at ${where} (snapshot '${e.name}')`, by, isTable(T_L1));
      }
    } else if (c.c === 'dir') {
      for (const e of c.entries) {
        const by: Cause = { of: 'bitmap', name: e.name, gone: !liveBitmaps.has(e.name) };
        for (const k of clustersOf(e.tableOffset, e.tableSize * 8)) name(k, 'bitmap-table', `a stale bitmap directory at ${where} (bitmap '${e.name}')`, by, isTable(T_BITMAP_TABLE));
      }
    }
  }
  for (let i = 0; i < picked.length; i++) if (verdicts[i] && !named[i] && content[i]!.c === 'table') queue.push(i);
  const fresh = (was: FreedKind, t: PointerTable): boolean => {
    const ok = (list: Int32Array, live: readonly number[]) => list.every((k) => {
      const r = roleOf(k);
      return r === Role.FREE || live.includes(r);
    });
    if (was === 'l1-table') return ok(t.targets, L2_ROLES);
    if (was === 'l2-table') return ok(t.l2Targets ?? t.targets, DATA_ROLES) && ok(t.compressedTargets, DATA_ROLES);
    if (was === 'bitmap-table') return ok(t.targets, [Role.BITMAP_DATA]);
    if (was === 'refcount-table') return ok(t.targets, [Role.REFCOUNT_BLOCK]);
    return true;
  };
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    const v = verdicts[i]!;
    const c = content[i]!;
    if (c.c !== 'table') continue;
    const where = `a stale ${TABLE_WORDS[kindBit(v.was)] ?? v.was} at ${hex(picked[i]! * cs)}`;
    // A stale table naming a cluster now in use as something else is older than that use: its word
    // on the clusters it names is not taken (a zeroed one may have been reused and freed since).
    if (!fresh(v.was, c.t)) {
      v.evidence += '; it names clusters now in use as something else, so it is not followed';
      continue;
    }
    const by = v.cause;
    if (v.was === 'l1-table') for (const k of c.t.targets) name(k, 'l2-table', where, by, isTable(T_L2));
    else if (v.was === 'l2-table') {
      for (const k of c.t.l2Targets ?? c.t.targets) name(k, 'data', where, by, anyData);
      for (const k of c.t.compressedTargets) name(k, 'compressed-data', where, by, anyData);
    } else if (v.was === 'bitmap-table') for (const k of c.t.targets) name(k, 'bitmap-data', where, by, anyData);
    else if (v.was === 'refcount-table') for (const k of c.t.targets) name(k, 'refcount-block', where, undefined, anyData);
  }

  for (let i = 0; i < picked.length; i++) {
    if (verdicts[i]) continue;
    const c = content[i]!;
    verdicts[i] = c.c === 'zeros'
      ? { was: 'zeros', evidence: hints.has(i) ? `all bytes zero; ${hints.get(i)!}` : 'all bytes zero; no stale structure names it' }
      : c.c === 'table'
        ? { was: 'unknown', evidence: `${formatCount(c.t.used)} entries valid as ${kindList(c.t.kinds)} entries, pointing at freed clusters only; nothing names it, so which is not known` }
        : { was: 'unknown', evidence: 'non-zero bytes that match no qcow2 structure; no stale structure names it (guest or bitmap data, most likely)' };
  }
  const notes: string[] = [];
  if (picked.length < total) notes.push(`Classified the first ${formatCount(picked.length)} of ${formatCount(total)} free clusters (${formatBytes(picked.length * cs)} read at most).`);
  if (inflateCapped) notes.push(`Past ${formatBytes(MAX_INFLATE_BYTES)} of decompression attempts, further free clusters were not tested for compressed data.`);
  if (tablesCapped) notes.push(`Past ${formatCount(MAX_STALE_REFERENCES)} table entries, further free clusters were not tested as tables.`);
  return { runs: toRuns(picked, verdicts, cs, fileSize), classified: picked.length, total, note: notes.length > 0 ? notes.join(' ') : null };
}

function kindBit(k: FreedKind): number {
  return k === 'l1-table' ? T_L1 : k === 'l2-table' ? T_L2 : k === 'bitmap-table' ? T_BITMAP_TABLE : k === 'refcount-table' ? T_REFTABLE : 0;
}

function kindList(bits: number): string {
  return [T_L1, T_L2, T_BITMAP_TABLE, T_REFTABLE].filter((b) => bits & b).map((b) => TABLE_WORDS[b]!).join(' or ');
}

function names(list: readonly string[]): string {
  return list.length <= 4 ? list.join(', ') : `${list.slice(0, 4).join(', ')} and ${list.length - 4} more`;
}

function toRuns(picked: readonly number[], verdicts: readonly (Verdict | null)[], cs: number, fileSize: number): FreedRun[] {
  const out: FreedRun[] = [];
  let start = 0;
  for (let i = 1; i <= picked.length; i++) {
    const a = verdicts[start]!;
    const b = i < picked.length ? verdicts[i]! : null;
    const by = a.cause && freedBy(a.was, a.cause);
    if (b && picked[i] === picked[i - 1]! + 1 && b.was === a.was && (b.cause && freedBy(b.was, b.cause)) === by && basis(b) === basis(a)) continue;
    const first = picked[start]!;
    const n = i - start;
    const bytes = Math.min(n * cs, fileSize - first * cs);
    out.push({ offset: first * cs, clusters: n, bytes, was: a.was, evidence: a.evidence, ...(by ? { freedBy: by } : {}) });
    start = i;
  }
  return out;
}

/**
 * Counts the FREE (0) roles, and appends the first `budget` of their cluster indices to `picked`.
 * Four roles at a time where aligned: a word with no zero byte (the has-zero-byte test) is skipped.
 */
function freeClusters(roles: Uint8Array, budget: number, picked: number[]): number {
  let total = 0;
  const take = (k: number) => {
    total++;
    if (picked.length < budget) picked.push(k);
  };
  let k = 0;
  if (roles.byteOffset % 4 === 0) {
    const words = new Uint32Array(roles.buffer, roles.byteOffset, roles.length >> 2);
    for (let w = 0; w < words.length; w++) {
      const x = words[w]!;
      if (((x - 0x01010101) & ~x & 0x80808080) === 0) continue;
      for (let b = w * 4; b < w * 4 + 4; b++) if (roles[b] === Role.FREE) take(b);
    }
    k = words.length * 4;
  }
  for (; k < roles.length; k++) if (roles[k] === Role.FREE) take(k);
  return total;
}
