// The cluster map in the app, on real images: each cell's colour read back from the canvas (where a
// cell is drawn follows from the canvas's data-cols / data-cell-size / data-offset-x/y), checked
// against the refcounts read independently here and qemu-img check's counts; hover, click, legend
// filter, keyboard zoom, go-to-offset and PNG export.

import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mustRun } from '../app/test-support/qemu-tools';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { reference } from '../app/test-support/samples';
import { Role } from '../app/format/check/roles';
import { ROLE_COLOR, rgb } from '../app/map/palette';
import { bigImage, made, openViaPicker, samplePath, waitDone } from './helpers';

type RGB = [number, number, number];
const colorOf = (role: number): RGB => rgb(ROLE_COLOR[role]!);

/**
 * Stored refcounts of a qcow2 file with 16-bit refcounts, read straight from its bytes, and which
 * clusters a refcount block covers at all (the rest is "tail": no refcount entry says anything).
 */
function refcounts16(path: string): { clusterSize: number; refcounts: number[]; covered: boolean[] } {
  const buf = readFileSync(path);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const clusterSize = 2 ** dv.getUint32(20);
  const order = dv.getUint32(4) >= 3 ? dv.getUint32(96) : 4;
  if (order !== 4) throw new Error('this reader handles 16-bit refcounts only');
  const tableOffset = Number(dv.getBigUint64(48));
  const tableEntries = (dv.getUint32(56) * clusterSize) / 8;
  const clusters = Math.ceil(buf.length / clusterSize);
  const perBlock = clusterSize / 2;
  const refcounts = new Array<number>(clusters).fill(0);
  const covered = new Array<boolean>(clusters).fill(false);
  for (let i = 0; i < tableEntries; i++) {
    const block = Number(dv.getBigUint64(tableOffset + i * 8) & ~0x1ffn);
    if (block === 0) continue;
    for (let j = 0; j < perBlock && i * perBlock + j < clusters; j++) {
      refcounts[i * perBlock + j] = dv.getUint16(block + j * 2);
      covered[i * perBlock + j] = true;
    }
  }
  return { clusterSize, refcounts, covered };
}

const map = (page: Page): Locator => page.getByTestId('cluster-map');

async function openSample(page: Page, path: string, name: string): Promise<void> {
  await openViaPicker(page, [path]);
  await waitDone(page, name);
  await expect(map(page)).toHaveAttribute('data-cols', /^\d+$/);
}

interface MapGeometry { cols: number; k: number; x: number; y: number; dpr: number; clusters: number; level: number }

async function geometry(page: Page): Promise<MapGeometry> {
  const d = await map(page).evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  return { cols: +d.cols!, k: +d.cellSize!, x: +d.offsetX!, y: +d.offsetY!, dpr: +d.dpr!, clusters: +d.clusters!, level: +d.level! };
}

/** Page coordinates of the centre of cluster n's cell. */
async function cellCentre(page: Page, n: number): Promise<{ x: number; y: number }> {
  const g = await geometry(page);
  const box = (await map(page).boundingBox())!;
  return { x: box.x + g.x + ((n % g.cols) + 0.5) * g.k, y: box.y + g.y + (Math.floor(n / g.cols) + 0.5) * g.k };
}

/**
 * The most frequent colour among the pixels whose centres fall in each cluster's cell — or, zoomed
 * out, in the bucket of 2^level × 2^level cells that holds it (damage patterns are a minority).
 */
async function cellColors(page: Page, cells: number[]): Promise<RGB[]> {
  const g = await geometry(page);
  return map(page).evaluate((el, { g, cells }) => {
    const ctx = (el as HTMLCanvasElement).getContext('2d')!;
    const side = 2 ** g.level;
    const span = (origin: number, index: number) => {
      const a = (origin + Math.floor(index / side) * side * g.k) * g.dpr;
      const b = a + side * g.k * g.dpr;
      const inset = b - a >= 8 ? Math.min(3, Math.floor((b - a) / 4)) : 0;
      const from = Math.ceil(a - 0.5) + inset;
      return [from, Math.max(from + 1, Math.ceil(b - 0.5) - inset)] as const;
    };
    return cells.map((n) => {
      const [x0, x1] = span(g.x, n % g.cols);
      const [y0, y1] = span(g.y, Math.floor(n / g.cols));
      const px = ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data;
      const tally = new Map<number, number>();
      for (let i = 0; i < px.length; i += 4) {
        const c = (px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!;
        tally.set(c, (tally.get(c) ?? 0) + 1);
      }
      const best = [...tally].sort((a, b) => b[1] - a[1])[0]![0];
      return [(best >> 16) & 255, (best >> 8) & 255, best & 255] as [number, number, number];
    });
  }, { g, cells });
}

test.beforeEach(async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('.app')).toHaveAttribute('data-state', 'idle');
});

