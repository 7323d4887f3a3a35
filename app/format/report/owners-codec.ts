// The owners of host clusters in a saved analysis, so that a dropped analysis describes a cluster
// as the image did ("guest data at …", "L2 table for guest …", a compressed cluster's pieces): the
// guest owner runs, the L2 table uses, the refcount table's block offsets and the compressed-cluster
// index. Optional and additive: a document without them reads as before (no owners). Each part is
// unsigned LEB128 varints, base64; offsets in clusters (or sectors), deltas where sorted. Every
// value is bounded on read; a part that does not fit its budget is left out and a note says so.

import type { CheckResult } from '../check/check';
import type { L2Use } from '../check/l1-tables';
import { OWNER_UNKNOWN, type OwnerIndex } from '../check/owners';
import type { Reftable } from '../qcow2/refcounts';
import { ByteSink, fromBase64, toBase64, VarintReader } from './rle';
import { ReportError } from './codec';

export const OWNERS_ENCODING = 'owners-leb128-base64';

/** Largest encoded part saved (bytes before base64). */
export const MAX_OWNER_PART_BYTES = 8 * 2 ** 20;

export interface SavedOwners {
  readonly encoding: string;
  /** Runs: host start and length (differences from the previous run's step and length), guest index + 1 (from the previous run's end). */
  readonly owner: string | null;
  /** Per L2 table: offset in clusters (step difference), firstL1 + 1 (difference), 0 for the usual table or 1 and activeRefs, mapRefs, snapRefs, firstSnap + 1, firstSnapL1 + 1. */
  readonly l2: string | null;
  /** Refcount blocks in use: index step, offset in 512-byte units (difference from the expected). */
  readonly reftable: string | null;
  /** Per compressed piece: host offset in bytes (delta from the previous), stored length, guest cluster index. */
  readonly compressed: string | null;
}

/** The varint sink of rle.ts, with this part's size budget. */
class Writer {
  private readonly sink = new ByteSink();
  put(v: number): void {
    this.sink.varint(v);
  }
  private dropped = false;
  /** Leaves this part out (it cannot be saved right). */
  drop(): void {
    this.dropped = true;
  }
  done(): string | null {
    return this.dropped || this.sink.length > MAX_OWNER_PART_BYTES ? null : toBase64(this.sink.bytes());
  }
}

/** Signed to unsigned (0, -1, 1, -2 … → 0, 1, 2, 3 …) for deltas that are mostly 0. */
const zig = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);
const unzig = (u: number): number => (u % 2 === 0 ? u / 2 : -(u + 1) / 2);

/** The varint reader of rle.ts, each value bounded by the caller. */
class Reader {
  private readonly rd: VarintReader;
  constructor(b: Uint8Array, private readonly path: string) {
    this.rd = new VarintReader(b, path);
  }
  get more(): boolean {
    return !this.rd.done;
  }
  get(max: number): number {
    const v = this.rd.next();
    if (v > max) throw new ReportError('INCONSISTENT', this.path, `${v} is above ${max}`);
    return v;
  }
}

/** The owner index as runs (a dense index is turned into runs). */
function ownerRuns(o: OwnerIndex, put: (host: number, guest1: number, len: number) => void): void {
  if (!o.dense) {
    for (let i = 0; i < o.n; i++) put(o.host[i]!, o.guest[i]!, o.len[i]!);
    return;
  }
  const d = o.dense;
  let k = 0;
  while (k < d.length) {
    const g = d[k]!;
    if (g === 0) {
      k++;
      continue;
    }
    let j = k + 1;
    if (g !== OWNER_UNKNOWN) while (j < d.length && d[j] === g + (j - k)) j++;
    put(k, g, j - k);
    k = j;
  }
}

