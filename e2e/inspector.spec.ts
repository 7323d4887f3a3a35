// The inspector and the guest map in the app, on real images: a clicked L2 table decodes to the host
// offsets qemu-img map reports, a refcount block to refcount 1 for a data cluster, compressed
// clusters (zlib and zstd) decompress to the pattern make.sh wrote; the guest map links a guest range
// to its host clusters and back; a bitmap's table and data clusters are highlighted; the seed's
// zero-offset bitmap is listed in the legend with no cluster. Screenshots go to the output folder.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { Role } from '../app/format/check/roles';
import { reference } from '../app/test-support/samples';
import { ROLE_COLOR, rgb } from '../app/map/palette';
import { GUEST_KIND_COLOR } from '../app/map/guest-raster';
import { GuestKind } from '../app/map/guest-layout';
import { bigImage, openTab, openViaPicker, samplePath, tmpFile, waitDone } from './helpers';

interface MapRange { start: number; length: number; depth: number; data: boolean; offset?: number }
type RGB = [number, number, number];

const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });
const hostMap = (page: Page): Locator => page.getByTestId('cluster-map');
const guestMap = (page: Page): Locator => page.getByTestId('guest-map');
const inspector = (page: Page): Locator => page.getByTestId('inspector');
/** Switches the map pane (the switch is in both maps' toolbars; the host map stays mounted, hidden). */
const showView = (page: Page, view: 'host' | 'guest') => page.getByTestId(`view-${view}`).filter({ visible: true }).click();

/** The file's bytes and a big-endian u64 reader, for values read independently of the app. */
function image(name: string) {
  const b = readFileSync(samplePath(name));
  const u64 = (at: number) => Number(b.readBigUInt64BE(at));
  return { b, u64, cs: 2 ** b.readUInt32BE(20) };
}

async function open(page: Page, name: string): Promise<void> {
  await page.goto('/');
  await openViaPicker(page, [samplePath(name)]);
  await waitDone(page, `${name}.qcow2`);
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
}

/**
 * Page coordinates of the centre of cell n of a map canvas (host: cluster n; guest: cell n, laid
 * out in blocks of B × B cells when data-block is B > 1).
 */
async function cellCentre(canvas: Locator, n: number): Promise<{ x: number; y: number }> {
  const d = await canvas.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  const k = Number(d.cellSize);
  const B = Number(d.block ?? 1);
  const bcols = Number(d.blockCols ?? d.cols);
  const b = Math.floor(n / (B * B));
  const w = n - b * B * B;
  const row = Math.floor(b / bcols) * B + Math.floor(w / B);
  const col = (b % bcols) * B + (w % B);
  const box = (await canvas.boundingBox())!;
  return { x: box.x + Number(d.offsetX) + (col + 0.5) * k, y: box.y + Number(d.offsetY) + (row + 0.5) * k };
}

/** The colour at the centre of cell n of a map canvas. */
async function cellColor(canvas: Locator, n: number): Promise<RGB> {
  const box = (await canvas.boundingBox())!;
  const c = await cellCentre(canvas, n);
  return canvas.evaluate((el, p) => {
    const dpr = window.devicePixelRatio || 1;
    const px = (el as HTMLCanvasElement).getContext('2d')!.getImageData(Math.floor(p.x * dpr), Math.floor(p.y * dpr), 1, 1).data;
    return [px[0]!, px[1]!, px[2]!] as RGB;
  }, { x: c.x - box.x, y: c.y - box.y });
}

async function clickCell(page: Page, canvas: Locator, n: number): Promise<void> {
  const c = await cellCentre(canvas, n);
  await page.mouse.click(c.x, c.y);
}

test('v3: a clicked L2 table shows the host offsets qemu-img map reports; a refcount block shows refcount 1 for a data cluster', async ({ page }) => {
  const { u64, cs } = image('v3');
  const l2 = u64(u64(40)) & 0x00ff_ffff_ffff_fe00;
  await open(page, 'v3');
  await clickCell(page, hostMap(page), l2 / cs);
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(l2 / cs));
  await expect(inspector(page)).toHaveAttribute('data-place', 'l2');
  const map = reference<MapRange[]>('v3', 'map.json')!.filter((r) => r.data && r.offset !== undefined);
  expect(map.length).toBeGreaterThan(3);
  for (const r of map) {
    for (let g = r.start; g < r.start + r.length; g += cs) {
      await expect(inspector(page).locator(`tr[data-subject="${g}"]`)).toContainText(`data at 0x${(r.offset! + g - r.start).toString(16)}, COPIED`);
    }
  }
  await shot(page, 'inspector-l2');

  // The first refcount block: the entry of the data cluster at guest 5 MiB says refcount 1.
  const block = u64(u64(48));
  const data = map.find((r) => r.start === 5 * 2 ** 20)!.offset! / cs;
  await clickCell(page, hostMap(page), block / cs);
  await expect(inspector(page)).toHaveAttribute('data-place', 'refcount-block');
  await expect(inspector(page).locator(`tr[data-subject="${data}"]`)).toContainText(`host cluster ${data} (0x${(data * cs).toString(16)}): refcount 1`);
  await shot(page, 'inspector-refcount-block');

  // The header decodes field by field from the bytes read.
  await clickCell(page, hostMap(page), 0);
  await expect(inspector(page)).toHaveAttribute('data-place', 'header');
  await expect(inspector(page).locator('tr[data-field="magic"]')).toContainText('514649fb');
});