test('snapshots: cluster 0 is the header, free clusters (refcount 0, wherever they lie) are counted in the legend and drawn white', async ({ page }) => {
  const path = samplePath('snapshots');
  const { refcounts, covered } = refcounts16(path);
  await openSample(page, path, 'snapshots.qcow2');
  await expect(map(page)).toHaveAttribute('data-clusters', String(refcounts.length));
  // Free: refcount 0 in a refcount block, inside the file or after its last used cluster ("free at
  // the end" is free too); clusters no block covers are tail, not free.
  const free = refcounts.flatMap((r, k) => (r === 0 && covered[k] ? [k] : []));
  const tail = covered.flatMap((c, k) => (c ? [] : [k]));
  expect(free.length).toBeGreaterThan(0);
  await expect(page.getByTestId('legend-FREE')).toHaveAttribute('data-count', String(free.length));
  if (tail.length > 0) await expect(page.getByTestId('legend-TAIL')).toHaveAttribute('data-count', String(tail.length));
  else await expect(page.getByTestId('legend-TAIL')).toHaveCount(0);

  const colors = await cellColors(page, refcounts.map((_, k) => k));
  expect(colors[0]).toEqual(colorOf(Role.HEADER));
  const drawnFree = colors.flatMap((c, k) => (c.join() === colorOf(Role.FREE).join() ? [k] : []));
  expect(drawnFree).toEqual(free);
  // Every cell shows some role's colour: nothing is left undrawn.
  const palette = new Set(ROLE_COLOR.map((c) => rgb(c).join()));
  for (const [k, c] of colors.entries()) expect(palette.has(c.join()), `cluster ${k}: ${c.join()}`).toBe(true);
});

test('a removed bitmap: the clusters it freed after the last used one are free ("free at the end"), not tail', async ({ page }) => {
  mkdirSync(join(tmpdir(), 'qcowscope-e2e'), { recursive: true });
  const path = made(join(tmpdir(), 'qcowscope-e2e', 'free-at-end.qcow2'), (p) => {
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', p, '64M']);
    mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 2M', p]);
    mustRun('qemu-img', ['bitmap', '--add', p, 'gone']);
    mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 2 8M 1M', p]);
    mustRun('qemu-img', ['bitmap', '--remove', p, 'gone']);
  });
  const { refcounts, covered } = refcounts16(path);
  let highest = -1;
  refcounts.forEach((r, k) => {
    if (r > 0) highest = k;
  });
  const free = refcounts.flatMap((r, k) => (r === 0 && covered[k] ? [k] : []));
  const atEnd = free.filter((k) => k > highest);
  // The removal left free clusters after the last used one: the old way (free only below it) would miss them.
  expect(atEnd.length).toBeGreaterThan(0);
  await openSample(page, path, 'free-at-end.qcow2');
  await expect(page.getByTestId('legend-FREE')).toHaveAttribute('data-count', String(free.length));
  const colors = await cellColors(page, atEnd);
  for (const [i, c] of colors.entries()) expect(c, `cluster ${atEnd[i]}`).toEqual(colorOf(Role.FREE));
});

