// Runs one case in a child process with a wall-clock and heap budget (Node only; tests and
// scripts). A case that hangs in a synchronous loop or exhausts the heap cannot be stopped from
// inside the process that runs it, so regression tests of such cases run them here: the verdict
// is the case's own, or 'timeout' / 'oom' when the child had to be killed.

import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import type { Verdict } from './run';

/** Bundles scripts/fuzz-entry.ts (the fuzz engine) for Node into `outfile`. */
export async function buildFuzzEngine(root: string, outfile: string): Promise<void> {
  await build({ entryPoints: [`${root}/tools/scripts/fuzz-entry.ts`], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error' });
}

export type IsolatedVerdict = Verdict | { readonly ok: false; readonly kind: 'timeout' | 'oom' | 'exit'; readonly message: string; readonly stack: string; readonly ms: number };

const CHILD = `
import { readFileSync } from 'node:fs';
const engine = await import(process.argv[1]);
const clock = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const v = await engine.runCase(new Uint8Array(readFileSync(0)), process.argv[2], { clock });
process.stdout.write(JSON.stringify(v));
`;

/**
 * Analyses `bytes` in a fresh Node process running the bundled engine (`engine`, from
 * buildFuzzEngine). The verdict's `ms` is analyze()'s CPU time (what other load on the machine
 * does not inflate), for the caller to hold against its budget; the process is presumed hung, and killed, only at three budgets plus five seconds (start-up
 * and the contract checks come on top of the analysis), or when its heap exceeds `memoryMb`.
 */
export function runIsolated(engine: string, bytes: Uint8Array, name = 'case.qcow2', budgetMs = 2000, memoryMb = 256): IsolatedVerdict {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [`--max-old-space-size=${memoryMb}`, '--input-type=module', '-e', CHILD, `file://${engine}`, name], {
    input: bytes, timeout: 3 * budgetMs + 5000, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.status === 0 && r.stdout) return JSON.parse(r.stdout) as Verdict;
  const stderr = r.stderr ?? '';
  if (/heap out of memory|Allocation failed/.test(stderr)) return { ok: false, kind: 'oom', message: 'the heap limit was reached', stack: stderr.slice(-2000), ms };
  if (r.signal !== null) return { ok: false, kind: 'timeout', message: `killed (${r.signal}) after ${ms.toFixed(0)} ms`, stack: '', ms };
  return { ok: false, kind: 'exit', message: `exit ${r.status}`, stack: stderr.slice(-2000), ms };
}
