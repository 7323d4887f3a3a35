// The Check panel's qemu-img output box: the JSON qemu-img info / check / map print for the image,
// as qemu-img 10.0 prints it by default and as 7.2 does when chosen, equal to the outputs recorded
// beside the sample (record-outputs.sh, make.sh) but for the host's "actual-size"; Copy copies it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { SAMPLES } from '../app/test-support/samples';
import { openTab, openViaPicker, samplePath, waitDone } from './helpers';

const stored = (file: string) => readFileSync(join(SAMPLES, file), 'utf8');
/** The page cannot know the host's allocation: it prints no "actual-size" (image and file child). */
const dropActualSize = (t: string) => t.replace(/\n\s*"actual-size": \d+,/g, '');

test('qemu-img output: 10.0 by default, 7.2 on request, equal to qemu-img\'s; Copy copies it', async ({ page, context }) => {
  await page.goto('/');
  await openViaPicker(page, [samplePath('compressed-mixed')]);
  await waitDone(page, 'compressed-mixed.qcow2');
  await openTab(page, 'Check');
  const box = page.getByTestId('qemu-output');
  await box.locator('summary').click();
  const version = page.getByTestId('qemu-version');
  const command = page.getByLabel('qemu-img command');
  const json = page.getByTestId('qemu-json');
  await expect(version).toHaveValue('10.0');

  await expect.poll(() => json.textContent()).toBe(dropActualSize(stored('compressed-mixed.info.10.0.json')));
  await command.selectOption('map');
  await expect.poll(() => json.textContent()).toBe(stored('compressed-mixed.map.10.0.json'));
  await command.selectOption('check');
  await expect.poll(() => json.textContent()).toBe(stored('compressed-mixed.check.10.0.json'));

  await version.selectOption('7.2');
  await expect.poll(() => json.textContent()).toBe(stored('compressed-mixed.check.json'));
  await command.selectOption('map');
  await expect.poll(() => json.textContent()).toBe(stored('compressed-mixed.map.json'));
  await command.selectOption('info');
  await expect.poll(() => json.textContent()).toBe(dropActualSize(stored('compressed-mixed.info.json')));

  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('qemu-copy').click();
  await expect(page.getByTestId('qemu-copy')).toHaveText('Copied');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(dropActualSize(stored('compressed-mixed.info.json')));
});
