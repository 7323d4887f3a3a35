// The owners' map is drawn from the roles the worker sends as soon as they are final, before the
// rest of the analysis (freed clusters, safety, the result). Its first complete draw must already be
// the final map: the canvas's pixels and the legend's counts at that first draw (recorded in the page
// by a MutationObserver at the moment the renderer publishes the draw, not polled) equal those once
// the page is "done" and at rest. And "done" means both: the verdict on screen and that map drawn.
// Checked on samples whose roles the check settles in its last passes (leaked, overcounted, cut).
// (The progress bar goes once the roles are in, before the map mounts; should the pane still change
// size, the pixels are compared where both canvases have them, over the same view.)

import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { made, openViaPicker, samplePath, waitDone } from './helpers';
import { analyzePath } from '../app/test-support/analyze-sample';
import { ROLE_INFO } from '../app/format/check/roles';
import { roleClusterCounts } from '../app/format/check/cluster-roles';
import { formatCount } from '../app/format/text';

/** The leak sample cut 1000 bytes into its last cluster (a last cluster cut by the end of the file). */
function cutLeak(): string {
  return made(join(tmpdir(), 'qcowscope-e2e', 'final-map-cut.qcow2'), (p) => {
    const b = readFileSync(samplePath('leak'));
    writeFileSync(p, b.subarray(0, b.length - 65536 + 1000));
  });
}

interface Shot {
  readonly w: number;
  readonly h: number;
  readonly data: Uint8ClampedArray;
  readonly view: string;
  readonly legend: string;
  /** Each legend row's count, by its test id. */
  readonly rows: Record<string, string>;
  readonly clusters: string | null;
}

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __shot: () => Shot | null; __first: Shot | null; __atDone: { verdict: string | null; clusters: string | null } | null };
    w.__shot = () => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="cluster-map"]');
      const ctx = c?.getContext('2d');
      if (!c?.dataset.clusters || !ctx) return null;
      const d = c.dataset;
      return {
        w: c.width, h: c.height, data: ctx.getImageData(0, 0, c.width, c.height).data,
        view: [d.cols, d.rows, d.cellSize, d.offsetX, d.offsetY, d.level].join(' '),
        legend: document.querySelector('.cmap-legend')?.textContent ?? '', clusters: d.clusters ?? null,
        rows: Object.fromEntries([...document.querySelectorAll<HTMLElement>('.cmap-legend-row')].map((el) => [el.dataset.testid ?? '', el.querySelector('.cmap-legend-num')?.textContent ?? ''])),
      };
    };
    w.__first = null;
    w.__atDone = null;
    new MutationObserver(() => {
      if (w.__first === null) w.__first = w.__shot();
      const root = document.querySelector('.app');
      if (w.__atDone === null && root?.getAttribute('data-state') === 'done') {
        w.__atDone = {
          verdict: document.querySelector('[data-testid="verdict"]')?.getAttribute('data-verdict') ?? null,
          clusters: document.querySelector<HTMLElement>('[data-testid="cluster-map"]')?.dataset.clusters ?? null,
        };
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-clusters', 'data-state'] });
  });
});

for (const name of ['leak', 'corrupt-refcount', 'lazy-dirty', 'snapshots', 'cut']) {
  test(`${name}: the first draw of the owners' map is the final map, and "done" has the verdict and that draw`, async ({ page }) => {
    const path = name === 'cut' ? cutLeak() : samplePath(name);
    await page.goto('/');
    await openViaPicker(page, [path]);
    await waitDone(page, path.split('/').pop()!);
    const clusters = String(Math.ceil(readFileSync(path).length / 65536));
    // At rest: no pointer over the map, nothing selected, the last resize drawn.
    await page.mouse.move(0, 0);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const r = await page.evaluate(() => {
      const w = window as unknown as { __shot: () => Shot | null; __first: Shot | null; __atDone: { verdict: string | null; clusters: string | null } | null };
      const first = w.__first;
      const now = w.__shot();
      if (!first || !now) return { first: first !== null, now: now !== null, differ: -1, overlap: 0, atDone: w.__atDone };
      let differ = 0;
      const cw = Math.min(first.w, now.w);
      const ch = Math.min(first.h, now.h);
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const a = (y * first.w + x) * 4;
          const b = (y * now.w + x) * 4;
          if (first.data[a] !== now.data[b] || first.data[a + 1] !== now.data[b + 1] || first.data[a + 2] !== now.data[b + 2]) differ++;
        }
      }
      return { first: true, now: true, differ, overlap: cw * ch, views: [first.view, now.view], legends: [first.legend, now.legend], rows: first.rows, clusters: first.clusters, atDone: w.__atDone };
    });
    expect(r.first, 'the owners\' map was drawn').toBe(true);
    expect(r.clusters).toBe(clusters);
    expect(r.views?.[0]).toBe(r.views?.[1]);
    expect(r.legends?.[0]).toBe(r.legends?.[1]);
    expect(r.overlap).toBeGreaterThan(10_000);
    expect(r.differ, 'pixels of the first draw that differ from the final map').toBe(0);
    // The first draw's legend counts every role as the engine does in Node (not merely as the page
    // itself later does): roles sent before they were final would differ here.
    const counts = roleClusterCounts((await analyzePath(path)).check.roles);
    const want = Object.fromEntries(ROLE_INFO.filter((i) => counts[i.id]! > 0).map((i) => [`legend-${i.key}`, formatCount(counts[i.id]!)]));
    expect(Object.fromEntries(Object.entries(r.rows ?? {}).filter(([k]) => k in want))).toEqual(want);
    expect(r.atDone?.verdict).toBeTruthy();
    expect(r.atDone?.verdict).not.toBe('pending');
    expect(r.atDone?.clusters).toBe(clusters);
  });
}
