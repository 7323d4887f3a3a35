// The verdict line in the page, on files people really bring (made by qemu-img/qemu-io and cut or
// patched by test-support/verdict-images.ts): a file cut short, a dirty lazy-refcounts image, a
// bitmap left in use, an overlay without its backing file, leaks of both kinds, the seed's
// zero-offset bitmap and a clean image. Each is checked for its words and its colour (severity),
// and shot at 1400×900 and 800×600 in light and dark themes into test-results/.../verdict/.

import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { sharedVerdictImages, type VerdictImages } from '../app/test-support/verdict-images';
import { openTab, openViaPicker, samplePath, waitDone } from './helpers';

const images = (): VerdictImages => sharedVerdictImages(join(tmpdir(), 'qcowscope-e2e', 'verdict-images'));

interface Case {
  readonly name: string;
  readonly path: () => string;
  readonly severity: 'error' | 'warning' | 'ok';
  readonly text: RegExp;
}

const CASES: readonly Case[] = [
  { name: 'truncated', path: () => images().half, severity: 'error', text: /^Truncated at 11\.5 MiB: the bitmap directory and \d+ data clusters lie past the end/ },
  { name: 'dirty', path: () => images().dirty, severity: 'warning', text: /^Dirty image \(lazy refcounts, not closed cleanly\): qemu-img check's \d+ errors are refcounts not written yet, expected; QEMU repairs them on its next read-write open$/ },
  { name: 'bitmap-in-use', path: () => images().bitmapInUse, severity: 'warning', text: /^Bitmap 'backup-0' was not saved cleanly: its contents are stale and QEMU will refuse to use it until it is removed$/ },
  { name: 'missing-backing', path: () => images().missingBacking, severity: 'warning', text: /^The backing file 'gone-base\.qcow2' is missing/ },
  { name: 'leaks', path: () => images().bothLeaks, severity: 'warning', text: /^2 leaked clusters by qemu-img's count: 1 referenced by nothing \(a repair frees it\), 1 in use with a refcount too high \(a repair frees nothing\)$/ },
  { name: 'seed', path: () => samplePath('seed-zero-offset-bitmap'), severity: 'warning', text: /^Consistent: 0 leaks, 0 corruptions\. Bitmap 'empty' is a zero-offset empty bitmap/ },
  { name: 'clean', path: () => images().full, severity: 'ok', text: /^clean$/ },
];

/** Background colour of the verdict line. */
const background = (page: Page) => page.getByTestId('verdict').evaluate((el) => getComputedStyle(el).backgroundColor);

async function open(page: Page, path: string): Promise<void> {
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, basename(path));
}

for (const c of CASES) {
  test(`verdict: ${c.name}`, async ({ page }) => {
    await open(page, c.path());
    const v = page.getByTestId('verdict');
    await expect(v).toHaveText(c.text);
    await expect(v).toHaveAttribute('data-severity', c.severity);
  });
}

test('severity drives the colour: red, amber and green differ', async ({ page }) => {
  const colours: Record<string, string> = {};
  for (const c of [CASES[0]!, CASES[1]!, CASES[6]!]) {
    await open(page, c.path());
    colours[c.severity] = await background(page);
  }
  expect(new Set(Object.values(colours)).size).toBe(3);
});

test('cut short: the bitmaps read past the end are counted, never shown as bitmaps', async ({ page }) => {
  await open(page, images().half);
  await expect(page.getByTestId('verdict-more')).toContainText('QEMU would refuse to open this image');
  await openTab(page, 'Bitmaps');
  await expect(page.getByTestId('bitmaps-past-end')).toContainText('lie past the end of the file');
  await expect(page.locator('.card.bitmap')).toHaveCount(0);
  await expect(page.getByTestId('zero-offset-badge')).toHaveCount(0);
});

test('cut in the bitmap directory: clusters whose owner is past the end have their own legend row', async ({ page }) => {
  await open(page, images().inBitmapDirectory);
  await expect(page.getByTestId('legend-ORPHANED')).toBeVisible();
  await expect(page.getByTestId('legend-ORPHANED')).toContainText('owner unknown');
  await expect(page.getByTestId('legend-LEAKED')).toHaveCount(0);
});

const shotDir = () => join(test.info().project.outputDir, 'verdict');
for (const scheme of ['light', 'dark'] as const) {
  for (const [w, h] of [[1400, 900], [800, 600]] as const) {
    test.describe(`${scheme} ${w}×${h}`, () => {
      test.use({ colorScheme: scheme, viewport: { width: w, height: h } });
      test('screenshots of each verdict', async ({ page }) => {
        test.setTimeout(120_000);
        for (const c of CASES) {
          await open(page, c.path());
          await expect(page.getByTestId('verdict')).toHaveText(c.text);
          await page.screenshot({ path: join(shotDir(), `${scheme}-${w}x${h}-${c.name}.png`) });
        }
      });
    });
  }
}
