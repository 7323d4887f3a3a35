// The built CLI, run as a user runs it: `info --output=json` prints qemu-img's JSON, human output
// follows qemu-img's, and a file that is not qcow2 gets one line on stderr and exit code 1.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLES } from '../test-support/samples';
import { QEMU_BINS } from '../test-support/qemu-bins';
import { sizeToStr } from './info';
import { builtCli } from './testing';

const built = builtCli('qcowscope-cli-');

/** Runs the CLI; 7.2's output unless the arguments choose a version (the stored JSON is 7.2's). */
const cli = (args: string[], cwd = SAMPLES) => {
  const [command = '', ...rest] = args;
  const versioned = args.some((a) => a.startsWith('--qemu-version')) || !['info', 'check', 'map'].includes(command);
  return built.run(versioned ? args : [command, '--qemu-version=7.2', ...rest], { cwd, env: { ...process.env, TZ: 'UTC' } });
};
const dropActualSize = (t: string) => t.replace(/\n\s*"actual-size": \d+,/, '');

describe('qcowscope info', () => {
  // Samples committed uncompressed, so the CLI sees the very file qemu-img described.
  it.each(['overlay', 'v2', 'bitmap-in-use'])('--output=json on %s prints what qemu-img printed', (name) => {
    const r = cli(['info', '--output=json', `${name}.qcow2`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const theirs = readFileSync(join(SAMPLES, `${name}.info.json`), 'utf8');
    expect(dropActualSize(r.stdout)).toBe(dropActualSize(theirs));
    expect(JSON.parse(r.stdout)['actual-size']).toBeGreaterThan(0);
  });

  for (const q of QEMU_BINS) {
    it.runIf(q.available)(`human output and JSON match the live qemu-img ${q.version} info`, () => {
      for (const name of ['overlay', 'v2', 'bitmap-in-use', 'luks']) {
        for (const output of ['human', 'json']) {
          const ours = cli(['info', `--output=${output}`, `--qemu-version=${q.version}`, `${name}.qcow2`]);
          const theirs = spawnSync(q.qemuImg, ['info', `--output=${output}`, '-U', `${name}.qcow2`], { cwd: SAMPLES, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
          expect(ours.stdout, name).toBe(theirs.stdout);
        }
      }
    });
  }

  it('defaults to the version of the qemu-img on PATH, else 10.0', () => {
    const withQemu = built.run(['info', '--output=json', 'v3.qcow2'], { cwd: SAMPLES });
    const expected = QEMU_BINS.find((q) => q.qemuImg === 'qemu-img' && q.available) ? '7.2' : '10.0';
    expect('children' in JSON.parse(withQemu.stdout), `PATH qemu-img is ${expected}`).toBe(expected === '10.0');
    const without = built.run(['info', '--output=json', 'v3.qcow2'], { cwd: SAMPLES, env: { ...process.env, PATH: '/nonexistent' } });
    expect(JSON.parse(without.stdout).children[0].name).toBe('file');
    expect(cli(['info', '--qemu-version=9.0', 'v3.qcow2']).status).toBe(2);
    expect(cli(['info', '--qemu-version', '10.0', 'v3.qcow2']).stdout).toContain("Child node '/file':");
  });

  it('refuses a file that is not qcow2 with one line and exit code 1', () => {
    const file = join(built.dir, 'disk.vmdk');
    writeFileSync(file, Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(508)]));
    const r = cli(['info', '--output=json', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${file}: not a qcow2 image: VMDK sparse extent (VMware, version 0)\n`);
  });

  it('refuses an image QEMU refuses as qemu-img does: exit 1, its line on stderr, nothing on stdout', () => {
    const theirs = readFileSync(join(SAMPLES, 'seed-zero-offset-bitmap.info.err'), 'utf8').split('\n')[0];
    for (const form of [['--output=json'], []]) {
      const r = cli(['info', ...form, 'seed-zero-offset-bitmap.qcow2']);
      expect([r.status, r.stdout, r.stderr.split('\n')[0]]).toEqual([1, '', theirs]);
    }
  });

  it('reports a missing file and usage errors', () => {
    const missing = cli(['info', 'no-such-file.qcow2']);
    expect([missing.status, missing.stderr]).toEqual([1, expect.stringMatching(/^no-such-file\.qcow2: .*ENOENT/)]);
    expect(cli(['frobnicate', 'x']).status).toBe(2);
    expect(cli(['info']).status).toBe(2);
    expect(cli(['info', '--output=xml', 'v2.qcow2']).status).toBe(2);
    expect(cli(['--help']).status).toBe(0);
  });
});

describe('sizeToStr (QEMU size_to_str)', () => {
  it.each([[0, '0 B'], [197120, '192 KiB'], [198144, '194 KiB'], [1179648, '1.12 MiB'], [512, '512 B'], [1000, '0.977 KiB'], [1024, '1 KiB'], [1380352, '1.32 MiB'], [16777216, '16 MiB'], [2 ** 40, '1 TiB']])('%d', (v, s) => {
    expect(sizeToStr(v)).toBe(s);
  });
});
