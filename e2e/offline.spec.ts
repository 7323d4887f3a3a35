// The shareable offline page: dist/qcowscope.html copied ALONE into an empty folder and opened from
// file:// with the network off and every request blocked and counted (none may be made). A sample
// is dropped and analysed; "Download analysis" writes a small file; that file, dropped on a fresh
// page, shows the same verdict, counts, bitmap names and legend counts per role, marked as a saved
// analysis without the image; "Copy report" gives Markdown; the view lives in the URL hash; the
// Content-Security-Policy is there and enforced; the page stays under its size budget; images and
// saved analyses dropped together each open, and a broken saved analysis says what is wrong.
// QCOWSCOPE_HTML points at another build of the page (default dist/qcowscope.html).

import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { analyze } from '../app/format/analyze';
import { patchSample } from '../tools/fuzz/cases';
import { buildReport } from '../app/format/report/saved-analysis';
import { BytesSource } from '../app/format/qcow2/source';
import { analyzeSample } from '../app/test-support/analyze-sample';
import { reference, SAMPLES } from '../app/test-support/samples';
import { dropFiles, openTab, samplePath, waitDone } from './helpers';

const BUILT = resolve(process.env.QCOWSCOPE_HTML ?? 'dist/qcowscope.html');
/** The page's size budget. */
const MAX_PAGE_BYTES = 1_500_000;

/** A fresh empty folder holding only a copy of the page; returns the page's file:// URL. */
function pageAlone(): { dir: string; url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-offline-'));
  copyFileSync(BUILT, join(dir, 'qcowscope.html'));
  expect(readdirSync(dir)).toEqual(['qcowscope.html']);
  return { dir, url: pathToFileURL(join(dir, 'qcowscope.html')).href };
}

/** Turns the network off, blocks every routed request, and records every request the page makes. */
async function offline(context: BrowserContext, page: Page, pageUrl: string): Promise<string[]> {
  const made: string[] = [];
  await context.setOffline(true);
  /** The page file itself and in-page blob: / data: URLs are not the network. */
  const local = (u: string) => u.split('#')[0] === pageUrl || u.startsWith('blob:') || u.startsWith('data:');
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (local(u)) return route.continue();
    made.push(`routed ${u}`);
    return route.abort('blockedbyclient');
  });
  page.on('request', (r) => {
    if (!local(r.url())) made.push(r.url());
  });
  page.on('websocket', (ws) => made.push(ws.url()));
  return made;
}

interface Seen {
  verdict: string;
  counts: Record<string, string>;
  legend: Record<string, string>;
  bitmaps: string[];
}

/** What the page says about the file on screen: verdict, check counts, legend counts, bitmap names. */
async function seen(page: Page): Promise<Seen> {
  const verdict = (await page.getByTestId('verdict').textContent()) ?? '';
  const legend = Object.fromEntries(await page.locator('.cmap-legend-row[data-count]').evaluateAll((rows) =>
    rows.map((r) => [r.getAttribute('data-testid') ?? '', r.getAttribute('data-count') ?? ''])));
  await openTab(page, 'Check');
  const counts = Object.fromEntries(await page.locator('[data-testid^="count-"]').evaluateAll((cells) =>
    cells.map((c) => [c.getAttribute('data-testid') ?? '', c.textContent ?? ''])));
  await openTab(page, 'Bitmaps');
  const bitmaps = await page.locator('.card.bitmap .bitmap-name').allTextContents();
  await openTab(page, 'Overview');
  return { verdict, counts, legend, bitmaps };
}

