// Shared helpers of the browser tests: sample paths, throwaway images made with qemu-img in a tmp
// folder, opening files through the picker or a synthetic drop, and waiting for the analysis.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { mustRun } from '../app/test-support/qemu-tools';
import { samplePath } from '../app/test-support/samples';

export { samplePath };

/** Made images are kept here between runs (they depend only on the qemu-img commands). */
const TMP = join(tmpdir(), 'qcowscope-e2e');

function tmp(name: string): string {
  mkdirSync(TMP, { recursive: true });
  return join(TMP, name);
}

/**
 * Returns `path`, first making it with `make(tmpPath)` unless it exists. Made under a private name
 * and renamed, so parallel test workers never see a half-made image.
 */
export function made(path: string, make: (p: string) => void): string {
  if (existsSync(path)) return path;
  const part = `${path}.${process.pid}.part`;
  rmSync(part, { force: true });
  make(part);
  renameSync(part, path);
  return path;
}

const qemuImg = (...args: string[]): void => {
  mustRun('qemu-img', args);
};

/** A large image whose L2 tables take a while to scan: every L2 entry allocated. */
export function bigImage(size = '1T'): string {
  return made(tmp(`big-${size}.qcow2`), (p) => qemuImg('create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', p, size));
}

/** A bitmap and a snapshot named with HTML markup. */
export const MARKUP = '<img src=x onerror=alert(1)>';
export function markupImage(): string {
  return made(tmp('markup.qcow2'), (p) => {
    qemuImg('create', '-q', '-f', 'qcow2', p, '16M');
    qemuImg('bitmap', '--add', p, MARKUP);
    qemuImg('snapshot', '-c', MARKUP, p);
  });
}

/**
 * A 4 GiB image with every L2 entry allocated whose first refcount block is zeroed: every cluster
 * it covers is referenced with refcount 0, so the check finds tens of thousands of corruptions.
 */
export function zeroedRefcountImage(): string {
  return made(tmp('zeroed-refcounts.qcow2'), (p) => {
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', p, '4G');
    const fd = openSync(p, 'r+');
    try {
      const head = Buffer.alloc(64);
      readSync(fd, head, 0, 64, 0);
      const cs = 2 ** head.readUInt32BE(20);
      const entry = Buffer.alloc(8);
      readSync(fd, entry, 0, 8, Number(head.readBigUInt64BE(48)));
      writeSync(fd, Buffer.alloc(cs), 0, cs, Number(entry.readBigUInt64BE(0)));
    } finally {
      closeSync(fd);
    }
  });
}

/** Host offset of the first L2 table of an image (L1 entry 0). */
export function firstL2Offset(path: string): number {
  const b = readFileSync(path);
  return Number(b.readBigUInt64BE(Number(b.readBigUInt64BE(40))) & 0x00ff_ffff_ffff_fe00n);
}

/** A VMDK made by qemu-img: not qcow2. */
export function vmdkImage(): string {
  return made(tmp('disk.vmdk'), (p) => qemuImg('create', '-q', '-f', 'vmdk', p, '16M'));
}

/** Some bytes written to a tmp file. */
export function tmpFile(name: string, bytes: Uint8Array): string {
  const p = tmp(name);
  rmSync(p, { force: true });
  return made(p, (part) => writeFileSync(part, bytes));
}

/** Opens files through the page's file input (the "Open image…" button's input). */
export async function openViaPicker(page: Page, paths: string[]): Promise<void> {
  await page.getByTestId('file-input').first().setInputFiles(paths);
}

/** Drops files on the page with a synthetic DataTransfer, as a user's drag and drop would. */
export async function dropFiles(page: Page, paths: string[]): Promise<void> {
  const files = paths.map((p) => ({ name: basename(p), b64: readFileSync(p).toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    const target = document.querySelector('.app')!;
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, files);
}

/**
 * Waits for the complete analysis of `name`. The timeout is a hang guard, not a speed test: at least
 * 10 × the longest analysis here (the 1 TiB image: 1–7 s on 2 busy cores).
 */
export async function waitDone(page: Page, name: string): Promise<void> {
  const root = page.locator('.app');
  await expect(root).toHaveAttribute('data-file', name);
  await expect(root).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
}

export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

/** Downloads the open image's saved analysis and drops it back on a fresh page, waiting until it is shown. */
export async function reopenSaved(page: Page): Promise<void> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-analysis').click()]);
  const doc = (await download.path())!;
  await page.goto('/');
  await dropFiles(page, [doc]);
  await expect(page.getByTestId('saved-badge')).toBeVisible();
  await expect(page.locator('.app')).toHaveAttribute('data-state', 'done');
}
