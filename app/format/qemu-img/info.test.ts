// qemu-img info parity: every sample against its stored info.json (7.2) and info.10.0.json, then a
// differential run against qemu-img 7.2 and 10.0 (where installed) on freshly made images with
// random options (fixed seed).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { qemuText } from '../qcow2/errors';
import { describe, expect, it } from 'vitest';
import { Findings, loadHeaderStage, loadStructures } from '../qcow2';
import { qemuInfo, qemuInfoText, fullBackingFilename, type QemuInfoJson } from './info';
import { NodeFileSource } from '../qcow2/source-node';
import { SAMPLES, listSamples, reference, samplePath } from '../../test-support/samples';
import { hasQemuImg, qemuImgInfo } from '../../test-support/qemu-tools';
import { makeRandomImage, withTmpDir } from '../../test-support/random-images';
import { QEMU_BINS } from '../../test-support/qemu-bins';
import type { QemuVersion } from './version';
import { humanInfo } from './info-human';

/** Runs `f` with the process in UTC (humanInfo prints snapshot dates in local time, as QEMU does). */
function inUtc<T>(f: () => T): T {
  const tz = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    return f();
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
}

async function ourInfo(path: string, filename: string, version: QemuVersion = '7.2'): Promise<{ info: QemuInfoJson; findings: Findings }> {
  const src = await NodeFileSource.open(path);
  try {
    const f = new Findings();
    const stage = await loadHeaderStage(src, f);
    const s = await loadStructures(src, stage, f);
    return { info: qemuInfo(s, { filename, version, file: { length: statSync(path).size } }), findings: f };
  } finally {
    await src.close();
  }
}

/** Both sides as JSON text after dropping what depends on the host, not the image. */
function comparable(info: unknown): string {
  const o = { ...(info as Record<string, unknown>) };
  delete o.filename;
  delete o['actual-size'];
  delete o['full-backing-filename'];
  return JSON.stringify(o, null, 1);
}

const samples = listSamples();
/** Drops every "actual-size" (the image's and, in 10.0, its file child's): the host's allocation. */
const dropActualSize = (t: string) => t.replace(/\n\s*"actual-size": \d+,/g, '');

describe('qemu-img info parity on the samples', () => {
  const withInfo = samples.filter((n) => reference(n, 'info.json') !== null);
  it('has samples to compare', () => {
    expect(withInfo.length).toBeGreaterThan(10);
  });
  it.each(withInfo)('%s', async (name) => {
    const theirs = reference(name, 'info.json');
    const { info, findings } = await ourInfo(samplePath(name), `${name}.qcow2`);
    // Compare our printed JSON (exact int64s, QEMU's key order) parsed, against qemu-img's.
    expect(comparable(JSON.parse(qemuInfoText(info)))).toBe(comparable(theirs));
    expect(findings.list.filter((x) => x.code === 'QEMU_REFUSES').map((x) => x.message)).toEqual([]);
  });

  const refused = samples.filter((n) => existsSync(join(SAMPLES, `${n}.info.err`)));
  it.each(refused)('%s: refused for the reason qemu-img gives', async (name) => {
    const err = readFileSync(join(SAMPLES, `${name}.info.err`), 'utf8').trim();
    const reason = err.replace(/^qemu-img: Could not open '[^']*': /, '');
    const { findings } = await ourInfo(samplePath(name), `${name}.qcow2`);
    const ours = findings.list.filter((x) => x.code === 'QEMU_REFUSES').map((x) => x.message);
    expect(ours.length).toBeGreaterThan(0);
    expect(qemuText(ours[0]!), ours.join('\n')).toBe(reason);
  });
});

describe('qemu-img 10.0 info parity on the samples', () => {
  const withInfo = samples.filter((n) => existsSync(join(SAMPLES, `${n}.info.10.0.json`)));
  it('has samples to compare', () => {
    expect(withInfo.length).toBe(samples.filter((n) => reference(n, 'info.json') !== null).length);
  });
  it.each(withInfo)('%s prints exactly what qemu-img 10.0 printed, apart from actual-size', async (name) => {
    const text = readFileSync(join(SAMPLES, `${name}.info.10.0.json`), 'utf8').trimEnd();
    const { info } = await ourInfo(samplePath(name), `${name}.qcow2`, '10.0');
    expect(qemuInfoText(info)).toBe(dropActualSize(text));
  });
  it.each(samples.filter((n) => existsSync(join(SAMPLES, `${n}.info.10.0.err`))))('%s: refused by 10.0 for the reason qemu-img gives', async (name) => {
    const reason = readFileSync(join(SAMPLES, `${name}.info.10.0.err`), 'utf8').trim().replace(/^qemu-img: Could not open '[^']*': /, '');
    const { findings } = await ourInfo(samplePath(name), `${name}.qcow2`, '10.0');
    const ours = findings.list.filter((x) => x.code === 'QEMU_REFUSES').map((x) => qemuText(x.message));
    expect(ours.some((m) => m === reason), `${ours.join('\n')}\nvs\n${reason}`).toBe(true);
  });
});

describe('qemu-img printing', () => {
  it('prints exactly what qemu-img printed, apart from actual-size', async () => {
    for (const name of samples.filter((n) => reference(n, 'info.json') !== null)) {
      const text = readFileSync(join(SAMPLES, `${name}.info.json`), 'utf8').trimEnd();
      const { info } = await ourInfo(samplePath(name), `${name}.qcow2`);
      expect(qemuInfoText(info), name).toBe(dropActualSize(text));
    }
  });

  it('computes the full backing file name as QEMU does', () => {
    expect(fullBackingFilename('overlay.qcow2', 'base.qcow2')).toBe('base.qcow2');
    expect(fullBackingFilename('/a/b/overlay.qcow2', 'base.qcow2')).toBe('/a/b/base.qcow2');
    expect(fullBackingFilename('d/overlay.qcow2', '/abs/base')).toBe('/abs/base');
    expect(fullBackingFilename('d/overlay.qcow2', 'nbd://host/x')).toBe('nbd://host/x');
    expect(fullBackingFilename('d/overlay.qcow2', 'sub/base:1')).toBe('d/sub/base:1');
  });
});

for (const q of QEMU_BINS) describe.runIf(hasQemuImg() && q.available)(`qemu-img ${q.version} info parity on random images (differential)`, () => {
  const SEED = 0x5eed_2c0f;
  const COUNT = 16;
  it.each(Array.from({ length: COUNT }, (_, i) => i))('random image #%i', async (i) => {
    await withTmpDir(async (dir) => {
      const made = makeRandomImage(dir, SEED + i * 7919, { kind: 'structures' });
      const theirs = qemuImgInfo(made.name, dir, q.qemuImg);
      const { info } = await ourInfo(made.path, made.name, q.version);
      // Same name, same directory: the whole text must match but for the host's allocation.
      expect(qemuInfoText(info), made.describe).toBe(dropActualSize(theirs));
      // The human form too (snapshot names of every script, dates in UTC), but for "disk size".
      const human = spawnSync(q.qemuImg, ['info', '-U', made.name], { cwd: dir, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).stdout;
      const noDisk = (t: string) => t.replace(/^(\s*)disk size: .*$/gm, '$1disk size: -');
      expect(noDisk(inUtc(() => humanInfo(info, q.version))), made.describe).toBe(noDisk(human));
    });
  });
});
