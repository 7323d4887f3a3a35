// Finds the main-thread tasks over 50 ms while the built page loads one image, and what they spent
// their time in: a Chromium trace (devtools timeline + V8 sampling profiler) from the pick to
// "done" + 1.5 s, each long task listed with its top-level events (script, layout, paint…) and the
// functions the sampler saw most inside it (self time). Usage:
//   node tools/scripts/trace-longtasks.mjs IMAGE [RUNS] [--no-profiler]
import { chromium } from '@playwright/test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const image = process.argv[2];
const runs = Number(process.argv[3] ?? 1) || 1;
const profiler = !process.argv.includes('--no-profiler');
if (!image) throw new Error('usage: trace-longtasks.mjs IMAGE [RUNS] [--no-profiler]');
const LONG_MS = Number(process.env.LONG_MS ?? 50);

const browser = await chromium.launch({
  ...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}),
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
for (let run = 0; run < runs; run++) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    // When the result's parts first show: the verdict (once the analysis is in), the owners' map, the estimate.
    window.__firstSeen = {};
    const seen = { verdict: '[data-testid="verdict"]:not([data-verdict="pending"])', ownersMap: '[data-map-stage="owners"]', estimate: '[data-testid="convert-estimate"]' };
    new MutationObserver(() => {
      for (const [k, sel] of Object.entries(seen)) if (!(k in window.__firstSeen) && document.querySelector(sel)) window.__firstSeen[k] = performance.now();
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });
  await page.goto('file://' + resolve(process.env.PAGE ?? 'dist/qcowscope.html'));
  await page.waitForTimeout(1000);
  const categories = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing', 'toplevel'];
  if (profiler) categories.push('disabled-by-default-v8.cpu_profiler');
  await browser.startTracing(page, { categories });
  await page.locator('input[type=file]').first().setInputFiles(resolve(image));
  await page.waitForSelector('[data-state="done"], [data-state="error"]', { timeout: 600_000 });
  await page.waitForTimeout(1500);
  const buf = await browser.stopTracing();
  const observed = await page.evaluate(() => {
    const f = performance.getEntriesByName('qcowscope:file').at(-1)?.startTime ?? 0;
    const first = Object.fromEntries(Object.entries(window.__firstSeen).map(([k, t]) => [k, Math.round(t - f)]));
    return { first, long: window.__longTasks.filter((x) => x.start >= f).map((x) => ({ atMs: Math.round(x.start - f), ms: Math.round(x.duration) })) };
  });
  await page.close();
  report(JSON.parse(buf.toString()).traceEvents, run, observed);
}
await browser.close();

function report(events, run, observed) {
  const threadNames = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args.name);
  const mainKey = [...threadNames].find(([, n]) => n === 'CrRendererMain' )?.[0];
  // The renderer with the page: the CrRendererMain that saw the user-timing marks.
  const markPid = events.find((e) => e.name === 'qcowscope:file')?.pid;
  const key = markPid !== undefined ? [...threadNames].find(([k, n]) => n === 'CrRendererMain' && k.startsWith(markPid + ':'))?.[0] ?? mainKey : mainKey;
  const onMain = events.filter((e) => `${e.pid}:${e.tid}` === key);
  const fileMark = events.find((e) => e.name === 'qcowscope:file')?.ts ?? onMain[0]?.ts ?? 0;
  const tasks = onMain.filter((e) => e.ph === 'X' && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') && e.dur >= LONG_MS * 1000);
  const samples = profileSamples(events, key);
  // The longest task after the pick by wall time and by CPU time (every task, not only the long ones).
  const after = onMain.filter((e) => e.ph === 'X' && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') && e.ts >= fileMark);
  const byWall = after.reduce((m, e) => (e.dur > (m?.dur ?? -1) ? e : m), null);
  const byCpu = after.reduce((m, e) => ((e.tdur ?? 0) > (m?.tdur ?? -1) ? e : m), null);
  const fmt = (e) => (e ? `${(e.dur / 1000).toFixed(1)} ms wall / ${((e.tdur ?? 0) / 1000).toFixed(1)} ms CPU at +${((e.ts - fileMark) / 1000).toFixed(0)} ms` : 'none');
  console.log(`run ${run + 1}: longest task after the pick: ${fmt(byWall)}; most CPU: ${fmt(byCpu)}`);
  console.log(`run ${run + 1}: first shown (ms after the pick): ${JSON.stringify(observed.first)}`);
  console.log(`run ${run + 1}: PerformanceObserver long tasks after the pick: ${JSON.stringify(observed.long)}`);
  console.log(`run ${run + 1}: ${tasks.length} trace tasks >= ${LONG_MS} ms on the main thread`);
  for (const t of tasks) {
    const end = t.ts + t.dur;
    const inner = onMain.filter((e) => e.ph === 'X' && e !== t && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= end && (e.dur ?? 0) >= 2000);
    // Top-level children only: those not inside another listed child.
    const top = inner.filter((e) => !inner.some((p) => p !== e && p.ts <= e.ts && p.ts + p.dur >= e.ts + e.dur && p.dur > e.dur && p.name !== 'RunTask'));
    console.log(`  task at +${((t.ts - fileMark) / 1000).toFixed(0)} ms: ${(t.dur / 1000).toFixed(1)} ms wall, ${((t.tdur ?? 0) / 1000).toFixed(1)} ms CPU`);
    for (const e of top.slice(0, 12)) {
      const d = e.args?.data ?? e.args?.beginData ?? {};
      const what = d.functionName || d.type || d.url?.slice(-30) || '';
      console.log(`    ${e.name} ${what} ${(e.dur / 1000).toFixed(1)} ms`);
    }
    if (samples) {
      const self = new Map();
      let n = 0;
      for (const s of samples.list) if (s.ts >= t.ts && s.ts <= end) { n++; self.set(s.fn, (self.get(s.fn) ?? 0) + s.dt); }
      const topFns = [...self].sort((a, b) => b[1] - a[1]).slice(0, 14);
      console.log(`    sampled (${n} samples), self ms: ` + topFns.map(([f, us]) => `${f} ${(us / 1000).toFixed(1)}`).join('; '));
    }
  }
}

/** The V8 sampling profiler's samples on one thread: { ts, dt, fn } with fn = "name file:line". */
function profileSamples(events, key) {
  const [pid, tid] = key.split(':').map(Number);
  const profiles = events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid);
  if (profiles.length === 0) return null;
  const ids = new Set(profiles.map((p) => p.id));
  const nodes = new Map();
  const list = [];
  for (const id of ids) {
    let ts = profiles.find((p) => p.id === id).args.data.startTime;
    for (const c of events.filter((e) => e.name === 'ProfileChunk' && e.id === id)) {
      const cp = c.args.data.cpuProfile ?? {};
      for (const n of cp.nodes ?? []) {
        const cf = n.callFrame;
        nodes.set(n.id, `${cf.functionName || '(anon)'}${cf.url ? ' ' + cf.url.split('/').pop().slice(0, 20) + ':' + cf.lineNumber + ':' + cf.columnNumber : ''}`);
      }
      const deltas = c.args.data.timeDeltas ?? [];
      (cp.samples ?? []).forEach((nodeId, i) => {
        const dt = deltas[i] ?? 0;
        ts += dt;
        list.push({ ts, dt: deltas[i + 1] ?? dt, fn: nodes.get(nodeId) ?? String(nodeId) });
      });
    }
  }
  return { list };
}
