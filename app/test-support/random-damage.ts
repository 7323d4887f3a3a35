// Test helper (Node only): damages a qcow2 image the way crashes and bugs do, from a seed, for the
// differential tests of check and map (random-images.ts, kind `allocation`): refcounts changed,
// COPIED flags flipped, reserved bits set, entries past the end of the file or unaligned, entries
// duplicated or pointing at metadata, shared L2 tables, refcount blocks zeroed or unaligned,
// garbage appended, the file truncated.

import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from './prng';

/** Damages an image the way crashes and bugs do: wrong refcounts, flipped flags, bad offsets. */
export function damage(path: string, seed: number): string[] {
  const rng = new Rng(seed ^ 0x9e3779b9);
  const r = () => rng.next();
  let b = readFileSync(path);
  const done: string[] = [];
  const u32 = (o: number) => b.readUInt32BE(o);
  const u64 = (o: number) => Number(b.readBigUInt64BE(o));
  const cb = u32(20);
  const cs = 2 ** cb;
  const version = u32(4);
  const order = version >= 3 ? u32(96) : 4;
  const ext = version >= 3 && (Number(b.readBigUInt64BE(72)) & 16) !== 0;
  const l1Off = u64(40);
  const l1Size = u32(36);
  const rtOff = u64(48);
  const l2Entries: number[] = [];
  for (let i = 0; i < l1Size; i++) {
    const l2 = Number(b.readBigUInt64BE(l1Off + 8 * i) & 0x00fffffffffffe00n);
    if (!l2 || l2 + cs > b.length) continue;
    for (let j = 0; j < cs / (ext ? 16 : 8); j++) l2Entries.push(l2 + j * (ext ? 16 : 8));
  }
  const allocated = l2Entries.filter((o) => b.readBigUInt64BE(o) !== 0n);
  const pickOf = (xs: number[]) => xs[Math.floor(r() * xs.length)];
  const setRefcount = (c: number, v: number) => {
    const bits = 2 ** order;
    const per = (cs * 8) / bits;
    const block = Number(b.readBigUInt64BE(rtOff + 8 * Math.floor(c / per)) & ~0x1ffn);
    if (!block || block + cs > b.length) return false;
    const bit = (c % per) * bits;
    if (bits < 8) {
      const at = block + (bit >> 3);
      const mask = ((1 << bits) - 1) << (bit & 7);
      b[at] = (b[at]! & ~mask) | ((v << (bit & 7)) & mask);
    } else for (let i = bits / 8 - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) b[block + bit / 8 + i] = x % 256;
    return true;
  };
  const rtClusters = u32(56);
  const reftable: number[] = [];
  for (let i = 0; i < (rtClusters * cs) / 8 && rtOff + 8 * i + 8 <= b.length; i++) if (b.readBigUInt64BE(rtOff + 8 * i) !== 0n) reftable.push(rtOff + 8 * i);
  const compressedEntries = allocated.filter((o) => b.readBigUInt64BE(o) & (1n << 62n));
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const what = Math.floor(r() * 17);
    const e = pickOf(allocated);
    if (what === 0 && setRefcount(Math.floor(r() * Math.ceil(b.length / cs)), Math.floor(r() * 3))) done.push('refcount changed');
    else if (what === 1 && e !== undefined) {
      b.writeBigUInt64BE(b.readBigUInt64BE(e) ^ (1n << 63n), e);
      done.push('COPIED flipped');
    } else if (what === 2 && e !== undefined) {
      b.writeBigUInt64BE(b.readBigUInt64BE(e) | 2n, e);
      done.push('reserved bit set');
    } else if (what === 3 && e !== undefined && !(b.readBigUInt64BE(e) & (1n << 62n))) {
      b.writeBigUInt64BE((b.readBigUInt64BE(e) & (3n << 62n)) | BigInt(Math.ceil(b.length / cs) * cs + cs * Math.floor(r() * 4)), e);
      done.push('offset past EOF');
    } else if (what === 4 && e !== undefined && cs > 512 && !(b.readBigUInt64BE(e) & (1n << 62n))) {
      b.writeBigUInt64BE(b.readBigUInt64BE(e) + 512n, e);
      done.push('offset unaligned');
    } else if (what === 5 && e !== undefined) {
      const free = pickOf(l2Entries.filter((o) => b.readBigUInt64BE(o) === 0n));
      if (free !== undefined) {
        b.copy(b, free, e, e + (ext ? 16 : 8));
        done.push('entry duplicated');
      }
    } else if (what === 6) {
      b = Buffer.concat([b, Buffer.alloc(cs * (1 + Math.floor(r() * 3)), 0x5a)]);
      done.push('garbage appended');
    } else if (what === 7 && b.length > 8 * cs) {
      b = b.subarray(0, b.length - cs * (1 + Math.floor(r() * 2)) - (r() < 0.5 ? 512 : 0));
      done.push('truncated');
    } else if (what === 8 && l1Size > 0) {
      const i1 = Math.floor(r() * l1Size);
      const v = b.readBigUInt64BE(l1Off + 8 * i1);
      if (v !== 0n) {
        b.writeBigUInt64BE(v ^ (1n << 63n), l1Off + 8 * i1);
        done.push('L1 COPIED flipped');
      }
    } else if (what === 9 && reftable.length) {
      const at = pickOf(reftable)!;
      b.writeBigUInt64BE(b.readBigUInt64BE(at) | 1n, at);
      done.push('reftable reserved bit');
    } else if (what === 10 && reftable.length && cs > 512) {
      const at = pickOf(reftable)!;
      b.writeBigUInt64BE(b.readBigUInt64BE(at) + 512n, at);
      done.push('refblock unaligned');
    } else if (what === 11 && l1Size > 0) {
      const i1 = Math.floor(r() * l1Size);
      b.writeBigUInt64BE(b.readBigUInt64BE(l1Off + 8 * i1) | 2n, l1Off + 8 * i1);
      done.push('L1 reserved bit');
    } else if (what === 12 && e !== undefined) {
      const target = pickOf([l1Off, rtOff, 0, ...reftable.map((o) => Number(b.readBigUInt64BE(o) & ~0x1ffn))])!;
      b.writeBigUInt64BE((1n << 63n) | BigInt(Math.floor(target / cs) * cs), e);
      done.push('entry points at metadata');
    } else if (what === 13 && compressedEntries.length) {
      const at = pickOf(compressedEntries)!;
      b.writeBigUInt64BE(b.readBigUInt64BE(at) | (1n << 63n), at);
      done.push('compressed COPIED');
    } else if (what === 14 && ext && e !== undefined) {
      const alloc = b.readUInt32BE(e + 12);
      b.writeUInt32BE((b.readUInt32BE(e + 8) | (alloc & -alloc) | (alloc ? 0 : 1)) >>> 0, e + 8);
      done.push('subcluster zero+alloc');
    } else if (what === 15 && reftable.length) {
      const blk = Number(b.readBigUInt64BE(pickOf(reftable)!) & ~0x1ffn);
      if (blk + cs <= b.length) b.fill(0, blk, blk + cs);
      done.push('refblock zeroed');
    } else if (what === 16 && l1Size > 0) {
      const i1 = Math.floor(r() * l1Size);
      const l2 = pickOf(allocated.map((o) => Math.floor(o / cs) * cs));
      if (l2 !== undefined) b.writeBigUInt64BE((1n << 63n) | BigInt(l2), l1Off + 8 * i1);
      done.push('L1 entries share an L2 table');
    }
  }
  writeFileSync(path, b);
  return done;
}
