// Test helper: random images with persistent dirty bitmaps, made by the real qemu-img / qemu-io from
// a fixed seed. Bitmaps are added at different times between batches of writes (qemu-io records
// writes, zero writes and discards in every enabled bitmap), one is disabled half-way, one is
// merged from two others (possibly of other granularities), some are cleared; granularities
// 512 B – 4 MiB, cluster sizes 512 B – 2 MiB, sometimes over a backing file, with extended L2
// entries, compressed clusters, metadata preallocation or a raw external data file. The file is made
// dense at the end, except with metadata preallocation or a data file: there QEMU's base:allocation
// and qemu-img map report host-file holes inside allocated clusters as zeros, which a File cannot see.
// `bin` picks the QEMU release whose qemu-img and qemu-io make the image ('' = those on PATH).

import { join } from 'node:path';
import { prng } from './prng';
import { makeDense } from './random-images';
import { runTool, type ToolRun } from './qemu-tools';

let binDir = '';
const run = (cmd: string, args: string[], cwd: string): ToolRun => runTool(binDir + cmd, args, { cwd });

export interface BitmapImage {
  /** File name inside the folder. */
  readonly file: string;
  readonly bitmaps: readonly string[];
  /** The commands that made it, for failure messages. */
  readonly recipe: readonly string[];
  /** The file may have host holes inside allocated clusters (see above). */
  readonly sparse: boolean;
}

const must = (r: { rc: number; stderr: string }, what: string) => {
  if (r.rc !== 0) throw new Error(`${what} failed (${r.rc}): ${r.stderr}`);
};

/**
 * Random qemu-io writes over a `size`-byte disk (512-byte aligned); with `compressCluster`, some are
 * whole-cluster compressed writes of that cluster size.
 */
function writes(r: () => number, size: number, n: number, compressCluster = 0): string[] {
  const ops: string[] = [];
  const sectors = size / 512;
  for (let i = 0; i < n; i++) {
    if (compressCluster > 0 && r() < 0.2) {
      const c = Math.floor((r() * size) / compressCluster) * compressCluster;
      if (c + compressCluster <= size) ops.push(`write -c -P 0x${(1 + Math.floor(r() * 254)).toString(16)} ${c} ${compressCluster}`);
      continue;
    }
    const off = Math.floor(r() * sectors) * 512;
    const len = Math.min(size - off, 512 * (1 + Math.floor(r() * (r() < 0.7 ? 16 : 1024))));
    if (len <= 0) continue;
    const k = r();
    if (k < 0.6) ops.push(`write -P 0x${(1 + Math.floor(r() * 254)).toString(16)} ${off} ${len}`);
    else if (k < 0.75) ops.push(`write -z ${off} ${len}`);
    else if (k < 0.85) ops.push(`write -z -u ${off} ${len}`);
    else ops.push(`discard ${off} ${len}`);
  }
  return ops;
}

/** Builds one image in `dir` from `seed`, with the qemu tools in `bin` ('' = on PATH). */
export function buildBitmapImage(dir: string, seed: number, bin = ''): BitmapImage {
  binDir = bin;
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const recipe: string[] = [];
  // Seeds 1..6 take every cluster size in turn, and the first bitmap alternates the extreme
  // granularities, so a handful of seeds covers both ends of both ranges.
  const cs = [65536, 512, 4096, 65536, 262144, 2097152][seed % 6]!;
  const size = pick([4, 9, 16, 33]) * 1024 * 1024 + (r() < 0.5 ? 512 * Math.floor(r() * 4000) : 0);
  const file = `bm-${seed}.qcow2`;
  const opts = [`cluster_size=${cs}`];
  // One layout option at most: extended L2 (clusters of 16 KiB and more), metadata preallocation,
  // a raw external data file (absolute, so qemu-nbd finds it from any directory); else compressed
  // writes, sometimes over a backing file.
  const layout = r();
  let compress = 0;
  let sparse = false;
  if (layout < 0.2 && cs >= 16384) opts.push('extended_l2=on');
  else if (layout < 0.35) {
    opts.push('preallocation=metadata');
    sparse = true;
  } else if (layout < 0.5) {
    opts.push(`data_file=${join(dir, `bm-${seed}.raw`)}`, 'data_file_raw=on');
    sparse = true;
  } else compress = cs;
  if (!sparse && r() < 0.3) {
    const base = `bm-${seed}-base.qcow2`;
    must(run('qemu-img', ['create', '-q', '-f', 'qcow2', base, String(size)], dir), 'create base');
    const ops = writes(r, size, 12);
    must(run('qemu-io', ['-f', 'qcow2', base, ...ops.flatMap((o) => ['-c', o])], dir), 'qemu-io base');
    makeDense(join(dir, base));
    opts.push(`backing_file=${base}`, 'backing_fmt=qcow2');
    recipe.push(`base ${base}: ${ops.join('; ')}`);
  }
  must(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', opts.join(','), file, String(size)], dir), 'create');
  recipe.push(`create -o ${opts.join(',')} ${size}`);
  const bitmaps: string[] = [];
  const add = (name: string, g: number, disabled: boolean) => {
    must(run('qemu-img', ['bitmap', '--add', '-g', String(g), ...(disabled ? ['--disable'] : []), file, name], dir), `bitmap --add ${name}`);
    bitmaps.push(name);
    recipe.push(`bitmap --add -g ${g}${disabled ? ' --disable' : ''} ${name}`);
  };
  const granularity = () => 2 ** (9 + Math.floor(r() * 14)); // 512 B .. 4 MiB
  const rounds = 3 + Math.floor(r() * 3);
  let disabled = false;
  for (let round = 0; round < rounds; round++) {
    if (round === 0 || r() < 0.6) add(`b${round}`, round === 0 ? [4 * 1024 * 1024, 512][seed % 2]! : granularity(), false);
    const ops = writes(r, size, 3 + Math.floor(r() * 25), compress);
    const io = run('qemu-io', ['-f', 'qcow2', file, ...ops.flatMap((o) => ['-c', o])], dir);
    // QEMU refuses a compressed write over an allocated cluster ("write failed"); the rest go on.
    if (!(io.rc === 1 && compress > 0 && /write failed/.test(io.stderr + io.stdout))) must(io, 'qemu-io');
    recipe.push(...ops);
    if (!disabled && round >= rounds / 2 - 1 && bitmaps.length > 0) {
      const b = pick(bitmaps);
      must(run('qemu-img', ['bitmap', '--disable', file, b], dir), 'bitmap --disable');
      recipe.push(`bitmap --disable ${b}`);
      disabled = true;
    }
    if (r() < 0.1 && bitmaps.length > 1 && round < rounds - 1) {
      const b = pick(bitmaps);
      must(run('qemu-img', ['bitmap', '--clear', file, b], dir), 'bitmap --clear');
      recipe.push(`bitmap --clear ${b}`);
    }
  }
  if (bitmaps.length >= 2) {
    add('merged', granularity(), true);
    for (const src of [bitmaps[0]!, bitmaps[bitmaps.length - 2]!]) {
      must(run('qemu-img', ['bitmap', '--merge', src, file, 'merged'], dir), 'bitmap --merge');
      recipe.push(`bitmap --merge ${src} merged`);
    }
  }
  if (!sparse) makeDense(join(dir, file));
  return { file, bitmaps, recipe, sparse };
}
