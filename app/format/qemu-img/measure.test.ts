// The measure engine against the live `qemu-img measure` (7.2 and 10.0 where installed): -o option
// parsing (types, suffixes, fractions, hex and octal, flags without '=', escaped commas, last value
// wins) and every error qemu-img gives for them, in its words, over one image with data, zeroes
// and a bitmap; plus the arithmetic against images of 1 TiB / 4 TiB whose metadata need several
// refcount blocks and L1 clusters. The full command is tested on every sample in app/cli/measure.test.ts.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocatedEstimate, convertEstimate, measure, measureInputOf, measureText, type MeasureInput } from './measure';
import { parseMeasureOptions, type MeasureFormat } from './measure-options';
import type { MapRange } from '../guest/block-status';
import { analyzePath } from '../../test-support/analyze-sample';
import { QEMU_BINS } from '../../test-support/qemu-bins';
import { hasQemuImg as hasQemu, runTool, type ToolRun } from '../../test-support/qemu-tools';

/** rc, stdout and stderr only (compared whole with the engine's). */
const run = (cmd: string, args: string[], cwd: string): Pick<ToolRun, 'rc' | 'stdout' | 'stderr'> => {
  const { rc, stdout, stderr } = runTool(cmd, args, { cwd });
  return { rc, stdout, stderr };
};
import { listSamples, SAMPLES, samplePath } from '../../test-support/samples';
import { analyzeSample } from '../../test-support/analyze-sample';

const OPTION_LISTS = [
  'foo=1', 'foo', 'nofoo', 'cluster_size=abc', 'cluster_size=1000', 'cluster_size=4M', 'cluster_size=-1', 'cluster_size=-0',
  'cluster_size=512,extended_l2=on', 'extended_l2=maybe', 'extended_l2=on,cluster_size=8k', 'extended_l2', 'noextended_l2,cluster_size=4k',
  'extended_l2=y', 'extended_l2=ON', 'extended_l2=true,cluster_size=16k', 'refcount_bits=3', 'refcount_bits=x', 'refcount_bits=128',
  'refcount_bits=8,compat=0.10', 'refcount_bits=99999999999999999999999', 'refcount_bits=010', 'refcount_bits= 16', 'refcount_bits=0x20',
  'refcount_bits=-16', 'refcount_bits=16x', 'refcount_bits=', 'compat=2', 'compat=v3', 'compat=0.10', 'extended_l2=on,compat=0.10',
  'preallocation=bogus', 'preallocation=', 'preallocation=falloc', 'preallocation=full,backing_file=x', 'preallocation=metadata',
  'lazy_refcounts=on', 'lazy_refcounts=x', 'compression_type=zstd', 'nocow=on', 'extent_size_hint=1M', 'size=1G', 'size=-1',
  'size=100T,cluster_size=512', 'size=64T,cluster_size=4k,extended_l2=on', 'backing_file=x', 'data_file=x', 'encrypt=on', 'encrypt.format=luks',
  'encrypt.format=luks,encrypt.key-secret=s', 'encrypt.format=aes', 'encrypt.iter-time=x', 'cluster_size=4k,,x', 'cluster_size=4k,',
  ',cluster_size=4k', 'cluster_size=', 'cluster_size=64k,cluster_size=8k', 'cluster_size= 4k', 'cluster_size=4K', 'cluster_size=0.5M',
  'cluster_size=1.k', 'cluster_size=1.5k', 'cluster_size=64kB', 'cluster_size=65536b', 'cluster_size=0x1000', 'cluster_size=0x1k',
  'cluster_size=1e3', 'cluster_size=16E', 'cluster_size=99999999999E', 'cluster_size=1T', 'cluster_size=0', 'cluster_size=2M,refcount_bits=1',
  'cluster_size=4k,foo,cluster_size=x', 'help', '?', '=x', 'cluster_size=0x1k', 'cluster_size=0x1k,refcount_bits=3', 'cluster_size=0x10.5',
  'id=x', 'cluster_size=0x', 'cluster_size=0xg', 'cluster_size=00x10', 'cluster_size=1.5', 'cluster_size=.5k', 'cluster_size=1.5e1k',
];

function engine(input: MeasureInput, format: MeasureFormat, lists: string[], output: 'json' | 'human', q: (typeof QEMU_BINS)[number]) {
  const p = parseMeasureOptions(lists, format, q.version);
  if ('error' in p) return { stdout: '', stderr: p.error, rc: 1 };
  const r = measure(input, format, p.options);
  if ('error' in r) return { stdout: '', stderr: p.warnings + r.error, rc: 1 };
  return { stdout: measureText(r, output), stderr: p.warnings, rc: 0 };
}

const inputOf = async (path: string): Promise<MeasureInput> => measureInputOf(await analyzePath(path));