test('leak: leaked clusters drawn and counted as qemu-img check counts them; hover and click', async ({ page }) => {
  const path = samplePath('leak');
  const check = reference<{ leaks: number }>('leak', 'check.json')!;
  const { clusterSize, refcounts } = refcounts16(path);
  await openSample(page, path, 'leak.qcow2');
  // qemu-img's leaks, split: nothing references it (LEAKED) or in use with a refcount too high (OVERCOUNTED).
  const leaked = Number(await page.getByTestId('legend-LEAKED').getAttribute('data-count'));
  const over = Number(await page.getByTestId('legend-OVERCOUNTED').getAttribute('data-count'));
  expect([leaked, over]).toEqual([1, 1]);
  expect(leaked + over).toBe(check.leaks);
  // The crafted leak: one cluster appended at the end with refcount 1 that nothing references.
  const last = refcounts.length - 1;
  expect((await cellColors(page, [last]))[0]).toEqual(colorOf(Role.LEAKED));

  const c = await cellCentre(page, last);
  await page.mouse.move(c.x, c.y);
  const tip = page.getByTestId('cluster-tooltip');
  await expect(tip).toContainText(`0x${(last * clusterSize).toString(16)} – 0x${((last + 1) * clusterSize - 1).toString(16)}`);
  await expect(tip).toContainText('leaked');
  await expect(tip).toContainText(`refcount ${refcounts[last]}`);

  await page.mouse.click(c.x, c.y);
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', String(last));
  // The selected cell gets an outline: a light ring just outside its left edge, where the dark gap was.
  await page.mouse.move(0, 0);
  const g = await geometry(page);
  const ring = await map(page).evaluate((el, { g, n }) => {
    const x = Math.floor((g.x + (n % g.cols) * g.k - 1) * g.dpr);
    const y = Math.floor((g.y + (Math.floor(n / g.cols) + 0.5) * g.k) * g.dpr);
    return [...(el as HTMLCanvasElement).getContext('2d')!.getImageData(x, y, 1, 1).data];
  }, { g, n: last });
  expect(Math.min(ring[0]!, ring[1]!, ring[2]!)).toBeGreaterThan(180);
});

test('the legend filters the map: one role in full colour, the others dimmed, and back', async ({ page }) => {
  const path = samplePath('bitmaps');
  const { refcounts } = refcounts16(path);
  await openSample(page, path, 'bitmaps.qcow2');
  const firstFree = refcounts.findIndex((r) => r === 0);
  const button = page.getByTestId('legend-FREE');
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'true');
  const [header, free] = await cellColors(page, [0, firstFree]);
  expect(free).toEqual(colorOf(Role.FREE));
  expect(header).not.toEqual(colorOf(Role.HEADER));
  // Dimmed toward the dark background.
  expect(header![0] + header![1] + header![2]).toBeLessThan(colorOf(Role.HEADER).reduce((a, b) => a + b) / 2);
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'false');
  expect((await cellColors(page, [0]))[0]).toEqual(colorOf(Role.HEADER));
});

