// The guest disk view as a user meets it: go to a guest offset; a three-layer chain made with
// qemu-img (three dropped files) named layer by layer in the legend and tooltip, one colour per
// layer, a click on a backing range opening that layer's host cluster (checked against qemu-img map
// of that layer); a 4 GiB disk at Fit drawn as readable blocks that open into clusters when zoomed;
// the bitmap lanes and the guest map following each other, a lane click selecting its guest range
// and the host cluster; hex-dump offsets printed 0x-prefixed. Screenshots at 1400×900, 800×600 and
// 200 %, light and dark, go to test-results/screens/.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mustRun, runTool } from '../app/test-support/qemu-tools';
import { made as madeAt, openTab, openViaPicker, samplePath, waitDone } from './helpers';

interface MapRange { start: number; length: number; depth: number; data: boolean; offset?: number }

const DIR = join(tmpdir(), 'qcowscope-e2e-guest');
const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });
const guestMap = (page: Page): Locator => page.getByTestId('guest-map');
const inspector = (page: Page): Locator => page.getByTestId('inspector');
const showView = (page: Page, view: 'host' | 'guest') => page.getByTestId(`view-${view}`).filter({ visible: true }).click();

/** Makes `name` in DIR with `make` unless it exists (helpers' `made`: parallel workers never see half an image). */
function made(name: string, make: (p: string) => void): string {
  mkdirSync(DIR, { recursive: true });
  return madeAt(join(DIR, name), make);
}

const qemuIo = (path: string, cmd: string) => mustRun('qemu-io', ['-f', 'qcow2', '-c', cmd, path]);

/**
 * base.qcow2 ← mid.qcow2 ← top.qcow2, 64 MiB: base holds guest 0–1 MiB, mid 8–9 MiB, top 16–17
 * MiB (backing names relative, so the three dropped files form the chain).
 */
function chain(): { top: string; mid: string; base: string } {
  const base = made('base.qcow2', (p) => {
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', p, '64M']);
    qemuIo(p, 'write -P 0xb1 0 1M');
  });
  const mid = made('mid.qcow2', (p) => {
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', p]);
    // The backing name is resolved against the image's folder: write through the final name's folder.
    qemuIo(p, 'write -P 0xb2 8M 1M');
  });
  const top = made('top.qcow2', (p) => {
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', p]);
    qemuIo(p, 'write -P 0xb3 16M 1M');
  });
  return { top, mid, base };
}

/** A 4 GiB disk with data at 0 and at 2 GiB, written through the enabled bitmap 'b0'. */
function disk4g(): string {
  return made('disk-4g-b0.qcow2', (p) => {
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', p, '4G']);
    mustRun('qemu-img', ['bitmap', '--add', p, 'b0']);
    qemuIo(p, 'write -P 0x11 0 4M');
    qemuIo(p, 'write -P 0x22 2G 1M');
  });
}

/** qemu-img map of one file alone (its own clusters: depth 0 only). */
function ownMap(path: string): MapRange[] {
  const r = runTool('qemu-img', ['map', '--output=json', '-f', 'qcow2', path]);
  expect(r.rc).toBe(0);
  return JSON.parse(r.stdout) as MapRange[];
}

/** The host cluster of guest offset `g` in `path` itself, by qemu-img map. */
function hostClusterOf(path: string, g: number, cs = 65536): number {
  const r = ownMap(path).find((x) => x.depth === 0 && x.data && x.offset !== undefined && x.start <= g && g < x.start + x.length)!;
  return Math.floor((r.offset! + g - r.start) / cs);
}

async function gotoGuest(page: Page, text: string): Promise<void> {
  await page.getByTestId('guest-goto').fill(text);
  await page.getByTestId('guest-goto').press('Enter');
}

/** Page coordinates of the centre of guest cell n (blocks of B × B cells, row-major, cells row-major inside). */
/** An attribute once it holds still (a zoom is animated: read it after the move ends). */
async function settled(page: Page, loc: Locator, name: string): Promise<string> {
  let last = await loc.getAttribute(name);
  for (let i = 0; i < 50; i++) {
    await page.waitForTimeout(80);
    const now = await loc.getAttribute(name);
    if (now === last) break;
    last = now;
  }
  return last ?? '';
}

