// The app end to end on real images: open through the picker and a synthetic drop, the panels'
// values (compared with qemu-img's stored outputs where it has them), the seed's zero-offset
// bitmap, non-qcow2 files, names with markup, and findings that select a cluster.

import { expect, test } from '@playwright/test';
import { reference } from '../app/test-support/samples';
import { dropFiles, firstL2Offset, markupImage, MARKUP, openTab, openViaPicker, samplePath, tmpFile, vmdkImage, waitDone, zeroedRefcountImage } from './helpers';

interface InfoJson {
  'virtual-size': number;
  'format-specific': { data: { bitmaps?: { name: string; flags: string[]; granularity: number }[] } };
  snapshots?: { id: string; name: string }[];
}
interface CheckJson { leaks?: number; corruptions?: number }
function stored<T>(name: string, kind: 'info.json' | 'check.json'): T {
  const v = reference<T>(name, kind);
  if (v === null) throw new Error(`sample-images/${name}.${kind} is missing`);
  return v;
}

test.beforeEach(async ({ page }) => {
  page.on('dialog', () => {
    throw new Error('a dialog opened: markup from the file ran as HTML');
  });
  await page.goto('/');
  await expect(page.locator('.app')).toHaveAttribute('data-state', 'idle');
});

test('bitmaps: every bitmap with its flags and granularity, as qemu-img info lists them', async ({ page }) => {
  await openViaPicker(page, [samplePath('bitmaps')]);
  await waitDone(page, 'bitmaps.qcow2');
  await openTab(page, 'Bitmaps');
  const info = stored<InfoJson>('bitmaps', 'info.json');
  const bitmaps = info['format-specific'].data.bitmaps!;
  await expect(page.locator('.card.bitmap')).toHaveCount(bitmaps.length);
  for (const b of bitmaps) {
    const card = page.locator(`.card.bitmap[data-bitmap="${b.name}"]`);
    await expect(card.locator('.bitmap-name')).toHaveText(b.name);
    for (const f of b.flags) await expect(card.locator(`[data-flag="${f}"]`)).toBeVisible();
    if (b.flags.length === 0) await expect(card.locator('[data-flag="none"]')).toBeVisible();
    await expect(card.getByTestId('granularity')).toHaveAttribute('data-bytes', String(b.granularity));
  }
  // Set bits from the sample's README: a-auto 10, c-fine 131, e-never 0.
  await expect(page.locator('.card.bitmap[data-bitmap="a-auto"] [data-testid="set-bits"]')).toContainText(/^10 of 256/);
  await expect(page.locator('.card.bitmap[data-bitmap="c-fine"] [data-testid="set-bits"]')).toContainText(/^131 of 4,096/);
  await expect(page.locator('.card.bitmap[data-bitmap="e-never"] [data-testid="set-bits"]')).toContainText(/^0 of/);
});

test('leak: the verdict and the check counts are qemu-img check\'s', async ({ page }) => {
  await openViaPicker(page, [samplePath('leak')]);
  await waitDone(page, 'leak.qcow2');
  const check = stored<CheckJson>('leak', 'check.json');
  await expect(page.getByTestId('verdict')).toHaveText(new RegExp(`^${check.leaks} leaked clusters by qemu-img's count: `));
  await openTab(page, 'Check');
  await expect(page.getByTestId('count-leaks')).toHaveText(String(check.leaks));
  await expect(page.getByTestId('count-corruptions')).toHaveText('0');
});

