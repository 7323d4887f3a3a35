// Stale references followed as QEMU left them: a stale snapshot table names a deleted snapshot's L1,
// a stale L1 its L2 tables, a stale L2 its data; a stale bitmap directory names its bitmap tables, a
// stale bitmap table its data. Snapshot tables and bitmap directories are roots, each one
// generation of its family; a table found by its bytes alone names only clusters whose own bytes
// agree (its zeroed targets take no name: nothing dates it).
//
// Nothing on disk dates a generation, and a cluster a generation freed may have been reused since
// and freed again. A cluster whose bytes QEMU discarded (zeros) is therefore named only when every
// stale generation that could be the newest agrees: each root of its family that is not provably
// older names it, and all roots that name it (of any family) name it as the same kind. Otherwise
// it stays `zeros`, with the evidence of the disagreement.

import { Role } from '../check/roles';
import { hex, plural } from '../text';
import { T_BITMAP_TABLE, T_L1, T_L2, type PointerTable, type StaleBitmapEntry, type StaleSnapshotEntry } from './content';
import type { FreedKind } from './types';

/** What a selected free cluster's bytes are. */
export type Content =
  | { readonly c: 'zeros' }
  | { readonly c: 'other' }
  | { readonly c: 'compressed' }
  | { readonly c: 'table'; readonly t: PointerTable }
  | { readonly c: 'dir'; readonly entries: readonly StaleBitmapEntry[] }
  | { readonly c: 'snap'; readonly entries: readonly StaleSnapshotEntry[] };

/** What freed a cluster: a snapshot that was deleted, a bitmap that was removed, or a rewrite of a live one. */
export interface Cause {
  readonly of: 'snapshot' | 'bitmap' | 'refcount';
  readonly name: string;
  readonly gone: boolean;
}

export interface Verdict {
  was: FreedKind;
  evidence: string;
  cause?: Cause;
}

export interface ChainInput {
  /** Host cluster of each selected free cluster, ascending; `at` maps a host cluster back to its index. */
  readonly picked: readonly number[];
  readonly at: ReadonlyMap<number, number>;
  readonly content: readonly Content[];
  /** Verdicts from the clusters' own bytes (null: none); completed in place. */
  readonly verdicts: (Verdict | null)[];
  readonly roleOf: (k: number) => number;
  readonly clusterSize: number;
  readonly liveSnapshots: ReadonlySet<string>;
  readonly liveBitmaps: ReadonlySet<string>;
  /** The table kind (T_*) of a verdict's kind, 0 for others. */
  readonly kindBit: (k: FreedKind) => number;
  readonly tableWord: (bit: number) => string | undefined;
}

const L1_ROLES: readonly number[] = [Role.L1_ACTIVE, Role.L1_SNAPSHOT];
export const L2_ROLES: readonly number[] = [Role.L2_ACTIVE, Role.L2_SNAPSHOT, Role.L2_SHARED];
export const DATA_ROLES: readonly number[] = [Role.DATA, Role.DATA_SHARED, Role.DATA_SNAPSHOT, Role.COMPRESSED];

/** Stale claims followed at most over all roots (a root's chain is walked once per root). */
const MAX_CLAIMS = 1 << 22;

interface Claim {
  readonly was: FreedKind;
  readonly via: string;
  readonly cause: Cause;
}

interface Root {
  readonly i: number;
  readonly family: 'snapshot table' | 'bitmap directory';
  readonly claims: Map<number, Claim>;
  /** Why the generation is provably older than some cluster's last use (null: it may be the newest). */
  older: string | null;
}

/** "L1 of deleted snapshot 'old'", "table of removed bitmap 'big'", "old table of bitmap 'b' (rewritten)". */
const WHAT: Partial<Record<FreedKind, string>> = {
  'l1-table': 'L1', 'l2-table': 'L2 table', 'refcount-table': 'refcount table', 'refcount-block': 'refcount block', data: 'data', 'compressed-data': 'compressed data', 'bitmap-table': 'table', 'bitmap-data': 'data',
};
export function freedBy(was: FreedKind, c: Cause): string {
  const what = WHAT[was] ?? was;
  if (c.of === 'refcount') return `old ${what} (${c.name})`;
  if (c.of === 'snapshot') return c.gone ? `${what} of deleted snapshot '${c.name}'` : `old ${what} of snapshot '${c.name}'`;
  return c.gone ? `${what} of removed bitmap '${c.name}'` : `old ${what} of bitmap '${c.name}' (rewritten)`;
}

