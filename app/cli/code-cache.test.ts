// The CLI as `npm run build:cli` builds it (tools/scripts/build-cli.mjs): the program compiles the
// CommonJS bundle with the V8 code cache made at build time, prints byte for byte what the plain
// ESM bundle of main.ts prints (the tests' build, testing.ts) with the same exit codes, and runs
// as well when the cache is missing, from another build, cut short, or made with other V8 flags.
// The command beside it (dist-cli/qcowscope, a shell script) runs it with glibc's transparent huge
// pages asked for, printing the same bytes, keeps a caller's own tunables, and starts Node without
// NODE_EXTRA_CA_CERTS.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, samplePath } from '../test-support/samples';
import { builtCli } from './testing';

const esm = builtCli('qcowscope-cc-esm-');
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qcowscope-cc-'));
  const r = spawnSync(process.execPath, [join(ROOT, 'tools/scripts/build-cli.mjs'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-cli failed: ${r.stderr}`);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: readonly string[], nodeArgs: readonly string[] = [], env: Record<string, string> = {}) => spawnSync(process.execPath, [...nodeArgs, join(dir, 'qcowscope.mjs'), ...args], {
  encoding: 'utf8', env: { ...process.env, QCOWSCOPE_CACHE_DEBUG: '1', TZ: 'UTC', ...env }, maxBuffer: 1 << 28,
});
/** stderr without the program's own line about the cache. */
const errText = (s: string) => s.replace(/^code cache: \w+; huge pages [a-z ]+\n/m, '');
const cacheState = (s: string) => /^code cache: (\w+);/m.exec(s)?.[1];
const hugePages = (s: string) => /; huge pages ([a-z ]+)$/m.exec(s)?.[1];

const CASES: readonly (readonly string[])[] = [
  ['report', '--output=json', samplePath('bitmap-in-use')],
  ['report', samplePath('corrupt-refcount')],
  ['check', '--output=json', '--qemu-version=7.2', samplePath('leak')],
  ['map', '--output=json', '--qemu-version=10.0', samplePath('overlay')],
  ['info', '--qemu-version=7.2', samplePath('v2')],
  ['info', '--output=json', join(ROOT, 'package.json')],
  ['safety', samplePath('base'), samplePath('overlay')],
  ['nonsense'],
];

describe('the built CLI (code cache)', () => {
  it.each(CASES.map((c) => [c.join(' ').replace(ROOT, '.'), c] as const))('%s: the same bytes and exit code as the ESM bundle, with the cache used', (_name, args) => {
    const ours = run(args);
    const plain = esm.run(args, { env: { ...process.env, TZ: 'UTC' } });
    expect(cacheState(ours.stderr)).toBe('used');
    expect(ours.status).toBe(plain.status);
    expect(ours.stdout).toBe(plain.stdout);
    expect(errText(ours.stderr)).toBe(plain.stderr);
  });

  it('runs without the cache, and with a cache it must not use', () => {
    const cacheFile = join(dir, 'qcowscope.cache');
    const good = readFileSync(cacheFile);
    const args = ['report', '--output=json', samplePath('compressed-mixed')];
    const want = run(args);
    expect(want.status).toBe(0);
    const check = (state: string, nodeArgs: readonly string[] = []) => {
      const r = run(args, nodeArgs);
      expect(cacheState(r.stderr)).toBe(state);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(want.stdout);
    };
    try {
      // Other V8 flags at compile time: V8 rejects the cache.
      check('rejected', ['--no-lazy-feedback-allocation']);
      // Another build's cache: not even offered to V8.
      const other = Buffer.from(good);
      other[12] = other[12]! ^ 1;
      writeFileSync(cacheFile, other);
      check('none');
      // Cut short (a write that did not finish): not offered to V8.
      writeFileSync(cacheFile, good.subarray(0, good.length - 4096));
      check('none');
      rmSync(cacheFile);
      check('none');
    } finally {
      writeFileSync(cacheFile, good);
    }
  });
});

describe.runIf(process.platform === 'linux')('dist-cli/qcowscope, the command', () => {
  const command = (args: readonly string[], env: Record<string, string> = {}) => spawnSync(join(dir, 'qcowscope'), args, {
    encoding: 'utf8', env: { ...process.env, QCOWSCOPE_CACHE_DEBUG: '1', TZ: 'UTC', QCOWSCOPE_NODE: process.execPath, ...env }, maxBuffer: 1 << 28,
  });

  it.each(CASES.slice(0, 4).map((c) => [c.join(' ').replace(ROOT, '.'), c] as const))('%s: huge pages asked for, the same bytes and exit code', (_name, args) => {
    const ours = command(args);
    const plain = esm.run(args, { env: { ...process.env, TZ: 'UTC' } });
    expect(hugePages(ours.stderr)).toBe('asked');
    expect(cacheState(ours.stderr)).toBe('used');
    expect(ours.status).toBe(plain.status);
    expect(ours.stdout).toBe(plain.stdout);
    expect(errText(ours.stderr)).toBe(plain.stderr);
  });

  it("keeps the caller's tunables, and their own choice of huge pages", () => {
    const args = ['check', samplePath('leak')];
    expect(hugePages(command(args, { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).stderr)).toBe('not asked');
    const both = command(['check', samplePath('leak')], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
    expect(hugePages(both.stderr)).toBe('asked');
    expect(both.status).toBe(3);
    // The program run by node directly: not asked (the script asks).
    expect(hugePages(run(args).stderr)).toBe('not asked');
  });

  it('starts Node without NODE_EXTRA_CA_CERTS (certificates parsed at start for nothing: no network)', () => {
    // Node reads that file before any script runs and warns when it cannot: the warning is the
    // sign that it tried. Run directly, the program's Node tries; run by the command, it does not.
    const certs = { NODE_EXTRA_CA_CERTS: join(dir, 'no-such-certificates.pem') };
    const args = ['check', '--output=json', samplePath('leak')];
    expect(run(args, [], certs).stderr).toMatch(/Ignoring extra certs from/);
    const ours = command(args, certs);
    expect(ours.stderr).not.toMatch(/extra certs/);
    expect(ours.status).toBe(3);
    expect(ours.stdout).toBe(esm.run(args, { env: { ...process.env, TZ: 'UTC' } }).stdout);
  });
});
