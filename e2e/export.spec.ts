// "Export PNG" makes a picture that reads without the app: the map as drawn, a title band (file
// name, size, scale, date) and the legend with every role's swatch and cluster count beside it.
// The PNG is decoded in the page and its size and legend pixels checked.

import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { PNG_LAYOUT } from '../app/map/export-png';
import { ROLE_COLOR, rgb } from '../app/map/palette';
import { ROLE_INFO } from '../app/format';
import { openViaPicker, samplePath, waitDone } from './helpers';

test('the exported PNG carries the legend with counts beside the map, under a title band', async ({ page }) => {
  await page.goto('/');
  await openViaPicker(page, [samplePath('snapshots')]);
  await waitDone(page, 'snapshots.qcow2');
  const map = page.getByTestId('cluster-map');
  const { w, h } = await map.evaluate((c) => ({ w: (c as HTMLCanvasElement).width, h: (c as HTMLCanvasElement).height }));
  // The roles the legend lists, read from the page's legend.
  const rows = await page.locator('.cmap-legend-row[data-count]').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')!.replace('legend-', '')));
  expect(rows.length).toBeGreaterThan(3);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
  expect(download.suggestedFilename()).toBe('snapshots-cluster-map.png');
  const b64 = readFileSync((await download.path())!).toString('base64');
  const png = await page.evaluate(async ({ b64, x0, band }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    // Every colour in the legend column (right of the map, below the band).
    const px = ctx.getImageData(x0, band, c.width - x0, c.height - band).data;
    const legend = new Set<number>();
    for (let i = 0; i < px.length; i += 4) legend.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
    // The map part is the canvas as drawn: its top-left pixel is cluster 0's (the header).
    const m = ctx.getImageData(0, band, x0, c.height - band).data;
    let dark = 0;
    const top = ctx.getImageData(0, 0, c.width, band).data;
    for (let i = 0; i < top.length; i += 4) if (top[i]! < 80 && top[i + 1]! < 80 && top[i + 2]! < 80) dark++;
    return { width: c.width, height: c.height, legend: [...legend], mapPixels: m.length / 4, darkInBand: dark };
  }, { b64, x0: w, band: PNG_LAYOUT.band });

  expect(png.width).toBe(w + PNG_LAYOUT.legendWidth);
  expect(png.height).toBeGreaterThanOrEqual(h + PNG_LAYOUT.band);
  // Text in the title band.
  expect(png.darkInBand).toBeGreaterThan(200);
  // Each role of the legend has its swatch, in its exact colour, in the legend column.
  for (const key of rows) {
    const role = ROLE_INFO.find((r) => r.key === key)!.id;
    const [r, g, b] = rgb(ROLE_COLOR[role]!);
    expect(png.legend, `swatch of ${key}`).toContain((r << 16) | (g << 8) | b);
  }
});
