// The Chromium half of `npm run bench`: opens the built page from file://, gives it each image
// through the file input (Playwright passes the path; the page reads it as a File, as after a
// drop), and reads the page's own performance marks (qcowscope:file → qcowscope:header →
// qcowscope:done), the long tasks of the page's main thread while the image loads and while the
// cluster map is panned and zoomed, and the frame times of that panning and zooming.
import { chromium } from '@playwright/test';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { resolve } from 'node:path';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Opens one browser for several runs; `run(path)` measures one image, `close()` ends it. */
export async function openChromium() {
  const browser = await chromium.launch({
    ...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}),
    args: ARGS,
  });
  return {
    version: browser.version(),
    run: (imagePath) => chromiumRun(browser, imagePath),
    readFloor: (imagePath) => readFloor(browser, imagePath),
    close: () => browser.close(),
  };
}

async function chromiumRun(browser, imagePath) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.addInitScript(() => {
      window.__longTasks = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto('file://' + resolve('dist/qcowscope.html'));
    // The page at rest, waiting for a file: its analysis worker is started once the page is idle.
    await page.waitForTimeout(1000);
    const rendererBeforeMiB = rendererMemory('VmRSS');
    await page.locator('input[type=file]').first().setInputFiles(imagePath);
    await page.waitForSelector('[data-state="done"], [data-state="error"]', { timeout: 15 * 60_000 });
    const state = await page.locator('[data-state]').first().getAttribute('data-state');
    // Let the page finish what follows the result (map pyramid, panels) before the interaction.
    await page.waitForTimeout(1000);
    const marks = await page.evaluate(() => {
      const t = (n) => performance.getEntriesByName(n).at(-1)?.startTime ?? NaN;
      return { file: t('qcowscope:file'), header: t('qcowscope:header'), usage: t('qcowscope:usage'), done: t('qcowscope:done'), now: performance.now() };
    });
    const rendererPeakMiB = rendererMemory('VmHWM');
    const frames = await panAndZoom(page);
    const longest = (from, to) => page.evaluate(([a, b]) => Math.max(0, ...window.__longTasks.filter((x) => x.start >= a && x.start < b).map((x) => x.duration)), [from, to]);
    return {
      state,
      headerMs: marks.header - marks.file,
      // Every cluster drawn at least as in use or free (the early map; NaN when the full map came first).
      usageSeconds: (marks.usage - marks.file) / 1000,
      doneSeconds: (marks.done - marks.file) / 1000,
      rendererPeakMiB,
      // What the image added: the peak over the page as it was before the pick.
      rendererGrowthMiB: rendererPeakMiB !== null && rendererBeforeMiB !== null ? rendererPeakMiB - rendererBeforeMiB : null,
      longestTaskLoadingMs: await longest(marks.file, marks.now),
      longestTaskPanZoomMs: await longest(marks.now, Infinity),
      ...frames,
    };
  } finally {
    await page.close();
  }
}

/**
 * Resident memory (`field`: VmRSS now, VmHWM peak) of the renderer processes this browser started,
 * in MiB: the page and its analysis worker live in one renderer process. The largest of them (each
 * run opens a new page, and Chromium may reuse a renderer: then a peak covers the runs so far).
 * Null where /proc is not readable.
 */
function rendererMemory(field) {
  // Chromium is a child of this process (Playwright launched it); its renderers descend from it.
  const pid = process.pid;
  try {
    const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    const parent = (p) => {
      try {
        return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        return 0;
      }
    };
    const isOurs = (p) => {
      for (let q = Number(p), i = 0; q > 1 && i < 8; q = parent(q), i++) if (q === pid) return true;
      return false;
    };
    let peak = 0;
    for (const p of all) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmd.includes('--type=renderer') || !isOurs(p)) continue;
      try {
        const kib = Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
        peak = Math.max(peak, kib / 1024);
      } catch {
        // The process ended meanwhile.
      }
    }
    return peak || null;
  } catch {
    return null;
  }
}

