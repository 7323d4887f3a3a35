// The Bitmaps tab's dirty extents: one lane per bitmap plus the backup lane, hover, the backup
// figure and A∖B / B∖A / A∩B (also across two dropped images) equal to what the CLI prints for the
// same image (`qcowscope bitmap --allocation`, `--minus`, `--and`; the CLI is checked against
// qemu-nbd + nbdinfo in app/cli/bitmap.test.ts), "Copy extents" equal to the CLI's JSON.
// Screenshots at 1400×900 and 800×600, light and dark, in test-results/screens/.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ROOT } from '../app/test-support/samples';
import { openTab, openViaPicker, samplePath, waitDone } from './helpers';

const CLI = join(ROOT, 'dist-cli', 'qcowscope.mjs');
const cli = (...args: string[]): string => execFileSync(process.execPath, [CLI, 'bitmap', '--output=json', ...args], { encoding: 'utf8' });
const bytesOf = (json: string, type: number): number =>
  (JSON.parse(json) as { length: number; type: number }[]).filter((e) => e.type === type).reduce((s, e) => s + e.length, 0);
const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });

async function openBitmaps(page: Page, samples: string[]): Promise<void> {
  await page.goto('/');
  await openViaPicker(page, samples.map(samplePath));
  await waitDone(page, `${samples[0]}.qcow2`);
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.bitmap-lanes canvas')).toBeVisible();
}

test('lanes, hover, the backup figure, comparison and Copy extents equal the CLI', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openBitmaps(page, ['bitmaps']);
  const path = samplePath('bitmaps');
  // Six bitmaps and the backup lane of the chosen one (a-auto).
  await expect(page.locator('.lane-label')).toHaveText(['a-auto', 'c-fine', 'd-coarse', 'b-disabled', 'e-never', 'f-merged', 'backup from a-auto']);
  const alloc = cli('--name', 'a-auto', '--allocation', path);
  await expect(page.getByTestId('backup-data')).toHaveAttribute('data-bytes', String(bytesOf(alloc, 1)));
  await expect(page.getByTestId('backup-zero')).toHaveAttribute('data-bytes', String(bytesOf(alloc, 3)));
  await expect(page.getByTestId('backup-unallocated')).toHaveAttribute('data-bytes', String(bytesOf(alloc, 4)));
  expect(bytesOf(alloc, 1)).toBeGreaterThan(0);

  // What is drawn: e-never (no set bit) has no dirty pixel; a-auto's 10 granules of a 16 MiB disk
  // show as a few narrow marks, and its first pixel is dirty.
  const canvas = page.locator('.bitmap-lanes canvas');
  const dirtyColumns = (row: number) => canvas.evaluate((c: HTMLCanvasElement, r: number) => {
    const dpr = window.devicePixelRatio || 1;
    const y = Math.round((18 + r * 22 + 11) * dpr);
    const px = c.getContext('2d')!.getImageData(0, y, c.width, 1).data;
    let n = 0;
    for (let i = 0; i < c.width; i++) if (px[i * 4]! > 200 && px[i * 4 + 1]! > 70 && px[i * 4 + 1]! < 120 && px[i * 4 + 2]! < 40) n++;
    return { n, first: px[0]! > 200 && px[2]! < 40, width: c.width };
  }, row);
  expect((await dirtyColumns(4)).n).toBe(0);
  const autoCols = await dirtyColumns(0);
  expect(autoCols.first).toBe(true);
  expect(autoCols.n).toBeGreaterThanOrEqual(5);
  expect(autoCols.n).toBeLessThan(autoCols.width * 0.1);
  // Hover the first pixel of a-auto: its first dirty extent.
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 1, box.y + 18 + 11);
  await expect(page.locator('.lane-tip')).toContainText('a-auto: dirty, 0x0–0x10000 (64 KiB, 65,536 bytes)');

  await page.getByTestId('copy-extents').click();
  await expect(page.getByTestId('copy-status')).toContainText('Copied 10 extents');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(cli('--name', 'a-auto', path));

  await page.getByTestId('bitmap-b').selectOption({ label: 'c-fine' });
  await expect(page.getByTestId('compare-figure')).toBeVisible();
  await expect(page.locator('.lane-label')).toHaveCount(10);
  const amb = bytesOf(cli('--name', 'a-auto', '--minus', 'c-fine', path), 1);
  const bma = bytesOf(cli('--name', 'c-fine', '--minus', 'a-auto', path), 1);
  const anb = bytesOf(cli('--name', 'a-auto', '--and', 'c-fine', path), 1);
  expect(amb + anb).toBe(655360);
  await expect(page.getByTestId('a-minus-b')).toHaveAttribute('data-bytes', String(amb));
  await expect(page.getByTestId('b-minus-a')).toHaveAttribute('data-bytes', String(bma));
  await expect(page.getByTestId('a-and-b')).toHaveAttribute('data-bytes', String(anb));

  // Zooming keeps a lone extent visible and changes the view.
  const before = await canvas.getAttribute('data-view');
  await page.locator('.lane-zoom').getByRole('button', { name: 'Zoom in' }).click();
  expect(await canvas.getAttribute('data-view')).not.toBe(before);
});

