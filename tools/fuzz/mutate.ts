// Mutators over a sample image and its layout (locate.ts): field-aware (header and extension
// fields, snapshot and bitmap directory entries, L1/L2/refcount/bitmap-table entries, names) and
// raw (bit flips, byte runs, cluster copies, truncation at structure boundaries). Pure and
// deterministic: the same bytes, layout and Rng state give the same case, described by `ops`.

import { boundaryValues, FIELD_VALUES, HOSTILE_NAMES, U64_MAX } from './hostile';
import type { Field, ImageLayout, NameSlot, Table } from './locate';
import { Rng } from '../../app/test-support/prng';
import { deflateSync } from 'fflate';
import * as S from '../../app/format/qcow2/spec';

export interface Mutation {
  readonly bytes: Uint8Array;
  /** One line per operation applied, e.g. "field header.l1_size = 0x80000000". */
  readonly ops: readonly string[];
}

export type OpKind = 'field' | 'entry' | 'name' | 'flip' | 'fill' | 'copy' | 'extension' | 'grow' | 'truncate' | 'compressed';

const OP_WEIGHTS: readonly [OpKind, number][] = [
  ['field', 30], ['entry', 25], ['name', 8], ['flip', 10], ['fill', 6], ['copy', 4], ['extension', 6], ['grow', 2], ['truncate', 9], ['compressed', 6],
];

const hexOf = (v: bigint | number) => '0x' + v.toString(16);

