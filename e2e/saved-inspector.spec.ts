// A saved analysis dropped back describes each cluster as the image did: for every host cluster of
// real samples (shared and snapshot-only data, L2 tables, refcount blocks, compressed pieces) the
// inspector's role, refcount and owner line and the map tooltip's owner line are the same with the
// image and with its saved analysis; the missing bytes are a neutral note, not an error.

import { expect, test, type Page } from '@playwright/test';
import { openViaPicker, reopenSaved, samplePath, waitDone } from './helpers';

interface Seen { head: string; owner: string; tip: string }

async function describeAll(page: Page, clusterSize: number): Promise<Seen[]> {
  const clusters = Number(await page.getByTestId('cluster-map').getAttribute('data-clusters'));
  const out: Seen[] = [];
  for (let k = 0; k < clusters; k++) {
    await page.getByTestId('goto-offset').fill(`0x${(k * clusterSize).toString(16)}`);
    await page.getByTestId('goto-offset').press('Enter');
    const inspector = page.getByTestId('inspector');
    await expect(inspector).toHaveAttribute('data-cluster', String(k));
    const head = (await inspector.locator('.inspector-head .badge').allTextContents()).join(' | ');
    const owner = (await inspector.locator('.inspector-head .owner').textContent()) ?? '';
    // The tooltip over the cell (the view is centred on it).
    const d = await page.getByTestId('cluster-map').evaluate((e) => ({ ...(e as HTMLElement).dataset }));
    const box = (await page.getByTestId('cluster-map').boundingBox())!;
    const g = { cols: +d.cols!, k: +d.cellSize!, x: +d.offsetX!, y: +d.offsetY! };
    await page.mouse.move(box.x + g.x + ((k % g.cols) + 0.5) * g.k, box.y + g.y + (Math.floor(k / g.cols) + 0.5) * g.k);
    const tip = page.getByTestId('cluster-tooltip');
    await expect(tip.locator('.cmap-tip-what')).toHaveText(`cluster ${k}`);
    out.push({ head, owner, tip: (await tip.locator('.cmap-tip-meta').allTextContents()).join(' | ') });
    await page.mouse.move(0, 0);
  }
  return out;
}

for (const [sample, clusterSize] of [['snapshots', 65536], ['compressed-mixed', 65536]] as const) {
  test(`${sample}: the saved analysis's inspector and tooltip say what the image's say`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.goto('/');
    await openViaPicker(page, [samplePath(sample)]);
    await waitDone(page, `${sample}.qcow2`);
    const live = await describeAll(page, clusterSize);
    expect(live.some((s) => s.owner.includes('guest'))).toBe(true);
    await reopenSaved(page);
    const saved = await describeAll(page, clusterSize);
    expect(saved).toEqual(live);
    // No bytes: said plainly, not as an error.
    await expect(page.getByTestId('no-bytes')).toBeVisible();
    await expect(page.getByTestId('inspector').locator('.error-text')).toHaveCount(0);
  });
}
