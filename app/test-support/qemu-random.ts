// Test helper for check and map: random qcow2 images made with the real qemu-img / qemu-io from
// a seed (cluster sizes, refcount widths, v2/v3, extended L2, writes, zeroes, unmaps, compression,
// discards, VM state, snapshots, bitmaps, backing files, dirty lazy-refcount images), optionally
// damaged afterwards (refcounts, L1/L2 entries, refcount table, truncation), plus qemu-img's own
// check and map of each.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './random-images';

export { hasQemuImg as hasQemu } from './random-images';
const rng = prng;

export interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly rc: number;
}

export function run(cmd: string, args: string[], cwd: string): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, rc: r.status ?? (r.signal === 'SIGABRT' ? 134 : 255) };
}

const must = (r: Run, what: string) => {
  if (r.rc !== 0) throw new Error(`${what} failed (${r.rc}): ${r.stderr}`);
};

/** qemu-img check / map --output=json of `file` in `dir`, by `qemuImg` (default: the one on PATH). */
export const qemuCheck = (dir: string, file: string, qemuImg = 'qemu-img'): Run => run(qemuImg, ['check', '--output=json', '-U', file], dir);
export const qemuMap = (dir: string, file: string, qemuImg = 'qemu-img'): Run => run(qemuImg, ['map', '--output=json', '-U', file], dir);

export interface RandomImage {
  readonly file: string;
  readonly recipe: string[];
}

