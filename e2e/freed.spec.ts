// Freed clusters in the app: an image made by the live qemu-img (a bitmap added, written, removed,
// then the disk grown so the old L1 is freed) has free clusters the engine classifies (the CLI's
// report JSON `freed` runs say which). The map's "what freed clusters held" toggle repaints a freed
// bitmap table away from the free colour; clicking the stale L1 shows the "stale — freed" banner
// and decodes it as an L1; a dropped saved analysis shows them again. On 64 GiB images made by
// qemu-img (a bitmap removed; a snapshot deleted): the inspector decodes a stale bitmap directory
// and a stale snapshot table from their bytes (names and pointers checked against the bytes read
// here, the pointers followed as links), and at Fit (many clusters per pixel) a freed cluster's
// pixel shows its former role. Screenshots (1400×900 light, 800×600 dark, 200 %) go to the output folder.

import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { Role } from '../app/format/check/roles';
import { FREED_KEEP, ROLE_COLOR, mix, rgb } from '../app/map/palette';
import { made, openViaPicker, reopenSaved, waitDone } from './helpers';

interface Run { offset: number; clusters: number; was: string; evidence: string; freedBy?: string }

const CS = 65536;
const hostMap = (page: Page): Locator => page.getByTestId('cluster-map');
const inspector = (page: Page): Locator => page.getByTestId('inspector');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on the page (as e2e/a11y.spec.ts runs it): "id: help @ targets". */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    type V = { id: string; help: string; nodes: { target: string[] }[] };
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: V[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.help} @ ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `${name}.png`) });

function freedImage(): { path: string; runs: Run[] } {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-freed-e2e-'));
  const path = join(dir, 'freed.qcow2');
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', path, '64M']);
  sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 1 0 2M', '-c', 'write -P 2 40M 1M', path]);
  sh('qemu-img', ['bitmap', '--add', path, 'big']);
  sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 3 8M 1M', path]);
  sh('qemu-img', ['bitmap', '--remove', path, 'big']);
  sh('qemu-img', ['resize', '-q', path, '2G']);
  const doc = JSON.parse(execFileSync('node', [resolve('dist-cli/qcowscope.mjs'), 'report', '--output=json', path], { encoding: 'utf8' })) as { freed: Run[] };
  return { path, runs: doc.freed };
}

async function cellCentre(canvas: Locator, n: number): Promise<{ x: number; y: number }> {
  const d = await canvas.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
  const cols = Number(d.cols);
  const k = Number(d.cellSize);
  const box = (await canvas.boundingBox())!;
  return { x: box.x + Number(d.offsetX) + ((n % cols) + 0.5) * k, y: box.y + Number(d.offsetY) + (Math.floor(n / cols) + 0.5) * k };
}

/** Colours over the cell's middle row, left to right (the hatch alternates). */
async function cellColors(canvas: Locator, n: number): Promise<string[]> {
  const box = (await canvas.boundingBox())!;
  const c = await cellCentre(canvas, n);
  const k = Number(await canvas.getAttribute('data-cell-size'));
  return canvas.evaluate((el, p) => {
    const dpr = window.devicePixelRatio || 1;
    const ctx = (el as HTMLCanvasElement).getContext('2d')!;
    const out: string[] = [];
    for (let dx = -p.half; dx <= p.half; dx++) {
      const px = ctx.getImageData(Math.floor((p.x + dx) * dpr), Math.floor(p.y * dpr), 1, 1).data;
      out.push(`${px[0]},${px[1]},${px[2]}`);
    }
    return [...new Set(out)];
  }, { x: c.x - box.x, y: c.y - box.y, half: Math.max(1, Math.floor(k / 3)) });
}

async function openFreed(page: Page): Promise<Run[]> {
  const { path, runs } = freedImage();
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'freed.qcow2');
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
  return runs;
}

test.use({ viewport: { width: 1400, height: 900 } });