test('a bitmap of another dropped image can be B', async ({ page }) => {
  await openBitmaps(page, ['seed-base', 'seed-all-ones-bitmap']);
  await page.getByTestId('bitmap-b').selectOption({ label: 'seed-all-ones-bitmap.qcow2: fine' });
  await expect(page.getByTestId('compare-figure')).toBeVisible();
  // nightly ∖ (all-ones fine) is empty; (all-ones fine) ∖ nightly is the rest of the 64 MiB disk.
  const other = `${samplePath('seed-all-ones-bitmap')}:fine`;
  const bma = bytesOf(execFileSync(process.execPath, [CLI, 'bitmap', '--output=json', '--name', 'fine', '--minus', `${samplePath('seed-base')}:nightly`, samplePath('seed-all-ones-bitmap')], { encoding: 'utf8' }), 1);
  expect(bytesOf(cli('--name', 'nightly', '--minus', other, samplePath('seed-base')), 1)).toBe(0);
  await expect(page.getByTestId('a-minus-b')).toHaveAttribute('data-bytes', '0');
  expect(bma).toBe(64 * 1024 * 1024 - 143360);
  await expect(page.getByTestId('b-minus-a')).toHaveAttribute('data-bytes', String(bma));
});

test('health in plain words: in use', async ({ page }) => {
  await openBitmaps(page, ['bitmap-in-use']);
  await expect(page.locator('.health [data-code="in-use"]')).toContainText('in use (stale)');
  await expect(page.getByTestId('backup-figure')).toContainText("qemu-nbd would not export it");
});

for (const scheme of ['light', 'dark'] as const) {
  for (const [w, h] of [[1400, 900], [800, 600]] as const) {
    test(`screenshot ${scheme} ${w}x${h}`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: w, height: h });
      await openBitmaps(page, ['bitmaps']);
      await page.getByTestId('bitmap-b').selectOption({ label: 'b-disabled' });
      await expect(page.getByTestId('compare-figure')).toBeVisible();
      await page.locator('.bitmap-answers').scrollIntoViewIfNeeded();
      await shot(page, `bitmaps-lanes-${scheme}-${w}x${h}`);
    });
  }
}

test.describe('200 % zoom', () => {
  test.use({ deviceScaleFactor: 2, viewport: { width: 1000, height: 700 } });
  test('screenshot light 200 %', async ({ page }) => {
    await openBitmaps(page, ['bitmaps']);
    await page.getByTestId('bitmap-b').selectOption({ label: 'b-disabled' });
    await expect(page.getByTestId('compare-figure')).toBeVisible();
    await shot(page, 'bitmaps-lanes-light-200pct');
  });
});