async function cellCentre(page: Page, n: number): Promise<{ x: number; y: number }> {
  const g = guestMap(page);
  // The view may still be moving after a go-to or a pick: read the layout once it holds still.
  const read = () => g.evaluate((e) => JSON.stringify({ ...(e as HTMLElement).dataset }));
  let last = await read();
  for (let i = 0; i < 50; i++) {
    await page.waitForTimeout(60);
    const now = await read();
    if (now === last) break;
    last = now;
  }
  const d = JSON.parse(last) as Record<string, string>;
  const [B, bcols, k] = [Number(d.block), Number(d.blockCols), Number(d.cellSize)];
  const b = Math.floor(n / (B * B));
  const w = n - b * B * B;
  const row = Math.floor(b / bcols) * B + Math.floor(w / B);
  const col = (b % bcols) * B + (w % B);
  const box = (await g.boundingBox())!;
  return { x: box.x + Number(d.offsetX) + (col + 0.5) * k, y: box.y + Number(d.offsetY) + (row + 0.5) * k };
}

test.beforeAll(() => {
  chain();
  disk4g();
});

test('guest go-to, layers named and coloured by depth, a click on a backing range opens that layer at its cluster', async ({ page }) => {
  const { top, mid, base } = chain();
  await page.goto('/');
  await openViaPicker(page, [top, mid, base]);
  await waitDone(page, 'top.qcow2');
  await showView(page, 'guest');
  // One legend row per layer, named by file: depth 1 (mid) and depth 2 (base), and this file.
  await expect(page.getByTestId('guest-legend-2')).toContainText('data from mid.qcow2');
  await expect(page.getByTestId('guest-legend-2')).toHaveAttribute('data-bytes', String(2 ** 20));
  await expect(page.getByTestId('guest-legend-17')).toContainText('data from base.qcow2 (2 levels down)');
  await expect(page.getByTestId('guest-legend-17')).toHaveAttribute('data-bytes', String(2 ** 20));
  await expect(page.getByTestId('guest-legend-4')).toHaveAttribute('data-bytes', String(2 ** 20));
  const colours = await page.locator('[data-testid^="guest-legend-"] .cmap-swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  expect(new Set(colours).size).toBe(colours.length);

  // Go to 16M (top's own data): that cell is selected and its host cluster inspected.
  await gotoGuest(page, '16M');
  await expect(page.getByTestId('guest-map-status')).toContainText('highlighting guest 0x1000000–0x100ffff');
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(hostClusterOf(top, 16 * 2 ** 20)));
  // The cell gone to is in view (the whole 64 MiB disk fits, so the map stays at Fit).
  const at16 = await cellCentre(page, 256);
  const mb = (await guestMap(page).boundingBox())!;
  expect(at16.x).toBeGreaterThan(mb.x);
  expect(at16.x).toBeLessThan(mb.x + mb.width);
  expect(at16.y).toBeGreaterThan(mb.y);
  expect(at16.y).toBeLessThan(mb.y + mb.height);
  // Bad input says what to type and keeps the view.
  await gotoGuest(page, 'sixteen');
  await expect(page.getByTestId('guest-map-status')).toContainText('Type a guest offset');
  await gotoGuest(page, '1G');
  await expect(page.getByTestId('guest-map-status')).toContainText('Past the end of the disk (64 MiB)');

  // Go to 0x800000 (mid's data): the tooltip names mid.qcow2; a click opens mid at its cluster.
  await gotoGuest(page, '0x800000');
  await expect(page.getByTestId('guest-map-status')).toContainText('highlighting guest 0x800000–0x80ffff');
  const at8 = await cellCentre(page, 128);
  await page.mouse.move(at8.x, at8.y);
  await expect(page.getByTestId('guest-tooltip')).toContainText('0x800000–0x8fffff: data from mid.qcow2 at 0x');
  const midCluster = hostClusterOf(mid, 8 * 2 ** 20);
  await expect(page.getByTestId('guest-tip-hint')).toHaveText(`Click to open mid.qcow2 at its cluster ${midCluster}`);
  await expect(page.locator('.gmap-note')).toContainText(`read from mid.qcow2, cluster ${midCluster}`);
  await shot(page, 'guest-chain-top');
  await page.mouse.click(at8.x, at8.y);
  await expect(page.locator('.app')).toHaveAttribute('data-file', 'mid.qcow2');
  await expect(page.getByTestId('map-pane')).toHaveAttribute('data-view', 'host');
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(midCluster));
  await shot(page, 'guest-chain-mid-opened');

  // Back on top, guest 0 lives two levels down: the click opens base.qcow2.
  await page.locator('.file-tab', { hasText: /^top\.qcow2/ }).click();
  await expect(page.locator('.app')).toHaveAttribute('data-file', 'top.qcow2');
  await showView(page, 'guest');
  await gotoGuest(page, '0');
  const at0 = await cellCentre(page, 0);
  await page.mouse.click(at0.x, at0.y);
  await expect(page.locator('.app')).toHaveAttribute('data-file', 'base.qcow2');
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(hostClusterOf(base, 0)));
});

