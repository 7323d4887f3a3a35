// `qcowscope measure` against the live `qemu-img measure`, 7.2 and 10.0 each where installed
// (test-support/qemu-bins.ts): stdout, stderr and exit code equal byte for byte, with the same
// arguments, on every sample image and on fixed-seed random images made by qemu-img / qemu-io
// (test-support/qemu-random.ts: cluster sizes 512 B to 2 MiB, refcount widths, v2, extended L2,
// compression, zeroes, discards, snapshots, bitmaps, qcow2 and raw backing files), some damaged.
// Where QEMU's block status fails on a damaged image and measure's loop would skip past the failing
// entry (large output clusters), we cannot read on and print so (exit 1); those few are counted.
// Every image is dense (no host holes): qemu-img measure asks block status, which counts data over
// a hole of the host file as zero, and a File shows no holes (README ¹).

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main';
import { QEMU_BINS } from '../test-support/qemu-bins';
import { makeRandomImage } from '../test-support/random-images';
import { hasQemuImg as hasQemu, runTool, type ToolRun } from '../test-support/qemu-tools';

/** rc, stdout and stderr only (compared whole with the engine's). */
const run = (cmd: string, args: string[], cwd: string): Pick<ToolRun, 'rc' | 'stdout' | 'stderr'> => {
  const { rc, stdout, stderr } = runTool(cmd, args, { cwd });
  return { rc, stdout, stderr };
};
import { listSamples, ROOT, SAMPLES, samplePath } from '../test-support/samples';

interface Out {
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

async function cli(args: readonly string[]): Promise<Out> {
  let out = '';
  let err = '';
  const rc = await main(['measure', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { rc, out, err };
}

/** Argument sets, each run as is by both tools. */
const SETS: readonly (readonly string[])[] = [
  [],
  ['-O', 'qcow2'],
  ['--output=json', '-O', 'qcow2'],
  ['-O', 'qcow2', '-o', 'cluster_size=4k,refcount_bits=1'],
  ['--output=json', '-O', 'qcow2', '-o', 'cluster_size=2M', '-o', 'extended_l2=on'],
  ['-O', 'qcow2', '-o', 'compat=0.10,preallocation=metadata'],
  ['-O', 'qcow2', '-o', 'cluster_size=512,preallocation=full,refcount_bits=64'],
  ['-O', 'qcow2', '-o', 'backing_file=x,cluster_size=16k,extended_l2=on'],
  ['--output=json', '-O', 'raw', '-o', 'preallocation=falloc'],
];

/**
 * qemu-img's stderr without QEMU's non-fatal corruption events ("qcow2: Image is corrupt: …"), which
 * it prints on some damaged images while reading metadata in its block-status loop; measure does
 * not reproduce them (its numbers and exit code are still compared).
 */
const withoutCorruptionEvents = (stderr: string) => stderr.replace(/^qcow2: Image is corrupt: .*; further non-fatal corruption events will be suppressed\n/gm, '');

/** Comparisons given up on damaged images because we cannot read on past a failing block status. */
let unknown = 0;

async function same(q: (typeof QEMU_BINS)[number], file: string, cwd: string, what: string, damaged = false): Promise<void> {
  for (const args of SETS) {
    const ours = await cli([`--qemu-version=${q.version}`, ...args, file]);
    const theirs = run(q.qemuImg, ['measure', ...args, file], cwd);
    const label = `${what}: qemu-img measure ${args.join(' ')}`;
    if (damaged && ours.err.startsWith('qcowscope: cannot measure')) {
      // QEMU's block status fails inside the map and measure would read past it: we say so instead.
      expect([ours.rc, ours.out], label).toEqual([1, '']);
      unknown++;
      continue;
    }
    expect(ours.out, label).toBe(theirs.stdout);
    expect(ours.err, label).toBe(damaged ? withoutCorruptionEvents(theirs.stderr) : theirs.stderr);
    expect(ours.rc, label).toBe(theirs.rc);
  }
}

/** Dense copies of the sample images and their backing and data files, in a folder of their own. */
function denseSamples(dir: string): void {
  for (const f of readdirSync(SAMPLES)) if (/\.(qcow2|raw|data)$/.test(f)) writeFileSync(join(dir, f), readFileSync(join(SAMPLES, f)));
  for (const name of listSamples()) writeFileSync(join(dir, `${name}.qcow2`), readFileSync(samplePath(name)));
}

const SEEDS = [1, 2, 3, 5, 6, 7, 11, 12, 19, 22, 26, 44];

for (const q of QEMU_BINS) {
  describe.runIf(hasQemu() && q.available)(`measure against the live qemu-img ${q.version}`, () => {
    const dir = mkdtempSync(join(tmpdir(), `qcowscope-measure-${q.version}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    denseSamples(dir);
    // Run from the repository root, as a data file's name is opened relative to the working folder.
    it.each(listSamples())('sample %s', async (name) => {
      await same(q, join(dir, `${name}.qcow2`), ROOT, name);
    });

    it('a missing FILE, and a missing backing file', async () => {
      const sub = mkdtempSync(join(dir, 'missing-'));
      expect(run('qemu-img', ['create', '-q', '-f', 'qcow2', 'gone.qcow2', '1M'], sub).rc).toBe(0);
      expect(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'gone.qcow2', '-F', 'qcow2', 'top.qcow2'], sub).rc).toBe(0);
      rmSync(join(sub, 'gone.qcow2'));
      await same(q, join(sub, 'top.qcow2'), sub, 'missing backing, absolute');
      await same(q, join(sub, 'nothing-here.qcow2'), sub, 'missing FILE');
    });

    afterAll(() => {
      // Most comparisons on damaged images are made: give-ups stay a small minority.
      expect(unknown).toBeLessThan(SEEDS.length);
    });
    it.each(SEEDS)('random image, seed %i', async (seed) => {
      const img = makeRandomImage(dir, seed, { kind: 'allocation', damage: seed % 2 === 0 });
      const damaged = img.damage;
      await same(q, img.path, dir, `${img.describe}${damaged.length ? ` | damaged: ${damaged.join(', ')}` : ''}`, damaged.length > 0);
    });
  });
}
