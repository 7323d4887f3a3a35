// `npm run bench`: speed and memory of qcowscope against qemu-img, measured in the same run.
// Makes sparse images with qemu-img (a 1 TiB preallocation=metadata one, a 100 GiB one with
// scattered writes, snapshots and bitmaps, a compressed one), times `qemu-img check` and
// `qemu-img map`, then our full analysis (roles + check + map) in Node (the built CLI, process start
// included) and in headless Chromium (the built page, the real worker on a File, pick to "done"),
// checks that our check/map JSON equals qemu-img's on each, and prints every figure against its
// target. Results go to tools/bench/results.json; the images live in tools/bench/out (gitignored), and the
// 1 TiB one is deleted afterwards (a naive copy of the folder would write a terabyte of zeros)
// unless BENCH_KEEP=1.
//
// Environment: BENCH_RUNS (timed runs per tool, default 3, after one warm-up; the tools take turns), BENCH_KEEP=1,
// BENCH_BROWSER=0 (skip Chromium), BENCH_ONLY=big,scattered,compressed (a subset).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join, resolve } from 'node:path';
import { openChromium } from './bench-browser.mjs';

const OUT = resolve('tools/bench/out');
const RESULTS = resolve('tools/bench/results.json');
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const CLI = 'dist-cli/qcowscope.mjs';
/** The command a person runs (README): the script that runs CLI with huge pages asked for (build-cli.mjs). */
const COMMAND = 'dist-cli/qcowscope';

// Issue 18's targets.
const TARGETS = {
  nodeVsCheck: 0.3,
  browserVsCheck: 0.9,
  browserVsReadFloor: 1.15,
  usageSeconds: 0.3,
  headerMs: 200,
  bytesPerCluster: 8,
  fixedMiB: 64,
  bytesReadVsMetadata: 1.05,
  fps: 50,
  longTaskMs: 50,
};

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30, ...opts });
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Wall time, CPU time (user + system) and peak RSS of one child, from getrusage(RUSAGE_CHILDREN).
const RUSAGE = `import resource,subprocess,sys,time
t=time.perf_counter(); r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); t=time.perf_counter()-t
u=resource.getrusage(resource.RUSAGE_CHILDREN)
print(t, u.ru_utime+u.ru_stime, u.ru_maxrss, r.returncode)`;

/**
 * Several commands measured in turns (a, b, c, a, b, c, …) so that a shared machine's load falls on
 * each alike: one warm-up round, then RUNS timed rounds. Per command: median wall and CPU seconds,
 * peak RSS (MiB), exit code.
 */
function measureInTurns(commands) {
  const each = commands.map(([cmd, args]) => measureRuns(cmd, args));
  for (const m of each) m.once();
  for (let i = 0; i < RUNS; i++) for (const m of each) m.runs.push(m.once());
  return each.map((m) => m.result());
}

/** One command's runs: `once()` runs it (wall and CPU seconds, peak RSS in MiB, exit code); `result()` their medians. */
function measureRuns(cmd, args) {
  const once = () => {
    if (has('python3')) {
      const [wall, cpu, rssKiB, rc] = sh('python3', ['-c', RUSAGE, cmd, ...args]).toString().trim().split(/\s+/).map(Number);
      return { wall, cpu, rss: rssKiB / 1024, rc };
    }
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    return { wall: (performance.now() - t) / 1000, cpu: NaN, rss: NaN, rc: r.status };
  };
  const runs = [];
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = () => ({ seconds: median(runs.map((r) => r.wall)), cpuSeconds: median(runs.map((r) => r.cpu)), peakRssMiB: Math.max(...runs.map((r) => r.rss)), rc: runs[0].rc });
  return { once, runs, result };
}

