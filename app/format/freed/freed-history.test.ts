// Known history: an image made by the live qemu-img/qemu-io (7.2 and 10.0) with data, snapshots and
// bitmaps is copied, then changed (bitmap --remove, snapshot -d, resize, a write after a snapshot);
// every cluster whose stored refcount went from > 0 to 0 must be FREE afterwards and named with
// what the copy's roles say it was — or `zeros` where QEMU discarded its bytes, or `unknown` for
// guest/bitmap data whose bytes survive but which nothing stale names. Never another kind.

import { closeSync, copyFileSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzePath } from '../../test-support/analyze-sample';
import { prng } from '../../test-support/prng';
import { QEMU_BINS } from '../../test-support/qemu-bins';
import { hasQemuImg, runTool } from '../../test-support/qemu-tools';
import { makeDense, withTmpDir } from '../../test-support/random-images';
import { Role } from '../check/roles';
import type { Analysis } from '../analyze';
import type { FreedKind } from './types';

const WAS: Readonly<Record<number, FreedKind>> = {
  [Role.L1_ACTIVE]: 'l1-table', [Role.L1_SNAPSHOT]: 'l1-table',
  [Role.L2_ACTIVE]: 'l2-table', [Role.L2_SNAPSHOT]: 'l2-table', [Role.L2_SHARED]: 'l2-table',
  [Role.REFCOUNT_TABLE]: 'refcount-table', [Role.REFCOUNT_BLOCK]: 'refcount-block', [Role.SNAPSHOT_TABLE]: 'snapshot-table',
  [Role.BITMAP_DIRECTORY]: 'bitmap-directory', [Role.BITMAP_TABLE]: 'bitmap-table', [Role.BITMAP_DATA]: 'bitmap-data',
  [Role.DATA]: 'data', [Role.DATA_SHARED]: 'data', [Role.DATA_SNAPSHOT]: 'data', [Role.COMPRESSED]: 'compressed-data',
};
/** Kinds whose bytes say nothing by themselves: unnamed, they are `unknown`. */
const CONTENTLESS: readonly FreedKind[] = ['data', 'bitmap-data', 'compressed-data'];

function allZero(path: string, cs: number, k: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(cs);
    readSync(fd, b, 0, cs, k * cs);
    return b.every((x) => x === 0);
  } finally {
    closeSync(fd);
  }
}

function kindAt(a: Analysis, k: number): { was: FreedKind; evidence: string } | null {
  const off = k * a.check.clusterSize;
  const r = a.freed?.runs.find((x) => x.offset <= off && off < x.offset + x.clusters * a.check.clusterSize);
  return r ? { was: r.was, evidence: r.evidence } : null;
}

type Op = 'bitmap-remove' | 'snapshot-delete' | 'snapshot-delete-kept' | 'resize' | 'rewrite';

