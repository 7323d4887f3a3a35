// Hostile files in the page: names and feature names made of markup, control characters, bidi
// overrides and invalid UTF-8 are shown as text and create no element; a worker that stops
// answering is ended by the watchdog and the page says so; files of other formats are named; and
// the page, opened from file://, makes no network request and writes nothing. (app.spec.ts covers
// the plain markup names of a bitmap and a snapshot; this extends it to the rest.)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { mustRun } from '../app/test-support/qemu-tools';
import { patchSample } from '../tools/fuzz/cases';
import { locate } from '../tools/fuzz/locate';
import { MARKUP, openTab, openViaPicker, samplePath, tmpFile, waitDone } from './helpers';

const TMP = join(tmpdir(), 'qcowscope-e2e-hostile');
const BITMAP_NAMES = [MARKUP, '<script>alert(2)</script>', '\u202egpj.exe', 'bell\u0007esc\u001b[31m'];
const SNAPSHOT_NAME = '"><svg onload=alert(3)>';
const FEATURE_NAME = '<img src=x onerror=alert(4)>';
/** Bytes written over the second bitmap's name: invalid UTF-8 and a NUL (QEMU stops at the NUL). */
const INVALID_NAME = Uint8Array.from([0x3c, 0xff, 0xfe, 0xc0, 0xaf, 0x3e, 0x00, 0x41]);

/** An image whose every name is hostile, with an unknown incompatible feature named by markup. */
function hostileImage(): string {
  mkdirSync(TMP, { recursive: true });
  const p = join(TMP, 'hostile.qcow2');
  if (existsSync(p)) return p;
  const part = `${p}.${process.pid}.part`;
  mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', part, '16M']);
  for (const n of BITMAP_NAMES) mustRun('qemu-img', ['bitmap', '--add', part, n]);
  mustRun('qemu-img', ['snapshot', '-c', SNAPSHOT_NAME, part]);
  let b: Uint8Array = new Uint8Array(readFileSync(part));
  const feature = locate(b).names.find((n) => n.name === 'ext[0].feature[0].name')!;
  b = patchSample(b, { 'ext[0].feature[0].type': 0, 'ext[0].feature[0].bit': 20, 'header.incompatible_features': 1n << 20n });
  b.fill(0, feature.offset, feature.offset + 46);
  b.set(new TextEncoder().encode(FEATURE_NAME), feature.offset);
  const second = locate(b).names.find((n) => n.name === 'bitmap[1].name')!;
  b.set(INVALID_NAME.subarray(0, second.length), second.offset);
  writeFileSync(p, b);
  return p;
}

/** Elements markup from a file could have created; `scripts` is the page's own count. */
async function injected(page: Page, scripts: number): Promise<number> {
  return page.evaluate((n) => document.querySelectorAll('img, iframe, object, embed, [onerror], [onload], [onclick], svg [onload]').length
    + Math.max(0, document.querySelectorAll('script').length - n), scripts);
}

test.beforeEach(({ page }) => {
  page.on('dialog', () => {
    throw new Error('a dialog opened: markup from the file ran');
  });
});

test('hostile names and feature names are text and create no element', async ({ page }) => {
  await page.goto('/');
  const scripts = await page.locator('script').count();
  await openViaPicker(page, [hostileImage()]);
  await waitDone(page, 'hostile.qcow2');
  await openTab(page, 'Bitmaps');
  const names = await page.locator('.card.bitmap .bitmap-name').allTextContents();
  expect(names).toEqual(expect.arrayContaining([BITMAP_NAMES[0], BITMAP_NAMES[2], BITMAP_NAMES[3]]));
  expect(names).toContain('<\ufffd\ufffd\ufffd\ufffd>');
  await openTab(page, 'Snapshots');
  await expect(page.locator('.snapshot-name')).toHaveText(SNAPSHOT_NAME);
  await openTab(page, 'Header');
  await expect(page.locator('.header-panel')).toContainText(FEATURE_NAME);
  await openTab(page, 'Overview');
  await expect(page.locator('.panels')).toContainText(`Unsupported qcow2 feature(s): ${FEATURE_NAME}`);
  for (const tab of ['Check', 'Space', 'Overview']) {
    await openTab(page, tab);
    expect(await injected(page, scripts), tab).toBe(0);
  }
});