/** Builds the page and the CLI when either is missing or older than a source file. */
function ensureBuilt() {
  const newest = (dir) => readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile()).reduce((m, e) => Math.max(m, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs), 0);
  const outputs = ['dist/qcowscope.html', CLI];
  const stale = outputs.some((f) => !existsSync(f)) || Math.min(...outputs.map((f) => statSync(f).mtimeMs)) < newest('app');
  if (stale) {
    console.log('building the page and the CLI (npm run build) ...');
    sh('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  }
}

/** The images, made with qemu-img / qemu-io when missing. */
function makeImages() {
  const imgs = [];
  const big = join(OUT, 'big-1t.qcow2');
  if (!ONLY || ONLY.has('big')) {
    if (!existsSync(big)) sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata,cluster_size=65536', big, '1T']);
    imgs.push({ key: 'big', name: '1 TiB, preallocation=metadata, 64 KiB clusters', path: big, temporary: true });
  }
  const mid = join(OUT, 'scattered-100g.qcow2');
  if (!ONLY || ONLY.has('scattered')) {
    if (!existsSync(mid)) {
      const tmp = mid + '.tmp';
      rmSync(tmp, { force: true });
      sh('qemu-img', ['create', '-q', '-f', 'qcow2', tmp, '100G']);
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const writes = (n, pat) => {
        const cmds = [];
        for (let i = 0; i < n; i++) cmds.push('-c', `write -q -P ${pat} ${Math.floor(rnd() * 1600000) * 65536} 65536`);
        return cmds;
      };
      sh('qemu-img', ['bitmap', '--add', tmp, 'nightly']);
      sh('qemu-io', ['-f', 'qcow2', ...writes(3000, 0x11), tmp]);
      sh('qemu-img', ['snapshot', '-c', 'before-upgrade', tmp]);
      sh('qemu-img', ['bitmap', '--add', '-g', '1M', tmp, 'weekly']);
      sh('qemu-io', ['-f', 'qcow2', ...writes(3000, 0x22), tmp]);
      sh('qemu-img', ['snapshot', '-c', 'after-upgrade', tmp]);
      sh('qemu-io', ['-f', 'qcow2', ...writes(1000, 0x33), tmp]);
      sh('mv', [tmp, mid]);
    }
    imgs.push({ key: 'scattered', name: '100 GiB, 7000 scattered 64 KiB writes, 2 snapshots, 2 bitmaps', path: mid, temporary: false });
  }
  const comp = join(OUT, 'compressed.qcow2');
  if (!ONLY || ONLY.has('compressed')) {
    if (!existsSync(comp)) {
      // 256 MiB of half-compressible data (each 64 KiB: 32 KiB random, 32 KiB of a repeated
      // byte), one MiB every 16 MiB of a 4 GiB raw disk, converted with compression.
      const raw = join(OUT, 'compressed-src.raw');
      rmSync(raw, { force: true });
      const fd = openSync(raw, 'w');
      ftruncateSync(fd, 4 * 2 ** 30);
      const chunk = Buffer.alloc(2 ** 20);
      for (let i = 0; i < 256; i++) {
        for (let c = 0; c < chunk.length; c += 65536) {
          randomFillSync(chunk, c, 32768);
          chunk.fill(i + 1, c + 32768, c + 65536);
        }
        writeSync(fd, chunk, 0, chunk.length, i * 16 * 2 ** 20);
      }
      closeSync(fd);
      sh('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, comp + '.tmp']);
      sh('mv', [comp + '.tmp', comp]);
      rmSync(raw, { force: true });
    }
    imgs.push({ key: 'compressed', name: '4 GiB, 256 MiB of half-compressible data, compressed', path: comp, temporary: false });
  }
  return imgs;
}

/**
 * 'equal' when our CLI prints exactly qemu-img's JSON for `cmd` (check or map) on `path`;
 * 'holes' when the only difference is `"zero": true` on data ranges: qemu-img map asks the host
 * file system where the sparse image file has holes (SEEK_HOLE), which no File API shows;
 * 'differs' otherwise.
 */
function compareJson(cmd, path) {
  const run = (c, a) => spawnSync(c, a, { maxBuffer: 1 << 30 }).stdout.toString();
  const theirs = run('qemu-img', [cmd, '--output=json', path]);
  const ours = run(COMMAND, [cmd, '--output=json', path]);
  if (theirs === ours) return 'equal';
  return cmd === 'map' && theirs.replaceAll('"zero": true, "data": true', '"zero": false, "data": true') === ours ? 'holes' : 'differs';
}
const PARITY = { equal: 'equals', holes: 'equals, but for "zero" over holes of the sparse host file,', differs: 'DIFFERS from' };

const f = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));

/** Time ratios are judged only where qemu-img check takes at least this long (Node alone starts in ~0.05 s). */
const JUDGE_TIME_FROM_S = 0.25;