test('seed zero-offset bitmap: badge, explanation and QEMU\'s refusal', async ({ page }) => {
  await openViaPicker(page, [samplePath('seed-zero-offset-bitmap')]);
  await waitDone(page, 'seed-zero-offset-bitmap.qcow2');
  await expect(page.getByTestId('verdict')).toHaveText(/^Consistent: 0 leaks, 0 corruptions\. Bitmap 'empty' is a zero-offset empty bitmap .*QEMU 7\.2 refuses to open the image: Bitmap 'empty' doesn't satisfy the constraints$/);
  await expect(page.getByTestId('verdict')).toHaveAttribute('data-severity', 'warning');
  await openTab(page, 'Bitmaps');
  const card = page.locator('.card.bitmap[data-bitmap="empty"]');
  await expect(card.getByTestId('zero-offset-badge')).toHaveText('zero-offset empty bitmap');
  await expect(card).toContainText('2016 proposal');
  await expect(page.locator('[data-testid="zero-offset-badge"]')).toHaveCount(1);
});

test('snapshots: ids and names as qemu-img info lists them', async ({ page }) => {
  await openViaPicker(page, [samplePath('snapshots')]);
  await waitDone(page, 'snapshots.qcow2');
  await openTab(page, 'Snapshots');
  const snaps = stored<InfoJson>('snapshots', 'info.json').snapshots!;
  await expect(page.locator('tr[data-snapshot]')).toHaveCount(snaps.length);
  for (const s of snaps) {
    const row = page.locator(`tr[data-snapshot="${s.name}"]`);
    await expect(row.locator('td').first()).toHaveText(s.id);
    await expect(row.locator('.snapshot-name')).toHaveText(s.name);
  }
});

test('a synthetic drop opens the dropped file', async ({ page }) => {
  await dropFiles(page, [samplePath('bitmap-in-use')]);
  await waitDone(page, 'bitmap-in-use.qcow2');
  await openTab(page, 'Bitmaps');
  const card = page.locator('.card.bitmap[data-bitmap="live"]');
  await expect(card.locator('[data-flag="in-use"]')).toBeVisible();
  await expect(card.locator('[data-flag="auto"]')).toBeVisible();
});

test('a file that is not qcow2 gets one message saying what it is', async ({ page }) => {
  await openViaPicker(page, [vmdkImage()]);
  await expect(page.locator('.app')).toHaveAttribute('data-state', 'error');
  await expect(page.getByTestId('failure')).toContainText('disk.vmdk is not a qcow2 image');
  await expect(page.getByTestId('failure')).toContainText('VMDK');
  await dropFiles(page, [tmpFile('empty.bin', new Uint8Array(0))]);
  await expect(page.getByTestId('failure')).toContainText('empty file (0 bytes)');
});

test('names with markup render as text', async ({ page }) => {
  await openViaPicker(page, [markupImage()]);
  await waitDone(page, 'markup.qcow2');
  await openTab(page, 'Bitmaps');
  await expect(page.locator('.card.bitmap .bitmap-name')).toHaveText(MARKUP);
  await openTab(page, 'Snapshots');
  await expect(page.locator('.snapshot-name')).toHaveText(MARKUP);
  await expect(page.locator('.panels img')).toHaveCount(0);
});

test('a finding selects its cluster and the inspector reads it', async ({ page }) => {
  await openViaPicker(page, [samplePath('corrupt-refcount')]);
  await waitDone(page, 'corrupt-refcount.qcow2');
  await expect(page.getByTestId('verdict')).toHaveText(/^\d+ corruptions?$/);
  await openTab(page, 'Check');
  const finding = page.locator('.finding[data-cluster="5"]').first();
  await finding.click();
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', '5');
  await expect(page.getByTestId('inspector')).toContainText('Cluster 5 at 0x50000');
  await page.getByRole('button', { name: 'Hex' }).click();
  await expect(page.getByTestId('hex-view')).toContainText('00050000');
});

test('thousands of findings: counted in full, listed virtualised, clickable', async ({ page }) => {
  await openViaPicker(page, [zeroedRefcountImage()]);
  await waitDone(page, 'zeroed-refcounts.qcow2');
  await expect(page.getByTestId('verdict')).toHaveText(/^[\d,]+ corruptions$/);
  const corruptions = Number((await page.getByTestId('verdict').textContent())!.replace(/\D/g, ''));
  expect(corruptions).toBeGreaterThan(30_000);
  await openTab(page, 'Check');
  await expect(page.getByTestId('count-corruptions')).toHaveText(corruptions.toLocaleString('en-US'));
  await expect(page.locator('#findings-title')).toContainText(/listed of [\d,]+/);
  // Only the visible rows are in the DOM.
  const rows = await page.locator('.finding').count();
  expect(rows).toBeGreaterThan(3);
  expect(rows).toBeLessThan(60);
  await page.locator('.findings').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  // The list re-renders its rows after the scroll: read the last row's cluster and click that same
  // row in one step, so a re-render between the two cannot swap the row.
  await expect(page.locator('.finding[data-cluster]').last()).toBeVisible();
  const cluster = await page.locator('.findings').evaluate(async (el) => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const rows = el.querySelectorAll<HTMLElement>('.finding[data-cluster]');
    const row = rows[rows.length - 1]!;
    row.click();
    return row.dataset.cluster ?? '';
  });
  expect(cluster).not.toBe('');
  await expect(page.getByTestId('inspector')).toHaveAttribute('data-cluster', cluster);
});

test('the inspector decodes an L2 table and dumps its bytes', async ({ page }) => {
  const path = samplePath('v3');
  const l2 = firstL2Offset(path);
  await openViaPicker(page, [path]);
  await waitDone(page, 'v3.qcow2');
  await page.getByTestId('goto-offset').fill(`0x${l2.toString(16)}`);
  await page.getByTestId('goto-offset').press('Enter');
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toHaveAttribute('data-cluster', String(l2 / 65536));
  await expect(inspector).toContainText('L2 table (active)');
  await expect(inspector).toContainText('L2 table of active L1 entry 0, guest 0x0–0x1fffffff (8 bytes each)');
  await expect(inspector.locator('.decoded tbody tr').first()).toContainText(/guest 0x[0-9a-f]+: data at 0x[0-9a-f]+, COPIED/);
  await page.getByRole('button', { name: 'Hex' }).click();
  await expect(page.getByTestId('hex-view')).toContainText(l2.toString(16).padStart(8, '0'));
});