test('a zstd cluster crafted to make fzstd loop forever: from file://, the preview names the problem and the page stays usable', async ({ page }) => {
  const { b, u64, cs } = image('compressed-zstd');
  const entry = b.readBigUInt64BE((u64(u64(40)) & 0x00ff_ffff_ffff_fe00) + 8);
  const host = Number(entry & ((1n << BigInt(62 - (Math.log2(cs) - 8))) - 1n));
  // Literals whose Huffman weights are FSE-coded with states that read no bits (fzstd never ends).
  const body = [0x02, 0x41, 0x02, 5, 0xf1, 0x07, 0xff, 0xff, 0x01, 0, 0, 0, 0x01, 0];
  const h = (body.length << 3) | (2 << 1) | 1;
  const frame = [0x28, 0xb5, 0x2f, 0xfd, 0x20, 16, h & 0xff, (h >> 8) & 0xff, h >> 16, ...body];
  const bytes = Uint8Array.from(b);
  bytes.set(frame, host);
  const path = tmpFile('zstd-loop.qcow2', bytes);
  await page.goto(pathToFileURL(resolve('dist/qcowscope.html')).href);
  await openViaPicker(page, [path]);
  await waitDone(page, 'zstd-loop.qcow2');
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
  await clickCell(page, hostMap(page), Math.floor(host / cs));
  await inspector(page).locator('tr[data-guest="65536"]').click();
  await expect(inspector(page).getByTestId('decompress-problem')).toContainText('Huffman weights');
  await shot(page, 'inspector-zstd-loop');
  // The other guest clusters of the same host cluster still decompress (0x0 holds pattern 0xc0).
  await inspector(page).locator('tr[data-guest="0"]').click();
  await expect(inspector(page).getByTestId('decompressed-summary')).toHaveAttribute('data-uniform', String(0xc0));
});

for (const [name, type] of [['compressed-zlib', 'raw deflate'], ['compressed-zstd', 'zstd']] as const) {
  test(`${name}: a compressed host cluster lists its guest clusters and previews them decompressed (${type})`, async ({ page }) => {
    const { u64, cs, b } = image(name);
    // Guest cluster 1 (0x10000) was written with pattern 0xc0; its descriptor, read here from the L2 table.
    const entry = b.readBigUInt64BE((u64(u64(40)) & 0x00ff_ffff_ffff_fe00) + 8);
    const shift = BigInt(62 - (Math.log2(cs) - 8));
    const host = Number(entry & ((1n << shift) - 1n));
    await open(page, name);
    await clickCell(page, hostMap(page), Math.floor(host / cs));
    await expect(inspector(page)).toHaveAttribute('data-place', 'compressed');
    await expect(inspector(page).getByTestId('compressed-view')).toContainText(type);
    await inspector(page).locator('tr[data-guest="65536"]').click();
    const summary = inspector(page).getByTestId('decompressed-summary');
    await expect(summary).toHaveAttribute('data-size', String(cs));
    await expect(summary).toHaveAttribute('data-uniform', String(0xc0));
    await expect(summary).toContainText('every byte is 0xc0');
    await expect(inspector(page).getByTestId('hex-view').locator('.hex-row').first()).toContainText('c0 c0 c0 c0');
    await expect(inspector(page).getByTestId('decompress-problem')).toHaveCount(0);
    await shot(page, `inspector-${name}`);
  });
}