test('the watchdog ends a worker that stops answering, and the page says so', async ({ page }) => {
  // The first worker goes silent once it has sent the header, as one stuck in a loop would.
  await page.addInitScript(() => {
    const Real = window.Worker;
    let made = 0;
    const w = window as unknown as { terminated: number };
    w.terminated = 0;
    window.Worker = class extends Real {
      private readonly silent: boolean;
      private hung = false;
      private handler: ((ev: MessageEvent) => void) | null = null;
      constructor(url: string | URL, opts?: WorkerOptions) {
        super(url, opts);
        this.silent = ++made === 1;
        super.onmessage = (ev: MessageEvent) => {
          if (this.hung) return;
          if (this.silent && (ev.data as { type?: string } | null)?.type === 'header') this.hung = true;
          this.handler?.(ev);
        };
      }
      override get onmessage() {
        return this.handler;
      }
      override set onmessage(fn: ((ev: MessageEvent) => void) | null) {
        this.handler = fn;
      }
      override terminate(): void {
        w.terminated++;
        super.terminate();
      }
    };
  });
  await page.goto('/?watchdog=1');
  await openViaPicker(page, [samplePath('snapshots')]);
  await expect(page.locator('.banner.error')).toContainText('analysis stopped: the worker did not answer for 1 s', { timeout: 10_000 });
  await expect(page.locator('.app')).not.toHaveAttribute('data-state', 'scanning');
  expect(await page.evaluate(() => (window as unknown as { terminated: number }).terminated)).toBeGreaterThan(0);
  // A new worker takes the next file.
  await openViaPicker(page, [samplePath('v3')]);
  await waitDone(page, 'v3.qcow2');
});

test('files of other formats are named', async ({ page }) => {
  await page.goto('/');
  const made = (fmt: string) => {
    const p = join(TMP, `disk.${fmt}`);
    mkdirSync(TMP, { recursive: true });
    if (!existsSync(p)) mustRun('qemu-img', ['create', '-q', '-f', fmt, p, '16M']);
    return p;
  };
  const bytes = (size: number, ...parts: [number, number[] | string][]) => {
    const b = new Uint8Array(size);
    for (const [at, d] of parts) b.set(typeof d === 'string' ? Array.from(d, (c) => c.charCodeAt(0)) : d, at);
    return b;
  };
  const cases: [string, RegExp][] = [
    [made('vpc'), /VHD \/ Virtual PC image/],
    [made('vhdx'), /VHDX image/],
    [made('vdi'), /VDI image/],
    [made('qcow'), /qcow version 1/],
    [tmpFile('mbr.img', bytes(65536, [510, [0x55, 0xaa]])), /MBR/],
    [tmpFile('gpt.img', bytes(65536, [510, [0x55, 0xaa]], [512, 'EFI PART'])), /GPT partition table/],
    [tmpFile('cd.iso', bytes(40960, [32769, 'CD001'])), /ISO 9660/],
    [tmpFile('four.bin', bytes(4, [0, [0x51, 0x46, 0x49, 0xfb]])), /truncated qcow2 header \(4 bytes/],
  ];
  for (const [path, says] of cases) {
    await openViaPicker(page, [path]);
    await expect(page.getByTestId('failure')).toContainText('is not a qcow2 image');
    await expect(page.getByTestId('failure').locator('.failure-what')).toHaveText(says);
  }
});

/** The 2 MiB-cluster sample with cluster 0 after its extensions filled by `fill(bytes, at)`. */
function fillCluster0(fill: (b: Buffer, at: number, end: number) => void): Uint8Array {
  const b = Buffer.from(readFileSync(samplePath('cluster-2m')));
  let at = b.readUInt32BE(100);
  while (b.readUInt32BE(at) !== 0) at += 8 + Math.ceil(b.readUInt32BE(at + 4) / 8) * 8;
  fill(b, at, 2 ** b.readUInt32BE(20));
  return new Uint8Array(b);
}

// Time is npm run bench's business; these tests bound the work instead: rows rendered, not elapsed ms.
test('cluster 0 full of header extensions or feature names: the Header tab renders one page of rows', async ({ page }) => {
  const manyExtensions = fillCluster0((b, at, end) => {
    for (let i = 0; at + 16 <= end; at += 8, i++) b.writeUInt32BE(0x1234 + (i % 7), at); // empty unknown extensions
  });
  const manyFeatures = fillCluster0((b, at, end) => {
    const len = Math.floor((end - at - 16) / 48) * 48;
    b.writeUInt32BE(0x6803f857, at);
    b.writeUInt32BE(len, at + 4);
    for (let i = 0; i < len / 48; i++) b.write(`feature-${i}`, at + 8 + i * 48 + 2);
  });
  for (const [name, bytes, noun, total] of [['many-extensions', manyExtensions, 'extensions', '262,081'], ['many-features', manyFeatures, 'feature names', '43,687']] as const) {
    await page.goto('/');
    await openViaPicker(page, [tmpFile(`${name}.qcow2`, bytes)]);
    await waitDone(page, `${name}.qcow2`);
    await openTab(page, 'Header');
    await expect(page.getByTestId('show-more')).toContainText(`Showing 200 of ${total} ${noun}.`);
    // A page of 200 extensions or names, beside the header's own fields: not 262,081 rows.
    expect(await page.locator('.header-panel tr').count(), name).toBeLessThan(200 + 100);
    await page.getByTestId('show-more').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });
    await openTab(page, 'Overview');
    await expect(page.getByTestId('verdict')).toBeVisible();
  }
});

