// qemu-img map parity: every sample's JSON byte for byte against qemu-img's stored output, and
// crafted extended-L2 damage against the live qemu-img (an invalid cluster fails the query that
// scans into it, so qemu-img map stops before the run that leads there).

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guestMapJson, type MapRange } from './block-status';
import { analyzePath, analyzeSample, referenceText } from '../../test-support/analyze-sample';
import { patchFile } from '../../test-support/craft';
import { hasQemuImg, qemuMap } from '../../test-support/qemu-tools';
import { listSamples, samplePath } from '../../test-support/samples';

const samples = listSamples();

/** Ranges tile [0, size) without gaps or overlaps. */
function tiles(ranges: readonly MapRange[], size: number): boolean {
  let at = 0;
  for (const r of ranges) {
    if (r.start !== at || r.length <= 0) return false;
    at += r.length;
  }
  return at === size;
}

describe('every sample against qemu-img map', () => {
  it.each(samples)('%s', async (name) => {
    const a = await analyzeSample(name);
    const text = referenceText(name, 'map.json');
    expect(a.check.mapError).toBeNull();
    expect(tiles(a.guestMap, Number((a.structures.header.size / 512n) * 512n))).toBe(true);
    if (text === null) expect(a.qemuRefuses.length).toBeGreaterThan(0);
    else expect(guestMapJson({ ranges: a.guestMap, error: null })).toBe(text);
  });

  it('an overlay whose backing file is missing maps alone, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcowscope-map-'));
    try {
      copyFileSync(samplePath('overlay'), join(dir, 'overlay.qcow2'));
      const a = await analyzePath(join(dir, 'overlay.qcow2'), dir);
      expect(a.findings.filter((f) => f.code === 'BACKING_UNAVAILABLE').length).toBe(1);
      expect(a.guestMap.every((r) => r.depth === 0)).toBe(true);
      const base = await analyzeSample('overlay');
      // Where the overlay has data, both maps agree.
      const own = (m: readonly MapRange[]) => m.filter((r) => r.depth === 0 && r.present);
      expect(own(a.guestMap)).toEqual(own(base.guestMap));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(hasQemuImg())('damaged extended L2 entries against the live qemu-img map', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-extl2-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** File offset of the extended L2 entry for guest cluster `index` of the extended-l2 sample. */
  const entryAt = (b: Buffer, index: number) => Number(b.readBigUInt64BE(Number(b.readBigUInt64BE(40))) & 0x00fffffffffffe00n) + 16 * index;
  const cases: [string, (b: Buffer) => void][] = [
    // Guest cluster 1 (64k..128k) is unallocated; 2..15 too: an invalid cluster 10 is reached by
    // the query for the unallocated run that starts at cluster 1.
    ['allocation bits on an unallocated cluster after an unallocated run', (b) => void b.writeUInt32BE(1, entryAt(b, 10) + 12)],
    ['zero and allocation bits both set on an allocated cluster', (b) => {
      const at = entryAt(b, 16); // guest 1 MiB: allocated, with zeroed subclusters
      b.writeUInt32BE((b.readUInt32BE(at + 8) | 1) >>> 0, at + 8);
      b.writeUInt32BE((b.readUInt32BE(at + 12) | 1) >>> 0, at + 12);
    }],
    ['an invalid first cluster', (b) => void b.writeUInt32BE(0xffff_ffff, entryAt(b, 0) + 8)],
    // Several poisoned runs in one table, each ending at its own invalid cluster.
    ['two invalid clusters with an unallocated run between them', (b) => {
      b.writeUInt32BE(1, entryAt(b, 12) + 12);
      b.writeUInt32BE(1, entryAt(b, 5) + 12);
    }],
    ['every third cluster invalid', (b) => {
      for (let i = 2; i < 40; i += 3) b.writeUInt32BE(0x8000_0000, entryAt(b, i) + 12);
    }],
  ];
  it.each(cases)('%s', async (label, patch) => {
    const file = `${label.slice(0, 24).replace(/\W+/g, '-')}.qcow2`;
    copyFileSync(samplePath('extended-l2'), join(dir, file));
    patchFile(join(dir, file), patch);
    const a = await analyzePath(join(dir, file));
    const q = qemuMap(dir, file);
    expect(q.rc).toBe(1);
    expect(a.check.mapError).not.toBeNull();
    expect(guestMapJson({ ranges: a.guestMap, error: a.check.mapError })).toBe(q.stdout);
  });
});
