// What a non-qcow2 file is: synthetic first bytes for every format, and real images made by
// qemu-img in other formats, refused by the header stage with that description.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Findings, Qcow2Error } from './errors';
import { detectForeign, type ForeignKind } from './foreign';
import { BytesSource } from './source';
import { NodeFileSource } from './source-node';
import { loadHeaderStage } from './structures';
import { samplePath } from '../../test-support/samples';
import { hasQemuImg, mustRun } from '../../test-support/qemu-tools';
import { withTmpDir } from '../../test-support/random-images';

const bytes = (size: number, ...parts: [at: number, data: number[] | string][]): Uint8Array => {
  const b = new Uint8Array(size);
  for (const [at, d] of parts) b.set(typeof d === 'string' ? Array.from(d, (c) => c.charCodeAt(0)) : d, at);
  return b;
};
const QFI = [0x51, 0x46, 0x49, 0xfb];

describe('detectForeign on synthetic bytes', () => {
  const cases: [string, Uint8Array, ForeignKind | null, Uint8Array?][] = [
    ['empty', new Uint8Array(0), 'empty'],
    ['3 bytes', bytes(3, [0, 'QFI']), 'too-short'],
    ['4-byte qcow2 magic', bytes(4, [0, QFI]), 'qcow2-truncated'],
    ['qcow version 1', bytes(512, [0, QFI], [4, [0, 0, 0, 1]]), 'qcow1'],
    ['complete v2 header', bytes(72, [0, QFI], [4, [0, 0, 0, 2]]), null],
    ['complete v3 header', bytes(104, [0, QFI], [4, [0, 0, 0, 3]]), null],
    ['unknown qcow2 version (refused later, by the header checks)', bytes(104, [0, QFI], [4, [0, 0, 0, 9]]), null],
    ['VMDK sparse', bytes(512, [0, 'KDMV'], [4, [1, 0, 0, 0]]), 'vmdk'],
    ['VMDK descriptor', bytes(512, [0, '# Disk DescriptorFile\n']), 'vmdk-descriptor'],
    ['VHD dynamic', bytes(512, [0, 'conectix'], [60, [0, 0, 0, 3]]), 'vhd'],
    ['VHD fixed (footer at the end)', bytes(4096), 'vhd', bytes(512, [0, 'conectix'], [60, [0, 0, 0, 2]])],
    ['VHDX', bytes(512, [0, 'vhdxfile']), 'vhdx'],
    ['VDI', bytes(512, [0, '<<< Oracle VM VirtualBox Disk Image >>>\n'], [64, [0x7f, 0x10, 0xda, 0xbe]]), 'vdi'],
    ['QED', bytes(512, [0, 'QED\0']), 'qed'],
    ['LUKS volume', bytes(592, [0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0, 1]]), 'luks'],
    ['gzip', bytes(64, [0, [0x1f, 0x8b, 8]]), 'compressed'],
    ['ISO 9660', bytes(40960, [32769, 'CD001']), 'iso9660'],
    ['GPT', bytes(1024, [510, [0x55, 0xaa]], [512, 'EFI PART']), 'gpt'],
    ['MBR', bytes(512, [510, [0x55, 0xaa]]), 'mbr'],
    ['ext4', bytes(2048, [1080, [0x53, 0xef]]), 'ext'],
    ['zeros', bytes(4096), 'unknown'],
    ['text', bytes(64, [0, 'hello world']), 'unknown'],
  ];
  it.each(cases)('%s', (_label, head, kind, tail) => {
    expect(detectForeign(head, head.length, tail)?.kind ?? null).toBe(kind);
  });
  it('says what it saw', () => {
    expect(detectForeign(new Uint8Array(0), 0)!.description).toBe('empty file (0 bytes)');
    expect(detectForeign(bytes(4, [0, QFI]), 4)!.description).toMatch(/^truncated qcow2 header \(4 bytes/);
    expect(detectForeign(bytes(512, [0, QFI], [4, [0, 0, 0, 1]]), 512)!.description).toBe("qcow version 1 (the old format; QEMU's qcow driver)");
    expect(detectForeign(bytes(64, [0, 'hello world']), 64)!.description).toBe('unknown format (first bytes 68 65 6c 6c 6f 20 77 6f)');
    const text = new TextEncoder().encode('# qcow2 notes: a very long first line that goes on and on\nsecond line\n');
    expect(detectForeign(text, text.length)!.description).toBe('a text file, not a disk image (it starts “# qcow2 notes: a very long first line th…”)');
  });
});

describe('the header stage refuses what is not qcow2', () => {
  it('throws NOT_QCOW2 with the description', async () => {
    const err = await loadHeaderStage(new BytesSource(bytes(512, [0, 'KDMV'])), new Findings()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Qcow2Error);
    expect((err as Qcow2Error).code).toBe('NOT_QCOW2');
    expect((err as Qcow2Error).message).toMatch(/^VMDK sparse extent/);
  });
  it('reads a qcow2 header cut after its version zero-filled, as QEMU does, and says so', async () => {
    const head = readFileSync(samplePath('v3')).subarray(0, 90);
    const f = new Findings();
    const stage = await loadHeaderStage(new BytesSource(head), f);
    expect(stage.header.headerLength).toBe(0);
    expect(f.list.map((x) => [x.code, x.message])).toContainEqual(['QEMU_REFUSES', 'qcow2 header too short']);
    expect(f.list.map((x) => x.code)).toContain('HEADER_TRUNCATED');
  });
});

describe.runIf(hasQemuImg())('images qemu-img makes in other formats', () => {
  const formats: [string, string[], ForeignKind][] = [
    ['vmdk', [], 'vmdk'],
    ['vpc', [], 'vhd'],
    ['vpc', ['-o', 'subformat=fixed'], 'vhd'],
    ['vhdx', [], 'vhdx'],
    ['vdi', [], 'vdi'],
    ['qed', [], 'qed'],
    ['parallels', [], 'parallels'],
    ['raw', [], 'unknown'],
  ];
  it.each(formats)('%s %j', async (fmt, opts, kind) => {
    await withTmpDir(async (dir) => {
      mustRun('qemu-img', ['create', '-q', '-f', fmt, ...opts, 'img', '1M'], { cwd: dir });
      const src = await NodeFileSource.open(join(dir, 'img'));
      const err = await loadHeaderStage(src, new Findings()).catch((e: unknown) => e);
      await src.close();
      expect((err as Qcow2Error).code).toBe('NOT_QCOW2');
      const head = readFileSync(join(dir, 'img'));
      expect(detectForeign(head.subarray(0, 40960), head.length, head.subarray(head.length - 512))!.kind).toBe(kind);
    });
  });
  it('a qcow2 with its first cluster only (the rest cut off) still loads its header', async () => {
    await withTmpDir(async (dir) => {
      mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', 'img', '1M'], { cwd: dir });
      writeFileSync(join(dir, 'cut'), readFileSync(join(dir, 'img')).subarray(0, 4096));
      const src = await NodeFileSource.open(join(dir, 'cut'));
      const stage = await loadHeaderStage(src, new Findings());
      await src.close();
      expect([stage.header.version, stage.header.clusterSize, stage.foreign]).toEqual([3, 65536, null]);
    });
  });
});