test('the page alone, from file:// with no network: analyse, save the analysis, open it again', async ({ page, context }) => {
  const { dir, url } = pageAlone();
  const made = await offline(context, page, url);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await expect(page.locator('.app')).toHaveAttribute('data-state', 'idle');

  const saved: Record<string, { path: string; seen: Seen }> = {};
  for (const name of ['leak', 'bitmaps']) {
    await dropFiles(page, [samplePath(name)]);
    await waitDone(page, `${name}.qcow2`);
    const s = await seen(page);
    const download = page.waitForEvent('download');
    await page.getByTestId('download-analysis').click();
    const d = await download;
    expect(d.suggestedFilename()).toBe(`${name}.qcow2.qcowscope.json`);
    const path = join(dir, d.suggestedFilename());
    await d.saveAs(path);
    saved[name] = { path, seen: s };
  }

  // The values are qemu-img's.
  const leaks = reference<{ leaks: number }>('leak', 'check.json')!.leaks;
  expect(saved.leak!.seen.verdict).toMatch(new RegExp(`^${leaks} leaked clusters by qemu-img's count: `));
  expect(saved.leak!.seen.counts['count-leaks']).toBe(String(leaks));
  expect(Number(saved.leak!.seen.legend['legend-LEAKED']) + Number(saved.leak!.seen.legend['legend-OVERCOUNTED'])).toBe(leaks);
  const info = reference<{ 'format-specific': { data: { bitmaps: { name: string }[] } } }>('bitmaps', 'info.json')!;
  expect([...saved.bitmaps!.seen.bitmaps].sort()).toEqual(info['format-specific'].data.bitmaps.map((b) => b.name).sort());
  // Small: kilobytes, far less than the image.
  for (const name of ['leak', 'bitmaps']) {
    expect(statSync(saved[name]!.path).size).toBeLessThan(Math.min(64 * 1024, statSync(samplePath(name)).size));
  }

  // A fresh page, the saved analyses dropped: the same panels and map, marked as saved.
  for (const name of ['leak', 'bitmaps']) {
    await page.goto(url);
    await dropFiles(page, [saved[name]!.path]);
    await waitDone(page, `${name}.qcow2`);
    await expect(page.getByTestId('saved-badge')).toContainText('Saved analysis — image not present');
    await expect(page.getByTestId('saved-badge')).toContainText(`${name}.qcow2.qcowscope.json`);
    expect(await seen(page)).toEqual(saved[name]!.seen);
    for (const tab of ['Header', 'Snapshots', 'Space']) await openTab(page, tab);
    await page.getByTestId('view-guest').click();
    await expect(page.getByTestId('map-pane')).toHaveAttribute('data-view', 'guest');
    await page.getByTestId('view-host').first().click();
  }

  // The bytes of a cluster are not in a saved analysis, and the inspector says so.
  await page.getByTestId('goto-offset').fill('0x0');
  await page.getByTestId('goto-offset').press('Enter');
  await expect(page.getByTestId('no-bytes')).toContainText('The bytes are not in the saved analysis');

  // Saved again from the saved analysis: the same document but for who wrote it.
  const again = page.waitForEvent('download');
  await page.getByTestId('download-analysis').click();
  const doc2 = JSON.parse(readFileSync(await (await again).path(), 'utf8')) as Record<string, unknown>;
  const doc1 = JSON.parse(readFileSync(saved.bitmaps!.path, 'utf8')) as Record<string, unknown>;
  expect({ ...doc2, generator: '' }).toEqual({ ...doc1, generator: '' });

  expect(errors).toEqual([]);
  expect(made).toEqual([]);
});

test('the Content-Security-Policy forbids the network, and the page is within its size budget', async ({ page, context }) => {
  expect(statSync(BUILT).size).toBeLessThan(MAX_PAGE_BYTES);
  const { url } = pageAlone();
  const made = await offline(context, page, url);
  await page.goto(url);
  const csp = (await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')) ?? '';
  for (const directive of ["default-src 'none'", "connect-src 'none'", "script-src 'unsafe-inline' blob:", "worker-src blob:", "style-src 'unsafe-inline'"]) {
    expect(csp).toContain(directive);
  }
  expect(csp).not.toMatch(/https?:|\*/);
  // A bundled sample opens through the same worker path, offline.
  await page.locator('button.sample[data-sample="bitmaps"]').click();
  await waitDone(page, 'bitmaps.qcow2');
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.card.bitmap')).toHaveCount(reference<{ 'format-specific': { data: { bitmaps: unknown[] } } }>('bitmaps', 'info.json')!['format-specific'].data.bitmaps.length);
  expect(made).toEqual([]);
  // Enforced, not only written: a fetch, an image and a script from elsewhere are refused by the
  // page itself (Chromium announces the image and script requests, but none reaches the network).
  const violations = await page.evaluate(async () => {
    const seenBy: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => seenBy.push(e.effectiveDirective));
    await fetch('https://example.com/x').catch(() => undefined);
    const img = new Image();
    img.src = 'https://example.com/x.png';
    const s = document.createElement('script');
    s.src = 'https://example.com/x.js';
    document.head.append(s);
    await new Promise((r) => setTimeout(r, 300));
    return seenBy.sort();
  });
  expect(violations).toEqual(['connect-src', 'img-src', 'script-src-elem']);
  expect(made.filter((m) => m.startsWith('routed'))).toEqual([]);
});

