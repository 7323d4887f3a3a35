// Test helper for the safety verdict: images made by the live qemu-img (and qemu-io), then
// byte-patched where the case needs something qemu-img will not write (a backing name of a given
// kind, a second format's signature, a zeroed refcount, a giant table). Offsets come from the
// image's own header, never from assumed layouts; refcount patches assume qemu-img's default
// 16-bit refcounts.

import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun, mustRunRetried } from './qemu-tools';

/**
 * Runs a tool in `dir`; throws with its stderr when it fails. qemu-img is retried: making a LUKS
 * key slot now and then fails on a busy machine ("Unable to get accurate CPU usage").
 */
export function run(dir: string, cmd: string, args: readonly string[]): void {
  if (cmd === 'qemu-img') mustRunRetried(dir, args);
  else mustRun(cmd, args, { cwd: dir });
}

export const SECRET = ['--object', 'secret,id=s0,data=qcowscope'];

/** `qemu-img create -f FMT [args] NAME SIZE` in `dir`, then each qemu-io command; returns the path. */
export function create(dir: string, name: string, args: readonly string[] = [], size = '1M', io: readonly string[] = [], fmt = 'qcow2'): string {
  run(dir, 'qemu-img', ['create', '-q', '-f', fmt, ...args, name, size]);
  for (const c of io) run(dir, 'qemu-io', ['-f', fmt, '-c', c, name]);
  return join(dir, name);
}

/** Reads the file, lets `fn` patch the bytes (or return new ones), writes it back. */
export function patch(path: string, fn: (b: Buffer) => Buffer | void): string {
  const b = readFileSync(path);
  writeFileSync(path, fn(b) ?? b);
  return path;
}

export const clusterSize = (b: Buffer): number => 2 ** b.readUInt32BE(20);
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Offset just past the end-of-extensions marker (8-aligned): where a backing name can go. */
export function extensionsEnd(b: Buffer): number {
  const cs = clusterSize(b);
  let p = b.readUInt32BE(4) >= 3 ? b.readUInt32BE(100) : 72;
  while (p + 8 <= cs) {
    const t = b.readUInt32BE(p);
    const len = b.readUInt32BE(p + 4);
    p += 8;
    if (t === 0) return p;
    p += alignUp(len, 8);
  }
  throw new Error('no end of the header extensions');
}

/** Header extension `type`: offset of its type field, or -1. */
export function findExtension(b: Buffer, type: number): number {
  let p = b.readUInt32BE(4) >= 3 ? b.readUInt32BE(100) : 72;
  while (p + 8 <= clusterSize(b)) {
    const t = b.readUInt32BE(p);
    if (t === 0) return -1;
    if (t === type) return p;
    p += 8 + alignUp(b.readUInt32BE(p + 4), 8);
  }
  return -1;
}

/** Gives the image the backing file name `name` (placed after the extensions; no format). */
export function setBackingName(b: Buffer, name: string): void {
  const bytes = Buffer.from(name, 'utf8');
  const at = b.readBigUInt64BE(8) !== 0n ? Number(b.readBigUInt64BE(8)) : extensionsEnd(b);
  b.fill(0, at, at + 1024);
  bytes.copy(b, at);
  b.writeBigUInt64BE(BigInt(at), 8);
  b.writeUInt32BE(bytes.length, 16);
}

/** Inserts an unknown header extension (type 0x51c05c09) before the end marker. */
export function addUnknownExtension(b: Buffer): void {
  const end = extensionsEnd(b) - 8;
  b.writeUInt32BE(0x51c05c09, end);
  b.writeUInt32BE(8, end + 4);
  b.write('qcowscop', end + 8, 'latin1');
  b.writeBigUInt64BE(0n, end + 16);
}

/** Offset of the 16-bit refcount entry of host cluster `k`. */
export function refcountEntry(b: Buffer, k: number): number {
  const cs = clusterSize(b);
  const perBlock = cs / 2;
  const table = Number(b.readBigUInt64BE(48));
  const block = Number(b.readBigUInt64BE(table + 8 * Math.floor(k / perBlock)) & ~0x1ffn);
  if (block === 0) throw new Error(`no refcount block for cluster ${k}`);
  return block + 2 * (k % perBlock);
}

const OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;

/** Offset of L2 entry `i` of the table active L1 entry `l1Index` points at. */
export function l2Entry(b: Buffer, i: number, l1Index = 0): number {
  const l1 = Number(b.readBigUInt64BE(40));
  const l2 = Number(b.readBigUInt64BE(l1 + 8 * l1Index) & OFFSET_MASK);
  if (l2 === 0) throw new Error('no L2 table');
  return l2 + 8 * i;
}

/** The host cluster guest cluster `i` (of the first L2 table) is stored in. */
export function dataCluster(b: Buffer, i = 0): number {
  return Number(b.readBigUInt64BE(l2Entry(b, i)) & OFFSET_MASK) / clusterSize(b);
}

/** Appends `bytes` at the next cluster boundary; returns its offset. */
export function appendAligned(b: Buffer, bytes: Buffer): { buf: Buffer; at: number } {
  const at = alignUp(b.length, clusterSize(b));
  const buf = Buffer.alloc(alignUp(at + bytes.length, clusterSize(b)));
  b.copy(buf);
  bytes.copy(buf, at);
  return { buf, at };
}

/** Copies `n` times the entry of `length` bytes at `from`. */
export function repeated(b: Buffer, from: number, length: number, n: number): Buffer {
  const out = Buffer.alloc(length * n);
  for (let i = 0; i < n; i++) b.copy(out, i * length, from, from + length);
  return out;
}

/** Length of the snapshot table entry at `at` (8-aligned). */
export const snapshotEntryLength = (b: Buffer, at: number): number =>
  alignUp(40 + b.readUInt32BE(at + 36) + b.readUInt16BE(at + 12) + b.readUInt16BE(at + 14), 8);

/** Length of the bitmap directory entry at `at` (8-aligned). */
export const bitmapEntryLength = (b: Buffer, at: number): number => alignUp(24 + b.readUInt32BE(at + 20) + b.readUInt16BE(at + 18), 8);

export const BITMAPS_EXTENSION = 0x23852875;

/** Cuts the file to `size` bytes. */
export function cut(path: string, size: number): string {
  truncateSync(path, size);
  return path;
}
