// Damaged copies of a sample image for the refusal-parity differential test: the image cut at
// every cluster boundary, 8 bytes past each, and inside each structure tools/fuzz/locate.ts finds;
// and one field changed at a time (header fields, extension and snapshot / bitmap directory
// fields, L1 / L2 / refcount / bitmap table entries). A fixed seed picks a bounded subset.

import { locate, type Field, type Table } from '../../tools/fuzz/locate';
import { Rng } from '../test-support/prng';

export interface DamageCase {
  /** e.g. 'cut at 65544', 'header.l1_size = 0x0'. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Every cut point of the image: cluster boundaries, 8 bytes past them, and inside each structure. */
export function cutPoints(image: Uint8Array): number[] {
  const layout = locate(image);
  const cs = layout.clusterSize;
  const size = image.length;
  const at = new Set<number>();
  for (let k = 0; k * cs < size; k++) {
    at.add(k * cs);
    at.add(k * cs + 8);
  }
  for (const r of layout.regions) {
    if (r.length <= 0) continue;
    at.add(r.offset + 1);
    at.add(r.offset + Math.floor(r.length / 2));
    at.add(r.offset + r.length - 1);
  }
  // Below 8 bytes qemu-img does not see qcow2 at all (its probe needs the magic and version).
  return [...at].filter((n) => n >= 8 && n < size).sort((a, b) => a - b);
}

interface Patch {
  readonly name: string;
  readonly offset: number;
  readonly size: 1 | 2 | 4 | 8;
  readonly value: bigint;
}

const mask = (size: number) => (1n << BigInt(size * 8)) - 1n;

function readField(b: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[offset + i] ?? 0);
  return v;
}

/** Values worth trying in a field: 0, all ones, ±1, one bit flipped, a few that cross limits. */
function fieldValues(rng: Rng, old: bigint, size: number, fileSize: number): bigint[] {
  const m = mask(size);
  return [
    0n, m, (old + 1n) & m, (old - 1n) & m, old ^ (1n << BigInt(rng.int(size * 8))),
    BigInt(fileSize) & m, (BigInt(fileSize) + 512n) & m, (old * 2n) & m, 1n, 0x8000n & m,
  ].filter((v) => v !== old);
}

/** Entry values for a table: offsets past the end, unaligned, zero, flag bits, compressed bit. */
function entryValues(rng: Rng, old: bigint, t: Table, fileSize: number, cs: number): bigint[] {
  const size = t.entrySize >= 8 ? 8 : t.entrySize;
  const m = mask(size);
  if (size < 8) return [0n, m, (old + 1n) & m, (old - 1n) & m].filter((v) => v !== old);
  const eof = BigInt(Math.ceil(fileSize / cs) * cs);
  return [
    0n, old | (1n << 63n), old & ~(1n << 63n), old ^ 512n, old + BigInt(cs), eof | (old & (1n << 63n)),
    eof + BigInt(cs) * 16n, old | 1n, old | (1n << 62n), old | 0x00ff_0000_0000_0000n, BigInt(rng.u32()) * BigInt(cs),
  ].map((v) => v & m).filter((v) => v !== old);
}

/** Every single-field change the layout offers (deterministic for a given seed). */
export function fieldPatches(image: Uint8Array, seed: number): Patch[] {
  const layout = locate(image);
  const rng = new Rng(seed);
  const out: Patch[] = [];
  const add = (f: Field) => {
    if (f.offset + f.size > image.length || f.name === 'header.magic') return;
    const old = readField(image, f.offset, f.size);
    for (const value of fieldValues(rng, old, f.size, image.length)) out.push({ name: `${f.name} = 0x${value.toString(16)}`, offset: f.offset, size: f.size, value });
  };
  for (const f of layout.fields) add(f);
  for (const t of layout.tables) {
    const size = t.entrySize >= 8 ? 8 : t.entrySize;
    // A few entries per table: the first, a used one when there is one, a random one.
    const picks = new Set<number>([0, rng.int(t.entries)]);
    for (let i = 0; i < t.entries && picks.size < 3; i++) if (readField(image, t.offset + i * t.entrySize, size) !== 0n) picks.add(i);
    for (const i of picks) {
      const offset = t.offset + i * t.entrySize;
      if (offset + size > image.length) continue;
      const old = readField(image, offset, size);
      for (const value of entryValues(rng, old, t, image.length, layout.clusterSize)) {
        out.push({ name: `${t.name}[${i}] = 0x${value.toString(16)}`, offset, size: size as 1 | 2 | 4 | 8, value });
      }
    }
  }
  return out;
}

function apply(image: Uint8Array, p: Patch): Uint8Array {
  const b = image.slice();
  for (let i = 0; i < p.size; i++) b[p.offset + i] = Number((p.value >> BigInt(8 * (p.size - 1 - i))) & 0xffn);
  return b;
}

/** Picks `n` of `list` with a fixed-seed shuffle (all of them when n ≥ the length). */
export function pickSome<T>(list: readonly T[], n: number, seed: number): T[] {
  const a = [...list];
  const rng = new Rng(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}

/** Up to `n` truncated copies of `image`. */
export function cutCases(image: Uint8Array, n: number, seed: number): DamageCase[] {
  return pickSome(cutPoints(image), n, seed).map((at) => ({ name: `cut at ${at}`, bytes: image.subarray(0, at) }));
}

/** Up to `n` copies of `image` with one field changed. */
export function fieldCases(image: Uint8Array, n: number, seed: number): DamageCase[] {
  return pickSome(fieldPatches(image, seed), n, seed + 1).map((p) => ({ name: p.name, bytes: apply(image, p) }));
}
