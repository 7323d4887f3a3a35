// Test helper: the sample images in sample-images/ with the qemu-img outputs stored beside each.
// Samples stored gzipped (NAME.qcow2.gz) are unpacked once into .cache/samples/.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLES = join(ROOT, 'sample-images');
const CACHE = join(ROOT, '.cache', 'samples');

/** Names (without .qcow2) of every sample image, raw or gzipped. */
export function listSamples(): string[] {
  if (!existsSync(SAMPLES)) return [];
  const names = new Set<string>();
  for (const f of readdirSync(SAMPLES)) {
    const m = /^(.*)\.qcow2(\.gz)?$/.exec(f);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Path of a sample image, unpacking NAME.qcow2.gz into the cache when needed. */
export function samplePath(name: string): string {
  const raw = join(SAMPLES, `${name}.qcow2`);
  if (existsSync(raw)) return raw;
  const gz = `${raw}.gz`;
  const out = join(CACHE, `${name}.qcow2`);
  if (!existsSync(out)) {
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(out, gunzipSync(readFileSync(gz)));
  }
  return out;
}

/** A stored reference output beside the sample (e.g. 'info.json'), parsed; null when absent. */
export function reference<T = unknown>(name: string, kind: 'info.json' | 'check.json' | 'map.json'): T | null {
  const p = join(SAMPLES, `${name}.${kind}`);
  if (!existsSync(p)) return null;
  const text = readFileSync(p, 'utf8').trim();
  return text ? (JSON.parse(text) as T) : null;
}

/** qemu-img check's stored exit code, or null. */
export function referenceCheckRc(name: string): number | null {
  const p = join(SAMPLES, `${name}.check.rc`);
  return existsSync(p) ? Number(readFileSync(p, 'utf8').trim()) : null;
}