/** Builds an image from `seed` with `qemuImg`/`qemuIo`, applies `op` to a copy; returns both paths. */
function history(dir: string, seed: number, op: Op, qemuImg: string, qemuIo: string): { before: string; after: string; recipe: string[] } {
  const r = prng(seed);
  const recipe: string[] = [];
  const run = (cmd: string, args: string[]) => {
    recipe.push(`${cmd} ${args.join(' ')}`);
    const x = runTool(cmd, args, { cwd: dir });
    if (x.rc !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${x.stderr}`);
  };
  const cs = [4096, 16384, 65536, 512, 2097152][seed % 5]!;
  const extL2 = cs >= 16384 && seed % 3 === 0;
  const size = (16 + Math.floor(r() * 48)) * 1024 * 1024;
  const writes = (n: number) => {
    const ops: string[] = [];
    for (let i = 0; i < n; i++) {
      const off = Math.floor(r() * (size / 65536 - 8)) * 65536;
      ops.push('-c', `write -P 0x${(1 + Math.floor(r() * 254)).toString(16)} ${off} ${65536 * (1 + Math.floor(r() * 8))}`);
    }
    run(qemuIo, ['-f', 'qcow2', ...ops, 'i.qcow2']);
  };
  run(qemuImg, ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${cs}${extL2 ? ',extended_l2=on' : ''}`, 'i.qcow2', String(size)]);
  writes(4);
  // Without bitmaps a resize frees the old L1 for good (with them, storing the bitmaps may reuse it).
  const bitmaps = ['big', 'nightly', 'b2'].slice(0, op === 'resize' ? 0 : 1 + Math.floor(r() * 3));
  for (const b of bitmaps) run(qemuImg, ['bitmap', '--add', '-g', String(cs << Math.floor(r() * 3)), 'i.qcow2', b]);
  writes(6);
  const snaps = ['old', 'mid'].slice(0, 1 + Math.floor(r() * 2));
  for (const sn of snaps) {
    run(qemuImg, ['snapshot', '-c', sn, 'i.qcow2']);
    writes(5);
  }
  makeDense(join(dir, 'i.qcow2'));
  copyFileSync(join(dir, 'i.qcow2'), join(dir, 'before.qcow2'));
  if (op === 'bitmap-remove') run(qemuImg, ['bitmap', '--remove', 'i.qcow2', bitmaps[Math.floor(r() * bitmaps.length)]!]);
  else if (op === 'snapshot-delete') run(qemuImg, ['snapshot', '-d', snaps[0]!, 'i.qcow2']);
  // Without discarding what it frees, the deleted snapshot's table, L1, L2 tables and data keep their bytes.
  else if (op === 'snapshot-delete-kept') run(qemuImg, ['snapshot', '--image-opts', '-d', snaps[0]!, 'driver=qcow2,pass-discard-snapshot=off,file.filename=i.qcow2']);
  else if (op === 'resize') run(qemuImg, ['resize', '-q', 'i.qcow2', String(size * 64)]);
  else {
    run(qemuImg, ['snapshot', '-c', 'tmp', 'i.qcow2']);
    writes(6);
    run(qemuImg, ['snapshot', '-d', 'tmp', 'i.qcow2']);
  }
  makeDense(join(dir, 'i.qcow2'));
  return { before: join(dir, 'before.qcow2'), after: join(dir, 'i.qcow2'), recipe };
}

/**
 * Every cluster whose stored refcount went from > 0 (before) to 0 (after) is FREE after and named
 * with what the before image's role says it was, or zeros, or unknown for data kinds nothing names.
 */
async function checkFreed(beforePath: string, afterPath: string, ctx: string): Promise<{ freed: number; named: number; fallbacks: number }> {
  const before = await analyzePath(beforePath);
  const after = await analyzePath(afterPath);
  expect(after.freed, ctx).toBeDefined();
  expect(after.freed!.note).toBeNull();
  const b = before.check.storedRefcounts;
  const a = after.check.storedRefcounts;
  let freed = 0;
  let named = 0;
  let fallbacks = 0;
  for (let k = 0; k < Math.min(before.check.roles.length, after.check.roles.length); k++) {
    if (!(b[k]! > 0 && a[k] === 0)) continue;
    freed++;
    const role = before.check.roles[k]!;
    expect(after.check.roles[k], `${ctx}cluster ${k} is free`).toBe(Role.FREE);
    const got = kindAt(after, k);
    expect(got, `${ctx}cluster ${k} classified`).not.toBeNull();
    const want = WAS[role];
    if (got!.was === want) named++;
    const zeroed = allZero(afterPath, after.check.clusterSize, k);
    // Never a wrong name: the role it held, or `zeros` for a zeroed cluster (nothing names it, or the
    // stale structures that do cannot be dated against its last use), or `unknown` for data kinds.
    const ok = got!.was === want || (got!.was === 'zeros' && zeroed) || (got!.was === 'unknown' && want !== undefined && CONTENTLESS.includes(want));
    expect(ok, `${ctx}cluster ${k} was ${want ?? role} (role ${role}); classified ${got!.was}: ${got!.evidence}`).toBe(true);
    if (got!.was === 'zeros') expect(got!.evidence).toMatch(/^all bytes zero/);
    // A stale name given up for want of a date: the evidence says so.
    if (got!.was !== want && /last use is not known|disagree|older than the last use/.test(got!.evidence)) {
      fallbacks++;
      if (process.env.FREED_STATS) console.log(`FALLBACK ${want} :: ${got!.evidence}`);
    }
  }
  if (process.env.FREED_STATS) console.log(`FREEDSTATS freed=${freed} named=${named} fallbacks=${fallbacks}`);
  // Every free cluster is classified once, whatever freed it.
  const total = after.freed!.runs.reduce((n, x) => n + x.clusters, 0);
  expect(total).toBe([...after.check.roles].filter((x) => x === Role.FREE).length);
  return { freed, named, fallbacks };
}

