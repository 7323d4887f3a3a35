// qemu-img info parity: every sample against its stored info.json, then a differential run
// against the installed qemu-img on freshly made images with random options (fixed seed).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { qemuText } from '../qcow2/errors';
import { describe, expect, it } from 'vitest';
import { Findings } from '../qcow2/errors';
import { qemuInfo, qemuInfoText, fullBackingFilename, type QemuInfoJson } from './info';
import { NodeFileSource } from '../qcow2/source-node';
import { loadHeaderStage, loadStructures } from '../qcow2/structures';
import { SAMPLES, listSamples, reference, samplePath } from '../../test-support/samples';
import { hasQemuImg, makeRandomImage, qemuImgInfo, withTmpDir } from '../../test-support/random-images';

async function ourInfo(path: string, filename: string): Promise<{ info: QemuInfoJson; findings: Findings }> {
  const src = await NodeFileSource.open(path);
  try {
    const f = new Findings();
    const stage = await loadHeaderStage(src, f);
    const s = await loadStructures(src, stage, f);
    return { info: qemuInfo(s, { filename }), findings: f };
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
const dropActualSize = (t: string) => t.replace(/\n\s*"actual-size": \d+,/, '');

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

describe.runIf(hasQemuImg())('qemu-img info parity on random images (differential)', () => {
  const SEED = 0x5eed_2c0f;
  const COUNT = 16;
  it.each(Array.from({ length: COUNT }, (_, i) => i))('random image #%i', async (i) => {
    await withTmpDir(async (dir) => {
      const made = makeRandomImage(dir, SEED + i * 7919);
      const theirs = qemuImgInfo(made.path, dir);
      const { info } = await ourInfo(made.path, made.name);
      // Same name, same directory: the whole text must match but for the host's allocation.
      expect(qemuInfoText(info), made.describe).toBe(dropActualSize(theirs));
    });
  });
});
