// The early map: before the L2 tables are scanned the map pane draws every host cluster as in use
// or free from the refcount blocks, then the full map with owners replaces it. Checked on an image
// made by qemu-img (metadata preallocated, two ranges discarded so that some clusters are free):
// the order the page shows the two maps in (recorded by a MutationObserver, not by time), the
// early map's counts against the refcounts read independently here, and that it covers every cluster.
// On the 1 TiB preallocated image (2,048 L2 tables): the owners are drawn in as the tables are read
// (recorded the same way: each refined draw, the cells it repainted, its first pixel).

import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { mustRun } from '../app/test-support/qemu-tools';
import { Role } from '../app/format/check/roles';
import { ROLE_COLOR, rgb } from '../app/map/palette';
import { bigImage, openViaPicker, waitDone } from './helpers';

function discardedImage(): string {
  const dir = join(tmpdir(), 'qcowscope-e2e');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'early-map-128G.qcow2');
  if (existsSync(path)) return path;
  const part = `${path}.${process.pid}.part`;
  rmSync(part, { force: true });
  mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', part, '128G']);
  mustRun('qemu-io', ['-f', 'qcow2', '-c', 'discard 1G 1G', '-c', 'discard 64G 512M', part]);
  renameSync(part, path);
  return path;
}

/** Host clusters and those with a stored refcount other than 0, read with pread (16-bit refcounts). */
function inUse(path: string, fileSize: number): { clusters: number; used: number } {
  const fd = openSync(path, 'r');
  try {
    const read = (offset: number, length: number) => {
      const b = Buffer.alloc(length);
      readSync(fd, b, 0, length, offset);
      return b;
    };
    const h = read(0, 104);
    const cs = 2 ** h.readUInt32BE(20);
    if (h.readUInt32BE(96) !== 4) throw new Error('this reader handles 16-bit refcounts only');
    const clusters = Math.ceil(fileSize / cs);
    const table = read(Number(h.readBigUInt64BE(48)), h.readUInt32BE(56) * cs);
    const perBlock = cs / 2;
    let used = 0;
    for (let i = 0; i * perBlock < clusters && i * 8 < table.length; i++) {
      const block = Number(table.readBigUInt64BE(i * 8) & ~0x1ffn);
      if (block === 0) continue;
      const b = read(block, cs);
      for (let j = 0; j < perBlock && i * perBlock + j < clusters; j++) if (b.readUInt16BE(j * 2) !== 0) used++;
    }
    return { clusters, used };
  } finally {
    closeSync(fd);
  }
}

const count = (text: string, label: string): number => Number(new RegExp(`${label}[^:]*: ([\\d,]+)`).exec(text)?.[1]?.replace(/,/g, '') ?? NaN);