/** Writes `value` (truncated to the field's width) big-endian at `offset`, inside `b` only. */
export function writeUint(b: Uint8Array, offset: number, size: number, value: bigint): void {
  let v = value & ((1n << BigInt(size * 8)) - 1n);
  for (let i = size - 1; i >= 0; i--) {
    if (offset + i < b.length && offset + i >= 0) b[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function weighted<T>(rng: Rng, list: readonly [T, number][]): T {
  let total = 0;
  for (const [, w] of list) total += w;
  let x = rng.int(total);
  for (const [v, w] of list) {
    if (x < w) return v;
    x -= w;
  }
  return list[0]![0];
}

/** Offsets worth pointing an entry at: other structures, the file's end, beyond it, unaligned. */
function targetOffsets(l: ImageLayout, rng: Rng): bigint[] {
  const cs = l.clusterSize;
  const some = (list: readonly { offset: number }[]) => (list.length ? [BigInt(rng.pick(list).offset)] : []);
  const end = BigInt(l.fileSize);
  return [
    0n, BigInt(cs), end, end - BigInt(cs), end + BigInt(cs), ((end + BigInt(cs) - 1n) / BigInt(cs)) * BigInt(cs),
    end * 1024n, 1n << 40n, (1n << 53n), (1n << 56n) - BigInt(cs), BigInt(cs) + 512n, BigInt(cs / 2),
    ...some(l.tables), ...some(l.regions), ...(l.dataClusters.length ? [BigInt(rng.pick(l.dataClusters))] : []),
  ].map((v) => (v & 0x00ff_ffff_ffff_fe00n) | (rng.chance(0.1) ? BigInt(rng.int(512)) : 0n));
}

function fieldValue(f: Field, l: ImageLayout, rng: Rng, original: bigint): bigint {
  const special = FIELD_VALUES[f.name] ?? (/\.(offset|l1_table_offset|table_offset|directory_offset)$/.test(f.name) ? targetOffsets(l, rng) : []);
  const roll = rng.int(10);
  if (roll < 4 && special.length) return rng.pick(special);
  if (roll < 8) return rng.pick(boundaryValues(f.size));
  if (roll === 8) return original ^ (1n << BigInt(rng.int(f.size * 8)));
  return rng.chance(0.5) ? original + 1n : original - 1n;
}

function readUint(b: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(b[offset + i] ?? 0);
  return v;
}

function entryValue(t: Table, l: ImageLayout, rng: Rng): bigint {
  const target = rng.pick(targetOffsets(l, rng));
  const copied = rng.chance(0.5) ? S.QCOW_OFLAG_COPIED : 0n;
  switch (t.kind) {
    case 'l1':
    case 'snapshot-l1':
      return rng.pick([0n, copied | target, target | (1n << BigInt(rng.range(56, 62))), target | 2n, U64_MAX, rng.u64()]);
    case 'l2': {
      const csizeShift = 62n - BigInt(Math.log2(l.clusterSize) - 8);
      const sectors = rng.pick([0n, 1n, BigInt(rng.int(64)), (1n << (62n - csizeShift)) - 1n]);
      const compressed = S.QCOW_OFLAG_COMPRESSED | (sectors << csizeShift) | (BigInt(rng.int(Math.max(1, l.fileSize + 4096))) & ((1n << csizeShift) - 1n));
      return rng.pick([0n, 1n, copied | target, copied | target | 1n, compressed, compressed | S.QCOW_OFLAG_COPIED,
        target | (1n << BigInt(rng.range(56, 61))), target | 0x100n, U64_MAX, rng.u64()]);
    }
    case 'reftable':
      return rng.pick([0n, target, target | 0x1ffn, target | (1n << 63n), U64_MAX, rng.u64()]);
    case 'refblock':
      return rng.pick([0n, 1n, 2n, 3n, 0xffn, 0xffffn, 0xffff_ffffn, U64_MAX, rng.u64()]);
    case 'bitmap-table':
      return rng.pick([0n, 1n, target, target | 1n, target | 0x2n, target | (1n << 60n), U64_MAX, rng.u64()]);
  }
}

function mutateEntries(b: Uint8Array, l: ImageLayout, rng: Rng): string {
  const t = rng.pick(l.tables);
  const width = Math.min(8, t.entrySize);
  const value = entryValue(t, l, rng);
  const pattern = rng.int(10);
  const [from, count] = pattern < 6 ? [rng.int(t.entries), 1]
    : pattern < 9 ? [rng.int(t.entries), rng.range(2, 64)]
      : [0, t.entries];
  const n = Math.min(count, t.entries - from);
  for (let i = from; i < from + n; i++) writeUint(b, t.offset + i * t.entrySize, width, value);
  let bitmap = '';
  if (t.entrySize === 16 && rng.chance(0.5)) {
    const bm = rng.pick([0n, U64_MAX, 0xffff_ffffn, 0xffff_ffff_0000_0000n, rng.u64()]);
    for (let i = from; i < from + n; i++) writeUint(b, t.offset + i * 16 + 8, 8, bm);
    bitmap = `, subcluster bitmap ${hexOf(bm)}`;
  }
  return `entry ${t.name}[${from}${n > 1 ? `..${from + n - 1}` : ''}] = ${hexOf(value)}${bitmap}`;
}

function mutateName(b: Uint8Array, l: ImageLayout, rng: Rng): string {
  const slot: NameSlot = rng.pick(l.names);
  const name = rng.pick(HOSTILE_NAMES);
  const n = Math.min(slot.room, name.length);
  b.set(name.subarray(0, n), slot.offset);
  if (slot.lengthField === null) {
    if (n < slot.room) b.fill(0, slot.offset + n, slot.offset + slot.room);
    return `name ${slot.name} = ${n} hostile bytes`;
  }
  const f = slot.lengthField;
  const len = rng.chance(0.8) ? BigInt(n) : rng.pick([0n, BigInt(slot.room + 1), (1n << BigInt(f.size * 8)) - 1n]);
  writeUint(b, f.offset, f.size, len);
  return `name ${slot.name} = ${n} hostile bytes, ${f.name} = ${len}`;
}

function mutateRegionBytes(b: Uint8Array, l: ImageLayout, rng: Rng, kind: 'flip' | 'fill'): string {
  const region = rng.chance(0.8) && l.regions.length ? rng.pick(l.regions) : { name: 'file', offset: 0, length: b.length };
  const len = Math.max(1, Math.min(region.length, b.length - region.offset));
  if (kind === 'flip') {
    const flips = rng.range(1, 16);
    for (let i = 0; i < flips; i++) {
      const at = region.offset + rng.int(len);
      if (at < b.length) b[at] = b[at]! ^ (1 << rng.int(8));
    }
    return `flip ${flips} bits in ${region.name}`;
  }
  const start = region.offset + rng.int(len);
  const span = Math.min(b.length - start, rng.pick([1, 2, 4, 8, 16, 64, 512, l.clusterSize]));
  const fill = rng.int(3);
  for (let i = 0; i < span; i++) b[start + i] = fill === 0 ? 0 : fill === 1 ? 0xff : rng.int(256);
  return `fill ${span} bytes at ${start} (${region.name}) with ${['zeros', 'ones', 'noise'][fill]}`;
}

function copyRegion(b: Uint8Array, l: ImageLayout, rng: Rng): string {
  const from = rng.pick(l.regions);
  const to = rng.pick(l.regions);
  const n = Math.min(from.length, b.length - to.offset, b.length - from.offset, l.clusterSize);
  if (n <= 0) return 'copy (nothing)';
  b.copyWithin(to.offset, from.offset, from.offset + n);
  return `copy ${n} bytes of ${from.name} over ${to.name}`;
}

/** Writes a new header extension where the end marker was (and a new end marker after it). */
function addExtension(b: Uint8Array, l: ImageLayout, rng: Rng): string {
  const at = l.extensionEnd;
  const limit = Math.min(l.clusterSize, b.length);
  if (at < 0 || at + 8 > limit) return 'extension (no room)';
  const kind = rng.int(5);
  const room = limit - at - 8;
  let type: number;
  let data: Uint8Array;
  if (kind === 0) {
    // A feature name table naming an unknown incompatible bit with markup, and setting that bit.
    const bit = rng.range(5, 63);
    data = new Uint8Array(48 * 2);
    data[0] = 0;
    data[1] = bit;
    data.set(rng.pick(HOSTILE_NAMES).subarray(0, 46), 2);
    data[48] = rng.int(4);
    data[49] = rng.int(256);
    data.set(rng.pick(HOSTILE_NAMES).subarray(0, 46), 50);
    if (rng.chance(0.7)) writeUint(b, 72, 8, readUint(b, 72, 8) | (1n << BigInt(bit)));
    type = S.EXT_FEATURE_TABLE;
  } else if (kind === 1) {
    type = rng.pick([S.EXT_BACKING_FORMAT, S.EXT_DATA_FILE]);
    data = rng.pick(HOSTILE_NAMES);
  } else if (kind === 2) {
    type = rng.pick([S.EXT_BITMAPS, S.EXT_CRYPTO_HEADER]);
    data = new Uint8Array(rng.pick([8, 16, 24, 32]));
    for (let i = 0; i < data.length; i += 8) writeUint(data, i, 8, rng.pick([0n, 1n, BigInt(l.clusterSize), BigInt(l.fileSize), U64_MAX, rng.u64()]));
  } else {
    type = rng.u32() || 1;
    data = Uint8Array.from({ length: rng.int(64) }, () => rng.int(256));
  }
  const body = data.subarray(0, Math.max(0, Math.min(data.length, room - 8)));
  const lengthValue = kind === 4 ? rng.pick([0xffff_ffffn, BigInt(room + 1), BigInt(l.clusterSize)]) : BigInt(body.length);
  writeUint(b, at, 4, BigInt(type));
  writeUint(b, at + 4, 4, lengthValue);
  b.set(body, at + 8);
  const endAt = at + 8 + Math.ceil(body.length / 8) * 8;
  if (endAt + 8 <= limit) b.fill(0, endAt, endAt + 8);
  return `extension ${hexOf(type)} length ${lengthValue} (${body.length} bytes)`;
}

let zlibBomb: Uint8Array | null = null;

/** A raw deflate stream of 256 KiB of zeros (about 260 bytes: fits any compressed descriptor). */
function deflateBomb(): Uint8Array {
  zlibBomb ??= deflateSync(new Uint8Array(256 * 1024), { level: 9 });
  return zlibBomb;
}

/** A zstd frame with no content size and `n` RLE blocks of 128 KiB each (4 bytes of input per block). */
function zstdBomb(n: number): Uint8Array {
  const out = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88]; // no content size, 128 MiB window
  for (let i = 0; i < n; i++) {
    const h = ((128 * 1024) << 3) | (1 << 1) | (i === n - 1 ? 1 : 0);
    out.push(h & 0xff, (h >> 8) & 0xff, h >>> 16, 0xaa);
  }
  return Uint8Array.from(out);
}

/** Damages the stored bytes of a compressed cluster: flips, runs, a cut, or a decompression bomb. */
function mutateCompressed(b: Uint8Array, l: ImageLayout, rng: Rng): string {
  const c = rng.pick(l.compressed);
  const end = Math.min(b.length, c.offset + c.length);
  const len = end - c.offset;
  if (len <= 0) return `${c.name}: past the end of the file`;
  const zstd = b[104] === 1;
  switch (rng.int(5)) {
    case 0: {
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) {
        const at = c.offset + rng.int(len);
        b[at] = b[at]! ^ (1 << rng.int(8));
      }
      return `${c.name}: ${n} bits flipped`;
    }
    case 1: {
      const at = c.offset + rng.int(len);
      const n = Math.min(end - at, 1 + rng.int(16));
      for (let i = 0; i < n; i++) b[at + i] = rng.int(256);
      return `${c.name}: ${n} random bytes at ${at}`;
    }
    case 2: {
      const at = c.offset + rng.int(len);
      b.fill(rng.pick([0, 0xff]), at, end);
      return `${c.name}: cut at ${at}`;
    }
    default: {
      const bomb = zstd ? zstdBomb(Math.max(1, Math.floor((len - 6) / 4))) : deflateBomb();
      const n = Math.min(len, bomb.length);
      b.set(bomb.subarray(0, n), c.offset);
      return `${c.name}: ${zstd ? 'zstd RLE' : 'deflate'} bomb of ${n} bytes`;
    }
  }
}

/** Sizes to cut the file to: the boundaries of every structure, and one byte either side. */
export function truncationPoints(l: ImageLayout): number[] {
  const out = new Set<number>([0, 1, 3, 4, 8, 20, 71, 72, 100, 103, 104, l.clusterSize - 1, l.clusterSize]);
  for (const r of l.regions) {
    for (const p of [r.offset, r.offset + 1, r.offset + Math.floor(r.length / 2), r.offset + r.length - 1, r.offset + r.length]) out.add(p);
  }
  return [...out].filter((p) => p >= 0 && p < l.fileSize).sort((a, b) => a - b);
}

/** Applies 1–4 random operations to a copy of `original`. */
export function mutate(original: Uint8Array, l: ImageLayout, rng: Rng): Mutation {
  let b = original.slice();
  const ops: string[] = [];
  const count = rng.pick([1, 1, 1, 2, 2, 3, 4]);
  for (let k = 0; k < count; k++) {
    const op = weighted(rng, OP_WEIGHTS);
    switch (op) {
      case 'field': {
        if (!l.fields.length) break;
        const f = rng.pick(l.fields);
        const v = fieldValue(f, l, rng, readUint(b, f.offset, f.size));
        writeUint(b, f.offset, f.size, v);
        ops.push(`field ${f.name} = ${hexOf(v & ((1n << BigInt(f.size * 8)) - 1n))}`);
        break;
      }
      case 'entry':
        if (l.tables.length) ops.push(mutateEntries(b, l, rng));
        break;
      case 'compressed':
        if (l.compressed.length) ops.push(mutateCompressed(b, l, rng));
        break;
      case 'name':
        if (l.names.length) ops.push(mutateName(b, l, rng));
        break;
      case 'flip':
      case 'fill':
        ops.push(mutateRegionBytes(b, l, rng, op));
        break;
      case 'copy':
        if (l.regions.length) ops.push(copyRegion(b, l, rng));
        break;
      case 'extension':
        ops.push(addExtension(b, l, rng));
        break;
      case 'grow': {
        const extra = rng.pick([1, 511, 512, l.clusterSize, 2 * l.clusterSize + 7]);
        const next = new Uint8Array(b.length + extra);
        next.set(b);
        if (rng.chance(0.5)) for (let i = b.length; i < next.length; i++) next[i] = rng.int(256);
        b = next;
        ops.push(`grow by ${extra} bytes`);
        break;
      }
      case 'truncate': {
        const points = truncationPoints(l);
        const cut = rng.chance(0.85) && points.length ? rng.pick(points) : rng.int(b.length);
        b = b.slice(0, Math.min(cut, b.length));
        ops.push(`truncate to ${b.length} bytes`);
        k = count;
        break;
      }
    }
  }
  return { bytes: b, ops };
}