test('guest map: a guest range highlights its host clusters, and a host data cluster marks its guest range', async ({ page }) => {
  const { cs } = image('v3');
  const range = reference<MapRange[]>('v3', 'map.json')!.find((r) => r.start === 5 * 2 ** 20)!;
  const hostCluster = range.offset! / cs;
  await open(page, 'v3');
  await showView(page, 'guest');
  await expect(guestMap(page)).toHaveAttribute('data-unit', String(cs));
  await expect(guestMap(page)).toHaveAttribute('data-cells', String(16 * 2 ** 20 / cs));
  // Guest 5 MiB is cell 80: data in this file.
  const cell = range.start / cs;
  await expect.poll(() => cellColor(guestMap(page), cell)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.DATA]!));
  expect(await cellColor(guestMap(page), cell + 5)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.UNALLOCATED]!));
  const c = await cellCentre(guestMap(page), cell);
  await page.mouse.move(c.x, c.y);
  await expect(page.getByTestId('guest-tooltip')).toContainText(`→ host 0x${range.offset!.toString(16)} (cluster ${hostCluster})`);
  await page.mouse.click(c.x, c.y);
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(hostCluster));
  await expect(page.getByTestId('guest-map-status')).toContainText('highlighting guest 0x500000–0x50ffff');
  await shot(page, 'guest-map-v3');

  // On the host map the cluster holding guest 5 MiB keeps its colour; another data cluster is dimmed.
  await showView(page, 'host');
  await expect(page.getByTestId('map-status')).toContainText('highlighting guest 0x500000–0x50ffff');
  const other = reference<MapRange[]>('v3', 'map.json')!.find((r) => r.start === 0)!.offset! / cs;
  await expect.poll(() => cellColor(hostMap(page), hostCluster)).toEqual(rgb(ROLE_COLOR[Role.DATA]!));
  expect(await cellColor(hostMap(page), other)).not.toEqual(rgb(ROLE_COLOR[Role.DATA]!));
  await shot(page, 'guest-map-host-highlight');

  // The reverse: select the data cluster of guest 0 on the host map; the guest map marks guest 0.
  await clickCell(page, hostMap(page), other);
  await showView(page, 'guest');
  await expect(page.getByTestId('guest-map-status')).toContainText(`the guest bytes in host cluster ${other}`);
  await expect.poll(() => cellColor(guestMap(page), 0)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.DATA]!));
  expect(await cellColor(guestMap(page), cell)).not.toEqual(rgb(GUEST_KIND_COLOR[GuestKind.DATA]!));
});

test('overlay and extended L2: guest map kinds (backing file, zeros, subclusters)', async ({ page }) => {
  await page.goto('/');
  await openViaPicker(page, [samplePath('overlay'), samplePath('base')]);
  await waitDone(page, 'overlay.qcow2');
  await showView(page, 'guest');
  // qemu-img map of the overlay: guest 0 from the base (depth 1), 64 KiB in the overlay, 2 MiB zero.
  await expect.poll(() => cellColor(guestMap(page), 0)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.BACKING_DATA]!));
  expect(await cellColor(guestMap(page), 1)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.DATA]!));
  expect(await cellColor(guestMap(page), 32)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.ZERO]!));
  await shot(page, 'guest-map-overlay');

  await open(page, 'extended-l2');
  await showView(page, 'guest');
  // 2 KiB subclusters of 64 KiB clusters.
  await expect(guestMap(page)).toHaveAttribute('data-unit', '2048');
  await shot(page, 'guest-map-extended-l2');
});