test('the toggle repaints a freed bitmap table; a stale L1 decodes under the banner', async ({ page }) => {
  const runs = await openFreed(page);
  const table = runs.find((r) => r.was === 'bitmap-table' && r.freedBy === "table of removed bitmap 'big'");
  const l1 = runs.find((r) => r.was === 'l1-table');
  expect(table, JSON.stringify(runs)).toBeDefined();
  expect(l1, JSON.stringify(runs)).toBeDefined();
  const t = table!.offset / CS;
  const free = rgb(ROLE_COLOR[Role.FREE]!).join(',');
  await expect.poll(() => cellColors(hostMap(page), t)).toEqual([free]);
  await page.getByTestId('freed-toggle').check();
  // The toggle redraws in a later frame (CI once read the cell before it): poll until it has.
  await expect.poll(async () => (await cellColors(hostMap(page), t)).includes(free)).toBe(false);
  await shot(page, 'freed-toggle-1400x900');

  await page.mouse.click(...Object.values(await cellCentre(hostMap(page), l1!.offset / CS)) as [number, number]);
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(l1!.offset / CS));
  await expect(page.getByTestId('stale-banner')).toContainText('stale — freed');
  await expect(page.getByTestId('stale-banner')).toContainText('l1-table');
  await expect(inspector(page)).toHaveAttribute('data-place', 'l1');
  await expect(inspector(page)).toContainText('stale L1 table');
  await shot(page, 'freed-banner-l1-1400x900');

  await page.mouse.click(...Object.values(await cellCentre(hostMap(page), t)) as [number, number]);
  await expect(page.getByTestId('stale-banner')).toContainText("table of removed bitmap 'big'");
  // Off again: the free colour is back.
  await page.getByTestId('freed-toggle').uncheck();
  await expect.poll(() => cellColors(hostMap(page), t)).toEqual([free]);
});

test("a dropped saved analysis (the app's download) shows the freed clusters again", async ({ page }) => {
  const runs = await openFreed(page);
  const table = runs.find((r) => r.was === 'bitmap-table' && r.freedBy === "table of removed bitmap 'big'")!;
  await reopenSaved(page);
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
  const free = rgb(ROLE_COLOR[Role.FREE]!).join(',');
  await page.getByTestId('freed-toggle').check();
  // The toggle redraws in a later frame: poll until the cell shows its former role.
  await expect.poll(async () => (await cellColors(hostMap(page), table.offset / CS)).includes(free)).toBe(false);
  await page.mouse.click(...Object.values(await cellCentre(hostMap(page), table.offset / CS)) as [number, number]);
  await expect(page.getByTestId('stale-banner')).toContainText("table of removed bitmap 'big'");
});

for (const [label, opts] of [
  ['dark-800x600', { colorScheme: 'dark', viewport: { width: 800, height: 600 } }],
  ['zoom-200', { viewport: { width: 1400, height: 900 }, deviceScaleFactor: 2 }],
] as const) {
  test.describe(label, () => {
    test.use(opts);
    test(`toggle and banner, ${label}`, async ({ page }) => {
      const runs = await openFreed(page);
      const table = runs.find((r) => r.was === 'bitmap-table')!;
      await page.getByTestId('freed-toggle').check();
      await hostMap(page).scrollIntoViewIfNeeded();
      await page.mouse.click(...Object.values(await cellCentre(hostMap(page), table.offset / CS)) as [number, number]);
      await expect(page.getByTestId('stale-banner')).toContainText('bitmap-table');
      await expect(page.getByTestId('freed-legend')).toBeAttached();
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, `freed-${label}`);
    });
  });
}

/** Made once per machine (helpers.ts made): 64 GiB, every L2 entry allocated, so Fit draws buckets of clusters. */
const E2E_TMP = join(tmpdir(), 'qcowscope-e2e');
const REMOVED = 'old <b>backup</b>';

function bigFreed(kind: 'bitmap' | 'snapshot'): { path: string; name: string; runs: Run[] } {
  mkdirSync(E2E_TMP, { recursive: true });
  const name = `freed-${kind}-64G.qcow2`;
  const path = made(join(E2E_TMP, name), (p) => {
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', p, '64G']);
    if (kind === 'bitmap') {
      run('qemu-img', ['bitmap', '--add', p, 'keep']);
      run('qemu-img', ['bitmap', '--add', '-g', '65536', p, REMOVED]);
      run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 4 5G 3M', '-c', 'write -P 5 40G 1M', p]);
      run('qemu-img', ['bitmap', '--remove', p, REMOVED]);
    } else {
      run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 4 5G 3M', p]);
      run('qemu-img', ['snapshot', '-c', 'nightly', p]);
      run('qemu-img', ['snapshot', '-c', 'before-upgrade', p]);
      run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 6 0 1M', p]);
      // Without passing the discard down, the deleted snapshot's table and L1 keep their bytes.
      run('qemu-img', ['snapshot', '-d', 'before-upgrade', '--image-opts', `driver=qcow2,file.filename=${p},pass-discard-snapshot=off`]);
    }
  });
  const doc = JSON.parse(execFileSync('node', [resolve('dist-cli/qcowscope.mjs'), 'report', '--output=json', path], { encoding: 'utf8' })) as { freed: Run[] };
  return { path, name, runs: doc.freed };
}

/** Bytes [offset, offset + length) of a file. */
function bytesAt(path: string, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, b, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return b;
}