for (const scheme of ['light', 'dark'] as const) {
  test(`a 4 GiB disk at Fit: readable blocks that open into clusters when zoomed (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto('/');
    await openViaPicker(page, [disk4g()]);
    await waitDone(page, 'disk-4g-b0.qcow2');
    await showView(page, 'guest');
    const g = guestMap(page);
    await expect(g).toHaveAttribute('data-level', 'block');
    const d = await g.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
    expect(Number(d.unit)).toBe(65536);
    expect(Number(d.cells)).toBe(65536);
    const blockPx = Number(d.cellSize) * Number(d.block);
    expect(blockPx).toBeGreaterThanOrEqual(10);
    // The blocks fill the pane: the grid spans most of its width or height.
    const box = (await g.boundingBox())!;
    expect(Math.max((Number(d.cols) * Number(d.cellSize)) / box.width, (Number(d.rows) * Number(d.cellSize)) / box.height)).toBeGreaterThan(0.9);
    // A block is one contiguous guest range: the first one's tooltip covers 0 to block² clusters.
    const per = Number(d.block) ** 2;
    await page.mouse.move(box.x + Number(d.offsetX) + blockPx / 2, box.y + Number(d.offsetY) + blockPx / 2);
    await expect(page.getByTestId('guest-tooltip')).toContainText(`guest 0x0 – 0x${(per * 65536 - 1).toString(16)}`);
    await expect(page.getByTestId('guest-map-status')).toContainText(`1 block = ${per / 16} MiB (${per} cells of 64 KiB)`);
    await shot(page, `guest-4g-fit-${scheme}`);
    // Zoomed in, single clusters are drawn and picked.
    await gotoGuest(page, '2G');
    await expect(g).toHaveAttribute('data-level', 'cell');
    await expect(page.getByTestId('guest-map-status')).toContainText('highlighting guest 0x80000000–0x8000ffff');
    await shot(page, `guest-4g-goto-${scheme}`);
  });
}

test('bitmap lanes and the guest map follow each other; a lane click selects its guest range and host cluster', async ({ page }) => {
  const path = disk4g();
  const G = 2 ** 30;
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'disk-4g-b0.qcow2');
  await openTab(page, 'Bitmaps');
  const lanes = page.locator('.bitmap-lanes canvas');
  await expect(lanes).toBeVisible();
  await showView(page, 'guest');
  const g = guestMap(page);
  await expect(g).toHaveAttribute('data-level', 'block');
  const fit = Number(await g.getAttribute('data-cell-size'));

  // Zooming the lanes zooms the guest map onto the same range (16 MiB: one row of blocks).
  for (let i = 0; i < 8; i++) await page.locator('.lane-zoom').getByRole('button', { name: 'Zoom in' }).click();
  await expect(lanes).toHaveAttribute('data-view', `${2 * G - 8 * 2 ** 20},${2 * G + 8 * 2 ** 20}`);
  await expect.poll(async () => Number(await g.getAttribute('data-cell-size'))).toBeGreaterThan(fit * 2);
  await expect(g).toHaveAttribute('data-level', 'cell');
  await shot(page, 'lanes-linked-zoom');
  // Zooming the guest map is told back to the lanes; Fit shows the whole disk on both.
  await page.getByTestId('guest-map-panel').getByRole('button', { name: 'Zoom in' }).click();
  await expect.poll(async () => {
    const [a, b] = (await lanes.getAttribute('data-view'))!.split(',').map(Number);
    return b! - a! < G && a! <= 2 * G && 2 * G <= b!;
  }).toBe(true);
  // Switching the map view and the panel tab keeps the range on both.
  const zoomed = Number(await settled(page, g, 'data-cell-size'));
  const laneView = await settled(page, lanes, 'data-view');
  await showView(page, 'host');
  await openTab(page, 'Overview');
  await showView(page, 'guest');
  await expect.poll(async () => Number(await g.getAttribute('data-cell-size'))).toBeCloseTo(zoomed, 3);
  await openTab(page, 'Bitmaps');
  await expect(lanes).toHaveAttribute('data-view', laneView!);
  await page.getByTestId('guest-map-panel').getByRole('button', { name: 'Fit' }).click();
  await expect(lanes).toHaveAttribute('data-view', `0,${4 * G}`);
  // The wheel on the lanes zooms too.
  const box = (await lanes.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 30);
  await page.mouse.wheel(0, -300);
  await expect(lanes).not.toHaveAttribute('data-view', `0,${4 * G}`);
  await page.locator('.lane-zoom').getByRole('button', { name: 'Whole disk' }).click();

  // A click on b0's first dirty extent (guest 0–4 MiB) selects it on the guest map and the host
  // cluster holding guest 0.
  await showView(page, 'host');
  const lb = (await lanes.boundingBox())!;
  await page.mouse.click(lb.x + 1.5, lb.y + 1 + 18 + 11);
  await expect(page.getByTestId('map-pane')).toHaveAttribute('data-view', 'guest');
  await expect(page.getByTestId('guest-map-status')).toContainText('highlighting guest 0x0–0x3fffff');
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(hostClusterOf(path, 0)));
  // The picked 4 MiB are brought into view as single clusters.
  await expect(g).toHaveAttribute('data-level', 'cell');
  await shot(page, 'lanes-pick-guest');
  await showView(page, 'host');
  await expect(page.getByTestId('map-status')).toContainText('highlighting guest 0x0–0x3fffff');
});

test('hex dump offsets are 0x-prefixed hex, decimal on hover', async ({ page }) => {
  await page.goto('/');
  await openViaPicker(page, [samplePath('v3')]);
  await waitDone(page, 'v3.qcow2');
  await page.getByTestId('goto-offset').fill('0x10000');
  await page.getByTestId('goto-offset').press('Enter');
  await inspector(page).getByRole('button', { name: 'Hex' }).click();
  const first = inspector(page).locator('.hex-off').first();
  await expect(first).toHaveText('0x00010000');
  await expect(first).toHaveAttribute('title', '65,536 (decimal)');
  await expect(inspector(page).locator('.hex-off').nth(1)).toHaveText('0x00010010');
});

// Screenshots of both map views with a three-file chain open (the top bar's file tabs, both
// toolbars) at 1400×900, 800×600 and a 1400×900 window at 200 % (700×450 CSS px at 2×). The top bar
// and each map toolbar stay one line inside the window, and the map keeps most of the height.
for (const scheme of ['light', 'dark'] as const) {
  for (const [w, h, dpr] of [[1400, 900, 1], [800, 600, 1], [700, 450, 2]] as const) {
    test.describe(`${scheme} ${w}x${h}@${dpr}`, () => {
      test.use({ viewport: { width: w, height: h }, deviceScaleFactor: dpr, colorScheme: scheme });
      test('toolbars fit one line; screenshots of both views', async ({ page }) => {
        const { top, mid, base } = chain();
        await page.goto('/');
        await openViaPicker(page, [top, mid, base]);
        await waitDone(page, 'top.qcow2');
        for (const view of ['host', 'guest'] as const) {
          await showView(page, view);
          const bar = page.locator(view === 'host' ? '.map-view-host .cmap-toolbar' : '.map-view-guest .cmap-toolbar');
          for (const el of [page.locator('.topbar'), bar]) {
            const b = (await el.boundingBox())!;
            // One line: no taller than two rows of buttons would make it; inside the window.
            expect(b.height).toBeLessThan(60);
            expect(b.x + b.width).toBeLessThanOrEqual(w + 0.5);
            // Nothing in it is cut by the window's right edge unless the bar scrolls to it.
            const overflow = await el.evaluate((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible');
            expect(overflow).toBe(false);
          }
          const name = `guest-shot-${view}-${scheme}-${w}x${h}@${dpr}`;
          await shot(page, name);
        }
      });
    });
  }
}