/** Random qemu-io commands over a disk of `size` bytes with clusters of `cs` bytes. */
function ioOps(r: () => number, size: number, cs: number, n: number, opts: { compress: boolean; v3: boolean; pattern: string }): string[] {
  const ops: string[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sectors = size / 512;
  for (let i = 0; i < n; i++) {
    const off = Math.floor(r() * sectors) * 512;
    const len = Math.min(size - off, (1 + Math.floor(r() * (r() < 0.7 ? 8 : 64))) * 512 * pick([1, 8, 128]));
    if (len <= 0) continue;
    const kind = r();
    const P = (1 + Math.floor(r() * 254)).toString(16);
    if (kind < 0.45) ops.push(`write -P 0x${P} ${off} ${len}`);
    else if (kind < 0.55) ops.push(`write -s ${opts.pattern} ${off} ${Math.min(len, 65536)}`);
    else if (kind < 0.65 && opts.v3) ops.push(`write -z ${off} ${len}`);
    else if (kind < 0.72 && opts.v3) ops.push(`write -z -u ${off} ${len}`);
    else if (kind < 0.8) ops.push(`discard ${off} ${len}`);
    else if (kind < 0.92 && opts.compress) {
      const c = Math.floor((r() * size) / cs) * cs;
      const count = Math.max(1, Math.min((size - c) / cs, 1 + Math.floor(r() * 4)));
      ops.push(`write -c ${r() < 0.5 ? `-P 0x${P}` : `-s ${opts.pattern}`} ${c} ${count * cs}`);
    } else if (kind < 0.96) ops.push(`write -b -P 0x${P} ${Math.floor(r() * 16) * 512} ${512 * (1 + Math.floor(r() * 8))}`);
    else ops.push(`write -P 0x${P} ${Math.floor(off / cs) * cs} ${Math.min(cs, size - Math.floor(off / cs) * cs)}`);
  }
  return ops;
}

/** Runs qemu-io commands; when the batch fails, runs them one by one and drops those qemu-io rejects. */
function io(dir: string, file: string, ops: string[], fmt = 'qcow2'): string[] {
  if (ops.length === 0) return [];
  if (run('qemu-io', ['-f', fmt, file, ...ops.flatMap((o) => ['-c', o])], dir).rc === 0) return ops;
  return ops.filter((o) => run('qemu-io', ['-f', fmt, file, '-c', o], dir).rc === 0);
}

/** Rewrites a file with every byte present: qemu-img map reports host-file holes, a File has none. */
export function makeDense(path: string): void {
  writeFileSync(path, readFileSync(path));
}

/** Builds one random image (and any backing file) in `dir` from `seed`. */
export function buildRandomImage(dir: string, seed: number): RandomImage {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const recipe: string[] = [];
  const pattern = join(dir, `pattern-${seed}.bin`);
  const pat = new Uint8Array(65536);
  for (let i = 0; i < pat.length; i++) pat[i] = r() < 0.5 ? 0x61 + (i % 7) : Math.floor(r() * 256);
  writeFileSync(pattern, pat);
  const v3 = r() < 0.85;
  const cs = pick(v3 ? [512, 4096, 16384, 65536, 65536, 131072, 2097152] : [512, 4096, 65536, 2097152]);
  const extL2 = v3 && cs >= 16384 && r() < 0.35;
  const refBits = v3 ? pick([1, 2, 4, 8, 16, 16, 32, 64]) : 16;
  const size = pick(cs >= 2097152 ? [1, 3, 8, 17] : [1, 3, 8, 17, 40]) * 1024 * 1024 + (r() < 0.2 ? 512 * Math.floor(r() * 100) : 0);
  const lazy = v3 && r() < 0.15;
  const file = `rand-${seed}.qcow2`;
  const opts = [`compat=${v3 ? '1.1' : '0.10'}`, `cluster_size=${cs}`, `refcount_bits=${refBits}`];
  if (extL2) opts.push('extended_l2=on');
  if (lazy) opts.push('lazy_refcounts=on');
  let backing: string | null = null;
  if (r() < 0.3) {
    const raw = r() < 0.3;
    backing = `rand-${seed}-base.${raw ? 'raw' : 'qcow2'}`;
    const bsize = r() < 0.3 ? Math.max(cs, size - 1024 * 1024) : size;
    must(run('qemu-img', ['create', '-q', '-f', raw ? 'raw' : 'qcow2', ...(raw ? [] : ['-o', `cluster_size=${pick([4096, 65536])}`]), backing, String(bsize)], dir), 'create base');
    io(dir, backing, ioOps(r, bsize, 4096, 6, { compress: false, v3: true, pattern }).filter((o) => !o.includes(' -b ')), raw ? 'raw' : 'qcow2');
    makeDense(join(dir, backing));
    opts.push(`backing_file=${backing}`, `backing_fmt=${raw ? 'raw' : 'qcow2'}`);
    recipe.push(`backing ${backing} (${bsize} bytes)`);
  }
  must(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', opts.join(','), file, String(size)], dir), 'create');
  recipe.push(`create ${opts.join(',')} ${size}`);
  const rounds = 1 + Math.floor(r() * 3);
  for (let round = 0; round < rounds; round++) {
    const ops = ioOps(r, size, cs, 4 + Math.floor(r() * 10), { compress: !backing || r() < 0.5, v3, pattern });
    recipe.push(...io(dir, file, ops));
    if (r() < 0.4 && run('qemu-img', ['snapshot', '-c', `s${round}`, file], dir).rc === 0) recipe.push(`snapshot -c s${round}`);
    if (v3 && r() < 0.25) {
      must(run('qemu-img', ['bitmap', '--add', '-g', String(pick([512, 4096, 65536])), file, `b${round}`], dir), 'bitmap');
      recipe.push(`bitmap --add b${round}`);
    }
  }
  if (r() < 0.3 && recipe.some((x) => x.startsWith('snapshot -c'))) {
    const s = recipe.find((x) => x.startsWith('snapshot -c'))!.split(' ')[2]!;
    must(run('qemu-img', ['snapshot', '-d', s, file], dir), 'snapshot -d');
    recipe.push(`snapshot -d ${s}`);
  }
  if (lazy) {
    const ops = ioOps(r, size, cs, 3, { compress: false, v3, pattern });
    run('bash', ['-c', 'qemu-io "$@" -c abort >/dev/null 2>&1', '_', '-f', 'qcow2', file, ...ops.flatMap((o) => ['-c', o])], dir);
    recipe.push(`abort after ${ops.join('; ')}`);
  }
  makeDense(join(dir, file));
  return { file, recipe };
}

/** Damages an image the way crashes and bugs do: wrong refcounts, flipped flags, bad offsets. */
export function damage(path: string, seed: number): string[] {
  const r = rng(seed ^ 0x9e3779b9);
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