async function openBig(page: Page, kind: 'bitmap' | 'snapshot'): Promise<{ path: string; runs: Run[] }> {
  const { path, name, runs } = bigFreed(kind);
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, name);
  await expect(hostMap(page)).toHaveAttribute('data-cols', /^\d+$/);
  return { path, runs };
}

/** Selects the cluster at `offset` through "Go to offset" (exact, however far the map is zoomed out). */
async function goTo(page: Page, offset: number): Promise<void> {
  await page.getByTestId('goto-offset').fill(`0x${offset.toString(16)}`);
  await page.getByTestId('goto-offset').press('Enter');
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(offset / CS));
}

test('a stale bitmap directory shows the removed bitmap, its table offset a link to the freed table', async ({ page }) => {
  const { path, runs } = await openBig(page, 'bitmap');
  const dir = runs.find((r) => r.was === 'bitmap-directory' && r.evidence.includes(REMOVED));
  expect(dir, JSON.stringify(runs)).toBeDefined();
  // The removed bitmap's entry, read from the stale bytes here: 24 fixed bytes, extra data, name.
  const b = bytesAt(path, dir!.offset, CS);
  let table = -1;
  for (let at = 0; at + 24 <= b.length && b.readUInt8(at + 16) === 1;) {
    const nameSize = b.readUInt16BE(at + 18);
    const extra = b.readUInt32BE(at + 20);
    if (b.subarray(at + 24 + extra, at + 24 + extra + nameSize).toString('utf8') === REMOVED) table = Number(b.readBigUInt64BE(at));
    at += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
  expect(table).toBeGreaterThan(0);
  await goTo(page, dir!.offset);
  await expect(inspector(page)).toHaveAttribute('data-place', 'stale-bitmap-directory');
  await expect(page.getByTestId('stale-banner')).toContainText('bitmap-directory');
  const entry = inspector(page).locator('.entry-block', { hasText: REMOVED });
  await expect(entry.locator('h4')).toContainText(`bitmap '${REMOVED}'`);
  // The name is text: no element made of it.
  await expect(inspector(page).locator('b')).toHaveCount(0);
  const link = entry.locator('tr[data-field="bitmap_table_offset"]').getByTestId('pointer-link');
  await expect(link).toHaveAttribute('data-target', String(table));
  await shot(page, 'stale-directory-1400x900');
  // The stale view and the freed legend pass the same accessibility audit as the rest of the page.
  await page.getByTestId('freed-toggle').check();
  await expect(page.getByTestId('freed-legend')).toBeVisible();
  expect(await axeViolations(page)).toEqual([]);
  await link.click();
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(table / CS));
  await expect(page.getByTestId('stale-banner')).toContainText(`table of removed bitmap '${REMOVED}'`);
  await expect(inspector(page)).toHaveAttribute('data-place', 'stale-bitmap-table');
  // The granularity comes from the stale directory entry: 64 KiB per bit, 2 GiB per entry.
  await expect(page.getByTestId('stale-granularity')).toContainText('granularity 65536 bytes');
  await expect(inspector(page).getByTestId('pointer-link').first()).toBeVisible();
  await shot(page, 'stale-bitmap-table-1400x900');
});

test('a stale snapshot table shows the deleted snapshot, its L1 offset a link to the freed L1', async ({ page }) => {
  const { path, runs } = await openBig(page, 'snapshot');
  const table = runs.find((r) => r.was === 'snapshot-table');
  const l1 = runs.find((r) => r.was === 'l1-table' && r.freedBy === "L1 of deleted snapshot 'before-upgrade'");
  expect(table, JSON.stringify(runs)).toBeDefined();
  expect(l1, JSON.stringify(runs)).toBeDefined();
  // The deleted snapshot's entry, read from the stale bytes here (40 fixed bytes, extra, id, name).
  const b = bytesAt(path, table!.offset, CS);
  let l1Offset = -1;
  for (let at = 0; at + 40 <= b.length && b.readUInt16BE(at + 12) > 0;) {
    const idLen = b.readUInt16BE(at + 12);
    const nameLen = b.readUInt16BE(at + 14);
    const extra = b.readUInt32BE(at + 36);
    const name = b.subarray(at + 40 + extra + idLen, at + 40 + extra + idLen + nameLen).toString('utf8');
    if (name === 'before-upgrade') l1Offset = Number(b.readBigUInt64BE(at));
    at += Math.ceil((40 + extra + idLen + nameLen) / 8) * 8;
  }
  expect(l1Offset).toBe(l1!.offset);
  await goTo(page, table!.offset);
  await expect(inspector(page)).toHaveAttribute('data-place', 'stale-snapshot-table');
  const entry = inspector(page).locator('.entry-block', { hasText: "'before-upgrade'" });
  await expect(entry.locator('tr[data-field="name"]')).toContainText('"before-upgrade"');
  const link = entry.locator('tr[data-field="l1_table_offset"]').getByTestId('pointer-link');
  await expect(link).toHaveAttribute('data-target', String(l1Offset));
  await expect(entry.locator('tr[data-field="l1_table_offset"]')).toContainText(`0x${l1Offset.toString(16)}`);
  await shot(page, 'stale-snapshot-table-1400x900');
  await link.click();
  await expect(inspector(page)).toHaveAttribute('data-cluster', String(l1Offset / CS));
  await expect(inspector(page)).toHaveAttribute('data-place', 'l1');
  await expect(page.getByTestId('stale-banner')).toContainText("L1 of deleted snapshot 'before-upgrade'");
});

