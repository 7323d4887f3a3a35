// The header and structures stages on every sample, on cut and patched copies, and how little
// the header stage reads (it is what the UI shows right after a drop).

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings, type Qcow2Error } from './errors';
import { qemuInfo, qemuInfoText } from '../qemu-img';
import { BytesSource, type ByteSource } from './source';
import { loadHeaderStage, loadStructures } from './structures';
import { listSamples, reference, samplePath } from '../../test-support/samples';
import { compareWithQemu, extensionData, ourOpen, patchFile } from '../../test-support/craft';
import { hasQemuImg, runTool } from '../../test-support/qemu-tools';
import { withTmpDir } from '../../test-support/random-images';
import { EXT_BACKING_FORMAT, EXT_CRYPTO_HEADER } from './spec';

/** Counts reads and bytes, to bound what a stage costs. */
class CountingSource implements ByteSource {
  reads = 0;
  bytes = 0;
  constructor(private readonly inner: ByteSource) {}
  get size() { return this.inner.size; }
  get name() { return this.inner.name; }
  async read(offset: number, length: number) {
    const b = await this.inner.read(offset, length);
    this.reads++;
    this.bytes += b.length;
    return b;
  }
}

const load = async (buf: Uint8Array) => {
  const f = new Findings();
  const src = new BytesSource(buf);
  const stage = await loadHeaderStage(src, f);
  return { stage, s: await loadStructures(src, stage, f), f };
};
/** Raw big-endian u64s, read independently of the engine. */
const rawU64 = (b: Buffer, at: number, n: number) => Array.from({ length: n }, (_, i) => b.readBigUInt64BE(at + 8 * i));

const opened = listSamples().filter((n) => reference(n, 'info.json') !== null);

describe('structures of the samples', () => {
  it.each(opened)('%s', async (name) => {
    const buf = readFileSync(samplePath(name));
    const progress: [number, number][] = [];
    const f = new Findings();
    const src = new BytesSource(buf);
    const stage = await loadHeaderStage(src, f);
    const s = await loadStructures(src, stage, f, (d, t) => progress.push([d, t]));
    const h = s.header;
    expect([...s.l1]).toEqual(rawU64(buf, Number(h.l1TableOffset), h.l1Size));
    expect(s.snapshotL1.length).toBe(s.snapshotTable?.snapshots.length ?? 0);
    s.snapshotTable?.snapshots.forEach((sn, i) => {
      expect([...s.snapshotL1[i]!]).toEqual(rawU64(buf, Number(sn.l1TableOffset), sn.l1Size));
    });
    expect(progress.at(-1)).toEqual([4, 4]);
    expect(f.list.filter((x) => x.severity === 'error')).toEqual([]);
    expect(stage.foreign).toBeNull();
  });

  it('reads little for the header stage: cluster 0 (and the LUKS header)', async () => {
    for (const name of ['v3', 'luks', 'cluster-2m', 'cluster-512']) {
      const src = new CountingSource(new BytesSource(readFileSync(samplePath(name))));
      const { header, luks } = await loadHeaderStage(src, new Findings());
      expect(src.reads, name).toBeLessThanOrEqual(luks ? 3 : 2);
      expect(src.bytes, name).toBeLessThanOrEqual(4096 + header.clusterSize + (luks ? 592 : 0));
    }
  });

  it('keeps the backing file name bytes for QEMU-exact decoding', async () => {
    const { s } = await load(readFileSync(samplePath('overlay')));
    expect(new TextDecoder().decode(s.backingFileBytes)).toBe('base.qcow2');
    expect(s.backingFile).toBe('base.qcow2');
  });
});

