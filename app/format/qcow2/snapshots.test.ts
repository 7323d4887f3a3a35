// Snapshot table: the samples' tables against qemu-img info, and crafted tables (too much extra
// data, none at all, past the end of the file, odd names, huge sizes) against the live qemu-img.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings } from './errors';
import { NodeFileSource } from './source-node';
import { loadSnapshotTable } from './snapshots';
import { loadHeaderStage } from './structures';
import { listSamples, reference, samplePath } from '../../test-support/samples';
import { compareWithQemu, ourOpen, patchFile } from '../../test-support/craft';
import { hasQemuImg, mustRun } from '../../test-support/qemu-tools';
import { withTmpDir } from '../../test-support/random-images';

async function table(path: string) {
  const src = await NodeFileSource.open(path);
  try {
    const f = new Findings();
    const stage = await loadHeaderStage(src, f);
    return { t: await loadSnapshotTable(src, stage.header, f), f, h: stage.header };
  } finally {
    await src.close();
  }
}

interface InfoSnap { id: string; name: string; 'date-sec': number; 'date-nsec': number; 'vm-state-size': number }

describe('snapshot tables of the samples', () => {
  const withSnaps = listSamples().filter((n) => (reference<{ snapshots?: InfoSnap[] }>(n, 'info.json')?.snapshots?.length ?? 0) > 0);
  it('has samples with snapshots', () => expect(withSnaps.length).toBeGreaterThanOrEqual(2));
  it.each(withSnaps)('%s: entries as qemu-img lists them', async (name) => {
    const want = reference<{ snapshots: InfoSnap[] }>(name, 'info.json')!.snapshots;
    const { t, f, h } = await table(samplePath(name));
    expect(t!.snapshots.map((s) => [s.id, s.name, s.dateSec, s.dateNsec, Number(s.vmStateSize)]))
      .toEqual(want.map((s) => [s.id, s.name, s['date-sec'], s['date-nsec'], s['vm-state-size']]));
    // QEMU writes 24 bytes of extra data (vm_state_size_large, disk_size, icount); each entry is
    // 40 + 24 + id + name bytes, entries 8-aligned, and the table ends after the last one.
    for (const s of t!.snapshots) {
      expect(s.extraDataSize).toBe(24);
      expect(s.entryLength).toBe(64 + s.idBytes.length + s.nameBytes.length);
      expect(s.diskSize).toBe(h.size);
      expect(s.entryOffset % 8).toBe(0);
    }
    const last = t!.snapshots.at(-1)!;
    expect(t!.byteLength).toBe(last.entryOffset + last.entryLength - t!.offset);
    expect(f.list.filter((x) => x.severity === 'error')).toEqual([]);
  });
  it('returns null for an image without snapshots', async () => {
    expect((await table(samplePath('v3'))).t).toBeNull();
  });
});

/** Makes an image with snapshots `names` in `dir` and returns its path and table offset. */
function withSnapshots(dir: string, names: string[], compat = '1.1'): string {
  const path = join(dir, 'img.qcow2');
  mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `compat=${compat}`, 'img.qcow2', '4M'], { cwd: dir });
  for (const n of names) mustRun('qemu-img', ['snapshot', '-c', n, 'img.qcow2'], { cwd: dir });
  return path;
}
const tableOffset = (b: Buffer) => Number(b.readBigUInt64BE(64));

describe.runIf(hasQemuImg())('crafted snapshot tables against qemu-img', () => {
  const cases: [string, (b: Buffer) => Buffer | void][] = [
    ['extra_data_size over 1024', (b) => void b.writeUInt32BE(2000, tableOffset(b) + 36)],
    ['no extra data in a v3 image', (b) => {
      const so = tableOffset(b);
      const strings = b.readUInt16BE(so + 12) + b.readUInt16BE(so + 14);
      b.copy(b, so + 40, so + 64, so + 64 + strings);
      b.writeUInt32BE(0, so + 36);
    }],
    ['8 bytes of extra data', (b) => {
      const so = tableOffset(b);
      b.copy(b, so + 48, so + 64, so + 64 + b.readUInt16BE(so + 12) + b.readUInt16BE(so + 14));
      b.writeUInt32BE(8, so + 36);
    }],
    ['table past the end of the file', (b) => void b.writeBigUInt64BE(1n << 30n, 64)],
    ['nb_snapshots larger than the table', (b) => void b.writeUInt32BE(b.readUInt32BE(60) + 2, 60)],
    ['invalid UTF-8 in the name', (b) => {
      const so = tableOffset(b);
      const at = so + 64 + b.readUInt16BE(so + 12);
      Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xef]).copy(b, at);
    }],
    ['id and name longer than QEMUSnapshotInfo holds (127 / 255 bytes)', (b) => {
      const so = tableOffset(b);
      b.writeUInt32BE(1, 60); // keep one entry: its strings may now run over where the second was
      const at = so + 64;
      const id = Buffer.from('7'.repeat(140));
      const name = Buffer.from('ü'.repeat(140));
      b.writeUInt16BE(id.length, so + 12);
      b.writeUInt16BE(name.length, so + 14);
      id.copy(b, at);
      name.copy(b, at + id.length);
    }],
    ['int64 overflow in vm_state_size and icount', (b) => {
      const so = tableOffset(b);
      b.writeBigUInt64BE(0xffff_ffff_ffff_fffen, so + 40);
      b.writeBigUInt64BE(0x8000_0000_0000_0001n, so + 56);
      b.writeBigUInt64BE(0xffff_ffff_ffff_ffffn, so + 24);
    }],
  ];
  it.each(cases)('%s', async (_label, patch) => {
    await withTmpDir(async (dir) => {
      const path = withSnapshots(dir, ['snäpshot-one', 'two']);
      patchFile(path, patch);
      expect(await compareWithQemu(path)).toBeNull();
    });
  });

  it('reports a v3 entry with less than 16 bytes of extra data, which QEMU still reads', async () => {
    await withTmpDir(async (dir) => {
      const path = withSnapshots(dir, ['a']);
      patchFile(path, cases[1]![1]);
      const { findings } = await ourOpen(path);
      expect(findings.count('SNAPSHOT_EXTRA_SHORT')).toBe(1);
    });
  });

  it('keeps a v2 table (QEMU also writes 24 bytes of extra data there)', async () => {
    await withTmpDir(async (dir) => {
      const path = withSnapshots(dir, ['old', 'older'], '0.10');
      copyFileSync(path, join(dir, 'copy.qcow2'));
      expect(await compareWithQemu(join(dir, 'copy.qcow2'))).toBeNull();
      const { t } = await table(path);
      expect(t!.snapshots.map((s) => s.name)).toEqual(['old', 'older']);
    });
  });
});
