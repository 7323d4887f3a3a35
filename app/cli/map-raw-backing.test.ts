// qemu-img map over a raw backing file whose size is not a multiple of 512: QEMU rounds the file up
// to whole sectors, and the rest of its last sector maps as zero, not data ("zero": true,
// "data": false, with its offset). Compared with the live qemu-img, JSON and human output.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTmpDir } from '../test-support/random-images';
import { hasQemuImg } from '../test-support/qemu-tools';
import { main } from './main';

async function ours(args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = '';
  const status = await main(args, { out: (t) => void (stdout += t), err: () => {} });
  return { status, stdout };
}

describe.runIf(hasQemuImg())('qemu-img map over a short raw backing file (live)', () => {
  it.each([1294, 1, 511, 513, 4103, 65536 + 300])('a %i-byte raw backing file maps as qemu-img maps it', async (bytes) => {
    await withTmpDir(async (dir) => {
      const data = Buffer.alloc(bytes);
      for (let i = 0; i < bytes; i++) data[i] = (i * 7 + 1) & 0xff;
      writeFileSync(join(dir, 'base.raw'), data);
      const q = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'top.qcow2', '1M'], { cwd: dir, encoding: 'utf8' });
      expect(q.status, q.stderr).toBe(0);
      const top = join(dir, 'top.qcow2');
      for (const form of [['--output=json'], []]) {
        const theirs = spawnSync('qemu-img', ['map', ...form, top], { encoding: 'utf8' });
        const mine = await ours(['map', ...form, top]);
        expect([mine.status, mine.stdout]).toEqual([theirs.status, theirs.stdout]);
      }
    });
  });
});