/** The owners part of a saved analysis, and notes on the parts left out. */
export function encodeOwners(c: OwnerParts & Pick<CheckResult, 'clusterSize'>, clusters: number): { owners: SavedOwners; notes: string[] } {
  const cs = c.clusterSize;
  const notes: string[] = [];
  const w = new Writer();
  // Guest indexes as the difference from where the previous run's guest range ended: mostly 0.
  // Regular layouts (tables every N clusters) repeat the same step and length: both are written as
  // the difference from the previous one.
  let last = 0;
  let step = 0;
  let lastLen = 0;
  let nextGuest = 0;
  ownerRuns(c.owner, (host, guest1, len) => {
    w.put(zig(host - last - step));
    w.put(zig(guest1 - nextGuest));
    w.put(zig(len - lastLen));
    step = host - last;
    last = host;
    lastLen = len;
    nextGuest = guest1 === OWNER_UNKNOWN ? nextGuest : guest1 + len;
  });
  const owner = w.done();
  const l = new Writer();
  // Only tables at a cluster boundary inside the file can be a cluster's owner; L1 indexes as the
  // difference from the previous table's + 1 (mostly 0).
  let prev = 0;
  let l2Step = 0;
  let l1 = 0;
  for (const u of [...c.l2Tables.values()].sort((a, b) => a.offset - b.offset)) {
    if (u.offset % cs !== 0 || u.offset / cs >= clusters) continue;
    const at = u.offset / cs;
    l.put(zig(at - prev - l2Step));
    l.put(zig(u.firstL1 + 1 - l1));
    // 0: the usual table, named once by the active L1 and by no snapshot; else 1 and the counts.
    const usual = u.activeRefs === 1 && u.mapRefs === 1 && u.snapRefs === 0 && u.firstSnap === -1 && u.firstSnapL1 === -1;
    l.put(usual ? 0 : 1);
    if (!usual) for (const v of [u.activeRefs, u.mapRefs, u.snapRefs, u.firstSnap + 1, u.firstSnapL1 + 1]) l.put(v);
    l2Step = at - prev;
    prev = at;
    l1 = u.firstL1 + 2;
  }
  const l2 = l.done();
  const r = new Writer();
  // In 512-byte units (entries keep bits 9..63), capped just past the file: such a block owns none of it.
  // Only the entries in use: (index step, offset as a difference from the expected next one).
  let idx = -1;
  let sec = 0;
  let secStep = 0;
  const offs = c.reftable.offsets;
  for (let i = 0; i < offs.length; i++) {
    if (offs[i] === 0) continue;
    const v = Math.min(Math.floor(offs[i]! / 512), (clusters * cs) / 512 + 1);
    r.put(i - idx);
    r.put(zig(v - sec - secStep));
    secStep = v - sec;
    sec = v;
    idx = i;
  }
  const reftable = r.done();
  const z = new Writer();
  let host = 0;
  for (let i = 0; i < c.compressed.n; i++) {
    const h = c.compressed.host[i]!;
    // The index is sorted by host offset; an unsorted one is not saved rather than saved wrong.
    if (h < host) {
      z.drop();
      break;
    }
    z.put(h - host);
    z.put(c.compressed.length[i]!);
    z.put(c.compressed.guest[i]!);
    host = h;
  }
  const compressed = z.done();
  for (const [part, what] of [[owner, 'guest owners'], [l2, 'L2 table uses'], [reftable, 'refcount table'], [compressed, 'compressed-cluster index']] as const) {
    if (part === null) notes.push(`The ${what} of the clusters are not saved (too large).`);
  }
  return { owners: { encoding: OWNERS_ENCODING, owner, l2, reftable, compressed }, notes };
}

export type OwnerParts = Pick<CheckResult, 'owner' | 'l2Tables' | 'reftable' | 'compressed'>;