describe('damaged copies', () => {
  const v3 = readFileSync(samplePath('v3'));
  const l1At = Number(v3.readBigUInt64BE(40));

  it('zero-fills an active L1 table cut by the end of the file, as QEMU reads it', async () => {
    const { s, f } = await load(v3.subarray(0, l1At + 4));
    expect(s.l1.length).toBe(v3.readUInt32BE(36));
    expect(s.l1[0]).toBe(BigInt(v3.readUInt32BE(l1At)) << 32n);
    expect([...s.l1.subarray(1)].every((e) => e === 0n)).toBe(true);
    expect(f.count('L1_TRUNCATED')).toBe(1);
  });

  it('reads no active L1 table at an unaligned offset and says so', async () => {
    const b = Buffer.from(v3);
    b.writeBigUInt64BE(BigInt(l1At + 8), 40);
    const { s, f } = await load(b);
    expect(s.l1.length).toBe(0);
    expect(f.count('L1_UNALIGNED')).toBe(1);
    expect(f.list.some((x) => x.code === 'QEMU_REFUSES' && x.message === 'Active L1 table offset invalid')).toBe(true);
  });

  it('reads no active L1 table past the end of the file', async () => {
    const b = Buffer.from(v3);
    b.writeBigUInt64BE(BigInt(1 << 30), 40);
    const { s, f } = await load(b);
    expect([s.l1.length, f.count('L1_PAST_EOF')]).toEqual([0, 1]);
  });

  it('reads a snapshot L1 table past the end of the file as empty', async () => {
    const b = Buffer.from(readFileSync(samplePath('v2')));
    const sn = Number(b.readBigUInt64BE(64));
    b.writeBigUInt64BE(BigInt(1 << 30), sn);
    const { s, f } = await load(b);
    expect([s.snapshotL1[0]!.length, f.count('L1_PAST_EOF')]).toEqual([0, 1]);
  });
});

describe('mutated samples (fixed-seed fuzz)', () => {
  it('never throws but NOT_QCOW2, whatever the bytes of the metadata say', async () => {
    let seed = 0x0ddba11;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const bases = ['v3', 'v2', 'snapshots', 'bitmaps', 'luks', 'seed-base', 'extended-l2', 'overlay'].map((n) => readFileSync(samplePath(n)));
    for (let i = 0; i < 400; i++) {
      const base = bases[i % bases.length]!;
      const b = Buffer.from(base.subarray(0, Math.min(base.length, 1 << 20)));
      const cs = 2 ** b.readUInt32BE(20);
      // Hit the header and the metadata the header points at, where damage matters most.
      const targets = [0, Number(b.readBigUInt64BE(64)), Number(b.readBigUInt64BE(40)), cs, 2 * cs, 3 * cs].filter((t) => t < b.length);
      for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) {
        const at = targets[Math.floor(rnd() * targets.length)]! + Math.floor(rnd() * 256);
        if (at < b.length) b[at] = Math.floor(rnd() * 256);
      }
      try {
        const { s } = await load(b);
        qemuInfoText(qemuInfo(s, { filename: 'fuzz.qcow2' }));
      } catch (e) {
        expect((e as Qcow2Error).code, `mutation ${i}: ${String(e)}`).toBe('NOT_QCOW2');
      }
    }
  });
});

describe.runIf(hasQemuImg())('open checks of this stage against qemu-img', () => {
  const cases: [string, string, (b: Buffer) => void][] = [
    ['backing format name of 16 bytes', 'overlay', (b) => void b.writeUInt32BE(16, extensionData(b, EXT_BACKING_FORMAT) - 4)],
    ['LUKS header at an unaligned offset', 'luks', (b) => {
      const at = extensionData(b, EXT_CRYPTO_HEADER);
      b.writeBigUInt64BE(b.readBigUInt64BE(at) + 512n, at);
    }],
    ['data-file-raw without a data file', 'v3', (b) => void b.writeBigUInt64BE(2n, 88)],
    ['external data file bit without its name', 'v3', (b) => void b.writeBigUInt64BE(b.readBigUInt64BE(72) | 4n, 72)],
  ];
  const patched = (dir: string, sample: string, patch: (b: Buffer) => void) => {
    const path = join(dir, 'img.qcow2');
    writeFileSync(path, readFileSync(samplePath(sample)));
    if (sample === 'overlay') copyFileSync(samplePath('base'), join(dir, 'base.qcow2'));
    patchFile(path, patch);
    return path;
  };
  it.each(cases)('%s: qemu-img info', async (_label, sample, patch) => {
    await withTmpDir(async (dir) => expect(await compareWithQemu(patched(dir, sample, patch))).toBeNull());
  });
  it.each(cases.slice(2))('%s: refused only for I/O, as by qemu-img check', async (_label, sample, patch) => {
    await withTmpDir(async (dir) => {
      const path = patched(dir, sample, patch);
      const r = runTool('qemu-img', ['check', '-U', 'img.qcow2'], { cwd: dir });
      const reason = r.stderr.trim().split('\n')[0]!.replace(/^qemu-img: Could not open '[^']*': /, '');
      const { findings } = await ourOpen(path);
      expect(r.rc).toBe(1);
      expect(findings.list.filter((x) => x.code === 'QEMU_REFUSES_IO').map((x) => x.message)).toEqual([reason]);
    });
  });
});
