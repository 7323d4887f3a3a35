// `node tools/scripts/bench-parallel.mjs IMAGE [THREADS]`: the question behind issue 18's parallel scan,
// measured alone. Reads an image's active L2 tables and refcount blocks (pread, 64 KiB each), finds
// the runs of consecutive L2 entries and fills per-cluster arrays as the check does, and byte-swaps
// the 16-bit refcounts, on THREADS threads (1: the main thread with plain arrays; 2 or more:
// worker_threads over SharedArrayBuffer, each a slice of the tables and blocks). Prints the wall
// time. A 64 KiB-cluster image with 16-bit refcounts, such as npm run bench's 1 TiB one.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { openSync, readSync } from 'node:fs';
const file = process.argv[2] ?? workerData?.file, cs = 65536;
function scan(fd, l2offs, rbOffs, vals, roles, counts) {
  const buf = new Uint8Array(cs); const dv = new DataView(buf.buffer);
  let total = 0;
  for (const off of l2offs) {
    readSync(fd, buf, 0, cs, off);
    const hi = dv.getUint32(0), lo = dv.getUint32(4);
    let m = 0, q = 8, want = lo + cs;
    while (m < 8191 && dv.getUint32(q) === hi && dv.getUint32(q + 4) === want) { m++; q += 8; want += cs; }
    const k0 = Math.floor(lo / cs); roles.fill(3, k0, k0 + m + 1); counts.fill(1, k0, k0 + m + 1);
    total += m;
  }
  const u16 = new Uint32Array(vals.buffer);
  const b32 = new Uint32Array(buf.buffer);
  for (const [off, t] of rbOffs) {
    readSync(fd, buf, 0, cs, off);
    const base = t * 16384;
    for (let j = 0; j < 16384; j++) { const w = b32[j]; u16[base + j] = ((w >>> 8) & 0x00ff00ff) | ((w & 0x00ff00ff) << 8); }
  }
  return total;
}
function layout(fd) {
  const h = new Uint8Array(104); readSync(fd, h, 0, 104, 0); const dv = new DataView(h.buffer);
  const l1off = Number(dv.getBigUint64(40)), l1size = dv.getUint32(36);
  const l1 = new Uint8Array(l1size * 8); readSync(fd, l1, 0, l1.length, l1off); const l1v = new DataView(l1.buffer);
  const l2 = []; for (let i = 0; i < l1size; i++) { const e = Number(l1v.getBigUint64(i * 8) & 0xfffffffffffe00n); if (e) l2.push(e); }
  const rtoff = Number(dv.getBigUint64(48)), rtc = dv.getUint32(56);
  const rt = new Uint8Array(rtc * cs); readSync(fd, rt, 0, rt.length, rtoff); const rtv = new DataView(rt.buffer);
  const rb = []; for (let i = 0; i < rt.length / 8; i++) { const e = Number(rtv.getBigUint64(i * 8)); if (e) rb.push([e, i]); }
  return { l2, rb };
}
if (isMainThread) {
  const n = 16777216 + 1;
  const mode = process.argv[3] ?? '1';
  const t0 = performance.now();
  const fd = openSync(file, 'r');
  const { l2, rb } = layout(fd); const tl = performance.now();
  const shared = mode !== '1';
  const vals = shared ? new Uint16Array(new SharedArrayBuffer((n + 1) * 2)) : new Uint16Array(n + 1);
  const roles = shared ? new Uint8Array(new SharedArrayBuffer(n + 3)) : new Uint8Array(n + 3);
  const counts = shared ? new Uint16Array(new SharedArrayBuffer((n + 1) * 2)) : new Uint16Array(n + 1);
  if (mode === '1') { scan(fd, l2, rb, vals, roles, counts); }
  else {
    const W = Number(mode);
    const half = (a, i) => a.slice(Math.floor(a.length * i / W), Math.floor(a.length * (i + 1) / W));
    const jobs = [];
    for (let i = 1; i < W; i++) jobs.push(new Promise((res) => { const w = new Worker(new URL(import.meta.url), { workerData: { file, l2: half(l2, i), rb: half(rb, i), vals, roles, counts } }); w.on('message', res); }));
    scan(fd, half(l2, 0), half(rb, 0), vals, roles, counts);
    await Promise.all(jobs);
  }
  console.log(mode, "layout", (tl - t0).toFixed(0), "total", (performance.now() - t0).toFixed(0));
  process.exit(0);
} else {
  const fd = openSync(file, 'r');
  const { l2, rb, vals, roles, counts } = workerData;
  parentPort.postMessage(scan(fd, l2, rb, vals, roles, counts));
}