test('"Copy report" puts Markdown for a bug report on the clipboard, or shows it when it cannot', async ({ page, context }) => {
  const { url } = pageAlone();
  await offline(context, page, url);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(url);
  await dropFiles(page, [samplePath('leak')]);
  await waitDone(page, 'leak.qcow2');
  const leaks = reference<{ leaks: number }>('leak', 'check.json')!.leaks;
  const checkJson = readFileSync(join(SAMPLES, 'leak.check.json'), 'utf8').trimEnd();
  await page.getByTestId('copy-report').click();
  await expect(page.locator('.share-status')).toHaveText('Report copied');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain(`**Verdict:** ${leaks} leaked clusters`);
  expect(copied).toContain('```json\n' + checkJson + '\n```');
  expect(copied).toMatch(/\| code \| severity \| count \| first message \|/);
  // Without a clipboard (and with execCommand refused) the report is shown, selected, to copy by hand.
  await page.evaluate(() => {
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new Error('denied')) } });
    document.execCommand = () => false;
  });
  await page.getByTestId('copy-report').click();
  await expect(page.getByTestId('copy-fallback').locator('textarea')).toHaveValue(copied);
});

test('the view lives in the URL hash', async ({ page }) => {
  const { url } = pageAlone();
  await page.goto(`${url}#tab=check&cluster=3&zoom=8`);
  await dropFiles(page, [samplePath('leak')]);
  await waitDone(page, 'leak.qcow2');
  await expect(page.getByRole('tab', { name: 'Check' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', '3');
  await openTab(page, 'Space');
  await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#tab=space&cluster=3&zoom=\d/);
  await page.getByTestId('goto-offset').fill('0x10000');
  await page.getByTestId('goto-offset').press('Enter');
  await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#tab=space&cluster=1&zoom=/);
  // Only these values are ever read from it: a hash that names a place elsewhere changes nothing.
  await page.evaluate(() => (location.hash = '#tab=https://example.com/'));
  await expect(page.getByRole('tab', { name: 'Space' })).toHaveAttribute('aria-selected', 'true');
  expect(page.url().startsWith(url)).toBe(true);
});

test('screenshots of a saved analysis (test-results/…/screens/saved-*.png)', async ({ page, context }) => {
  const { dir, url } = pageAlone();
  await offline(context, page, url);
  await page.goto(url);
  await dropFiles(page, [samplePath('bitmaps')]);
  await waitDone(page, 'bitmaps.qcow2');
  const download = page.waitForEvent('download');
  await page.getByTestId('download-analysis').click();
  const path = join(dir, 'bitmaps.qcow2.qcowscope.json');
  await (await download).saveAs(path);
  const shot = (name: string) => page.screenshot({ path: join(test.info().project.outputDir, 'screens', `saved-${name}.png`) });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(url);
    await dropFiles(page, [path]);
    await waitDone(page, 'bitmaps.qcow2');
    await expect(page.getByTestId('saved-badge')).toBeVisible();
    await shot(`${scheme}-overview`);
    await openTab(page, 'Bitmaps');
    await expect(page.locator('.card.bitmap')).toHaveCount(6);
    await page.getByTestId('goto-offset').fill('0x0');
    await page.getByTestId('goto-offset').press('Enter');
    await expect(page.getByTestId('no-bytes')).toContainText('The bytes are not in the saved analysis');
    await shot(`${scheme}-bitmaps-inspector`);
    await page.getByTestId('view-guest').click();
    await expect(page.getByTestId('map-pane')).toHaveAttribute('data-view', 'guest');
    await shot(`${scheme}-guest`);
  }
});

test('images and saved analyses dropped together; a broken saved analysis says what is wrong', async ({ page }) => {
  const { dir, url } = pageAlone();
  const doc = join(dir, 'renamed.json');
  writeFileSync(doc, JSON.stringify(buildReport(await analyzeSample('snapshots'), 'qcowscope e2e')));
  const broken = join(dir, 'broken.qcowscope.json');
  writeFileSync(broken, '{"format": "qcowscope-analysis", "version": 1, "generator": "x", "file": "a.qcow2", "fileSize": 1}');
  await page.goto(url);
  await dropFiles(page, [samplePath('leak'), doc, broken]);
  await waitDone(page, 'leak.qcow2');
  await expect(page.getByTestId('saved-badge')).toHaveCount(0);
  await page.locator('.file-tab', { hasText: 'snapshots.qcow2' }).click();
  await expect(page.getByTestId('saved-badge')).toContainText('renamed.json');
  await openTab(page, 'Snapshots');
  await expect(page.locator('.snapshot-name')).toHaveText(['s1', 's3']);
  await page.locator('.file-tab', { hasText: 'broken.qcowscope.json' }).click();
  await expect(page.getByTestId('failure')).toContainText('not a usable saved analysis: structures: missing');
});

/**
 * The bitmaps sample with a 4 MiB bitmap directory of 65535 all-zero entries appended to the file
 * (inside it: entries read past the end of a file are zeros, never shown as bitmaps).
 */
function manyBitmaps(): Uint8Array {
  const sample = new Uint8Array(readFileSync(samplePath('bitmaps')));
  const patched = patchSample(sample, { 'ext[1].directory_size': 0x40_0000, 'ext[1].nb_bitmaps': 65535, 'ext[1].directory_offset': BigInt(sample.length) });
  const out = new Uint8Array(patched.length + 0x40_0000);
  out.set(patched);
  return out;
}

test('a saved analysis of a damaged image: its notes say what was left out, and the panels still render', async ({ page }) => {
  const { dir, url } = pageAlone();
  // 65535 empty bitmap directory entries: the document keeps the first 1024 and says so.
  const bytes = manyBitmaps();
  const a = await analyze(new BytesSource(bytes, 'many-bitmaps.qcow2'));
  const doc = join(dir, 'many-bitmaps.qcowscope.json');
  writeFileSync(doc, JSON.stringify(buildReport(a, 'qcowscope e2e')));
  await page.goto(url);
  await dropFiles(page, [doc]);
  await waitDone(page, 'many-bitmaps.qcow2');
  const notes = page.getByTestId('saved-notes');
  await expect(notes).toContainText(`Only the first 1024 of the ${a.structures.bitmapDirectory!.bitmaps.length} bitmap directory entries are saved.`);
  await expect(notes).toContainText('L1 tables and the bytes of the image are not saved.');
  // The legend names 8 of the zero-offset empty bitmaps and counts the rest in one row.
  const extras = page.getByTestId('legend-extra');
  await expect(extras).toHaveCount(9);
  await expect(extras.last()).toContainText('1016 more zero-offset empty bitmaps');
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.card.bitmap').first()).toBeVisible({ timeout: 5000 });
  await openTab(page, 'Check');
  await expect(page.getByTestId('saved-badge')).toBeVisible();
  await page.screenshot({ path: join(test.info().project.outputDir, 'screens', 'saved-notes.png') });
});

test('65535 bitmap directory entries in the image itself: every panel renders, 100 bitmap cards at a time', async ({ page }) => {
  const { dir, url } = pageAlone();
  const path = join(dir, 'many-bitmaps.qcow2');
  writeFileSync(path, manyBitmaps());
  await page.goto(url);
  await dropFiles(page, [path]);
  await waitDone(page, 'many-bitmaps.qcow2');
  await expect(page.getByTestId('legend-extra').last()).toContainText('more zero-offset empty bitmaps');
  for (const tab of ['Bitmaps', 'Check', 'Space', 'Header', 'Overview']) {
    await openTab(page, tab);
    await expect(page.getByRole('tabpanel')).toBeVisible();
  }
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.card.bitmap')).toHaveCount(100);
  await expect(page.getByTestId('show-more')).toContainText('Showing 100 of 65,535 bitmaps.');
  await page.getByTestId('show-more').getByRole('button').click();
  await expect(page.locator('.card.bitmap')).toHaveCount(500);
  await page.screenshot({ path: join(test.info().project.outputDir, 'screens', 'many-bitmaps.png') });
});