/** Reads the owners part for a file of `clusters` host clusters; what is absent stays `base`'s. */
export function decodeOwners(s: SavedOwners, clusters: number, clusterSize: number, base: OwnerParts): OwnerParts {
  if (s.encoding !== OWNERS_ENCODING) throw new ReportError('BAD_FIELD', 'owners.encoding', `unknown encoding '${s.encoding}'`);
  const out: { -readonly [K in keyof OwnerParts]: OwnerParts[K] } = { ...base };
  const fileBytes = clusters * clusterSize;
  if (s.owner !== null) {
    const rd = new Reader(fromBase64(s.owner, 'owners.owner'), 'owners.owner');
    const host: number[] = [];
    const guest: number[] = [];
    const len: number[] = [];
    let at = 0;
    let step = 0;
    let lastLen = 0;
    let nextGuest = 0;
    while (rd.more) {
      step += unzig(rd.get(4 * clusters + 4));
      at += step;
      const g = nextGuest + unzig(rd.get(2 * OWNER_UNKNOWN + 2));
      const n = lastLen + unzig(rd.get(4 * clusters + 4));
      lastLen = n;
      if (step < 0 || n < 1) throw new ReportError('INCONSISTENT', 'owners.owner', 'runs out of order or empty');
      if (g < 1 || g > OWNER_UNKNOWN) throw new ReportError('INCONSISTENT', 'owners.owner', `guest ${g} out of range`);
      nextGuest = g === OWNER_UNKNOWN ? nextGuest : g + n;
      if (at + n > clusters || (host.length > 0 && at < host[host.length - 1]! + len[len.length - 1]!)) throw new ReportError('INCONSISTENT', 'owners.owner', 'runs overlap or pass the end of the file');
      host.push(at);
      guest.push(g);
      len.push(n);
    }
    out.owner = { dense: null, host: Uint32Array.from(host), guest: Uint32Array.from(guest), len: Uint32Array.from(len), n: host.length };
  }
  if (s.l2 !== null) {
    const rd = new Reader(fromBase64(s.l2, 'owners.l2'), 'owners.l2');
    const uses = new Map<number, L2Use>();
    let at = 0;
    let step = 0;
    let l1Next = 0;
    while (rd.more) {
      step += unzig(rd.get(4 * clusters + 4));
      at += step;
      if (step < 0 || at >= clusters) throw new ReportError('INCONSISTENT', 'owners.l2', 'tables out of order or past the end of the file');
      const l1 = l1Next + unzig(rd.get(2 ** 34));
      const [activeRefs, mapRefs, snapRefs, snap, snapL1] = rd.get(1) === 0
        ? [1, 1, 0, 0, 0]
        : ([0, 0, 0, 0, 0].map(() => rd.get(2 ** 32)) as [number, number, number, number, number]);
      if (l1 < 0 || l1 > 2 ** 32) throw new ReportError('INCONSISTENT', 'owners.l2', `L1 index ${l1 - 1} out of range`);
      l1Next = l1 + 1;
      const offset = at * clusterSize;
      uses.set(offset, { offset, activeRefs, mapRefs, snapRefs, firstL1: l1 - 1, firstSnap: snap - 1, firstSnapL1: snapL1 - 1, snapMarker: 0 });
    }
    out.l2Tables = uses;
  }
  if (s.reftable !== null) {
    const rd = new Reader(fromBase64(s.reftable, 'owners.reftable'), 'owners.reftable');
    const offs: number[] = [];
    const limit = (clusters * clusterSize) / 512 + 1;
    let idx = -1;
    let sec = 0;
    let secStep = 0;
    while (rd.more) {
      idx += rd.get(2 ** 24);
      const v = sec + secStep + unzig(rd.get(4 * limit + 4));
      if (idx >= 2 ** 24 || v < 1 || v > limit) throw new ReportError('INCONSISTENT', 'owners.reftable', 'entry out of range');
      while (offs.length < idx) offs.push(0);
      offs.push(v * 512);
      secStep = v - sec;
      sec = v;
    }
    const reftable: Reftable = { offsets: Float64Array.from(offs), flags: new Uint8Array(offs.length) };
    out.reftable = reftable;
  }
  if (s.compressed !== null) {
    const rd = new Reader(fromBase64(s.compressed, 'owners.compressed'), 'owners.compressed');
    const host: number[] = [];
    const length: number[] = [];
    const guest: number[] = [];
    let h = 0;
    while (rd.more) {
      h += rd.get(fileBytes);
      host.push(h);
      length.push(rd.get(2 * clusterSize + 512));
      guest.push(rd.get(2 ** 52 / clusterSize));
    }
    out.compressed = { n: host.length, host: Float64Array.from(host), length: Uint32Array.from(length), guest: Float64Array.from(guest) };
  }
  return out;
}
