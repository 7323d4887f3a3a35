// Finding one's way on the map: what a legend filter, a bitmap's "Show its clusters on the map" or
// a finding selects is brought into view (zoomed to fit); Escape closes the inspector; Enter selects
// only once the keyboard cursor is shown; "Go to offset" drops the stale tooltip; tab, selection and
// zoom changes are history entries that Back and Forward step through; the go-to error clears.

import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openTab, openViaPicker, samplePath, waitDone } from './helpers';

/**
 * 512-byte clusters (about 4500 of them, so most are out of view when zoomed in): 2 MiB of data at
 * the start, a bitmap, 8 KiB written at guest 30 MiB after it (its L2 table, data and the bitmap's
 * table land at the end of the file), and that last data cluster's refcount raised from 1 to 2: a
 * leak, as qemu-img check counts it. Returns the path and the leaked host cluster.
 */
function farImage(): { path: string; leaked: number } {
  const dir = join(tmpdir(), 'qcowscope-e2e');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'far-leak.qcow2');
  const q = (tool: string, ...args: string[]) => execFileSync(tool, args, { stdio: 'pipe' }).toString();
  const leakedOf = (p: string): number => {
    const map = JSON.parse(q('qemu-img', 'map', '--output=json', '-f', 'qcow2', p)) as { start: number; offset?: number; data: boolean }[];
    const last = map.filter((m) => m.data && m.offset !== undefined).sort((a, b) => b.start - a.start)[0]!;
    return Math.floor(last.offset! / 512);
  };
  if (existsSync(path)) return { path, leaked: leakedOf(path) };
  const part = `${path}.${process.pid}.part`;
  q('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', part, '32M');
  q('qemu-io', '-f', 'qcow2', '-c', 'write -P 1 0 2M', part);
  q('qemu-img', 'bitmap', '--add', part, 'b0');
  q('qemu-io', '-f', 'qcow2', '-c', 'write -P 2 30M 8k', part);
  const leaked = leakedOf(part);
  const fd = openSync(part, 'r+');
  try {
    const head = Buffer.alloc(104);
    readSync(fd, head, 0, 104, 0);
    if (head.readUInt32BE(96) !== 4) throw new Error('expected 16-bit refcounts');
    const entry = Buffer.alloc(8);
    readSync(fd, entry, 0, 8, Number(head.readBigUInt64BE(48)) + Math.floor(leaked / 256) * 8);
    const at = Number(entry.readBigUInt64BE(0)) + (leaked % 256) * 2;
    const rc = Buffer.alloc(2);
    readSync(fd, rc, 0, 2, at);
    rc.writeUInt16BE(rc.readUInt16BE(0) + 1);
    writeSync(fd, rc, 0, 2, at);
  } finally {
    closeSync(fd);
  }
  renameSync(part, path);
  return { path, leaked };
}

interface Geometry { cols: number; k: number; x: number; y: number; w: number; h: number }

async function geometry(page: Page): Promise<Geometry> {
  const d = await page.getByTestId('cluster-map').evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  return { cols: +d.cols!, k: +d.cellSize!, x: +d.offsetX!, y: +d.offsetY!, w: +d.viewWidth!, h: +d.viewHeight! };
}

/** Whether cluster n's whole cell lies inside the canvas. */
async function inView(page: Page, n: number): Promise<boolean> {
  const g = await geometry(page);
  const x = g.x + (n % g.cols) * g.k;
  const y = g.y + Math.floor(n / g.cols) * g.k;
  return x >= -0.5 && y >= -0.5 && x + g.k <= g.w + 0.5 && y + g.k <= g.h + 0.5;
}

/** Page coordinates of the centre of cluster n's cell. */
async function cellCentre(page: Page, n: number): Promise<{ x: number; y: number }> {
  const g = await geometry(page);
  const box = (await page.getByTestId('cluster-map').boundingBox())!;
  return { x: box.x + g.x + ((n % g.cols) + 0.5) * g.k, y: box.y + g.y + (Math.floor(n / g.cols) + 0.5) * g.k };
}