const OPS: readonly Op[] = ['bitmap-remove', 'snapshot-delete', 'snapshot-delete-kept', 'resize', 'rewrite'];

describe.runIf(hasQemuImg())('freed clusters of a known history are free and named with what they held', () => {
  for (const bin of QEMU_BINS) {
    const qemuIo = bin.qemuImg === 'qemu-img' ? 'qemu-io' : join(dirname(bin.qemuImg), 'qemu-io');
    describe.runIf(bin.available)(`qemu-img ${bin.version}`, () => {
      const totals = { freed: 0, fallbacks: 0 };
      it.each(OPS.flatMap((op, i) => [1, 2, 3, 4].map((s) => [op, 100 * i + s + (bin.version === '7.2' ? 0 : 51)] as const)))('%s, seed %i', async (op, seed) => {
        await withTmpDir(async (dir) => {
          const h = history(dir, seed, op, bin.qemuImg, qemuIo);
          const { freed, named, fallbacks } = await checkFreed(h.before, h.after, `${h.recipe.join('\n')}\n`);
          totals.freed += freed;
          totals.fallbacks += fallbacks;
          const ctx = h.recipe.join('\n');
          if (op === 'bitmap-remove' || op.startsWith('snapshot-delete')) expect(freed, ctx).toBeGreaterThan(0);
          // Removing a bitmap frees its table, whose bytes QEMU keeps: named, not merely zeros.
          if (op === 'bitmap-remove') expect(named, ctx).toBeGreaterThan(0);
        });
      });
      // A stale name given up for want of a date is the exception over the whole history: mostly the
      // zeroed data of a rewritten bitmap, named by one of several stale bitmap directories that
      // nothing on disk orders (QEMU rewrites every bitmap each time the image is closed).
      it('names given up for want of a date stay rare', () => {
        expect(totals.freed).toBeGreaterThan(0);
        expect(totals.fallbacks, `${totals.fallbacks} of ${totals.freed}`).toBeLessThanOrEqual(totals.freed * 0.15);
      });
    });
  }
});