test('65536 snapshots in a small file: every panel renders, with a page of snapshots and a window of findings', async ({ page }) => {
  const b = patchSample(new Uint8Array(readFileSync(samplePath('empty'))), { 'header.nb_snapshots': 65536, 'header.snapshots_offset': 0x30000 });
  await page.goto('/');
  await openViaPicker(page, [tmpFile('many-snapshots.qcow2', b)]);
  await waitDone(page, 'many-snapshots.qcow2');
  for (const [tab, ready] of [['Snapshots', '.snapshots-panel'], ['Check', '[data-testid="count-corruptions"]'], ['Header', '.header-panel'], ['Space', '.panels'], ['Overview', '[data-testid="verdict"]']] as const) {
    await openTab(page, tab);
    await expect(page.locator(ready).first()).toBeVisible();
  }
  // The table lies past the end of this small file: its entries are zeros QEMU reads, not snapshots.
  await openTab(page, 'Snapshots');
  await expect(page.getByTestId('snapshots-past-end')).toContainText('65,536 table entries lie past the end of the file');
  expect(await page.locator('[data-snapshot]').count()).toBe(0);
  await openTab(page, 'Check');
  await expect(page.getByTestId('count-corruptions')).toHaveText('65,537');
  // The findings list is virtualized: a window of rows on screen, however many findings there are.
  const rows = await page.locator('.finding').count();
  expect(rows).toBeGreaterThan(0);
  expect(rows).toBeLessThan(100);
});

test('65536 snapshots inside the file: the Snapshots tab renders a page of 500', async ({ page }) => {
  const small = patchSample(new Uint8Array(readFileSync(samplePath('empty'))), { 'header.nb_snapshots': 65536, 'header.snapshots_offset': 0x30000 });
  // Every entry is 40 zero bytes (no extra data, id or name): the table ends 2.5 MiB past 0x30000.
  const b = new Uint8Array(0x30000 + 65536 * 40 + 0x10000);
  b.set(small.subarray(0, Math.min(small.length, b.length)));
  await page.goto('/');
  await openViaPicker(page, [tmpFile('many-snapshots-inside.qcow2', b)]);
  await waitDone(page, 'many-snapshots-inside.qcow2');
  await openTab(page, 'Snapshots');
  await expect(page.getByTestId('show-more')).toContainText('Showing 500 of 65,536 snapshots.');
  expect(await page.locator('[data-snapshot]').count()).toBe(500);
});

test('from file://, the page makes no network request and writes nothing', async ({ page, context }) => {
  const url = pathToFileURL(resolve('dist/qcowscope.html')).href;
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.continue();
  });
  page.on('request', (r) => requests.push(r.url()));
  page.on('websocket', (ws) => requests.push(ws.url()));
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.goto(url);
  await openViaPicker(page, [hostileImage(), samplePath('overlay')]);
  await waitDone(page, 'hostile.qcow2');
  for (const tab of ['Header', 'Bitmaps', 'Snapshots', 'Check', 'Space', 'Overview']) await openTab(page, tab);
  await page.getByTestId('goto-offset').fill('0x0');
  await page.getByTestId('goto-offset').press('Enter');
  await page.getByRole('button', { name: 'Hex' }).click();
  await expect(page.getByTestId('hex-view')).toContainText('00000000');
  expect(requests.filter((r) => r !== url && !r.startsWith('blob:') && !r.startsWith('data:'))).toEqual([]);
  expect(downloads).toBe(0);
  const stored = await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    databases: (await indexedDB.databases()).length,
    caches: 'caches' in window ? (await caches.keys()).length : 0,
  }));
  expect(stored).toEqual({ local: 0, session: 0, databases: 0, caches: 0 });
});
