// `npm run fuzz -- [--cases N] [--seed S] [--case I] [--from K] [--workers W] [--budget-ms MS] [--memory-mb MB]
//                   [--samples a,b] [--bundle FILE] [--out DIR] [--oracle]`
// Mutates the sample images (tools/fuzz: field-aware and raw mutators, seeded) and analyses
// each case in a pool of worker processes, each case under a budget: BUDGET ms of CPU time for the
// analysis (a case silent for far longer is a hang, and is killed) and a V8 heap of MEMORY MB. The workers are child processes (--max-old-space-size), not worker_threads
// with resourceLimits: a worker thread that reaches its heap limit through one large allocation
// aborts the whole process (nodejs/node#47224), which would end the run at the first OOM case.
// Every case must end in a report or a typed error
// (Qcow2Error / Aborted); a crash, a broken report contract, a timeout or running out of memory
// is a failure, printed with its seed and case index and saved to .cache/fuzz-failures/
// (the mutated image + a JSON description). `--case I` reruns one case and prints it in full.
// `--oracle` also gives every case to `qemu-img info -f qcow2` and fails it when our reading of the
// header, extensions, snapshots and bitmaps disagrees with QEMU's (tools/fuzz/oracle.ts).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_BUNDLE = join(root, '.cache', 'fuzz-engine.mjs');
const DEFAULT_OUT = join(root, '.cache', 'fuzz-failures');

/** Sample images as [name, bytes]: NAME.qcow2, or NAME.qcow2.gz unpacked in memory. */
function loadSamples(filter) {
  const dir = join(root, 'sample-images');
  const names = new Set();
  for (const f of readdirSync(dir)) {
    const m = /^(.*)\.qcow2(\.gz)?$/.exec(f);
    if (m) names.add(m[1]);
  }
  return [...names].sort().filter((n) => !filter || filter.includes(n)).map((n) => {
    const raw = join(dir, `${n}.qcow2`);
    return [n, existsSync(raw) ? readFileSync(raw) : gunzipSync(readFileSync(`${raw}.gz`))];
  });
}

/**
 * This process's CPU time in ms: the budget is CPU time, so that a machine busy with other work
 * (or the other worker) does not turn a case into a timeout; wall time only detects hangs.
 */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// ---------------------------------------------------------------- worker side
if (process.env.QCOWSCOPE_FUZZ_WORKER) {
  // `scratch`: a folder the main process made (and removes), where the oracle writes each case.
  const { seed, samples: filter, bundle, scratch } = JSON.parse(process.env.QCOWSCOPE_FUZZ_WORKER);
  const engine = await import(pathToFileURL(bundle).href);
  const samples = loadSamples(filter).map(([name, bytes]) => engine.prepareSample(name, new Uint8Array(bytes)));
  process.on('message', async ({ index }) => {
    const c = engine.makeCase(samples, seed, index);
    // Stages go to stderr synchronously, so the parent knows where a hung or killed case was.
    const verdict = await engine.runCase(c.bytes, `${c.sample}.qcow2`, { backing: c.backing, abortAfter: c.abortAfter, onStage: (s) => writeSync(2, `stage: ${s}\n`), clock: cpuMs });
    const ms = verdict.ms;
    const external = getHeapStatistics().external_memory;
    let parity = null;
    if (scratch && verdict.ok && c.abortAfter === null) {
      const q = await engine.askQemu(c.bytes, join(scratch, `case-${process.pid}.qcow2`));
      if (!q.agree) parity = q.difference;
    }
    process.send({ index, verdict, ms, external, parity, sample: c.sample, ops: c.ops });
  });
  // A worker outlives no run: when the main process goes, so does it.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
} else {
  await main();
}