describe.runIf(hasQemuImg())('freed refcount tables and compressed clusters', () => {
  for (const bin of QEMU_BINS) {
    const qemuIo = bin.qemuImg === 'qemu-img' ? 'qemu-io' : join(dirname(bin.qemuImg), 'qemu-io');
    describe.runIf(bin.available)(`qemu-img ${bin.version}`, () => {
      it('the refcount table grows: the old one is freed and named', async () => {
        await withTmpDir(async (dir) => {
          const run = (cmd: string, args: string[]) => expect(runTool(cmd, args, { cwd: dir }).rc).toBe(0);
          run(bin.qemuImg, ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', 'r.qcow2', '64M']);
          copyFileSync(join(dir, 'r.qcow2'), join(dir, 'before.qcow2'));
          // The first write allocates everything in the "before" image's place: compare after a small one.
          run(qemuIo, ['-f', 'qcow2', '-c', 'write -P 1 0 64k', 'r.qcow2']);
          copyFileSync(join(dir, 'r.qcow2'), join(dir, 'before.qcow2'));
          run(qemuIo, ['-f', 'qcow2', '-c', 'write -P 2 64k 12M', 'r.qcow2']);
          const { freed, named } = await checkFreed(join(dir, 'before.qcow2'), join(dir, 'r.qcow2'), 'refcount table growth\n');
          expect(freed).toBeGreaterThan(0);
          expect(named).toBeGreaterThan(0);
          const a = await analyzePath(join(dir, 'r.qcow2'));
          expect(a.freed!.runs.some((r) => r.was === 'refcount-table')).toBe(true);
        });
      });
      it.each([[4096, 8], [512, 64], [65536, 32]] as const)('amend -o refcount_bits rewrites the refcount structures (cluster %i, to %i bits): the old ones are named', async (cs, bits) => {
        await withTmpDir(async (dir) => {
          const run = (cmd: string, args: string[]) => expect(runTool(cmd, args, { cwd: dir }).rc).toBe(0);
          run(bin.qemuImg, ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${cs}`, 'a.qcow2', '64M']);
          run(qemuIo, ['-f', 'qcow2', '-c', 'write -P 5 0 8M', '-c', 'write -P 6 32M 4M', 'a.qcow2']);
          run(bin.qemuImg, ['snapshot', '-c', 's1', 'a.qcow2']);
          run(qemuIo, ['-f', 'qcow2', '-c', 'write -P 7 1M 1M', 'a.qcow2']);
          copyFileSync(join(dir, 'a.qcow2'), join(dir, 'before.qcow2'));
          run(bin.qemuImg, ['amend', '-o', `refcount_bits=${bits}`, 'a.qcow2']);
          const { freed } = await checkFreed(join(dir, 'before.qcow2'), join(dir, 'a.qcow2'), `amend refcount_bits=${bits}\n`);
          expect(freed).toBeGreaterThan(0);
          const a = await analyzePath(join(dir, 'a.qcow2'));
          const b = await analyzePath(join(dir, 'before.qcow2'));
          // Every old refcount block and the old table: freed, and named with what rewrote them.
          for (const role of [Role.REFCOUNT_TABLE, Role.REFCOUNT_BLOCK]) {
            const was = role === Role.REFCOUNT_TABLE ? 'refcount-table' : 'refcount-block';
            const old = [...b.check.roles.keys()].filter((k) => b.check.roles[k] === role && a.check.roles[k] === Role.FREE);
            expect(old.length, was).toBeGreaterThan(0);
            for (const k of old) {
              const r = a.freed!.runs.find((x) => x.offset <= k * cs && k * cs < x.offset + x.bytes)!;
              expect(r.was, `cluster ${k}: ${r.evidence}`).toBe(was);
              expect(r.freedBy).toBe(`old ${was.replace('-', ' ')} (refcount_bits 16, now ${bits})`);
            }
          }
        });
      });
      it('compressed clusters of a deleted snapshot, bytes kept', async () => {
        await withTmpDir(async (dir) => {
          const run = (cmd: string, args: string[]) => expect(runTool(cmd, args, { cwd: dir }).rc).toBe(0);
          run(bin.qemuImg, ['create', '-q', '-f', 'qcow2', 'c.qcow2', '32M']);
          run(qemuIo, ['-f', 'qcow2', '-c', 'write -c -P 7 0 4M', 'c.qcow2']);
          run(bin.qemuImg, ['snapshot', '-c', 'old', 'c.qcow2']);
          run(qemuIo, ['-f', 'qcow2', '-c', 'write -P 3 0 4M', 'c.qcow2']);
          makeDense(join(dir, 'c.qcow2'));
          copyFileSync(join(dir, 'c.qcow2'), join(dir, 'before.qcow2'));
          run(bin.qemuImg, ['snapshot', '--image-opts', '-d', 'old', 'driver=qcow2,pass-discard-snapshot=off,file.filename=c.qcow2']);
          const { freed } = await checkFreed(join(dir, 'before.qcow2'), join(dir, 'c.qcow2'), 'compressed, snapshot deleted\n');
          expect(freed).toBeGreaterThan(0);
          const a = await analyzePath(join(dir, 'c.qcow2'));
          expect(a.freed!.runs.filter((r) => r.was === 'compressed-data').reduce((n, r) => n + r.clusters, 0)).toBeGreaterThan(0);
        });
      });
    });
  }
});