/** Pans and zooms the map with wheel and drag input; returns frame statistics (requestAnimationFrame intervals). */
async function panAndZoom(page) {
  const canvas = page.locator('[data-testid="cluster-map"]').first();
  const box = await canvas.boundingBox();
  if (!box) return { fps: 0, p95FrameMs: null, maxFrameMs: null, frames: 0 };
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (window.__frames.length < 100000) window.__raf = requestAnimationFrame(tick);
    };
    window.__raf = requestAnimationFrame(tick);
  });
  const start = Date.now();
  await page.mouse.move(cx, cy);
  for (let i = 0; i < 30; i++) await page.mouse.wheel(0, -120);
  for (let k = 0; k < 4; k++) {
    await page.mouse.down();
    for (let i = 0; i < 20; i++) await page.mouse.move(cx + (k % 2 ? -1 : 1) * i * 10, cy + i * 5);
    await page.mouse.up();
    await page.mouse.move(cx, cy);
  }
  for (let i = 0; i < 30; i++) await page.mouse.wheel(0, 120);
  const elapsed = (Date.now() - start) / 1000;
  const ft = await page.evaluate(() => {
    cancelAnimationFrame(window.__raf);
    return window.__frames.slice(1);
  });
  ft.sort((a, b) => a - b);
  return {
    fps: ft.length / elapsed,
    p95FrameMs: ft[Math.floor(ft.length * 0.95)] ?? null,
    maxFrameMs: ft.at(-1) ?? null,
    frames: ft.length,
  };
}

/**
 * File offsets of the active L2 tables and the refcount blocks of a qcow2 image (the clusters a
 * check must read, snapshots aside), sorted.
 */
export function metadataClusters(imagePath) {
  const fd = openSync(imagePath, 'r');
  try {
    const read = (offset, length) => {
      const b = Buffer.alloc(length);
      readSync(fd, b, 0, length, offset);
      return b;
    };
    const h = read(0, 104);
    const clusterSize = 2 ** h.readUInt32BE(20);
    const l1Size = h.readUInt32BE(36);
    const l1 = read(Number(h.readBigUInt64BE(40)), l1Size * 8);
    const rt = read(Number(h.readBigUInt64BE(48)), h.readUInt32BE(56) * clusterSize);
    const out = new Set();
    for (let i = 0; i < l1Size; i++) out.add(Number(l1.readBigUInt64BE(i * 8) & 0x00ff_ffff_ffff_fe00n));
    for (let i = 0; i < rt.length / 8; i++) out.add(Number(rt.readBigUInt64BE(i * 8) & ~0x1ffn));
    out.delete(0);
    return { clusterSize, offsets: [...out].sort((a, b) => a - b) };
  } finally {
    closeSync(fd);
  }
}

/**
 * What reading alone costs in Chromium: the image's L2 tables and refcount blocks read from a File
 * as the engine reads them (slices joined into one Blob per 128 ranges, 4 such reads in flight),
 * with nothing computed. The best of three runs, in seconds.
 */
async function readFloor(browser, imagePath) {
  const { clusterSize, offsets } = metadataClusters(imagePath);
  const page = await browser.newPage();
  try {
    await page.setContent('<input type="file">');
    await page.locator('input').setInputFiles(imagePath);
    let best = Infinity;
    let bytes = 0;
    for (let run = 0; run < 3; run++) {
      const r = await page.evaluate(async ([list, cs]) => {
        const file = document.querySelector('input').files[0];
        const t0 = performance.now();
        let next = 0;
        let total = 0;
        const lane = async () => {
          while (next < list.length) {
            const part = list.slice(next, next + 128);
            next += 128;
            const buf = await new Blob(part.map((o) => file.slice(o, o + cs))).arrayBuffer();
            total += buf.byteLength;
          }
        };
        await Promise.all([lane(), lane(), lane(), lane()]);
        return { seconds: (performance.now() - t0) / 1000, bytes: total };
      }, [offsets, clusterSize]);
      best = Math.min(best, r.seconds);
      bytes = r.bytes;
    }
    return { seconds: best, clusters: offsets.length, bytes };
  } finally {
    await page.close();
  }
}
