// Freed refcount tables and blocks among the free clusters (refcount-stale.ts tests one block):
// a free cluster whose entries are all valid refcount table entries is a refcount table when the
// free clusters it names, read back, are refcount blocks of one width that agree with the live
// refcounts of the ranges its entries cover (and the others are refcount blocks in use). What
// freed them is said when the width differs from the image's: `amend -o refcount_bits` did.

import { Role } from '../check/roles';
import type { ByteSource } from '../qcow2/source';
import { readRanges } from '../qcow2/source';
import { formatCount, plural } from '../text';
import type { Content, Verdict } from './chains';
import { T_REFTABLE } from './content';
import { MIN_AGREE, staleRefblock, type StaleRefblock } from './refcount-stale';

/** Bytes of candidate refcount blocks read back at most (past it, a table is not taken as one). */
const MAX_REFBLOCK_BYTES = 64 * 1024 * 1024;

export interface RefcountInput {
  readonly picked: readonly number[];
  readonly at: ReadonlyMap<number, number>;
  readonly content: readonly Content[];
  readonly roleOf: (k: number) => number;
  readonly clusterSize: number;
  readonly refcounts: ArrayLike<number>;
  readonly refcountOrder: number;
  readonly fileSize: number;
}

/** Verdicts for the freed refcount tables and blocks found, by index into `picked`. */
export async function staleRefcounts(src: ByteSource, x: RefcountInput): Promise<Map<number, Verdict>> {
  const { picked, at, content, roleOf, clusterSize: cs } = x;
  const out = new Map<number, Verdict>();
  // Candidate tables: every target a free cluster holding bytes, or a refcount block in use.
  const tables: number[] = [];
  for (let i = 0; i < picked.length; i++) {
    const c = content[i]!;
    if (c.c !== 'table' || !(c.t.kinds & T_REFTABLE)) continue;
    let free = 0;
    const ok = [...c.t.targets].every((k) => {
      const r = roleOf(k);
      if (r === Role.REFCOUNT_BLOCK) return true;
      const j = at.get(k);
      if (r !== Role.FREE || j === undefined) return false;
      const cj = content[j]!.c;
      if (cj === 'zeros') return true;
      free++;
      return cj === 'other' || cj === 'table';
    });
    if (ok && free > 0) tables.push(i);
  }
  if (tables.length === 0) return out;
  const tableOf = (i: number) => (content[i] as Extract<Content, { c: 'table' }>).t;
  const bytesFree = (k: number) => roleOf(k) === Role.FREE && content[at.get(k)!]!.c !== 'zeros';
  const inFile = Math.ceil(x.fileSize / cs);
  // A table of several clusters: which of them this one is (p) shifts the ranges its entries cover;
  // the first freed block it names says. Blocks are tested as they are read, none kept.
  const firsts = new Map<number, number>();
  for (const i of tables) firsts.set(i, tableOf(i).targets.findIndex(bytesFree));
  const p = new Map<number, number>();
  await readRanges(src, tables.map((i) => ({ offset: tableOf(i).targets[firsts.get(i)!]! * cs, length: cs, key: i })), (i, b) => {
    const t = tableOf(i);
    const e = firsts.get(i)!;
    for (let q = 0; q * t.entries * (cs / 8) < inFile; q++) {
      if (staleRefblock(b, q * t.entries + t.targetEntries[e]!, x.refcounts, inFile)) {
        p.set(i, q);
        return;
      }
    }
  });
  const wanted = new Map<number, { i: number; e: number }[]>();
  for (const i of p.keys()) {
    const t = tableOf(i);
    for (let e = 0; e < t.targets.length; e++) {
      const k = t.targets[e]!;
      if (!bytesFree(k)) continue;
      let list = wanted.get(k);
      if (!list) wanted.set(k, (list = []));
      list.push({ i, e });
    }
  }
  const found = new Map<number, { blocks: { j: number; r: StaleRefblock }[]; ok: boolean }>();
  for (const i of p.keys()) found.set(i, { blocks: [], ok: true });
  let read = 0;
  await readRanges(src, [...wanted.keys()].sort((a, b) => a - b).map((k) => ({ offset: k * cs, length: cs, key: k })), (k, b) => {
    read += cs;
    for (const { i, e } of wanted.get(k)!) {
      const f = found.get(i)!;
      const r = read <= MAX_REFBLOCK_BYTES ? staleRefblock(b, p.get(i)! * tableOf(i).entries + tableOf(i).targetEntries[e]!, x.refcounts, inFile) : null;
      if (!r || (f.blocks.length > 0 && r.order !== f.blocks[0]!.r.order)) f.ok = false;
      else f.blocks.push({ j: at.get(k)!, r });
    }
  });
  for (const [i, { blocks, ok }] of found) {
    const t = tableOf(i);
    const live = [...t.targets].filter((k) => roleOf(k) === Role.REFCOUNT_BLOCK).length;
    const covered = blocks.reduce((n, b) => n + b.r.covered, 0);
    const agree = blocks.reduce((n, b) => n + b.r.agree, 0);
    if (!ok || blocks.length === 0 || agree < MIN_AGREE * covered || agree < 2) continue;
    const order = blocks[0]!.r.order;
    const bits = 1 << order;
    const changed = order !== x.refcountOrder;
    const cause = changed ? { of: 'refcount' as const, name: `refcount_bits ${bits}, now ${1 << x.refcountOrder}`, gone: true } : undefined;
    out.set(i, {
      was: 'refcount-table',
      evidence: `${formatCount(t.entries)} entries, ${plural(t.used, 'valid refcount table entry', 'valid refcount table entries')} pointing inside the file, ` +
        `${formatCount(blocks.length)} at freed refcount blocks of ${bits}-bit refcounts equal to the live ones` + (live > 0 ? `, ${formatCount(live)} at refcount blocks in use` : ''),
      ...(cause ? { cause } : {}),
    });
    for (const { j, r } of blocks) {
      if (out.has(j)) continue;
      out.set(j, {
        was: 'refcount-block',
        evidence: `${bits}-bit refcounts, ${formatCount(r.agree)} of ${formatCount(r.covered)} equal to the live refcounts of the clusters it covers`,
        ...(cause ? { cause } : {}),
      });
    }
  }
  return out;
}
