// Test helper: images for every case of the verdict (report/verdict.ts), made by QEMU's own tools
// (qemu-img, qemu-io) and then cut or patched, never by hand: a file with data, snapshots and
// persistent bitmaps cut at several points (half, inside the bitmap directory, inside an L2 table,
// at a cluster boundary, inside the header extensions), a lazy-refcounts image left dirty by a
// qemu-io that aborts mid-session, bitmaps left in use the same way, an overlay without its backing
// file, and leaks of both kinds (a refcount on a cluster nothing references, and a refcount too
// high on a cluster in use) patched into the refcount block.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function run(cwd: string, cmd: string, args: readonly string[], mayFail = false): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0 && !mayFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Header fields and structure offsets of a qcow2 file, read from its bytes. */
export function layout(path: string) {
  const b = readFileSync(path);
  const cs = 2 ** b.readUInt32BE(20);
  const l1 = Number(b.readBigUInt64BE(40));
  const reftable = Number(b.readBigUInt64BE(48));
  const firstL2 = Number(b.readBigUInt64BE(l1) & 0x00ff_ffff_ffff_fe00n);
  let dir = 0;
  let p = b.readUInt32BE(100);
  while (p + 8 <= cs) {
    const type = b.readUInt32BE(p);
    const len = b.readUInt32BE(p + 4);
    if (type === 0) break;
    if (type === 0x23852875) dir = Number(b.readBigUInt64BE(p + 8 + 16));
    p += 8 + Math.ceil(len / 8) * 8;
  }
  const refblock = Number(b.readBigUInt64BE(reftable));
  return { size: b.length, cs, l1, reftable, refblock, firstL2, bitmapDirectory: dir, headerLength: b.readUInt32BE(100), extensionsEnd: p };
}

/** Copies `from` to `to` cut at `at` bytes. */
function cut(from: string, to: string, at: number): string {
  writeFileSync(to, readFileSync(from).subarray(0, at));
  return to;
}

export interface VerdictImages {
  /** The whole image: data, two snapshots, four persistent bitmaps. */
  readonly full: string;
  /** Cut at half its size (not on a cluster boundary). */
  readonly half: string;
  /** Cut 40 bytes into the bitmap directory. */
  readonly inBitmapDirectory: string;
  /** Cut 1000 bytes into the first L2 table. */
  readonly inL2: string;
  /** Cut at a cluster boundary inside the guest data. */
  readonly atCluster: string;
  /** Cut inside the header extensions. */
  readonly inExtensions: string;
  readonly dirty: string;
  readonly bitmapInUse: string;
  readonly missingBacking: string;
  readonly leaked: string;
  readonly overcounted: string;
  readonly bothLeaks: string;
}

/** Makes (once per folder) every verdict image in `dir`; returns their paths. */
export function makeVerdictImages(dir: string): VerdictImages {
  mkdirSync(dir, { recursive: true });
  const at = (n: string) => join(dir, n);
  const done = at('.complete');
  const names: VerdictImages = {
    full: at('full.qcow2'), half: at('truncated-half.qcow2'), inBitmapDirectory: at('truncated-bitmap-directory.qcow2'),
    inL2: at('truncated-l2.qcow2'), atCluster: at('truncated-cluster.qcow2'), inExtensions: at('truncated-extensions.qcow2'),
    dirty: at('lazy-dirty.qcow2'), bitmapInUse: at('bitmap-in-use.qcow2'), missingBacking: at('overlay-no-base.qcow2'),
    leaked: at('leaked.qcow2'), overcounted: at('overcounted.qcow2'), bothLeaks: at('both-leaks.qcow2'),
  };
  if (existsSync(done)) return names;
  const img = (...a: string[]) => run(dir, 'qemu-img', a);
  const io = (file: string, cmds: string[], abort = false) =>
    run(dir, 'qemu-io', [...cmds.flatMap((c) => ['-c', c]), ...(abort ? ['-c', 'abort'] : []), file], abort);

  // Data, snapshots, then bitmaps that qemu-io keeps up to date and stores on close (at the end).
  const full = names.full;
  rmSync(full, { force: true });
  img('create', '-q', '-f', 'qcow2', full, '256M');
  for (const b of ['daily', 'weekly', 'monthly', 'yearly']) img('bitmap', '--add', full, b);
  io(full, ['write -P 1 0 6M', 'write -P 2 32M 2M']);
  img('snapshot', '-c', 'before', full);
  io(full, ['write -P 3 1M 3M', 'write -P 4 100M 4M']);
  img('snapshot', '-c', 'after', full);
  io(full, ['write -P 5 200M 6M']);
  const l = layout(full);
  cut(full, names.half, Math.floor(l.size / 2) + 64);
  cut(full, names.inBitmapDirectory, l.bitmapDirectory + 40);
  cut(full, names.inL2, l.firstL2 + 1000);
  cut(full, names.atCluster, l.firstL2 + 4 * l.cs);
  cut(full, names.inExtensions, l.headerLength + 12);

  img('create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', names.dirty, '16M');
  io(names.dirty, ['write -P 0x1a 0 64k']);
  io(names.dirty, ['write -P 0x1b 2M 128k', 'write -P 0x1c 64k 64k'], true);

  img('create', '-q', '-f', 'qcow2', names.bitmapInUse, '16M');
  img('bitmap', '--add', names.bitmapInUse, 'backup-0');
  io(names.bitmapInUse, ['write -P 0xf1 0 64k']);
  io(names.bitmapInUse, ['write -P 0xf3 4M 64k'], true);

  const base = at('gone-base.qcow2');
  img('create', '-q', '-f', 'qcow2', base, '16M');
  img('create', '-q', '-f', 'qcow2', '-b', 'gone-base.qcow2', '-F', 'qcow2', names.missingBacking);
  io(names.missingBacking, ['write -P 7 1M 64k']);
  rmSync(base);

  // Leaks: qemu-img made the image; its 16-bit refcounts are patched (and a cluster appended).
  const leakBase = (p: string) => {
    img('create', '-q', '-f', 'qcow2', p, '16M');
    io(p, ['write -P 9 0 128k']);
  };
  const patchRefcounts = (p: string, extraCluster: boolean, overHeader: boolean) => {
    const lay = layout(p);
    let b = readFileSync(p);
    if (extraCluster) {
      const k = b.length / lay.cs;
      b = Buffer.concat([b, Buffer.alloc(lay.cs)]);
      b.writeUInt16BE(1, lay.refblock + 2 * k);
    }
    if (overHeader) {
      // The header cluster: in use, and no COPIED flag ties its refcount to 1 (a data cluster's would).
      b.writeUInt16BE(b.readUInt16BE(lay.refblock) + 1, lay.refblock);
    }
    writeFileSync(p, b);
  };
  for (const [p, extra, over] of [[names.leaked, true, false], [names.overcounted, false, true], [names.bothLeaks, true, true]] as const) {
    leakBase(p);
    patchRefcounts(p, extra, over);
  }
  writeFileSync(done, '');
  return names;
}

/** makeVerdictImages into a folder shared by parallel workers: made under a private name, then renamed. */
export function sharedVerdictImages(dir: string): VerdictImages {
  if (existsSync(join(dir, '.complete'))) return makeVerdictImages(dir);
  const part = `${dir}.${process.pid}.part`;
  rmSync(part, { recursive: true, force: true });
  makeVerdictImages(part);
  try {
    renameSync(part, dir);
  } catch {
    rmSync(part, { recursive: true, force: true });
  }
  return makeVerdictImages(dir);
}