function parseArgs(argv) {
  const o = { cases: 2000, seed: (Date.now() ^ (process.pid << 16)) >>> 0, case: null, from: 0, workers: 2, budgetMs: 2000, memoryMb: 256, samples: null, bundle: DEFAULT_BUNDLE, out: DEFAULT_OUT, oracle: false };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split('=', 2);
    const v = () => inline ?? argv[++i];
    if (k === '--cases') o.cases = Number(v());
    else if (k === '--seed') o.seed = Number(v()) >>> 0;
    else if (k === '--case') o.case = Number(v());
    else if (k === '--from') o.from = Number(v());
    else if (k === '--workers') o.workers = Math.max(1, Number(v()));
    else if (k === '--budget-ms') o.budgetMs = Number(v());
    else if (k === '--memory-mb') o.memoryMb = Number(v());
    else if (k === '--samples') o.samples = v().split(',');
    else if (k === '--bundle') o.bundle = v();
    else if (k === '--out') o.out = v();
    else if (k === '--oracle') o.oracle = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { build } = await import('esbuild');
  mkdirSync(dirname(o.bundle), { recursive: true });
  await build({ entryPoints: [join(root, 'tools/scripts/fuzz-entry.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: o.bundle, logLevel: 'warning' });
  const engine = await import(pathToFileURL(o.bundle).href);
  const raw = loadSamples(o.samples);
  if (raw.length === 0) throw new Error('no sample images in sample-images/');
  const samples = raw.map(([n, b]) => engine.prepareSample(n, new Uint8Array(b)));
  const indices = o.case !== null ? [o.case] : Array.from({ length: o.cases }, (_, i) => o.from + i);
  console.log(`fuzz: seed ${o.seed}, ${indices.length} case(s) from ${indices[0]}, ${samples.length} samples, ${o.workers} workers, budget ${o.budgetMs} ms CPU / ${o.memoryMb} MB heap${o.oracle ? ', qemu-img info as oracle' : ''}`);

  const stats = { report: 0, typed: new Map(), failures: [], slowest: [], maxExternal: 0 };
  const t0 = performance.now();
  let done = 0;
  let lastPrint = t0;
  const record = (r) => {
    done++;
    if (r.failure) {
      stats.failures.push(r);
      saveFailure(engine, samples, o, r);
      console.log(`FAIL seed ${o.seed} case ${r.index} [${r.failure}] ${r.sample}: ${r.message}\n  ops: ${(r.ops ?? []).join(' | ')}\n  rerun: npm run fuzz -- --seed ${o.seed} --case ${r.index}`);
    } else if (r.verdict.outcome === 'report') stats.report++;
    else stats.typed.set(r.verdict.code, (stats.typed.get(r.verdict.code) ?? 0) + 1);
    if (r.ms !== undefined) {
      stats.slowest.push({ index: r.index, ms: r.ms, sample: r.sample });
      if (stats.slowest.length > 20) stats.slowest = stats.slowest.sort((a, b) => b.ms - a.ms).slice(0, 5);
    }
    stats.maxExternal = Math.max(stats.maxExternal, r.external ?? 0);
    const now = performance.now();
    if (now - lastPrint > 10_000) {
      lastPrint = now;
      console.log(`  ${done}/${indices.length} cases, ${stats.failures.length} failures, ${((now - t0) / 1000).toFixed(0)} s`);
    }
  };
  o.scratch = o.oracle ? mkdtempSync(join(tmpdir(), 'qcowscope-oracle-')) : null;
  try {
    await runPool(o, indices, record);
  } finally {
    if (o.scratch) rmSync(o.scratch, { recursive: true, force: true });
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const typed = [...stats.typed].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  const byKind = {};
  for (const f of stats.failures) byKind[f.failure] = (byKind[f.failure] ?? 0) + 1;
  const slow = stats.slowest.sort((a, b) => b.ms - a.ms).slice(0, 3).map((s) => `case ${s.index} ${s.sample} ${s.ms.toFixed(0)} ms`).join('; ');
  if (o.case !== null && stats.failures.length === 0) console.log(`case ${o.case}: ${JSON.stringify(engine.makeCase(samples, o.seed, o.case).ops)}`);
  console.log(`slowest: ${slow}; largest external memory seen after a case: ${(stats.maxExternal / 2 ** 20).toFixed(0)} MiB`);
  console.log(`fuzz result: seed ${o.seed}, ${done} cases in ${secs} s: ${stats.report} reports, ${done - stats.report - stats.failures.length} typed errors (${typed || 'none'}), ` +
    `${stats.failures.length} failures${stats.failures.length ? ` (${Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(', ')}; saved in ${o.out})` : ''}`);
  process.exitCode = stats.failures.length ? 1 : 0;
}

/** Runs `indices` on o.workers worker processes; a worker over budget is killed and replaced. */
function runPool(o, indices, record) {
  let next = 0;
  let active = 0;
  return new Promise((resolve) => {
    const spawn = () => {
      active++;
      const w = fork(fileURLToPath(import.meta.url), [], {
        execArgv: [`--max-old-space-size=${o.memoryMb}`, '--max-semi-space-size=16'],
        env: { ...process.env, QCOWSCOPE_FUZZ_WORKER: JSON.stringify({ seed: o.seed, samples: o.samples, bundle: o.bundle, scratch: o.scratch }) },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      let stderr = '';
      let stage = '';
      w.stderr.on('data', (d) => {
        stderr = (stderr + d).slice(-4000);
        const stages = [...stderr.matchAll(/^stage: (.*)$/gm)];
        if (stages.length) stage = stages[stages.length - 1][1];
      });
      let current = null;
      let timer = null;
      let finished = false;
      const retire = (failure) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (current !== null && failure) record({ index: current.index, failure: failure.kind, message: `${failure.message} (in stage: ${stage || 'start'})` });
        w.kill('SIGKILL');
        active--;
        if (next < indices.length) spawn();
        else if (active === 0) resolve();
      };
      const dispatch = () => {
        if (next >= indices.length) {
          finished = true;
          w.kill('SIGKILL');
          if (--active === 0) resolve();
          return;
        }
        current = { index: indices[next++] };
        stderr = '';
        stage = '';
        w.send({ index: current.index });
        // The budget applies to analyze() (measured by the worker); the contract checks (rendering
        // the outputs, cloning the analysis) come on top, so a worker is presumed hung only later.
        const hang = 3 * o.budgetMs + 5000;
        timer = setTimeout(() => retire({ kind: 'timeout', message: `no answer within ${hang} ms` }), hang);
      };
      w.on('message', (m) => {
        if (m.ready) return dispatch();
        clearTimeout(timer);
        const failure = !m.verdict.ok ? m.verdict.kind : m.ms > o.budgetMs ? 'timeout' : m.parity ? 'parity' : null;
        const message = !m.verdict.ok ? `${m.verdict.message}\n${m.verdict.stack}` : m.parity ?? `analyze() took ${m.ms.toFixed(0)} ms of CPU`;
        record({ ...m, failure, message });
        current = null;
        dispatch();
      });
      w.on('exit', (code, signal) => {
        const oom = /heap out of memory|Allocation failed/.test(stderr);
        retire(finished ? null : { kind: oom ? 'oom' : 'worker-exit', message: `worker ended (${signal ?? `exit ${code}`}): ${stderr.split('\n').find((l) => /FATAL|Error/.test(l)) ?? ''}` });
      });
    };
    for (let i = 0; i < Math.min(o.workers, indices.length); i++) spawn();
    if (indices.length === 0) resolve();
  });
}

function saveFailure(engine, samples, o, r) {
  mkdirSync(o.out, { recursive: true });
  const c = engine.makeCase(samples, o.seed, r.index);
  r.sample = c.sample;
  r.ops = c.ops;
  const base = join(o.out, `seed-${o.seed}-case-${r.index}`);
  writeFileSync(`${base}.qcow2`, c.bytes);
  if (c.backing && c.backing !== c.bytes) writeFileSync(`${base}.backing.qcow2`, c.backing);
  writeFileSync(`${base}.json`, JSON.stringify({ seed: o.seed, case: r.index, sample: c.sample, ops: c.ops, failure: r.failure, message: r.message, ms: r.ms ?? null }, null, 2) + '\n');
}