test('bitmaps: a bitmap highlights its table and data clusters; the seed zero-offset bitmap is in the legend with 0 clusters', async ({ page }) => {
  const { b, u64, cs } = image('bitmaps');
  await open(page, 'bitmaps');
  await openTab(page, 'Bitmaps');
  const card = page.locator('.card.bitmap[data-bitmap="c-fine"]');
  await card.getByRole('button', { name: 'Show its clusters on the map' }).click();
  await expect(page.locator('.cmap-status')).toContainText("highlighting bitmap 'c-fine'");
  // The bitmap's table and data clusters, read from the directory here (entry layout: spec).
  const ext = (() => {
    for (let p = 104; p < cs; ) {
      const type = b.readUInt32BE(p);
      const len = b.readUInt32BE(p + 4);
      if (type === 0x23852875) return { dir: u64(p + 8 + 16), n: b.readUInt32BE(p + 8) };
      p += 8 + Math.ceil(len / 8) * 8;
    }
    throw new Error('no bitmaps extension');
  })();
  let table = -1;
  let size = 0;
  for (let i = 0, p = ext.dir; i < ext.n; i++) {
    const nameSize = b.readUInt16BE(p + 18);
    const extra = b.readUInt32BE(p + 20);
    if (b.subarray(p + 24 + extra, p + 24 + extra + nameSize).toString() === 'c-fine') {
      table = u64(p);
      size = b.readUInt32BE(p + 8);
    }
    p += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
  const data = Array.from({ length: size }, (_, i) => u64(table + i * 8) & 0x00ff_ffff_ffff_fe00).filter((o) => o !== 0);
  expect(data.length).toBeGreaterThan(0);
  await expect.poll(() => cellColor(hostMap(page), table / cs)).toEqual(rgb(ROLE_COLOR[Role.BITMAP_TABLE]!));
  for (const o of data) expect(await cellColor(hostMap(page), o / cs)).toEqual(rgb(ROLE_COLOR[Role.BITMAP_DATA]!));
  expect(await cellColor(hostMap(page), 0)).not.toEqual(rgb(ROLE_COLOR[Role.HEADER]!));
  // Its dirty strip: make.sh wrote at 0, 3 MiB and 10 MiB while c-fine was enabled.
  await expect(card.locator('canvas.bitmap-strip')).toHaveAttribute('aria-label', /dirty in [1-9]\d* of \d+ stretches/);
  await expect(page.locator('.card.bitmap[data-bitmap="e-never"] canvas.bitmap-strip')).toHaveAttribute('aria-label', /dirty in 0 of/);
  await shot(page, 'bitmap-highlight');

  // The inspector reads c-fine's data cluster as the guest ranges written while it was enabled
  // (make.sh: 64 KiB at 0 first), and the directory cluster as one entry per bitmap.
  await clickCell(page, hostMap(page), data[0]! / cs);
  await expect(inspector(page)).toHaveAttribute('data-place', 'bitmap-data');
  await expect(inspector(page).locator('tr[data-subject="0"]')).toContainText('guest 0x0–0xffff: dirty');
  await shot(page, 'inspector-bitmap-data');
  await clickCell(page, hostMap(page), Math.floor(ext.dir / cs));
  await expect(inspector(page)).toHaveAttribute('data-place', 'bitmap-directory');
  await expect(inspector(page).locator('.entry-block')).toHaveCount(ext.n);
  await expect(inspector(page).locator('.entry-block').filter({ hasText: "bitmap 'c-fine'" }).locator('tr[data-field="bitmap_table_offset"]'))
    .toContainText(table.toString(16).padStart(16, '0'));
  await shot(page, 'inspector-bitmap-directory');

  await open(page, 'seed-zero-offset-bitmap');
  const extra = page.getByTestId('legend-extra');
  await expect(extra).toContainText('(zero-offset, empty)');
  await expect(extra.locator('.cmap-legend-num')).toHaveText('0');
});

test('snapshots: the snapshot table cluster lists each snapshot entry as qemu-img info names them', async ({ page }) => {
  const { u64, cs } = image('snapshots');
  const info = reference<{ snapshots: { id: string; name: string }[] }>('snapshots', 'info.json')!;
  await open(page, 'snapshots');
  await clickCell(page, hostMap(page), Math.floor(u64(64) / cs));
  await expect(inspector(page)).toHaveAttribute('data-place', 'snapshot-table');
  await expect(inspector(page).locator('.entry-block h4')).toHaveText(info.snapshots.map((sn, i) => new RegExp(`^snapshot ${sn.id} '${sn.name}' \\(entry ${i}\\)`)));
  await shot(page, 'inspector-snapshot-table');
});

test('a 1 TiB image: the guest map coarsens its cells, shows blocks at Fit, and still links to the host map', async ({ page }) => {
  test.setTimeout(120_000);
  const path = bigImage('1T');
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'big-1T.qcow2');
  await showView(page, 'guest');
  const g = guestMap(page);
  await expect(g).toHaveAttribute('data-level', 'block');
  const d = await g.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  const unit = Number(d.unit);
  const cells = Number(d.cells);
  const per = Number(d.block) ** 2;
  // At most 2^20 cells, covering the whole disk; blocks of at least 10 px at Fit.
  expect(cells).toBeLessThanOrEqual(2 ** 20);
  expect(cells * unit).toBeGreaterThanOrEqual(2 ** 40);
  expect(unit).toBeGreaterThan(65536);
  expect(Number(d.cellSize) * Number(d.block)).toBeGreaterThanOrEqual(10);
  // preallocation=metadata: every guest cluster is allocated in this file. The middle cell of the
  // first block is at the block's centre, away from the lines between blocks.
  const B = Number(d.block);
  const mid = (B / 2) * B + B / 2;
  await expect.poll(() => cellColor(g, mid)).toEqual(rgb(GUEST_KIND_COLOR[GuestKind.DATA]!));
  const c = await cellCentre(g, mid);
  await page.mouse.move(c.x, c.y);
  await expect(page.getByTestId('guest-tooltip')).toContainText(/0x0–0x[0-9a-f]+: data in this file → host 0x[0-9a-f]+ \(cluster \d+\)/);
  // At Fit a click picks the whole block.
  await clickCell(page, g, mid);
  await expect(page.getByTestId('guest-map-status')).toContainText(`highlighting guest 0x0–0x${(unit * per - 1).toString(16)}`);
  await expect(inspector(page)).toHaveAttribute('data-cluster', /^\d+$/);
  await shot(page, 'guest-map-1T');
});
