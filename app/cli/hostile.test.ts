// Files that are not qcow2, given to the built CLI: every command exits 1 with one line on stderr
// that names what the file is, and prints nothing on stdout (so `--output=json` stays JSON-or-nothing).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasQemuImg, runTool } from '../test-support/qemu-tools';
import { builtCli } from './testing';

const built = builtCli('qcowscope-cli-hostile-');

const cli = (args: string[]) => built.run(args, { timeout: 30_000 });

/** Bytes of `size` with `parts` written at their offsets. */
function bytes(size: number, ...parts: [at: number, data: string | number[]][]): Uint8Array {
  const b = new Uint8Array(size);
  for (const [at, d] of parts) b.set(typeof d === 'string' ? Array.from(d, (c) => c.charCodeAt(0)) : d, at);
  return b;
}

const SYNTHETIC: [name: string, content: Uint8Array, says: RegExp][] = [
  ['empty.img', new Uint8Array(0), /^empty file \(0 bytes\)$/],
  ['four-bytes.qcow2', bytes(4, [0, [0x51, 0x46, 0x49, 0xfb]]), /^truncated qcow2 header \(4 bytes: the magic, but no version\)$/],
  ['mbr.img', bytes(1 << 20, [446, [0x80, 0, 2, 0, 0x83]], [510, [0x55, 0xaa]]), /^raw disk image with an MBR \(DOS\) partition table/],
  ['gpt.img', bytes(1 << 20, [510, [0x55, 0xaa]], [512, 'EFI PART']), /^raw disk image with a GPT partition table$/],
  ['cd.iso', bytes(64 * 1024, [32768, [1]], [32769, 'CD001']), /^ISO 9660 image \(CD\/DVD\)$/],
];

const MADE_BY_QEMU: [format: string, says: RegExp][] = [
  ['vmdk', /^VMDK sparse extent \(VMware, version 1\)$/],
  ['vpc', /^VHD \/ Virtual PC image \(dynamic\)$/],
  ['vhdx', /^VHDX image \(Hyper-V\)$/],
  ['vdi', /^VDI image \(VirtualBox\)$/],
  ['qcow', /^qcow version 1 \(the old format; QEMU's qcow driver\)$/],
];

function expectRefused(file: string, says: RegExp): void {
  for (const args of [['info', '--output=json'], ['check', '--output=json'], ['map'], ['report']]) {
    const r = cli([...args, file]);
    expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 1, stdout: '' });
    const m = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a qcow2 image: (.*)\\n$`).exec(r.stderr);
    expect(m?.[1] ?? r.stderr, args.join(' ')).toMatch(says);
  }
}

describe('qcowscope on files that are not qcow2', () => {
  it.each(SYNTHETIC)('%s', (name, content, says) => {
    writeFileSync(join(built.dir, name), content);
    expectRefused(name, says);
  });

  it.runIf(hasQemuImg()).each(MADE_BY_QEMU)('a %s image made by qemu-img', (format, says) => {
    const name = `disk.${format}`;
    const r = runTool('qemu-img', ['create', '-q', '-f', format, name, '16M'], { cwd: built.dir });
    expect(r.rc, r.stderr).toBe(0);
    expectRefused(name, says);
  });
});
