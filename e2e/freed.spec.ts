// Freed clusters in the app: an image made by the live qemu-img (a bitmap added, written, removed,
// then the disk grown so the old L1 is freed) has free clusters the engine classifies (the CLI's
// report JSON `freed` runs say which). The map's "what freed clusters held" toggle repaints a freed
// bitmap table away from the free colour; clicking the stale L1 shows the "stale — freed" banner
// and decodes it as an L1; a dropped saved analysis shows them again. Screenshots (1400×900 light, 800×600 dark, 200 %) go to the output folder.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { Role } from '../app/format/check/roles';
import { ROLE_COLOR, rgb } from '../app/map/palette';
import { openViaPicker, reopenSaved, waitDone } from './helpers';

interface Run { offset: number; clusters: number; was: string; evidence: string; freedBy?: string }

const CS = 65536;
const hostMap = (page: Page): Locator => page.getByTestId('cluster-map');
const inspector = (page: Page): Locator => page.getByTestId('inspector');
const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });

function freedImage(): { path: string; runs: Run[] } {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-freed-e2e-'));
  const path = join(dir, 'freed.qcow2');
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', path, '64M']);
  sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 2M', '-c', 'write -P 2 40M 1M', path]);
  sh('qemu-img', ['bitmap', '--add', path, 'big']);
  sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 3 8M 1M', path]);
  sh('qemu-img', ['bitmap', '--remove', path, 'big']);
  sh('qemu-img', ['resize', '-q', path, '2G']);
  const doc = JSON.parse(execFileSync('node', [resolve('dist-cli/qcowscope.mjs'), 'report', '--output=json', path], { encoding: 'utf8' })) as { freed: Run[] };
  return { path, runs: doc.freed };
}

async function cellCentre(canvas: Locator, n: number): Promise<{ x: number; y: number }> {
  const d = await canvas.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  const cols = Number(d.cols);
  const k = Number(d.cellSize);
  const box = (await canvas.boundingBox())!;
  return { x: box.x + Number(d.offsetX) + ((n % cols) + 0.5) * k, y: box.y + Number(d.offsetY) + (Math.floor(n / cols) + 0.5) * k };
}

/** Colours over the cell's middle row, left to right (the hatch alternates). */
async function cellColors(canvas: Locator, n: number): Promise<string[]> {
  const box = (await canvas.boundingBox())!;
  const c = await cellCentre(canvas, n);
  const k = Number(await canvas.getAttribute('data-cell-size'));
  return canvas.evaluate((el, p) => {
    const dpr = window.devicePixelRatio || 1;
    const ctx = (el as HTMLCanvasElement).getContext('2d')!;
    const out: string[] = [];
    for (let dx = -p.half; dx <= p.half; dx++) {
      const px = ctx.getImageData(Math.floor((p.x + dx) * dpr), Math.floor(p.y * dpr), 1, 1).data;
      out.push(`${px[0]},${px[1]},${px[2]}`);
    }
    return [...new Set(out)];
  }, { x: c.x - box.x, y: c.y - box.y, half: Math.max(1, Math.floor(k / 3)) });
}

async function openFreed(page: Page): Promise<Run[]> {
  const { path, runs } = freedImage();
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'freed.qcow2');
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
  return runs;
}

test.use({ viewport: { width: 1400, height: 900 } });

test('the toggle repaints a freed bitmap table; a stale L1 decodes under the banner', async ({ page }) => {
  const runs = await openFreed(page);
  const table = runs.find((r) => r.was === 'bitmap-table' && r.freedBy === "table of removed bitmap 'big'");
  const l1 = runs.find((r) => r.was === 'l1-table');
  expect(table, JSON.stringify(runs)).toBeDefined();
  expect(l1, JSON.stringify(runs)).toBeDefined();
  const t = table!.offset / CS;
  const free = rgb(ROLE_COLOR[Role.FREE]!).join(',');
  expect(await cellColors(hostMap(page), t)).toEqual([free]);
  await page.getByTestId('freed-toggle').check();
  const on = await cellColors(hostMap(page), t);
  expect(on).not.toContain(free);
  await shot(page, 'freed-toggle-1400x900');

  await page.mouse.click(...Object.values(await cellCentre(hostMap(page), l1!.offset / CS)) as [number, number]);
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(l1!.offset / CS));
  await expect(page.getByTestId('stale-banner')).toContainText('stale — freed');
  await expect(page.getByTestId('stale-banner')).toContainText('l1-table');
  await expect(inspector(page)).toHaveAttribute('data-place', 'l1');
  await expect(inspector(page)).toContainText('stale L1 table');
  await shot(page, 'freed-banner-l1-1400x900');

  await page.mouse.click(...Object.values(await cellCentre(hostMap(page), t)) as [number, number]);
  await expect(page.getByTestId('stale-banner')).toContainText("table of removed bitmap 'big'");
  // Off again: the free colour is back.
  await page.getByTestId('freed-toggle').uncheck();
  expect(await cellColors(hostMap(page), t)).toEqual([free]);
});

test("a dropped saved analysis (the app's download) shows the freed clusters again", async ({ page }) => {
  const runs = await openFreed(page);
  const table = runs.find((r) => r.was === 'bitmap-table' && r.freedBy === "table of removed bitmap 'big'")!;
  await reopenSaved(page);
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
  const free = rgb(ROLE_COLOR[Role.FREE]!).join(',');
  await page.getByTestId('freed-toggle').check();
  expect(await cellColors(hostMap(page), table.offset / CS)).not.toContain(free);
  await page.mouse.click(...Object.values(await cellCentre(hostMap(page), table.offset / CS)) as [number, number]);
  await expect(page.getByTestId('stale-banner')).toContainText("table of removed bitmap 'big'");
});

for (const [label, opts] of [
  ['dark-800x600', { colorScheme: 'dark', viewport: { width: 800, height: 600 } }],
  ['zoom-200', { viewport: { width: 1400, height: 900 }, deviceScaleFactor: 2 }],
] as const) {
  test.describe(label, () => {
    test.use(opts);
    test(`toggle and banner, ${label}`, async ({ page }) => {
      const runs = await openFreed(page);
      const table = runs.find((r) => r.was === 'bitmap-table')!;
      await page.getByTestId('freed-toggle').check();
      await hostMap(page).scrollIntoViewIfNeeded();
      await page.mouse.click(...Object.values(await cellCentre(hostMap(page), table.offset / CS)) as [number, number]);
      await expect(page.getByTestId('stale-banner')).toContainText('bitmap-table');
      await shot(page, `freed-${label}`);
    });
  });
}