test('a 1 TiB image (16.7 million clusters): level of detail, tooltip counts, one draw per frame, keyboard, minimap, go to offset, PNG', async ({ page }) => {
  test.setTimeout(120_000);
  const path = bigImage('1T');
  await openSample(page, path, 'big-1T.qcow2');
  const fit = await geometry(page);
  expect(fit.clusters).toBeGreaterThanOrEqual(2 ** 24);
  expect(fit.level).toBeGreaterThan(0);
  expect((await cellColors(page, [0]))[0]).toEqual(colorOf(Role.HEADER));

  // Zoomed out, a pixel is a bucket of clusters: the tooltip counts them exactly, by role.
  const box = (await map(page).boundingBox())!;
  await page.mouse.move(box.x + fit.x + 0.5, box.y + fit.y + 0.5);
  const tip = page.getByTestId('cluster-tooltip');
  await expect(tip).toContainText('header');
  const side = 2 ** fit.level;
  await expect(tip).toContainText(`${side * side} clusters (${side} rows × ${side} columns from cluster 0)`);
  const counts = await tip.locator('li').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-count'))));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(side * side);

  // Wheel zooming: the map draws (a 'cluster-map-draw' measure) at most once per animation frame.
  // How fast a draw is belongs to npm run bench (fps while panning); raster.test.ts bounds its work.
  const { draws, gaps } = await map(page).evaluate(async (el) => {
    performance.clearMeasures('cluster-map-draw');
    const r = el.getBoundingClientRect();
    const gaps: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 90; i++) {
      await new Promise((done) => requestAnimationFrame(done));
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      const deltaY = Math.floor(i / 30) % 2 === 0 ? -80 : 80;
      el.dispatchEvent(new WheelEvent('wheel', { deltaY, clientX: r.left + r.width / 3, clientY: r.top + r.height / 3, bubbles: true, cancelable: true }));
    }
    await new Promise((done) => requestAnimationFrame(done));
    const draws = performance.getEntriesByName('cluster-map-draw').map((e) => e.duration);
    return { draws: draws.sort((a, b) => a - b), gaps: gaps.slice(1).sort((a, b) => a - b) };
  });
  expect(draws.length, `frame gaps ms ${gaps.map((g) => g.toFixed(1)).join(' ')}`).toBeGreaterThan(60);
  expect(draws.length).toBeLessThanOrEqual(gaps.length + 2);

  await map(page).focus();
  await page.keyboard.press('0');
  await expect.poll(async () => (await geometry(page)).k).toBeCloseTo(fit.k, 5);
  await page.keyboard.press('+');
  await expect.poll(async () => (await geometry(page)).k).toBeCloseTo(fit.k * 2, 5);
  const before = (await geometry(page)).x;
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => (await geometry(page)).x).toBeLessThan(before);
  await page.keyboard.press('0');
  await expect.poll(async () => (await geometry(page)).k).toBeCloseTo(fit.k, 5);

  // Clicking the minimap's far corner after zooming in moves the view there.
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  const mini = (await page.getByTestId('cluster-minimap').boundingBox())!;
  const y0 = (await geometry(page)).y;
  await page.mouse.click(mini.x + mini.width - 2, mini.y + mini.height - 2);
  await expect.poll(async () => (await geometry(page)).y).toBeLessThan(y0);

  // 40 GiB into the file (hex and suffix forms) is cluster 640 Ki of 64 KiB clusters.
  const target = (40 * 2 ** 30) / 65536;
  for (const text of ['0xa00000000', '40G']) {
    await page.getByTestId('goto-offset').fill(text);
    await page.getByTestId('goto-offset').press('Enter');
    await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', String(target));
  }
  expect((await geometry(page)).k).toBeGreaterThanOrEqual(12);
  const c = await cellCentre(page, target);
  expect(c.x).toBeGreaterThan(box.x);
  expect(c.x).toBeLessThan(box.x + box.width);
  expect(c.y).toBeGreaterThan(box.y);
  expect(c.y).toBeLessThan(box.y + box.height);
  await page.getByTestId('goto-offset').fill('2T');
  await page.getByTestId('goto-offset').press('Enter');
  await expect(page.locator('#cmap-goto-error')).toContainText('Past the end of the file');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
  expect(download.suggestedFilename()).toBe('big-1T-cluster-map.png');
  const png = readFileSync((await download.path())!);
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('"done" comes only once the owners\' map has drawn: its canvas already reports its grid then', async ({ page }) => {
  // Recorded in the page at the moment the root's data-state turns "done" (not polled afterwards).
  await page.evaluate(() => {
    const w = window as unknown as { clustersAtDone: (string | null)[] };
    w.clustersAtDone = [];
    const root = document.querySelector('.app')!;
    new MutationObserver(() => {
      if (root.getAttribute('data-state') !== 'done') return;
      const seen = document.querySelector<HTMLElement>('[data-testid="cluster-map"]')?.dataset.clusters ?? null;
      if (w.clustersAtDone.at(-1) !== seen) w.clustersAtDone.push(seen);
    }).observe(root, { attributes: true, attributeFilter: ['data-state'] });
  });
  for (const name of ['leak', 'snapshots', 'compressed-mixed']) {
    const path = samplePath(name);
    await openViaPicker(page, [path]);
    await waitDone(page, `${name}.qcow2`);
    const clusters = Math.ceil(readFileSync(path).length / 65536);
    const atDone = await page.evaluate(() => (window as unknown as { clustersAtDone: (string | null)[] }).clustersAtDone);
    expect(atDone.at(-1), name).toBe(String(clusters));
  }
});