export function followStale(x: ChainInput): { notes: number } {
  const { picked, at, content, verdicts, roleOf, clusterSize: cs } = x;
  const contentAt = (k: number): Content | null => {
    const i = at.get(k);
    return i === undefined ? null : content[i] ?? null;
  };
  const isTable = (bit: number) => (c: Content) => c.c === 'table' && (c.t.kinds & bit) !== 0;
  const anyData = (c: Content) => c.c === 'compressed' || c.c === 'table';
  const FITS: Partial<Record<FreedKind, (c: Content) => boolean>> = {
    'l1-table': isTable(T_L1), 'l2-table': isTable(T_L2), 'bitmap-table': isTable(T_BITMAP_TABLE),
    data: anyData, 'compressed-data': anyData, 'bitmap-data': anyData,
  };
  const clustersOf = (off: number, bytes: number) => {
    const out: number[] = [];
    for (let k = Math.floor(off / cs); k * cs < off + bytes && out.length < 4096; k++) out.push(k);
    return out;
  };
  // A root is followed only while every cluster it names still fits what it says (in use as that,
  // or free with zeros or that table's bytes): one naming a cluster that now holds something else
  // is older than that cluster's last use, and says nothing of it.
  const fitsRoot = (k: number, live: readonly number[], bit: number): boolean => {
    const r = roleOf(k);
    if (live.includes(r)) return true;
    if (r !== Role.FREE) return false;
    const c = contentAt(k);
    return c === null || c.c === 'zeros' || (c.c === 'table' && (c.t.kinds & bit) !== 0);
  };
  const current = (c: Content): boolean => {
    if (c.c === 'dir') return c.entries.every((e) => clustersOf(e.tableOffset, e.tableSize * 8).every((k) => fitsRoot(k, [Role.BITMAP_TABLE], T_BITMAP_TABLE)));
    if (c.c === 'snap') return c.entries.every((e) => clustersOf(e.l1Offset, e.l1Size * 8).every((k) => fitsRoot(k, L1_ROLES, T_L1)));
    return false;
  };
  // A stale table naming a cluster now in use as something else is older than that use: its word
  // on the clusters it names is not taken (a zeroed one may have been reused and freed since).
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
  const notFollowed = new Set<number>();
  const staleWhere = (i: number, was: FreedKind) => `a stale ${x.tableWord(x.kindBit(was)) ?? was} at ${hex(picked[i]! * cs)}`;

  // Each root's chain, walked on its own: what it names, as what, through which stale structure.
  let budget = MAX_CLAIMS;
  const roots: Root[] = [];
  for (let r = 0; r < picked.length; r++) {
    const c = content[r]!;
    if (c.c !== 'snap' && c.c !== 'dir') continue;
    if (!current(c)) {
      verdicts[r]!.evidence += '; older than clusters it names (they now hold other things), so not followed';
      continue;
    }
    const claims = new Map<number, Claim>();
    const queue: number[] = [];
    let older: string | null = null;
    const claim = (k: number, was: FreedKind, via: string, cause: Cause) => {
      const i = at.get(k);
      if (i === undefined || claims.has(i) || budget <= 0) return;
      budget--;
      const ci = content[i]!;
      // QEMU frees bitmap tables without discarding them: a zeroed cluster named as one says nothing.
      if (ci.c === 'zeros' && was === 'bitmap-table') return;
      // Bytes that no such table holds: the cluster was reused after this generation freed it.
      const table = x.kindBit(was) !== 0;
      if (ci.c !== 'zeros' && (table ? !FITS[was]!(ci) : !FITS[was]!(ci) && ci.c !== 'other')) {
        if (table) older ??= `${hex(k * cs)}, which it names as ${was}, holds other bytes`;
        return;
      }
      claims.set(i, { was, via, cause });
      if (ci.c === 'table') queue.push(i);
    };
    const where = hex(picked[r]! * cs);
    if (c.c === 'snap') {
      for (const e of c.entries) {
        const by: Cause = { of: 'snapshot', name: e.name, gone: !x.liveSnapshots.has(`${e.id}\u0000${e.name}`) };
        for (const k of clustersOf(e.l1Offset, e.l1Size * 8)) claim(k, 'l1-table', `a stale snapshot table at ${where} (snapshot '${e.name}')`, by);
      }
    } else {
      for (const e of c.entries) {
        const by: Cause = { of: 'bitmap', name: e.name, gone: !x.liveBitmaps.has(e.name) };
        for (const k of clustersOf(e.tableOffset, e.tableSize * 8)) claim(k, 'bitmap-table', `a stale bitmap directory at ${where} (bitmap '${e.name}')`, by);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q]!;
      const { was, cause } = claims.get(i)!;
      const ci = content[i]!;
      if (ci.c !== 'table') continue;
      if (!fresh(was, ci.t)) {
        notFollowed.add(i);
        older ??= `${staleWhere(i, was)} names clusters now in use as something else`;
        continue;
      }
      const via = staleWhere(i, was);
      if (was === 'l1-table') for (const k of ci.t.targets) claim(k, 'l2-table', via, cause);
      else if (was === 'l2-table') {
        for (const k of ci.t.l2Targets ?? ci.t.targets) claim(k, 'data', via, cause);
        for (const k of ci.t.compressedTargets) claim(k, 'compressed-data', via, cause);
      } else if (was === 'bitmap-table') for (const k of ci.t.targets) claim(k, 'bitmap-data', via, cause);
    }
    roots.push({ i: r, family: c.c === 'snap' ? 'snapshot table' : 'bitmap directory', claims, older });
  }

  // The roots' word, cluster by cluster.
  const named = new Uint8Array(picked.length);
  const claimsOf = new Map<number, { root: Root; claim: Claim }[]>();
  for (const root of roots) {
    for (const [i, cl] of root.claims) {
      let list = claimsOf.get(i);
      if (!list) claimsOf.set(i, (list = []));
      list.push({ root, claim: cl });
    }
  }
  const rootWhere = (r: Root) => `the stale ${r.family} at ${hex(picked[r.i]! * cs)}`;
  // A cluster one generation names as data and another as a table whose bytes it holds was reused
  // by the second after the first freed it: the first is older, and says nothing of zeroed clusters.
  for (const [i, list] of claimsOf) {
    const c = content[i]!;
    if (c.c !== 'table' || list.length < 2) continue;
    const table = list.find((l) => x.kindBit(l.claim.was) !== 0 && FITS[l.claim.was]!(c));
    if (!table) continue;
    for (const l of list) {
      if (x.kindBit(l.claim.was) === 0 && l.root !== table.root) l.root.older ??= `${hex(picked[i]! * cs)}, its ${l.claim.was}, now holds ${table.claim.was} bytes that ${rootWhere(table.root)} names`;
    }
  }
  for (const [i, all] of [...claimsOf].sort((a, b) => a[0] - b[0])) {
    const c = content[i]!;
    // A generation provably older than some cluster's last use says nothing of zeroed clusters.
    const list = c.c === 'zeros' ? all.filter((l) => l.root.older === null) : all;
    if (list.length === 0) {
      const l = all[0]!;
      verdicts[i] = { was: 'zeros', evidence: `all bytes zero; named as ${l.claim.was} by ${l.claim.via}, but ${rootWhere(l.root)} is older than the last use of a cluster it names (${l.root.older!})` };
      continue;
    }
    const first = list[0]!.claim;
    const kinds = new Set(list.map((l) => l.claim.was));
    const causes = new Set(list.map((l) => freedBy(l.claim.was, l.claim.cause)));
    const v = verdicts[i];
    if (kinds.size > 1) {
      // Stale generations disagree on what it held: its bytes speak alone.
      const said = list.map((l) => `${rootWhere(l.root)} names it as ${l.claim.was}`);
      const why = `stale structures disagree (${names(said)})`;
      if (v) v.evidence += `; ${why}`;
      else if (c.c === 'zeros') verdicts[i] = { was: 'zeros', evidence: `all bytes zero; ${why}` };
      continue;
    }
    const was = first.was;
    const cause = causes.size === 1 ? first.cause : undefined;
    const causeNote = causes.size > 1 ? `; what freed it is not known (${names([...causes])})` : '';
    if (c.c === 'zeros') {
      // Zeros say nothing themselves: every root of the namers' families that is not provably older must agree.
      const silent = roots.filter((r) => r.older === null && list.some((l) => l.root.family === r.family) && !r.claims.has(i));
      if (silent.length > 0) {
        verdicts[i] = {
          was: 'zeros',
          evidence: `all bytes zero; named as ${was} by ${first.via}, but ${plural(silent.length, `other stale ${silent[0]!.family}`, `other stale ${silent[0]!.family.replace(/y$/, 'ie')}s`)} ` +
            `(${names(silent.map((r) => hex(picked[r.i]! * cs)))}) ${silent.length === 1 ? 'does' : 'do'} not name it, and nothing dates them: its last use is not known`,
        };
        continue;
      }
    }
    // Bytes that already say what the stale structure says: the structure adds the cause.
    if (v && v.was === was) {
      named[i] = 1;
      verdicts[i] = { was, evidence: `${v.evidence}; named by ${first.via}${causeNote}`, ...(cause ? { cause } : {}) };
      continue;
    }
    // A stale structure's word beats a table guessed from its own bytes, when those bytes fit it too.
    if (v && !(c.c === 'table' && FITS[was]!(c))) continue;
    named[i] = 1;
    const own = c.c === 'zeros' ? 'all bytes zero (QEMU discarded them)' : c.c === 'table' ? plural(c.t.used, 'valid entry', 'valid entries') : 'its bytes';
    verdicts[i] = { was, evidence: `${own}; named by ${first.via}${causeNote}`, ...(cause ? { cause } : {}) };
  }
  for (const i of notFollowed) if (named[i]) verdicts[i]!.evidence += '; it names clusters now in use as something else, so it is not followed';

  // Tables known by their bytes alone, not named by a root: they name clusters whose bytes agree.
  const hints = new Map<number, string>();
  const queue: number[] = [];
  for (let i = 0; i < picked.length; i++) if (verdicts[i] && !named[i] && content[i]!.c === 'table' && !claimsOf.has(i)) queue.push(i);
  const name = (k: number, was: FreedKind, via: string) => {
    const i = at.get(k);
    if (i === undefined || named[i] || claimsOf.has(i)) return;
    const c = content[i]!;
    const v = verdicts[i];
    if (v && v.was === was) {
      named[i] = 1;
      v.evidence += `; named by ${via}`;
      queue.push(i);
      return;
    }
    const fits = FITS[was] ?? anyData;
    if (v && !(c.c === 'table' && fits(c))) return;
    if (c.c === 'zeros') {
      hints.set(i, `named as ${was} by ${via}, which may be older than the cluster's last use`);
      return;
    }
    if (!(c.c === 'other' ? x.kindBit(was) === 0 : fits(c))) return;
    named[i] = 1;
    verdicts[i] = { was, evidence: `${c.c === 'table' ? plural(c.t.used, 'valid entry', 'valid entries') : 'its bytes'}; named by ${via}` };
    queue.push(i);
  };
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    const v = verdicts[i]!;
    const c = content[i]!;
    if (c.c !== 'table') continue;
    if (!fresh(v.was, c.t)) {
      v.evidence += '; it names clusters now in use as something else, so it is not followed';
      continue;
    }
    const via = staleWhere(i, v.was);
    if (v.was === 'l1-table') for (const k of c.t.targets) name(k, 'l2-table', via);
    else if (v.was === 'l2-table') {
      for (const k of c.t.l2Targets ?? c.t.targets) name(k, 'data', via);
      for (const k of c.t.compressedTargets) name(k, 'compressed-data', via);
    } else if (v.was === 'bitmap-table') for (const k of c.t.targets) name(k, 'bitmap-data', via);
    else if (v.was === 'refcount-table') for (const k of c.t.targets) name(k, 'refcount-block', via);
  }

  for (let i = 0; i < picked.length; i++) {
    if (verdicts[i]) continue;
    const c = content[i]!;
    verdicts[i] = c.c === 'zeros'
      ? { was: 'zeros', evidence: hints.has(i) ? `all bytes zero; ${hints.get(i)!}` : 'all bytes zero; no stale structure names it' }
      : c.c === 'table'
        ? { was: 'unknown', evidence: `${plural(c.t.used, 'entry', 'entries')} valid as ${kindList(c.t.kinds, x.tableWord)} entries, pointing at freed clusters only; nothing names it, so which is not known` }
        : { was: 'unknown', evidence: 'non-zero bytes that match no qcow2 structure; no stale structure names it (guest or bitmap data, most likely)' };
  }
  return { notes: budget <= 0 ? 1 : 0 };
}

function kindList(bits: number, word: (bit: number) => string | undefined): string {
  return [1, 2, 4, 8].filter((b) => bits & b).map((b) => word(b)!).join(' or ');
}

export function names(list: readonly string[]): string {
  return list.length <= 4 ? list.join(', ') : `${list.slice(0, 4).join(', ')} and ${list.length - 4} more`;
}
