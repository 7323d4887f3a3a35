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

/** Bytes of candidate refcount blocks read back at most. */
const MAX_REFBLOCK_BYTES = 16 * 1024 * 1024;

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
  const wanted = new Map<number, number>();
  let bytes = 0;
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
    if (!ok || free === 0 || bytes + free * cs > MAX_REFBLOCK_BYTES) continue;
    bytes += free * cs;
    tables.push(i);
    for (const k of c.t.targets) if (roleOf(k) === Role.FREE && content[at.get(k)!]!.c !== 'zeros') wanted.set(k, at.get(k)!);
  }
  if (tables.length === 0) return out;
  const raw = new Map<number, Uint8Array>();
  await readRanges(src, [...wanted.keys()].map((k) => ({ offset: k * cs, length: cs, key: k })), (k, b) => {
    raw.set(k, b.slice());
  });
  const inFile = Math.ceil(x.fileSize / cs);
  for (const i of tables) {
    const t = (content[i] as Extract<Content, { c: 'table' }>).t;
    // A table of several clusters: which of them this one is (p) shifts the ranges its entries cover.
    const perTable = t.entries;
    const firstFree = [...t.targets.keys()].find((e) => raw.has(t.targets[e]!));
    if (firstFree === undefined) continue;
    const b0 = raw.get(t.targets[firstFree]!)!;
    let p = -1;
    for (let q = 0; q * perTable * 2 <= inFile && p < 0; q++) if (staleRefblock(b0, q * perTable + t.targetEntries[firstFree]!, x.refcounts, inFile)) p = q;
    if (p < 0) continue;
    const blocks: { j: number; r: StaleRefblock }[] = [];
    let live = 0;
    let ok = true;
    for (let e = 0; e < t.targets.length && ok; e++) {
      const k = t.targets[e]!;
      if (roleOf(k) === Role.REFCOUNT_BLOCK) {
        live++;
        continue;
      }
      const b = raw.get(k);
      if (!b) continue;
      const r = staleRefblock(b, p * perTable + t.targetEntries[e]!, x.refcounts, inFile);
      if (!r || (blocks.length > 0 && r.order !== blocks[0]!.r.order)) ok = false;
      else blocks.push({ j: at.get(k)!, r });
    }
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
