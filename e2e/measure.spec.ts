// The Overview's "qemu-img convert would write about N, M less than this file" line
// (app/ui/OverviewPanel.tsx, format/qemu-img/measure.ts convertEstimate): N is what the live
// `qemu-img measure -O qcow2` calls the required size of a dense copy of the sample, M the file size
// less N ("more" when negative). Screenshots at 1400×900 goes to test-results/screens/measure-overview-SAMPLE.png.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { formatBytes } from '../app/ui/format';
import { openViaPicker, samplePath, waitDone } from './helpers';

test.use({ viewport: { width: 1400, height: 900 } });

for (const sample of ['v3', 'bitmaps', 'cluster-2m']) {
  test(`the convert estimate of ${sample} is qemu-img measure's required size`, async ({ page }) => {
    const copy = join(mkdtempSync(join(tmpdir(), 'qcowscope-measure-e2e-')), `${sample}.qcow2`);
    writeFileSync(copy, readFileSync(samplePath(sample)));
    const out = execFileSync('qemu-img', ['measure', '--output=json', '-O', 'qcow2', copy], { encoding: 'utf8' });
    const required = (JSON.parse(out) as { required: number }).required;
    const less = statSync(copy).size - required;
    await page.goto('/');
    await openViaPicker(page, [copy]);
    await waitDone(page, `${sample}.qcow2`);
    await expect(page.getByTestId('convert-estimate')).toHaveText(
      `qemu-img convert would write about ${formatBytes(required)}, ${formatBytes(Math.abs(less))} ${less >= 0 ? 'less' : 'more'} than this file.`,
    );
    await page.screenshot({ path: join(test.info().project.outputDir, 'screens', `measure-overview-${sample}.png`) });
  });
}

for (const [label, opts] of [
  ['dark-800x600', { colorScheme: 'dark', viewport: { width: 800, height: 600 } }],
  ['zoom-200', { viewport: { width: 1400, height: 900 }, deviceScaleFactor: 2 }],
] as const) {
  test.describe(label, () => {
    test.use(opts);
    test(`the convert estimate line, ${label}`, async ({ page }) => {
      await page.goto('/');
      await openViaPicker(page, [samplePath('bitmaps')]);
      await waitDone(page, 'bitmaps.qcow2');
      await expect(page.getByTestId('convert-estimate')).toContainText('qemu-img convert would write about');
      await page.getByTestId('convert-estimate').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(test.info().project.outputDir, 'screens', `measure-overview-${label}.png`) });
    });
  });
}
