// `npm run bench`: speed and memory of qcowscope against qemu-img, measured in the same run.
// Makes sparse images with qemu-img (a 1 TiB preallocated one, a 100 GiB one with scattered writes,
// snapshots and bitmaps, a compressed one), times `qemu-img check` and `qemu-img map`, then our full
// analysis in Node (the built CLI, process start included) and in headless Chromium (the built page,
// the real worker on a File, drop to "done"), and prints ratios. Results go to bench/out/results.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromiumRun } from './bench-browser.mjs';

const OUT = resolve('bench/out');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
mkdirSync(OUT, { recursive: true });

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30, ...opts });

/** Runs a command RUNS times; returns median wall seconds and peak RSS (MiB) of the child. */
function measure(cmd, args) {
  const py = `import resource,subprocess,sys,time
t=time.perf_counter(); r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE); t=time.perf_counter()-t
print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)`;
  const times = [];
  let rss = 0;
  let rc = 0;
  for (let i = 0; i < RUNS; i++) {
    const out = sh('python3', ['-c', py, cmd, ...args]).toString().trim().split(/\s+/);
    times.push(Number(out[0]));
    rss = Math.max(rss, Number(out[1]) / 1024);
    rc = Number(out[2]);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], peakRssMiB: rss, rc };
}

function makeImages() {
  const imgs = [];
  const big = join(OUT, 'big-1t.qcow2');
  if (!existsSync(big)) sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata,cluster_size=65536', big, '1T']);
  imgs.push({ name: '1 TiB preallocation=metadata', path: big });

  const mid = join(OUT, 'scattered-100g.qcow2');
  if (!existsSync(mid)) {
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', mid, '100G']);
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const writes = (n, pat) => {
      const cmds = [];
      for (let i = 0; i < n; i++) cmds.push('-c', `write -q -P ${pat} ${Math.floor(rnd() * 1600000) * 65536} 65536`);
      return cmds;
    };
    sh('qemu-img', ['bitmap', '-q', '--add', mid, 'nightly']);
    sh('qemu-io', ['-f', 'qcow2', ...writes(3000, 0x11), mid]);
    sh('qemu-img', ['snapshot', '-c', 'before-upgrade', mid]);
    sh('qemu-img', ['bitmap', '-q', '--add', '-g', '1M', mid, 'weekly']);
    sh('qemu-io', ['-f', 'qcow2', ...writes(3000, 0x22), mid]);
    sh('qemu-img', ['snapshot', '-c', 'after-upgrade', mid]);
    sh('qemu-io', ['-f', 'qcow2', ...writes(1000, 0x33), mid]);
  }
  imgs.push({ name: '100 GiB scattered writes, 2 snapshots, 2 bitmaps', path: mid });

  const comp = join(OUT, 'compressed.qcow2');
  if (!existsSync(comp)) {
    const src = join(OUT, 'compressed-src.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', src, '4G']);
    const cmds = [];
    for (let i = 0; i < 64; i++) cmds.push('-c', `write -q -P ${i + 1} ${i * 16 * 1048576} 8M`);
    sh('qemu-io', ['-f', 'qcow2', ...cmds, src]);
    sh('qemu-img', ['convert', '-c', '-O', 'qcow2', src, comp]);
  }
  imgs.push({ name: '4 GiB compressed (512 MiB of data)', path: comp });
  return imgs;
}

async function main() {
  if (!existsSync('dist-cli/qcowscope.mjs') || !existsSync('dist/qcowscope.html')) sh('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  const version = sh('qemu-img', ['--version']).toString().split('\n')[0];
  const results = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version, qemuImg: version }, images: [] };
  for (const img of makeImages()) {
    const st = statSync(img.path);
    const r = { name: img.name, fileBytes: st.size, hostClusters: 0 };
    console.log(`\n# ${img.name} (${(st.size / 2 ** 30).toFixed(1)} GiB apparent, ${(st.blocks * 512 / 2 ** 20).toFixed(0)} MiB on disk)`);
    r.qemuCheck = measure('qemu-img', ['check', '--output=json', img.path]);
    r.qemuMap = measure('qemu-img', ['map', '--output=json', img.path]);
    r.node = measure('node', ['dist-cli/qcowscope.mjs', 'report', '--output=json', img.path]);
    const stats = JSON.parse(sh('node', ['dist-cli/qcowscope.mjs', 'stats', img.path]).toString());
    Object.assign(r, { hostClusters: stats.hostClusters, metadataBytes: stats.metadataBytes, nodeBytesRead: stats.bytesRead, nodeReads: stats.reads, engineSeconds: stats.seconds, engineHeapMiB: stats.peakMiB });
    r.browser = await chromiumRun(img.path);
    r.ratios = {
      nodeVsCheck: r.node.seconds / r.qemuCheck.seconds,
      browserVsCheck: r.browser.doneSeconds / r.qemuCheck.seconds,
      bytesReadVsMetadata: r.nodeBytesRead / Math.max(1, r.metadataBytes),
      nodePeakBytesPerCluster: (r.node.peakRssMiB - 64) * 2 ** 20 / Math.max(1, r.hostClusters),
    };
    results.images.push(r);
    console.log(`qemu-img check ${r.qemuCheck.seconds.toFixed(3)} s, map ${r.qemuMap.seconds.toFixed(3)} s`);
    console.log(`node (CLI report) ${r.node.seconds.toFixed(3)} s = ${r.ratios.nodeVsCheck.toFixed(2)} × check (target ≤ 0.25), peak RSS ${r.node.peakRssMiB.toFixed(0)} MiB for ${r.hostClusters} clusters (target ≤ 8 B/cluster + 64 MiB: ${(8 * r.hostClusters / 2 ** 20 + 64).toFixed(0)} MiB)`);
    console.log(`bytes read ${r.nodeBytesRead} in ${r.nodeReads} reads = ${r.ratios.bytesReadVsMetadata.toFixed(3)} × metadata bytes ${r.metadataBytes} (target ≤ 1.05)`);
    console.log(`chromium: header on screen ${r.browser.headerMs.toFixed(0)} ms (target ≤ 200), done ${r.browser.doneSeconds.toFixed(3)} s = ${r.ratios.browserVsCheck.toFixed(2)} × check (target ≤ 0.5), longest task ${r.browser.longestTaskMs.toFixed(0)} ms (target ≤ 50), map ${r.browser.fps.toFixed(0)} fps panning/zooming (target ≥ 50), p95 frame ${r.browser.p95FrameMs.toFixed(1)} ms`);
  }
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2));
  console.log(`\nwrote ${join(OUT, 'results.json')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
