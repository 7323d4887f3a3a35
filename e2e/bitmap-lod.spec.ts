// The Bitmaps tab on a 1 TiB disk whose bitmap "many" has 2,097,152 extents (runs of 8 granules of
// 64 KiB) and whose bitmap "lone" has one dirty granule: the lanes draw from their level-of-detail
// pyramid (app/format/dirty/lod.ts) — "many" dirty across the lane, "lone" one dirty column where
// its granule is — and A∖B against "lone" draws too. The image is made by qemu-img, then each
// bitmap's table is pointed at a data cluster appended to the file. Screenshot in
// test-results/screens/bitmaps-lod.png.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { mustRun } from '../app/test-support/qemu-tools';
import { openTab, openViaPicker, waitDone } from './helpers';

const CS = 65536;
const LONE_AT = 700 * 2 ** 30; // guest offset of the lone dirty granule

/** Points every entry of each named bitmap's table at one appended data cluster of `fill`. */
function craft(path: string): void {
  mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', path, '1T']);
  for (const name of ['many', 'lone']) mustRun('qemu-img', ['bitmap', '--add', '-g', String(CS), path, name]);
  let b = readFileSync(path);
  let p = b.readUInt32BE(100);
  while (b.readUInt32BE(p) !== 0x23852875) p += 8 + Math.ceil(b.readUInt32BE(p + 4) / 8) * 8;
  const count = b.readUInt32BE(p + 8);
  let entry = Number(b.readBigUInt64BE(p + 24));
  const end = Math.ceil(b.length / CS) * CS;
  const many = Buffer.alloc(CS, 0);
  for (let i = 0; i < CS; i += 2) many[i] = 0xff;
  // The lone granule: bit LONE_AT / CS of the bitmap, in the table entry covering it.
  const bit = LONE_AT / CS;
  const loneEntry = Math.floor(bit / (CS * 8));
  const lone = Buffer.alloc(CS, 0);
  lone[Math.floor((bit % (CS * 8)) / 8)] = 1 << (bit % 8);
  b = Buffer.concat([b, Buffer.alloc(end - b.length), many, lone]);
  for (let i = 0; i < count; i++) {
    const table = Number(b.readBigUInt64BE(entry));
    const size = b.readUInt32BE(entry + 8);
    const name = b.subarray(entry + 24 + b.readUInt32BE(entry + 20), entry + 24 + b.readUInt32BE(entry + 20) + b.readUInt16BE(entry + 18)).toString();
    for (let k = 0; k < size; k++) {
      if (name === 'many') b.writeBigUInt64BE(BigInt(end), table + k * 8);
      else if (k === loneEntry) b.writeBigUInt64BE(BigInt(end + CS), table + k * 8);
    }
    entry += Math.ceil((24 + b.readUInt32BE(entry + 20) + b.readUInt16BE(entry + 18)) / 8) * 8;
  }
  writeFileSync(path, b);
}

function image(): string {
  const path = join(tmpdir(), 'qcowscope-e2e-bitmap-lod.qcow2');
  if (!existsSync(path)) {
    const part = `${path}.${process.pid}.part`;
    craft(part);
    renameSync(part, path);
  }
  return path;
}

/** Columns of lane `row` drawn in the dirty colour (as e2e/bitmaps.spec.ts reads them). */
const dirtyColumns = (page: Page, row: number) => page.locator('.bitmap-lanes canvas').evaluate((c: HTMLCanvasElement, r: number) => {
  const dpr = window.devicePixelRatio || 1;
  const y = Math.round((18 + r * 22 + 11) * dpr);
  const px = c.getContext('2d')!.getImageData(0, y, c.width, 1).data;
  const cols: number[] = [];
  for (let i = 0; i < c.width; i++) if (px[i * 4]! > 200 && px[i * 4 + 1]! > 70 && px[i * 4 + 1]! < 120 && px[i * 4 + 2]! < 40) cols.push(i);
  return { cols, width: c.width };
}, row);

test('a 2-million-extent lane and a lone dirty granule on a 1 TiB disk', async ({ page }) => {
  test.setTimeout(120_000);
  const path = image();
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'qcowscope-e2e-bitmap-lod.qcow2');
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.lane-label').first()).toHaveText('many', { timeout: 60_000 });
  await expect(page.locator('.lane-label').nth(1)).toHaveText('lone');
  await expect.poll(async () => (await dirtyColumns(page, 0)).cols.length, { timeout: 30_000 }).toBeGreaterThan(0);
  const many = await dirtyColumns(page, 0);
  expect(many.cols.length).toBeGreaterThan(many.width * 0.95);
  const lone = await dirtyColumns(page, 1);
  expect(lone.cols.length).toBeGreaterThanOrEqual(1);
  expect(lone.cols.length).toBeLessThanOrEqual(2);
  const want = (LONE_AT / 2 ** 40) * lone.width;
  expect(Math.abs(lone.cols[0]! - want)).toBeLessThanOrEqual(2);
  await page.getByTestId('bitmap-b').selectOption({ label: 'lone' });
  await expect(page.getByTestId('compare-figure')).toBeVisible();
  await page.locator('.bitmap-answers').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(test.info().project.outputDir, 'screens', 'bitmaps-lod.png') });
});