/** Every target for one image: value, limit, whether it is met, and whether it is judged at all. */
function verdicts(r) {
  const t = TARGETS;
  const timed = r.qemuCheck.seconds >= JUDGE_TIME_FROM_S;
  const budget = (t.bytesPerCluster * r.hostClusters) / 2 ** 20 + t.fixedMiB;
  const v = [
    { key: 'nodeVsCheck', value: r.ratios.nodeVsCheck, limit: t.nodeVsCheck, met: r.ratios.nodeVsCheck <= t.nodeVsCheck, judged: timed },
    { key: 'peakRssMiB', value: r.node.peakRssMiB, limit: budget, met: r.node.peakRssMiB <= budget, judged: true },
    { key: 'bytesReadVsMetadata', value: r.ratios.bytesReadVsMetadata, limit: t.bytesReadVsMetadata, met: r.ratios.bytesReadVsMetadata <= t.bytesReadVsMetadata, judged: true },
  ];
  if (r.browser) {
    const b = r.browser;
    const longest = Math.max(b.longestTaskLoadingMs, b.longestTaskPanZoomMs);
    v.push(
      { key: 'browserVsCheck', value: r.ratios.browserVsCheck, limit: t.browserVsCheck, met: r.ratios.browserVsCheck <= t.browserVsCheck, judged: timed },
      { key: 'browserVsReadFloor', value: r.ratios.browserVsReadFloor, limit: t.browserVsReadFloor, met: r.ratios.browserVsReadFloor <= t.browserVsReadFloor, judged: timed },
      // Judged where the early map shows at all (a small image's full map may come first).
      { key: 'usageSeconds', value: b.usageSeconds, limit: t.usageSeconds, met: b.usageSeconds <= t.usageSeconds, judged: r.key === 'big' && Number.isFinite(b.usageSeconds), why: 'judged on the 1 TiB image' },
      { key: 'rendererGrowthMiB', value: b.rendererGrowthMiB, limit: budget, met: b.rendererGrowthMiB !== null && b.rendererGrowthMiB <= budget, judged: b.rendererGrowthMiB !== null, why: '/proc was not readable' },
      { key: 'headerMs', value: b.headerMs, limit: t.headerMs, met: b.headerMs <= t.headerMs, judged: true },
      { key: 'longestTaskMs', value: longest, limit: t.longTaskMs, met: longest <= t.longTaskMs, judged: true },
      { key: 'fps', value: b.fps, limit: t.fps, met: b.fps >= t.fps, judged: true },
    );
  }
  return v;
}

function report(r) {
  const t = TARGETS;
  const verdict = Object.fromEntries(r.verdicts.map((x) => [x.key, x]));
  const mark = (k) => (!verdict[k].judged ? `not judged: ${verdict[k].why ?? `qemu-img check takes under ${JUDGE_TIME_FROM_S} s`}` : verdict[k].met ? 'met' : 'NOT met');
  const lines = [
    `qemu-img check ${f(r.qemuCheck.seconds, 3)} s (cpu ${f(r.qemuCheck.cpuSeconds, 3)} s), qemu-img map ${f(r.qemuMap.seconds, 3)} s; our check JSON ${PARITY[r.parity.check]} qemu-img's, map JSON ${PARITY[r.parity.map]} qemu-img's`,
    `node (CLI report, process start included) ${f(r.node.seconds, 3)} s = ${f(r.ratios.nodeVsCheck)} × check (target ≤ ${t.nodeVsCheck}: ${mark('nodeVsCheck')}); cpu ${f(r.node.cpuSeconds, 3)} s = ${f(r.ratios.nodeCpuVsCheckCpu)} × check's cpu`,
    `  engine alone ${f(r.engineSeconds, 3)} s; peak RSS ${f(r.node.peakRssMiB, 0)} MiB for ${r.hostClusters} host clusters (target ≤ 8 B/cluster + 64 MiB = ${f(verdict.peakRssMiB.limit, 0)} MiB: ${mark('peakRssMiB')})`,
    `  bytes read ${r.nodeBytesRead} in ${r.nodeReads} reads = ${f(r.ratios.bytesReadVsMetadata, 3)} × the ${r.metadataBytes} metadata bytes (target ≤ ${t.bytesReadVsMetadata}: ${mark('bytesReadVsMetadata')})`,
  ];
  if (r.browser) {
    const b = r.browser;
    lines.push(
      `chromium: header on screen ${f(b.headerMs, 0)} ms after the pick (target ≤ ${t.headerMs}: ${mark('headerMs')}); done ${f(b.doneSeconds, 3)} s = ${f(r.ratios.browserVsCheck)} × check (target ≤ ${t.browserVsCheck}: ${mark('browserVsCheck')})`,
      `  reading alone (${b.readFloor.clusters} L2 tables and refcount blocks from the File, nothing computed): ${f(b.readFloor.seconds, 3)} s = ${f(r.ratios.browserReadFloorVsCheck)} × check; done = ${f(r.ratios.browserVsReadFloor)} × that floor (target ≤ ${t.browserVsReadFloor}: ${mark('browserVsReadFloor')})`,
      `  every cluster drawn as in use or free (early map) ${f(b.usageSeconds, 3)} s after the pick (target ≤ ${t.usageSeconds} s on the 1 TiB image: ${mark('usageSeconds')})`,
      `  renderer (page + worker) peak RSS ${f(b.rendererPeakMiB, 0)} MiB, ${f(b.rendererGrowthMiB, 0)} MiB over the page before the pick (target ≤ ${f(verdict.peakRssMiB.limit, 0)} MiB: ${mark('rendererGrowthMiB')})`,
      `  longest main-thread task: ${f(b.longestTaskLoadingMs, 0)} ms while loading, ${f(b.longestTaskPanZoomMs, 0)} ms while panning/zooming (target ≤ ${t.longTaskMs}: ${mark('longestTaskMs')})`,
      `  map: ${f(b.fps, 0)} frames/s panning and zooming (target ≥ ${t.fps}: ${mark('fps')}), p95 frame ${f(b.p95FrameMs, 1)} ms, longest ${f(b.maxFrameMs, 1)} ms`,
    );
  }
  console.log(lines.join('\n'));
}

