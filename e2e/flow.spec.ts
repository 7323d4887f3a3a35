// The flow around an analysis: the header on screen at once, the progress bar while a large image
// is scanned, cancelling by a second drop and by the Cancel button, backing chains from several
// files dropped together (and a missing backing file reported), the bundled samples, file://.

import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { bigImage, dropFiles, openTab, openViaPicker, samplePath, waitDone } from './helpers';

test.beforeEach(async ({ page }) => {
  await page.goto('/');
});

test('a large image: header at once, progress named by phase, a second drop cancels it', async ({ page }) => {
  const big = bigImage('1T');
  await openViaPicker(page, [big]);
  const root = page.locator('.app');
  await expect(root).toHaveAttribute('data-file', 'big-1T.qcow2');
  await expect(root).toHaveAttribute('data-state', 'scanning');
  await expect(page.getByTestId('progress')).toBeVisible();
  await expect(page.getByTestId('progress')).toContainText(/Scanning|Reading|Checking/);
  // The header panel is on screen while the scan runs.
  await openTab(page, 'Header');
  await expect(page.locator('.header-panel')).toContainText('l1_table_offset');
  // How soon is the bench's figure (header on screen ≤ 200 ms); here: before the scan ends.
  await expect(page.getByTestId('header-ms')).toHaveAttribute('data-ms', /^\d+$/);
  await expect(root).toHaveAttribute('data-state', 'scanning');
  // A second drop abandons the scan of the first file.
  await dropFiles(page, [samplePath('leak')]);
  await waitDone(page, 'leak.qcow2');
  await expect(page.getByTestId('progress')).toHaveCount(0);
});

test('the Cancel button stops a scan', async ({ page }) => {
  await openViaPicker(page, [bigImage('1T')]);
  await expect(page.getByTestId('progress')).toBeVisible();
  await page.getByTestId('progress').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await expect(page.locator('.app')).toHaveAttribute('data-state', 'idle');
  await expect(page.getByTestId('cancelled')).toBeVisible();
});

test('files dropped together form a backing chain', async ({ page }) => {
  await openViaPicker(page, [samplePath('base'), samplePath('overlay')]);
  await waitDone(page, 'overlay.qcow2');
  await expect(page.getByRole('button', { name: /overlay\.qcow2.*base\.qcow2/ })).toHaveAttribute('aria-pressed', 'true');
  await openTab(page, 'Header');
  await expect(page.locator('.header-panel')).toContainText('base.qcow2');
  await expect(page.getByTestId('missing-backing')).toHaveCount(0);
  await page.getByRole('button', { name: /^base\.qcow2/ }).click();
  await expect(page.locator('.app')).toHaveAttribute('data-file', 'base.qcow2');
});

test('a backing file that was not dropped is reported, not guessed', async ({ page }) => {
  await openViaPicker(page, [samplePath('overlay')]);
  await waitDone(page, 'overlay.qcow2');
  await openTab(page, 'Header');
  await expect(page.getByTestId('missing-backing')).toBeVisible();
  await openTab(page, 'Overview');
  await expect(page.getByTestId('missing-backing-note')).toContainText('base.qcow2');
});

test('a bundled sample opens through the same path as a file', async ({ page }) => {
  await page.locator('button.sample[data-sample="snapshots"]').click();
  await waitDone(page, 'snapshots.qcow2');
  await openTab(page, 'Snapshots');
  await expect(page.locator('.snapshot-name')).toHaveText(['s1', 's3']);
});

test('the built page works from file:// (worker inlined, no network)', async ({ page }) => {
  const url = pathToFileURL(resolve('dist/qcowscope.html')).href;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.locator('button.sample[data-sample="seed-zero-offset-bitmap"]').click();
  await waitDone(page, 'seed-zero-offset-bitmap.qcow2');
  await openTab(page, 'Bitmaps');
  await expect(page.getByTestId('zero-offset-badge')).toBeVisible();
  expect(errors).toEqual([]);
});
