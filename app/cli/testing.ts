// The CLI as a user runs it, for the CLI's tests: bundled with esbuild once per test file into a
// temporary folder (removed afterwards), run with this Node.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll } from 'vitest';
import { ROOT } from '../test-support/samples';

interface BuiltCli {
  /** The temporary folder (holds the bundle; tests may write images there). */
  readonly dir: string;
  /** Runs `qcowscope ARGS` in `cwd` (default: the temporary folder). */
  run(args: readonly string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string>;
}

/** Registers the build (beforeAll) and the clean-up (afterAll) in the calling test file. */
export function builtCli(prefix: string): BuiltCli {
  let dir = '';
  let bundle = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    bundle = join(dir, 'qcowscope.mjs');
    await build({ entryPoints: [join(ROOT, 'app/cli/main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() {
      return dir;
    },
    run: (args, opts = {}) => spawnSync(process.execPath, [bundle, ...args], {
      cwd: opts.cwd ?? dir, encoding: 'utf8', env: opts.env ?? process.env, timeout: opts.timeout ?? 60_000,
    }),
  };
}
