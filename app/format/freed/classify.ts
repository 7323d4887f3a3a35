// What each free cluster (refcount 0) held: its bytes tested against every qcow2 structure
// (content.ts), then the stale structures found among the free clusters followed as QEMU left them
// (a stale snapshot table names a deleted snapshot's L1, a stale L1 its L2 tables, a stale L2 its
// data, a stale bitmap directory its bitmap tables, a stale bitmap table its data clusters) — so a
// cluster QEMU discarded (zeros) can still be named by what pointed at it, and what freed it.
// Work is bounded: at most MAX_FREED_BYTES of free clusters are read, in file order, batched.

import { roleClusterCounts } from '../check/cluster-roles';
import { Role } from '../check/roles';
import type { ByteSource } from '../qcow2/source';
import { readRanges } from '../qcow2/source';
import type { Structures } from '../qcow2/model';
import * as S from '../qcow2/spec';
import { formatBytes, formatCount, plural } from '../text';
import {
  allZero, bitmapDirectory, pointerTable, snapshotTable, startsCompressed, varied, T_BITMAP_TABLE, T_L1, T_L2, T_REFTABLE,
  type ContentContext, type PointerTable,
} from './content';
import { DATA_ROLES, L2_ROLES, followStale, freedBy, names, type Content, type Verdict } from './chains';
import { staleRefcounts } from './refcount-follow';
import { MAX_FREED_BYTES, MAX_FREED_CLUSTERS, MAX_INFLATE_BYTES, MAX_STALE_REFERENCES, type FreedKind, type FreedResult, type FreedRun } from './types';

export interface FreedInput {
  readonly structures: Structures;
  /** One role per host cluster (check/roles.ts). */
  readonly roles: Uint8Array;
  readonly clusterSize: number;
  /** Bytes of free clusters read at most (default MAX_FREED_BYTES; tests pass less). */
  readonly maxBytes?: number;
  /** The image's live refcount per host cluster (check's stored refcounts): freed refcount blocks are known by agreeing with them. */
  readonly refcounts?: ArrayLike<number>;
}

/** What a verdict rests on, so that a run never mixes clusters known by different evidence. */
const basis = (v: Verdict): string => v.evidence.replace(/[\d,]+/g, '#').replace(/0x[0-9a-f]+/g, '#');

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
  const total = roleClusterCounts(roles)[Role.FREE]!;
  freeClusters(roles, Math.min(budget, total), picked);
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
    // points at L2 tables; QEMU zeroes the bitmap data it frees; a freed refcount table's blocks, when
    // they agree with the live refcounts, were recognised first by refcount-follow.ts — blocks that
    // agree with them no longer, after much rewriting, are taken as guest data here).
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

  const refcountVerdicts = input.refcounts ? await staleRefcounts(src, {
    picked, at, content, roleOf, clusterSize: cs, refcounts: input.refcounts, refcountOrder: h.refcountOrder, fileSize,
  }) : new Map<number, Verdict>();
  for (let i = 0; i < picked.length; i++) {
    const c = content[i]!;
    const rv = refcountVerdicts.get(i);
    if (rv) verdicts[i] = rv;
    else if (c.c === 'snap') verdicts[i] = { was: 'snapshot-table', evidence: `${plural(c.entries.length, 'snapshot table entry', 'snapshot table entries')}: ${names(c.entries.map((e) => `'${e.name}' (id ${e.id})`))}` };
    else if (c.c === 'dir') verdicts[i] = { was: 'bitmap-directory', evidence: `${plural(c.entries.length, 'bitmap directory entry', 'bitmap directory entries')}: ${names(c.entries.map((e) => `'${e.name}'`))}` };
    else if (c.c === 'compressed') verdicts[i] = { was: 'compressed-data', evidence: `a ${ctx.compressionType === 1 ? 'zstd frame' : 'raw deflate stream'} at its start decompresses to one full ${formatBytes(cs)} cluster` };
    else if (c.c === 'table') {
      const tk = tableKind(c.t);
      if (tk) verdicts[i] = { was: TABLE_KIND[tk.bit]!, evidence: tableEvidence(c.t, tk.bit, tk.support, tk.what) };
    }
  }

  const followed = followStale({
    picked, at, content, verdicts, roleOf, clusterSize: cs, kindBit, tableWord: (b) => TABLE_WORDS[b],
    liveSnapshots: new Set((s.snapshotTable?.snapshots ?? []).map((x) => `${x.id}\u0000${x.name}`)),
    liveBitmaps: new Set((s.bitmapDirectory?.bitmaps ?? []).map((b) => b.name)),
  });
  const notes: string[] = [];
  if (picked.length < total) notes.push(`Classified the first ${formatCount(picked.length)} of ${formatCount(total)} free clusters (${formatBytes(picked.length * cs)} read at most).`);
  if (inflateCapped) notes.push(`Past ${formatBytes(MAX_INFLATE_BYTES)} of decompression attempts, further free clusters were not tested for compressed data.`);
  if (followed.notes > 0) notes.push('Past the limit of stale references followed, further ones were not followed.');
  if (tablesCapped) notes.push(`Past ${formatCount(MAX_STALE_REFERENCES)} table entries, further free clusters were not tested as tables.`);
  return { runs: toRuns(picked, verdicts, cs, fileSize), classified: picked.length, total, note: notes.length > 0 ? notes.join(' ') : null };
}

function kindBit(k: FreedKind): number {
  return k === 'l1-table' ? T_L1 : k === 'l2-table' ? T_L2 : k === 'bitmap-table' ? T_BITMAP_TABLE : k === 'refcount-table' ? T_REFTABLE : 0;
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
 * Appends the indices of the first `want` FREE (0) roles to `picked`, stopping there (the role
 * counts say how many there are). Four roles at a time where aligned: a word with no zero byte
 * (the has-zero-byte test) is skipped.
 */
function freeClusters(roles: Uint8Array, want: number, picked: number[]): void {
  if (want <= 0) return;
  let k = 0;
  if (roles.byteOffset % 4 === 0) {
    const words = new Uint32Array(roles.buffer, roles.byteOffset, roles.length >> 2);
    for (let w = 0; w < words.length; w++) {
      const x = words[w]!;
      if (((x - 0x01010101) & ~x & 0x80808080) === 0) continue;
      for (let b = w * 4; b < w * 4 + 4; b++) {
        if (roles[b] !== Role.FREE) continue;
        picked.push(b);
        if (picked.length === want) return;
      }
    }
    k = words.length * 4;
  }
  for (; k < roles.length; k++) {
    if (roles[k] !== Role.FREE) continue;
    picked.push(k);
    if (picked.length === want) return;
  }
}