test('every cluster is drawn as in use or free before the map with owners', async ({ page }) => {
  const path = discardedImage();
  await page.addInitScript(() => {
    const w = window as unknown as { __mapStages: { stage: string; legend: string; drawn: string | null; draws: string | null; owners: string | null }[]; __canvasSizes: string[] };
    w.__mapStages = [];
    w.__canvasSizes = [];
    new MutationObserver(() => {
      // Every pixel size the early map's canvas is given (a new size is a new surface and a redraw).
      const canvas = document.querySelector('[data-testid="usage-canvas"]');
      const size = canvas?.hasAttribute('width') || canvas?.hasAttribute('height') ? `${canvas.getAttribute('width')}x${canvas.getAttribute('height')}` : null;
      if (size !== null && w.__canvasSizes.at(-1) !== size) w.__canvasSizes.push(size);
      const pane = document.querySelector('[data-map-stage]');
      const stage = pane?.getAttribute('data-map-stage');
      if (!stage) return;
      const legend = document.querySelector('.usage-map-legend')?.textContent ?? '';
      const drawn = canvas?.getAttribute('data-clusters-drawn') ?? null;
      const draws = canvas?.getAttribute('data-draws') ?? null;
      const owners = canvas?.getAttribute('data-owners-done') ?? null;
      const last = w.__mapStages.at(-1);
      if (!last || last.stage !== stage || (drawn !== null && last.drawn === null) || (draws !== null && draws !== last.draws)) w.__mapStages.push({ stage, legend, drawn, draws, owners });
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-map-stage', 'data-clusters-drawn', 'data-draws', 'data-owners-done', 'width', 'height'] });
  });
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'early-map-128G.qcow2');
  await expect(page.getByTestId('map-pane')).toHaveAttribute('data-map-stage', 'owners');
  const { stages, sizes } = await page.evaluate(() => {
    const w = window as unknown as { __mapStages: { stage: string; legend: string; drawn: string | null; draws: string | null; owners: string | null }[]; __canvasSizes: string[] };
    return { stages: w.__mapStages, sizes: w.__canvasSizes };
  });
  // The early map came first, was drawn, and gave way to the map with owners.
  expect(stages.map((s) => s.stage).filter((s, i, a) => s !== a[i - 1])).toEqual(['usage', 'owners']);
  const early = stages.filter((s) => s.stage === 'usage' && s.drawn !== null).at(-1);
  expect(early).toBeDefined();
  const want = inUse(path, statSync(path).size);
  expect(want.clusters - want.used).toBeGreaterThan(0); // the discards freed clusters
  expect(count(early!.legend, 'in use')).toBe(want.used);
  expect(count(early!.legend, 'free')).toBe(want.clusters - want.used);
  expect(Number(early!.drawn)).toBe(want.clusters);
  // Bounded work: the summary was rastered once, into the canvas as it was sized before the summary
  // came (the legend keeps its rows: no new size, no new surface), then once per owner summary that
  // came before the owners' map (256 L2 tables: at most one per quarter of them), and not again as
  // the progress bar left before the owners' map replaced it (a resize redraws only once the size
  // has held). The owners' line was there from the start: no new size from it. Whether the owners'
  // map comes within REDRAW_AFTER_MS of the progress bar leaving is the machine's timing (a loaded
  // CI machine took longer): then the box's one new size, taller by the bar, is drawn once more.
  const draws = stages.filter((s) => s.stage === 'usage' && s.draws !== null);
  expect(draws[0]).toMatchObject({ draws: '1', owners: null });
  const refined = new Set(draws.map((s) => s.owners).filter((o) => o !== null));
  expect(draws.map((s) => Number(s.draws))).toEqual(draws.map((_, i) => i + 1));
  expect(refined.size).toBeLessThanOrEqual(4);
  expect(sizes.length).toBeLessThanOrEqual(2);
  if (sizes.length === 2) {
    const [w0, h0] = sizes[0]!.split('x').map(Number);
    const [w1, h1] = sizes[1]!.split('x').map(Number);
    expect(w1).toBe(w0);
    expect(h1).toBeGreaterThan(h0!);
  }
  expect(draws.length).toBeLessThanOrEqual(1 + refined.size + (sizes.length - 1));
});

test('owners are drawn in on the early map as the L2 tables are read (1 TiB, 2,048 tables)', async ({ page }) => {
  const path = bigImage('1T');
  await page.addInitScript(() => {
    const w = window as unknown as { __refines: { done: number; painted: number; draws: number; owners: string; px0: number[] }[] };
    w.__refines = [];
    new MutationObserver(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="usage-canvas"]');
      const done = canvas?.getAttribute('data-owners-done');
      if (!canvas || done == null || w.__refines.at(-1)?.done === Number(done)) return;
      // The map's first pixel (cluster 0's cell) as this draw left it.
      const px0 = [...canvas.getContext('2d')!.getImageData(0, 0, 1, 1).data].slice(0, 3);
      const owners = document.querySelector('[data-testid="usage-owners"]')?.textContent ?? '';
      w.__refines.push({ done: Number(done), painted: Number(canvas.getAttribute('data-cells-painted')), draws: Number(canvas.getAttribute('data-draws')), owners, px0 });
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-owners-done'] });
  });
  await page.goto('/');
  await openViaPicker(page, [path]);
  await waitDone(page, 'big-1T.qcow2');
  const refines = await page.evaluate(() => (window as unknown as { __refines: { done: number; painted: number; draws: number; owners: string; px0: number[] }[] }).__refines);
  // The first after the L1 walk: the tables' own clusters and the header, no data yet.
  expect(refines.length).toBeGreaterThanOrEqual(2);
  expect(refines[0]!.done).toBe(0);
  expect(refines[0]!.owners).toContain('0 of 2,048 L2 tables read');
  expect(refines[0]!.owners).toContain('L2 table (active)');
  expect(refines[0]!.owners).not.toContain('guest data');
  expect(refines[0]!.px0).toEqual(rgb(ROLE_COLOR[Role.HEADER]!));
  // Then the guest data the tables read so far point at, each time repainting only the cells that
  // changed (bounded work: the data of a quarter of the tables, not the whole map).
  for (let i = 1; i < refines.length; i++) {
    expect(refines[i]!.done).toBeGreaterThan(refines[i - 1]!.done);
    expect(refines[i]!.painted).toBeGreaterThan(0);
    expect(refines[i]!.painted).toBeLessThan(refines[0]!.painted / 2);
    expect(refines[i]!.draws).toBe(refines[i - 1]!.draws + 1);
    expect(refines[i]!.owners).toContain('guest data');
  }
  expect(refines.at(-1)!.done).toBeLessThan(2048);
});