async function main() {
  for (const cmd of ['qemu-img', 'qemu-io']) {
    if (!has(cmd)) throw new Error(`${cmd} is needed (apt-get install -y qemu-utils)`);
  }
  mkdirSync(OUT, { recursive: true });
  ensureBuilt();
  const qemuImg = sh('qemu-img', ['--version']).toString().split('\n')[0];
  const browser = process.env.BENCH_BROWSER === '0' ? null : await openChromium();
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version, chromium: browser?.version ?? null, qemuImg },
    runs: RUNS,
    targets: TARGETS,
    images: [],
  };
  const images = makeImages();
  try {
    for (const img of images) {
      const st = statSync(img.path);
      console.log(`\n# ${img.name}: ${(st.size / 2 ** 30).toFixed(1)} GiB apparent, ${(st.blocks * 512 / 2 ** 20).toFixed(0)} MiB on disk`);
      const r = { key: img.key, name: img.name, fileBytes: st.size, diskBytes: st.blocks * 512 };
      [r.qemuCheck, r.qemuMap, r.node] = measureInTurns([
        ['qemu-img', ['check', '--output=json', img.path]],
        ['qemu-img', ['map', '--output=json', img.path]],
        [COMMAND, ['report', '--output=json', img.path]],
      ]);
      r.parity = { check: compareJson('check', img.path), map: compareJson('map', img.path) };
      // Through the command, as the timed runs: huge pages asked for, no extra CA certificates.
      const stats = JSON.parse(sh(COMMAND, ['stats', img.path]).toString());
      Object.assign(r, { hostClusters: stats.hostClusters, metadataBytes: stats.metadataBytes, nodeBytesRead: stats.bytesRead, nodeReads: stats.reads, engineSeconds: stats.seconds, engineHeapMiB: stats.peakMiB });
      r.browser = browser ? await browser.run(img.path) : null;
      if (r.browser) r.browser.readFloor = await browser.readFloor(img.path);
      r.ratios = {
        nodeVsCheck: r.node.seconds / r.qemuCheck.seconds,
        nodeCpuVsCheckCpu: r.node.cpuSeconds / r.qemuCheck.cpuSeconds,
        browserVsCheck: r.browser ? r.browser.doneSeconds / r.qemuCheck.seconds : null,
        browserReadFloorVsCheck: r.browser ? r.browser.readFloor.seconds / r.qemuCheck.seconds : null,
        browserVsReadFloor: r.browser ? r.browser.doneSeconds / r.browser.readFloor.seconds : null,
        bytesReadVsMetadata: r.nodeBytesRead / Math.max(1, r.metadataBytes),
        nodePeakBytesPerClusterOver64MiB: ((r.node.peakRssMiB - TARGETS.fixedMiB) * 2 ** 20) / Math.max(1, r.hostClusters),
      };
      r.verdicts = verdicts(r);
      results.images.push(r);
      report(r);
    }
  } finally {
    await browser?.close();
    if (process.env.BENCH_KEEP !== '1') for (const img of images) if (img.temporary) rmSync(img.path, { force: true });
  }
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  const unmet = results.images.flatMap((r) => r.verdicts.filter((x) => x.judged && !x.met).map((x) => `${r.key}: ${x.key} ${f(x.value, 3)} (limit ${f(x.limit, 3)})`));
  console.log(`\n${unmet.length ? `targets not met:\n  ${unmet.join('\n  ')}` : 'every judged target met'}\nwrote ${RESULTS}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
