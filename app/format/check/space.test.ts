// Space accounting: the categories sum exactly to the file size on every sample; the tail is what
// lies past qemu-img's image-end-offset; leaks and compression agree with qemu-img check; and
// what a snapshot holds alone is what `qemu-img snapshot -d` really frees.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../analyze';
import { Role } from './roles';
import { freeAtEnd } from './space';
import { analyzePath, analyzeSample } from '../../test-support/analyze-sample';
import { hasQemuImg, runTool } from '../../test-support/qemu-tools';
import { listSamples, reference, samplePath } from '../../test-support/samples';

const samples = listSamples();
const cat = (a: Analysis, key: string) => a.space.categories.find((c) => c.key === key)!;

interface CheckJson {
  'image-end-offset': number;
  leaks?: number;
  'compressed-clusters'?: number;
}

describe('every sample: the file size, split exactly', () => {
  it.each(samples)('%s', async (name) => {
    const a = await analyzeSample(name);
    const sp = a.space;
    expect(sp.categories.reduce((n, c) => n + c.bytes, 0)).toBe(a.fileSize);
    expect(sp.categories.reduce((n, c) => n + c.clusters, 0)).toBe(Math.ceil(a.fileSize / sp.clusterSize));
    for (const c of sp.categories) expect(c.bytes, c.key).toBeGreaterThanOrEqual(0);
    const j = reference<CheckJson>(name, 'check.json');
    if (!j) return;
    // Past image-end-offset: free clusters a refcount block covers (free at the end), else the tail.
    const end = freeAtEnd(a.check.roles, a.check.highestCluster, sp.clusterSize, a.fileSize);
    expect(cat(a, 'tail').bytes + end.bytes).toBe(Math.max(0, a.fileSize - j['image-end-offset']));
    expect(cat(a, 'leaked').clusters + cat(a, 'overcounted').clusters).toBe(j.leaks ?? 0);
    expect(cat(a, 'orphaned').clusters).toBe(0);
    expect(sp.compressed.guestClusters).toBeGreaterThanOrEqual(j['compressed-clusters'] ?? 0);
  });
});

describe('compression', () => {
  it('counts the compressed guest clusters qemu-img counts, and what they saved', async () => {
    for (const name of ['compressed-zlib', 'compressed-zstd', 'compressed-mixed']) {
      const a = await analyzeSample(name);
      const c = a.space.compressed;
      expect(c.guestClusters).toBe(reference<CheckJson>(name, 'check.json')!['compressed-clusters']);
      expect(c.guestBytes).toBe(c.guestClusters * a.space.clusterSize);
      expect(c.savedBytes).toBe(c.guestBytes - c.hostBytes);
      expect(c.hostBytes).toBe(cat(a, 'compressed').bytes);
      expect(c.savedBytes).toBeGreaterThan(0);
    }
  });
});

describe('bitmaps', () => {
  it('table and data clusters per bitmap are the bitmap clusters of the file', async () => {
    const a = await analyzeSample('bitmaps');
    const bm = a.space.bitmaps;
    expect(bm.map((b) => b.name).sort()).toEqual(a.structures.bitmapDirectory!.bitmaps.map((b) => b.name).sort());
    expect(bm.reduce((n, b) => n + b.dataClusters, 0)).toBe(cat(a, 'bitmapData').clusters);
    expect(bm.reduce((n, b) => n + b.tableClusters, 0)).toBe(cat(a, 'bitmapTables').clusters);
    for (const b of bm) expect(b.dirtyBytes).toBe(Math.min(b.setBits! * b.granularity, Number(a.structures.header.size)));
  });
});

describe.runIf(hasQemuImg())('what deleting a snapshot frees, against qemu-img snapshot -d', () => {
  it.each(['snapshots', 'v2', 'refcount-64'])('%s', async (name) => {
    const before = await analyzeSample(name);
    const used = (x: Analysis) => x.check.storedRefcounts.subarray(0, x.check.roles.length).filter((v) => v > 0).length;
    const snaps = before.structures.snapshotTable!.snapshots;
    for (const sn of snaps) {
      const dir = mkdtempSync(join(tmpdir(), 'qcowscope-snap-'));
      try {
        copyFileSync(samplePath(name), join(dir, 'x.qcow2'));
        expect(runTool('qemu-img', ['snapshot', '-d', sn.name, 'x.qcow2'], { cwd: dir }).rc).toBe(0);
        const after = await analyzePath(join(dir, 'x.qcow2'));
        expect(after.check.counts).toMatchObject({ corruptions: 0, leaks: 0 });
        // Deleting the last snapshot also frees the snapshot table (one cluster here).
        const table = snaps.length === 1 ? cat(before, 'snapshotTable').clusters : 0;
        expect(used(before) - used(after), sn.name).toBe(before.space.snapshots[sn.index]!.exclusiveClusters + table);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('data held only by snapshots includes what each holds alone (less its L1 and L2 tables)', async () => {
    const a = await analyzeSample('snapshots');
    const alone = a.space.snapshots.reduce((n, s) => n + s.exclusiveClusters, 0);
    const tables = cat(a, 'l1Snapshots').clusters + a.check.roles.filter((r) => r === Role.L2_SNAPSHOT).length;
    expect(alone - tables).toBeGreaterThan(0);
    expect(cat(a, 'snapshotData').clusters).toBeGreaterThanOrEqual(alone - tables);
  });
});
