// `node tools/scripts/bench-reads.mjs IMAGE`: ways of reading an image's L2 tables and refcount
// blocks (many scattered 64 KiB ranges) from a File in headless Chromium, nothing computed: composite
// Blob batches of several sizes with several reads in flight, single slices, a stream instead of
// arrayBuffer(), two workers. Best of three runs each, in seconds; docs/performance.md records them.
import { chromium } from '@playwright/test';
import { existsSync } from 'node:fs';
import { metadataClusters } from './bench-browser.mjs';

const image = process.argv[2];
if (!image) {
  console.error('usage: node tools/scripts/bench-reads.mjs IMAGE');
  process.exit(2);
}

const ONLY = process.env.READS_ONLY ? new RegExp(process.env.READS_ONLY) : null;
const VARIANTS = [
  { name: 'composite Blob of 128 slices, 4 in flight (the engine)', batch: 128, lanes: 4 },
  { name: 'composite Blob of 16 slices, 4 in flight', batch: 16, lanes: 4 },
  { name: 'composite Blob of 32 slices, 4 in flight', batch: 32, lanes: 4 },
  { name: 'composite Blob of 32 slices, 8 in flight', batch: 32, lanes: 8 },
  { name: 'composite Blob of 64 slices, 4 in flight', batch: 64, lanes: 4 },
  { name: 'composite Blob of 512 slices, 4 in flight', batch: 512, lanes: 4 },
  { name: 'composite Blob of 128 slices, 1 in flight', batch: 128, lanes: 1 },
  { name: 'composite Blob of 128 slices, 8 in flight', batch: 128, lanes: 8 },
  { name: 'one slice per read, 16 in flight', batch: 1, lanes: 16 },
  { name: 'composite Blob of 128 slices as a stream, 4 in flight', batch: 128, lanes: 4, stream: true },
  { name: 'two workers, each half: composite Blob of 128, 4 in flight', batch: 128, lanes: 4, workers: 2 },
  // Reading while the same thread parses (busy 0.25 ms per 64 KiB range after each batch, about
  // what the engine spends), against the reads made by a nested worker that only reads.
  { name: 'composite Blob of 128, 4 in flight, parsing on the reading thread', batch: 128, lanes: 4, busyMs: 0.25 },
  { name: 'the same, slices made and read by a nested reader worker (not what the app does: measured no faster on 2 cores)', batch: 128, lanes: 4, busyMs: 0.25, nested: true },
];

/** The reading loop, as text: runs on the page or in a worker (`read(file, offsets, cs, batch, lanes, stream)`). */
const READ = `async function read(file, list, cs, batch, lanes, stream, busyMs = 0, reader = null) {
  let next = 0;
  let total = 0;
  let id = 0;
  const waiting = new Map();
  if (reader) reader.onmessage = (e) => { waiting.get(e.data.id)(e.data.buf); waiting.delete(e.data.id); };
  const viaReader = (parts) => new Promise((res) => { const k = ++id; waiting.set(k, res); reader.postMessage({ id: k, parts }); });
  if (reader) reader.postMessage({ file, cs });
  const lane = async () => {
    while (next < list.length) {
      const part = list.slice(next, next + batch);
      next += batch;
      if (reader && busyMs > 0) {
        const buf = await viaReader(part);
        total += buf.byteLength;
        const until = performance.now() + busyMs * part.length;
        while (performance.now() < until);
        continue;
      }
      const blob = part.length === 1 ? file.slice(part[0], part[0] + cs) : new Blob(part.map((o) => file.slice(o, o + cs)));
      if (busyMs > 0) {
        const buf = await blob.arrayBuffer();
        total += buf.byteLength;
        const until = performance.now() + busyMs * part.length;
        while (performance.now() < until);
      } else if (stream) {
        const r = blob.stream().getReader();
        for (;;) {
          const { done, value } = await r.read();
          if (done) break;
          total += value.byteLength;
        }
      } else {
        const buf = await blob.arrayBuffer();
        total += buf.byteLength;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return total;
}`;

const browser = await chromium.launch({ ...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}), args: ['--no-sandbox', '--disable-gpu'] });
try {
  const { clusterSize, offsets } = metadataClusters(image);
  const page = await browser.newPage();
  await page.setContent('<input type="file">');
  await page.locator('input').setInputFiles(image);
  console.log(`${offsets.length} ranges of ${clusterSize} bytes (${image})`);
  for (const v of VARIANTS.filter((x) => !ONLY || ONLY.test(x.name))) {
    let best = Infinity;
    let bytes = 0;
    for (let run = 0; run < 3; run++) {
      const r = await page.evaluate(async ([code, list, cs, v]) => {
        const file = document.querySelector('input').files[0];
        const t0 = performance.now();
        let total = 0;
        if (v.workers) {
          const src = URL.createObjectURL(new Blob([`${code}\nonmessage = async (e) => postMessage(await read(e.data.file, e.data.list, e.data.cs, e.data.batch, e.data.lanes, false));`]));
          const halves = Array.from({ length: v.workers }, (_, i) => list.slice(Math.floor((list.length * i) / v.workers), Math.floor((list.length * (i + 1)) / v.workers)));
          const parts = await Promise.all(halves.map((h) => new Promise((res) => {
            const w = new Worker(src);
            w.onmessage = (e) => {
              res(e.data);
              w.terminate();
            };
            w.postMessage({ file, list: h, cs, batch: v.batch, lanes: v.lanes });
          })));
          total = parts.reduce((a, b) => a + b, 0);
        } else {
          const read = new Function(`${code}; return read;`)();
          // The reader makes the slices itself: in Chromium each slice is a synchronous call to the browser.
          const readerSrc = 'let file, cs; onmessage = async (e) => { if (e.data.file) { file = e.data.file; cs = e.data.cs; return; } const buf = await new Blob(e.data.parts.map((o) => file.slice(o, o + cs))).arrayBuffer(); postMessage({ id: e.data.id, buf }, [buf]); };';
          const reader = v.nested ? new Worker(URL.createObjectURL(new Blob([readerSrc]))) : null;
          total = await read(file, list, cs, v.batch, v.lanes, Boolean(v.stream), v.busyMs ?? 0, reader);
          reader?.terminate();
        }
        return { seconds: (performance.now() - t0) / 1000, bytes: total };
      }, [READ, offsets, clusterSize, v]);
      best = Math.min(best, r.seconds);
      bytes = r.bytes;
    }
    console.log(`${best.toFixed(3)} s  ${v.name}${bytes !== offsets.length * clusterSize ? ` (read ${bytes} bytes)` : ''}`);
  }
} finally {
  await browser.close();
}