for (const q of QEMU_BINS) {
  describe.runIf(hasQemu() && q.available)(`measure engine against the live qemu-img ${q.version}`, () => {
    const dir = mkdtempSync(join(tmpdir(), `qcowscope-measure-engine-${q.version}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('parses -o as qemu-img does, with its error messages', async () => {
      expect(run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=16k', 'a.qcow2', '100M'], dir).rc).toBe(0);
      expect(run('qemu-io', ['-c', 'write -P 1 70000 1M', '-c', 'write -z 4M 1M', '-c', 'write -P 2 9M 512', 'a.qcow2'], dir).rc).toBe(0);
      expect(run('qemu-img', ['bitmap', '--add', '-g', '4096', 'a.qcow2', 'a-bitmap-name'], dir).rc).toBe(0);
      const input = await inputOf(join(dir, 'a.qcow2'));
      for (const format of ['qcow2', 'raw'] as const) {
        for (const list of OPTION_LISTS) {
          const theirs = run(q.qemuImg, ['measure', '-O', format, '-o', list, 'a.qcow2'], dir);
          expect(engine(input, format, [list], 'human', q), `-O ${format} -o '${list}'`).toEqual(theirs);
        }
      }
      const twice = run(q.qemuImg, ['measure', '--output=json', '-O', 'qcow2', '-o', 'cluster_size=4k', '-o', 'refcount_bits=2', 'a.qcow2'], dir);
      expect(engine(input, 'qcow2', ['cluster_size=4k', 'refcount_bits=2'], 'json', q)).toEqual(twice);
    });

    it('convertEstimate is qemu-img measure -O qcow2\'s required size on every sample qemu-img opens', async () => {
      let compared = 0;
      for (const name of listSamples()) {
        const a = await analyzeSample(name);
        const copy = join(dir, `${name}.qcow2`);
        writeFileSync(copy, readFileSync(samplePath(name))); // dense: no host holes for block status to see
        const theirs = run(q.qemuImg, ['measure', '--output=json', '-O', 'qcow2', copy], SAMPLES);
        const e = convertEstimate(a);
        if (theirs.rc !== 0 || a.structures.header.backingFileOffset !== 0n) continue; // the copy has no backing file beside it
        expect(e, name).not.toBeNull();
        const required = BigInt((JSON.parse(theirs.stdout) as { required: number }).required);
        expect(e!.required, name).toBe(required);
        expect(e!.lessThanFile, name).toBe(BigInt(a.fileSize) - required);
        compared++;
      }
      expect(compared).toBeGreaterThan(15);
    });

    it.each([['1T', '65536', '16'], ['4T', '512', '64'], ['4T', '2M', '1'], ['1T', '16k', '8']])('a %s disk, output clusters %s, refcount_bits %s', async (size, cs, bits) => {
      const file = `big-${size}.qcow2`;
      expect(run('qemu-img', ['create', '-q', '-f', 'qcow2', file, size], dir).rc).toBe(0);
      expect(run('qemu-io', ['-c', 'write -P 3 0 64k', '-c', 'write -P 4 512G 5k', file], dir).rc).toBe(0);
      const input = await inputOf(join(dir, file));
      for (const list of [`cluster_size=${cs},refcount_bits=${bits}`, `cluster_size=${cs},refcount_bits=${bits},preallocation=full`]) {
        const theirs = run(q.qemuImg, ['measure', '--output=json', '-O', 'qcow2', '-o', list, file], dir);
        expect(engine(input, 'qcow2', [list], 'json', q), list).toEqual(theirs);
      }
    });
  });
}

describe('allocatedEstimate', () => {
  /** The same sum in BigInt, cluster by cluster of each range, as qemu-img's loop adds it. */
  function reference(ranges: readonly MapRange[], cs: bigint): bigint {
    const seen = new Set<bigint>();
    for (const r of ranges) {
      if (!r.data || r.zero || r.length <= 0) continue;
      for (let c = BigInt(r.start) / cs; c * cs < BigInt(r.start) + BigInt(r.length); c++) seen.add(c);
    }
    return BigInt(seen.size) * cs;
  }

  it('equals a cluster-by-cluster BigInt count on random sorted ranges up to 2^52 bytes, every cluster size', () => {
    let x = 12345;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
    for (let bits = 9; bits <= 21; bits++) {
      const cs = 2 ** bits;
      for (let trial = 0; trial < 20; trial++) {
        const ranges: MapRange[] = [];
        let at = trial % 2 ? 2 ** 52 - 2 ** 30 : rnd(4096);
        for (let i = 0; i < 40; i++) {
          const length = 1 + rnd(3 * cs);
          ranges.push({ start: at, length, depth: 0, present: true, zero: rnd(5) === 0, data: rnd(4) !== 0 });
          at += length;
        }
        expect(allocatedEstimate(ranges, BigInt(cs)), `cs ${cs} trial ${trial}`).toBe(reference(ranges, BigInt(cs)));
      }
    }
  });
});
