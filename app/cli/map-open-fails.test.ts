// qemu-img map opens the image for I/O: without a LUKS image's key, or with its external data file
// not found from the working directory, it prints nothing and exits 1. Ours prints the map read
// from the metadata (the data file is never opened) with qemu-img's reason as a note, and exits 1.
// Compared with the live qemu-img; with the data file found, both print the same map and exit 0.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTmpDir } from '../test-support/random-images';
import { hasQemuImg } from '../test-support/qemu-tools';
import { main } from './main';

async function ours(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { status, stdout, stderr };
}

/** qemu-img's reason: its "Could not open 'FILE': REASON" line. */
const reason = (stderr: string) => /Could not open '[^']*': (.*)$/m.exec(stderr)?.[1];

describe.runIf(hasQemuImg())('map where qemu-img map cannot open the image (live)', () => {
  it('a LUKS image without its key: the same reason, exit 1, the map still printed', async () => {
    await withTmpDir(async (dir) => {
      const img = join(dir, 'luks.qcow2');
      const made = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '--object', 'secret,id=s0,data=pw', '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10', img, '4M'], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const theirs = spawnSync('qemu-img', ['map', '--output=json', img], { encoding: 'utf8' });
      const mine = await ours(['map', '--output=json', '--qemu-version=7.2', img]);
      expect(theirs.status, theirs.stderr).toBe(1);
      expect(mine.status, mine.stderr).toBe(1);
      expect(reason(theirs.stderr), theirs.stderr).toBeDefined();
      expect(mine.stderr).toContain(`qemu-img map would fail: Could not open '${img}': ${reason(theirs.stderr)!}`);
      expect(JSON.parse(mine.stdout)).toEqual([{ start: 0, length: 4 << 20, depth: 0, present: false, zero: true, data: false }]);
    });
  });

  it('an external data file not found from the working directory; found when named whole', async () => {
    await withTmpDir(async (dir) => {
      // A relative name QEMU looks up from the working directory (this process's, not dir).
      const rel = join(dir, 'rel.qcow2');
      const made = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'data_file=data-nowhere.raw,data_file_raw=on', 'rel.qcow2', '1M'], { cwd: dir, encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const theirs = spawnSync('qemu-img', ['map', '--output=json', rel], { encoding: 'utf8' });
      const mine = await ours(['map', '--output=json', '--qemu-version=7.2', rel]);
      expect(theirs.status, theirs.stderr).toBe(1);
      expect(mine.status, mine.stderr).toBe(1);
      expect(mine.stderr).toContain(`qemu-img map would fail: Could not open '${rel}': ${reason(theirs.stderr)!}`);
      // The same image with its data file named by its whole path: qemu-img opens it, and we agree.
      const abs = join(dir, 'abs.qcow2');
      spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${join(dir, 'data.raw')},data_file_raw=on`, abs, '1M'], { encoding: 'utf8' });
      const ok = spawnSync('qemu-img', ['map', '--output=json', abs], { encoding: 'utf8' });
      const same = await ours(['map', '--output=json', '--qemu-version=7.2', abs]);
      expect(ok.status).toBe(0);
      expect([same.status, same.stdout, same.stderr]).toEqual([0, ok.stdout, '']);
    });
  });
});
