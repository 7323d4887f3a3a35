// Screenshots of every panel on real samples, in light and dark themes, written to
// test-results/screens/ (the output folder) for people to look at (docs/screenshot.png is picked from these). Each
// shot first asserts that the panel shows the sample's real content.

import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { firstL2Offset, openTab, openViaPicker, samplePath, waitDone } from './helpers';

const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });

async function open(page: Page, sample: string): Promise<void> {
  await page.goto('/');
  await openViaPicker(page, [samplePath(sample)]);
  await waitDone(page, `${sample}.qcow2`);
}

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });

    test('start page', async ({ page }) => {
      await page.goto('/');
      await expect(page.locator('button.sample')).not.toHaveCount(0);
      await shot(page, `${scheme}-start`);
    });

    test('bitmaps sample: overview, header, bitmaps, space', async ({ page }) => {
      await open(page, 'bitmaps');
      await expect(page.getByTestId('verdict')).toHaveText('clean');
      await shot(page, `${scheme}-overview`);
      await openTab(page, 'Header');
      await expect(page.locator('.header-panel')).toContainText('bitmaps');
      await shot(page, `${scheme}-header`);
      await openTab(page, 'Bitmaps');
      await expect(page.locator('.card.bitmap')).toHaveCount(6);
      await shot(page, `${scheme}-bitmaps`);
      await openTab(page, 'Space');
      await expect(page.locator('[data-space]')).not.toHaveCount(0);
      await shot(page, `${scheme}-space`);
    });

    test('snapshots, check with findings, inspector', async ({ page }) => {
      await open(page, 'snapshots');
      await openTab(page, 'Snapshots');
      await expect(page.locator('tr[data-snapshot]')).toHaveCount(2);
      await shot(page, `${scheme}-snapshots`);
      await open(page, 'leak');
      await openTab(page, 'Check');
      await page.locator('.finding[data-cluster]:not([data-cluster=""])').first().click();
      await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', /\d+/);
      await shot(page, `${scheme}-check`);
    });

    test('overview with a decoded L2 table in the inspector', async ({ page }) => {
      await open(page, 'snapshots');
      const l2 = firstL2Offset(samplePath('snapshots'));
      await page.getByTestId('goto-offset').fill(`0x${l2.toString(16)}`);
      await page.getByTestId('goto-offset').press('Enter');
      await expect(page.getByTestId('inspector')).toContainText('L2 table of active L1 entry 0');
      await shot(page, `${scheme}-inspector`);
    });

    test('bitmap clusters highlighted on the map', async ({ page }) => {
      await open(page, 'bitmaps');
      await openTab(page, 'Bitmaps');
      const card = page.locator('.card.bitmap[data-bitmap="c-fine"]');
      await card.getByRole('button', { name: 'Show its clusters on the map' }).click();
      await expect(card.getByRole('button', { name: 'Show every cluster on the map' })).toHaveAttribute('aria-pressed', 'true');
      await expect(page.locator('.cmap-status')).toContainText("highlighting bitmap 'c-fine'");
      await shot(page, `${scheme}-bitmap-highlight`);
    });

    test('seed zero-offset bitmap', async ({ page }) => {
      await open(page, 'seed-zero-offset-bitmap');
      await openTab(page, 'Bitmaps');
      await expect(page.getByTestId('zero-offset-badge')).toBeVisible();
      await shot(page, `${scheme}-seed`);
    });
  });
}
