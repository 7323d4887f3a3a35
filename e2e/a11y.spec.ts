// Accessibility: axe-core (the engine behind Lighthouse's and the browser extensions' audits) run
// on the built page — the start page, then every panel tab with an image open, with a cluster
// selected so the inspector is scanned too — in light and dark themes. No violation is allowed.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openTab, openViaPicker, samplePath, waitDone } from './helpers';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary: string | undefined }[] }

async function violations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Violation[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
}

const describe = (vs: Violation[]) => vs.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary ?? ''}`).join('\n  ')}`).join('\n');

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });

    test('the start page has no axe violations', async ({ page }) => {
      await page.goto('/');
      await expect(page.locator('button.sample')).not.toHaveCount(0);
      const v = await violations(page);
      expect(v, describe(v)).toEqual([]);
    });

    for (const sample of ['snapshots', 'bitmaps', 'compressed-zlib', 'leak']) {
      test(`every tab of ${sample}, with the inspector open, has no axe violations`, async ({ page }) => {
        await page.goto('/');
        await openViaPicker(page, [samplePath(sample)]);
        await waitDone(page, `${sample}.qcow2`);
        await page.getByTestId('goto-offset').fill('0x10000');
        await page.getByTestId('goto-offset').press('Enter');
        await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', '1');
        for (const tab of ['Overview', 'Header', 'Snapshots', 'Bitmaps', 'Check', 'Space']) {
          await openTab(page, tab);
          await expect(page.getByRole('tab', { name: tab })).toHaveAttribute('aria-selected', 'true');
          const v = await violations(page);
          expect(v, `${tab}:\n${describe(v)}`).toEqual([]);
        }
      });
    }
  });
}

// The guest disk view (go-to, legend, note) with a chain of two dropped files, wide (file tabs) and
// narrow (the file select), and the bitmap lanes beside it.
for (const [w, h] of [[1400, 900], [800, 600]] as const) {
  test(`the guest disk view of a chain at ${w}×${h} has no axe violations`, async ({ page }) => {
    await page.setViewportSize({ width: w, height: h });
    await page.goto('/');
    await openViaPicker(page, [samplePath('overlay'), samplePath('base')]);
    await waitDone(page, 'overlay.qcow2');
    await page.getByTestId('view-guest').filter({ visible: true }).click();
    await page.getByTestId('guest-goto').fill('0');
    await page.getByTestId('guest-goto').press('Enter');
    await expect(page.locator('.gmap-note')).toBeVisible();
    const v = await violations(page);
    expect(v, describe(v)).toEqual([]);
  });
}

test('the bitmap lanes beside the guest disk view have no axe violations', async ({ page }) => {
  await page.goto('/');
  await openViaPicker(page, [samplePath('bitmaps')]);
  await waitDone(page, 'bitmaps.qcow2');
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.bitmap-lanes canvas')).toBeVisible();
  await page.getByTestId('view-guest').filter({ visible: true }).click();
  await page.locator('.lane-zoom').getByRole('button', { name: 'Zoom in' }).click();
  const v = await violations(page);
  expect(v, describe(v)).toEqual([]);
});