test('at Fit, a pixel holding freed clusters shows the former role, not plain free', async ({ page }) => {
  const { runs } = await openBig(page, 'bitmap');
  const table = runs.find((r) => r.was === 'bitmap-table' && r.freedBy === `table of removed bitmap '${REMOVED}'`);
  expect(table, JSON.stringify(runs)).toBeDefined();
  const canvas = hostMap(page);
  const t = table!.offset / CS;
  const ROLE_OF: Record<string, number> = { 'bitmap-directory': Role.BITMAP_DIRECTORY, 'bitmap-table': Role.BITMAP_TABLE, 'bitmap-data': Role.BITMAP_DATA };
  // lod.ts priority among these: directory over table over data.
  const ORDER = [Role.BITMAP_DIRECTORY, Role.BITMAP_TABLE, Role.BITMAP_DATA];
  /** The table's bucket (2^level × 2^level cells) as drawn now: its pixel, and the top former role of the freed clusters in it. */
  const where = async () => {
    const d = await canvas.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
    const level = Number(d.level);
    const cols = Number(d.cols);
    const side = 2 ** level;
    const k = Number(d.cellSize);
    const bucket = (n: number) => [Math.floor((n % cols) / side), Math.floor(Math.floor(n / cols) / side)] as const;
    const [bc, br] = bucket(t);
    const present = new Set<number>();
    for (const r of runs) {
      for (let n = r.offset / CS; n < r.offset / CS + r.clusters; n++) {
        const [c, w] = bucket(n);
        if (c === bc && w === br && ROLE_OF[r.was] !== undefined) present.add(ROLE_OF[r.was]!);
      }
    }
    // The centre of the bucket's part inside the grid: the last row of buckets may hold fewer rows.
    const rowsIn = Math.min(side, Number(d.rows) - br * side);
    const colsIn = Math.min(side, cols - bc * side);
    return { level, top: ORDER.find((r) => present.has(r))!, x: Number(d.offsetX) + (bc * side + colsIn / 2) * k, y: Number(d.offsetY) + (br * side + rowsIn / 2) * k };
  };
  /** The 5×5 device pixels around the bucket's pixel. */
  const read = (p: { x: number; y: number }) => canvas.evaluate((el, q) => {
    const dpr = window.devicePixelRatio || 1;
    const ctx = (el as HTMLCanvasElement).getContext('2d')!;
    const px = ctx.getImageData(Math.floor(q.x * dpr) - 2, Math.floor(q.y * dpr) - 2, 5, 5).data;
    const all: string[] = [];
    for (let i = 0; i < px.length; i += 4) all.push(`${px[i]},${px[i + 1]},${px[i + 2]}`);
    return { centre: all[12]!, all };
  }, p);
  const free = rgb(ROLE_COLOR[Role.FREE]!).join(',');
  // The owners' map of a 1 M-cluster image is mounted and its pyramid built in later tasks than
  // the result: wait for the pixel to be drawn (transparent black until then).
  await expect.poll(async () => (await read(await where())).centre).toBe(free);
  const off = await where();
  expect(off.level).toBeGreaterThan(0);
  await page.getByTestId('freed-toggle').check();
  await expect(page.getByTestId('freed-legend')).toContainText('What freed clusters held');
  await expect(page.getByTestId('freed-legend-BITMAP_TABLE')).toBeVisible();
  const on = await where();
  // The toggle keeps the grid: the cells stay where they were.
  expect([on.x, on.y, on.level]).toEqual([off.x, off.y, off.level]);
  const ink = rgb(ROLE_COLOR[on.top]!).join(',');
  const tint = mix(ROLE_COLOR[on.top]!, '#ffffff', FREED_KEEP).join(',');
  await expect.poll(async () => (await read(on)).all.includes(ink)).toBe(true);
  const px = await read(on);
  expect([ink, tint]).toContain(px.centre);
  await shot(page, 'freed-fit-1400x900');
});