async function open(page: Page, sample: string): Promise<void> {
  await page.goto('/');
  await openViaPicker(page, [samplePath(sample)]);
  await waitDone(page, `${sample}.qcow2`);
  await expect(page.getByTestId('cluster-map')).toHaveAttribute('data-cols', /^\d+$/);
}

/** Zooms the map all the way in at its top left, so that most of the file is out of view. */
async function zoomIn(page: Page): Promise<void> {
  const map = page.getByTestId('cluster-map');
  await map.focus();
  for (let i = 0; i < 8; i++) await page.keyboard.press('+');
  for (let i = 0; i < 6; i++) await page.keyboard.press('Shift+ArrowUp');
  for (let i = 0; i < 6; i++) await page.keyboard.press('Shift+ArrowLeft');
}

test('a legend filter, a bitmap shown on the map and a finding are brought into view', async ({ page }) => {
  const { path, leaked } = farImage();
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'far-leak.qcow2');
  await expect(page.getByTestId('legend-OVERCOUNTED')).toHaveAttribute('data-count', '1');

  // The legend: the leaked cluster, far down the file, comes into view.
  await zoomIn(page);
  expect(await inView(page, leaked)).toBe(false);
  await page.getByTestId('legend-OVERCOUNTED').click();
  await expect.poll(() => inView(page, leaked)).toBe(true);
  expect((await geometry(page)).k).toBeGreaterThanOrEqual(12);

  // A finding: its cluster is selected and brought into view.
  await page.getByTestId('legend-OVERCOUNTED').click();
  await zoomIn(page);
  expect(await inView(page, leaked)).toBe(false);
  await openTab(page, 'Check');
  await page.locator(`.finding[data-cluster="${leaked}"]`).first().click();
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', String(leaked));
  await expect.poll(() => inView(page, leaked)).toBe(true);

  // A bitmap: its table (written when the image was closed, at the end of the file) comes into view.
  await page.keyboard.press('Escape');
  await zoomIn(page);
  await openTab(page, 'Bitmaps');
  const table = await page.locator('.card.bitmap dt:text-is("table") + dd').first().textContent();
  const tableCluster = Math.floor(Number.parseInt(/0x([0-9a-f]+)/.exec(table ?? '')![1]!, 16) / 512);
  expect(await inView(page, tableCluster)).toBe(false);
  await page.getByRole('button', { name: 'Show its clusters on the map' }).first().click();
  await expect(page.getByTestId('map-status')).toContainText('highlighting');
  await expect.poll(() => inView(page, tableCluster)).toBe(true);
});

test('Escape closes the inspector; Enter selects only once the keyboard cursor is shown', async ({ page }) => {
  await open(page, 'snapshots');
  const map = page.getByTestId('cluster-map');
  const c1 = await cellCentre(page, 1);
  await page.mouse.click(c1.x, c1.y);
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', '1');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('inspector')).toHaveCount(0);

  await map.focus();
  await page.keyboard.press('Enter');
  // The first Enter shows the cursor (and its tooltip) and selects nothing.
  await expect(map).toHaveAttribute('data-cursor', 'centre');
  await expect(page.getByTestId('cluster-tooltip')).toBeVisible();
  await expect(page.getByTestId('inspector')).toHaveCount(0);
  const cursorRange = await page.getByTestId('cluster-tooltip').locator('.cmap-tip-what').textContent();
  await page.keyboard.press('Enter');
  const selected = Number(await page.getByTestId('inspector').getAttribute('data-cluster'));
  expect(cursorRange).toBe(`cluster ${selected}`);
});

