// The safety badge on the Overview (app/ui/SafetyBadge.tsx): a safe sample, an unsafe one (a
// backing file) and one QEMU refuses (the seed's zero-offset bitmap), each expanded to its reasons;
// a saved analysis from before the verdict existed says it has none. Screenshots at 1400×900
// (light and dark), 800×600 and 200 % zoom go to test-results/screens/safety-*.png.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openViaPicker, samplePath, waitDone } from './helpers';

const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `safety-${name}.png`) });

async function open(page: Page, sample: string): Promise<void> {
  await page.goto('/');
  await openViaPicker(page, [samplePath(sample)]);
  await waitDone(page, `${sample}.qcow2`);
}

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme, 1400×900`, () => {
    test.use({ colorScheme: scheme, viewport: { width: 1400, height: 900 } });

    test('a safe sample: the badge, expanded to its note', async ({ page }) => {
      await open(page, 'leak');
      const badge = page.getByTestId('safety');
      await expect(badge).toHaveAttribute('data-safety', 'safe');
      await expect(badge.locator('summary')).toHaveText(/Safe to use as an untrusted image$/);
      await expect(badge.locator('.safety-notes')).toBeHidden();
      await badge.locator('summary').click();
      await expect(badge.locator('.safety-notes li[data-code="leaks"]')).toContainText('2 leaked clusters');
      await expect(badge.locator('.safety-reasons')).toHaveCount(0);
      await shot(page, `${scheme}-safe`);
    });

    test('an unsafe sample: backing file, expanded to the reason and its remedy', async ({ page }) => {
      await open(page, 'overlay');
      const badge = page.getByTestId('safety');
      await expect(badge).toHaveAttribute('data-safety', 'unsafe');
      await expect(badge.locator('summary')).toHaveText(/Unsafe: backing file \(relative path\) "base\.qcow2"$/);
      await badge.locator('summary').click();
      const reason = badge.locator('.safety-reasons li[data-code="backing-relative"]');
      await expect(reason).toContainText('QEMU opens the file of that name');
      await expect(reason.locator('.safety-remedy code').first()).toHaveText("qemu-img rebase -u -b '' FILE");
      await shot(page, `${scheme}-unsafe`);
    });

    test('a sample QEMU refuses: the zero-offset bitmap, said kindly', async ({ page }) => {
      await open(page, 'seed-zero-offset-bitmap');
      const badge = page.getByTestId('safety');
      await expect(badge).toHaveAttribute('data-safety', 'refused');
      await expect(badge.locator('summary')).toHaveText(/^⊘ QEMU would refuse it: a zero-offset bitmap \(valid under the 2016 proposal\)$/);
      await badge.locator('summary').click();
      await expect(badge.locator('li[data-code="zero-offset-bitmap"]')).toContainText('valid there, and harmless');
      await shot(page, `${scheme}-refused`);
    });
  });
}

test.describe('800×600', () => {
  test.use({ viewport: { width: 800, height: 600 } });
  test('the unsafe badge expanded still reads', async ({ page }) => {
    await open(page, 'data-file');
    const badge = page.getByTestId('safety');
    await expect(badge).toHaveAttribute('data-safety', 'unsafe');
    await badge.locator('summary').click();
    await expect(badge.locator('li[data-code="data-file"]')).toContainText('CVE-2024-32498');
    const box = await badge.boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(800);
    await shot(page, 'small-unsafe');
  });
});

test.describe('200 % zoom', () => {
  test.use({ viewport: { width: 700, height: 450 }, deviceScaleFactor: 2 });
  test('the refused badge expanded', async ({ page }) => {
    await open(page, 'seed-zero-offset-bitmap');
    const badge = page.getByTestId('safety');
    await badge.locator('summary').click();
    await expect(badge.locator('li[data-code="zero-offset-bitmap"] .safety-remedy')).toBeVisible();
    await shot(page, 'zoom-refused');
  });
});

test('a saved analysis written before the verdict existed says it has none', async ({ page }) => {
  const doc = JSON.parse(execFileSync('node', ['dist-cli/qcowscope.mjs', 'report', '--output=json', samplePath('overlay')], { encoding: 'utf8' })) as Record<string, unknown>;
  expect(doc.safety).toMatchObject({ verdict: 'unsafe' });
  delete doc.safety;
  const path = join(mkdtempSync(join(tmpdir(), 'qcowscope-safety-')), 'old.qcowscope.json');
  writeFileSync(path, JSON.stringify(doc));
  expect(readFileSync(path, 'utf8')).not.toContain('"safety"');
  await page.goto('/');
  await openViaPicker(page, [path]);
  await expect(page.getByTestId('safety')).toHaveAttribute('data-safety', 'unknown');
});