test('after "Go to offset" the tooltip no longer shows the cluster hovered before; the error clears', async ({ page }) => {
  await open(page, 'snapshots');
  const box = (await page.getByTestId('cluster-map').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 20);
  await expect(page.getByTestId('cluster-tooltip')).toBeVisible();
  await page.getByTestId('goto-offset').fill('0x30000');
  await page.getByTestId('goto-offset').press('Enter');
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', '3');
  await expect(page.getByTestId('cluster-tooltip')).toHaveCount(0);

  await page.getByTestId('goto-offset').fill('nonsense');
  await page.getByTestId('goto-offset').press('Enter');
  await expect(page.locator('#cmap-goto-error')).toBeVisible();
  await expect(page.getByTestId('goto-offset')).toHaveAttribute('aria-invalid', 'true');
  // An unrelated action: another cluster selected on the map.
  const c1 = await cellCentre(page, 1);
  await page.mouse.click(c1.x, c1.y);
  await expect(page.locator('#cmap-goto-error')).toHaveCount(0);
  await expect(page.getByTestId('goto-offset')).toHaveAttribute('aria-invalid', 'false');
});

test('tab, selection and zoom are history entries: Back and Forward step through them and stay in the app', async ({ page }) => {
  await open(page, 'snapshots');
  await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#tab=overview&zoom=/);
  const first = await page.evaluate(() => location.hash);
  await openTab(page, 'Header');
  await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#tab=header/);
  await page.getByTestId('goto-offset').fill('0x30000');
  await page.getByTestId('goto-offset').press('Enter');
  await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#tab=header&cluster=3&zoom=/);
  const zoomed = await page.evaluate(() => location.hash);
  const hash = () => page.evaluate(() => location.hash);

  // Each step waits until the page has taken the entry (its hash) before the next one: a second
  // Back sent while the first popstate was still being handled was lost once on a loaded machine.
  await page.goBack();
  await expect(page.getByRole('tab', { name: 'Header' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('inspector')).toHaveCount(0);
  await expect.poll(hash).toMatch(/^#tab=header(?!.*cluster=)/);
  await page.goBack();
  await expect(page.getByRole('tab', { name: 'Overview' })).toHaveAttribute('aria-selected', 'true');
  expect(await page.evaluate(() => location.hash)).toBe(first);
  // Still the app, with the file open.
  await expect(page.locator('.app')).toHaveAttribute('data-file', 'snapshots.qcow2');
  await page.goForward();
  await expect(page.getByRole('tab', { name: 'Header' })).toHaveAttribute('aria-selected', 'true');
  await expect.poll(hash).toMatch(/^#tab=header(?!.*cluster=)/);
  await page.goForward();
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', '3');
  await expect.poll(() => page.evaluate(() => location.hash)).toBe(zoomed);
});

test.describe('an 800 × 600 window', () => {
  test.use({ viewport: { width: 800, height: 600 } });

  test('clicking a cell opens the inspector in view; a finding brings the map and inspector up', async ({ page }) => {
    await open(page, 'leak');
    const map = page.getByTestId('cluster-map');
    await map.scrollIntoViewIfNeeded();
    const c = await cellCentre(page, 10);
    await page.mouse.click(c.x, c.y);
    const inspector = page.getByTestId('inspector');
    await expect(inspector).toHaveAttribute('data-cluster', /\d+/);
    const r = (await inspector.boundingBox())!;
    expect(r.y).toBeGreaterThanOrEqual(0);
    expect(r.y + 60).toBeLessThanOrEqual(600);
    await page.keyboard.press('Escape');

    // Back at the top, a finding clicked far above the map.
    await page.locator('.workspace').evaluate((el) => el.scrollTo(0, 0));
    await openTab(page, 'Check');
    await page.locator('.finding[data-cluster]:not([data-cluster=""])').first().click();
    await expect(inspector).toHaveAttribute('data-cluster', /\d+/);
    await expect.poll(async () => (await inspector.boundingBox())!.y).toBeLessThan(600 - 60);
    const m = (await map.boundingBox())!;
    expect(m.y).toBeGreaterThanOrEqual(-1);
    expect(m.y).toBeLessThan(200);
  });

  test('the top bar and the map toolbar are one row each', async ({ page }) => {
    await open(page, 'bitmaps');
    const bar = (await page.locator('.topbar').boundingBox())!;
    expect(bar.height).toBeLessThan(60);
    const tools = (await page.locator('.cmap-toolbar').boundingBox())!;
    expect(tools.height).toBeLessThan(50);
  });
});
