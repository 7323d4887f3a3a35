// Look-alikes: free clusters whose bytes merely resemble qcow2 structures must not be called tables.
// A real image from qemu-img gets free clusters appended (a refcount block covers them, refcount 0):
// random bytes, a raw deflate stream of one cluster, guest data whose first half is valid L2 entries
// pointing at the image's own data, a fake directory entry with a bad type. Plus pure functions.

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzePath } from '../../test-support/analyze-sample';
import { prng } from '../../test-support/prng';
import { hasQemuImg, mustRun } from '../../test-support/qemu-tools';
import { withTmpDir } from '../../test-support/random-images';
import { Role } from '../check/roles';
import { bitmapDirectory, pointerTable, T_L2, type ContentContext } from './content';
import { classifyFreed } from './classify';
import { staleRefblock } from './refcount-stale';
import { NodeFileSource } from '../node';

const CS = 65536;

function randomBytes(seed: number, n: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

describe.runIf(hasQemuImg())('look-alikes in free clusters are not tables', () => {
  it('random bytes, a deflate stream, half-valid L2 entries, a bad directory entry', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'l.qcow2');
      mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', path, '64M'], { cwd: dir });
      mustRun('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 0 1M', path], { cwd: dir });
      const live = await analyzePath(path);
      const dataClusters = [...live.check.roles.keys()].filter((k) => live.check.roles[k] === Role.DATA);
      const first = live.check.roles.length;
      // 1: random bytes (three seeds)
      for (const seed of [1, 2, 3]) appendFileSync(path, randomBytes(seed, CS));
      // 2: a raw deflate stream of one cluster of text, padded to a cluster
      const text = new TextEncoder().encode('guest data, compressible, '.repeat(CS / 26 + 1)).subarray(0, CS);
      const z = deflateRawSync(text);
      const zc = new Uint8Array(CS);
      zc.set(z.subarray(0, CS));
      appendFileSync(path, zc);
      // 3: guest data: the first half valid L2 entries (COPIED, pointing at live data), the rest random
      const mimic = randomBytes(9, CS);
      const dv = new DataView(mimic.buffer);
      for (let i = 0; i < CS / 16; i++) dv.setBigUint64(i * 8, (1n << 63n) | BigInt(dataClusters[i % dataClusters.length]! * CS));
      appendFileSync(path, mimic);
      // 4: a bitmap directory entry with type 2 and a name
      const d = new Uint8Array(CS);
      const ddv = new DataView(d.buffer);
      ddv.setBigUint64(0, BigInt(dataClusters[0]! * CS));
      ddv.setUint32(8, 1);
      d[16] = 2;
      d[17] = 16;
      ddv.setUint16(18, 3);
      d.set(new TextEncoder().encode('big'), 24);
      appendFileSync(path, d);
      const a = await analyzePath(path);
      const kinds: string[] = [];
      for (let k = first; k < first + 6; k++) {
        expect(a.check.roles[k], `appended cluster ${k} is free`).toBe(Role.FREE);
        const run = a.freed!.runs.find((x) => x.offset <= k * CS && k * CS < x.offset + x.clusters * CS)!;
        kinds.push(run.was);
      }
      expect(kinds).toEqual(['unknown', 'unknown', 'unknown', 'compressed-data', 'unknown', 'unknown']);
      // A budget of two clusters reads two and says so; the runs cover exactly those.
      const src = await NodeFileSource.open(path);
      try {
        const few = await classifyFreed(src, { structures: a.structures, roles: a.check.roles, clusterSize: CS, maxBytes: 2 * CS });
        expect(few.classified).toBe(2);
        expect(few.total).toBe(a.freed!.total);
        expect(few.note).toBe(`Classified the first 2 of ${a.freed!.total} free clusters (128 KiB read at most).`);
        expect(few.runs.reduce((n, r) => n + r.clusters, 0)).toBe(2);
      } finally {
        await src.close();
      }
    });
  });
});

describe('content tests', () => {
  const ctx: ContentContext = { clusterSize: CS, clusterBits: 16, fileSize: 64 * CS, extendedL2: false, compressionType: 0 };
  it('a table naming one cluster twice is no table', () => {
    const b = new Uint8Array(CS);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, (1n << 63n) | BigInt(5 * CS));
    dv.setBigUint64(8, (1n << 63n) | BigInt(6 * CS));
    expect(pointerTable(b, ctx)!.kinds & T_L2).toBe(T_L2);
    dv.setBigUint64(16, (1n << 63n) | BigInt(5 * CS));
    expect(pointerTable(b, ctx)).toBeNull();
  });
  it('an entry past the end of the file or unaligned spoils the table', () => {
    const b = new Uint8Array(CS);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(70 * CS));
    expect(pointerTable(b, ctx)).toBeNull();
    dv.setBigUint64(0, BigInt(5 * CS + 512));
    expect(pointerTable(b, ctx)).toBeNull();
  });
  it('a directory repeating a name stops at the repeat', () => {
    const b = new Uint8Array(CS);
    const dv = new DataView(b.buffer);
    for (const at of [0, 32]) {
      dv.setBigUint64(at, BigInt(3 * CS));
      dv.setUint32(at + 8, 1);
      b[at + 16] = 1;
      b[at + 17] = 16;
      dv.setUint16(at + 18, 3);
      b.set(new TextEncoder().encode('big'), at + 24);
    }
    expect(bitmapDirectory(b, ctx)!.map((e) => e.name)).toEqual(['big']);
  });
});

describe('freed refcount blocks are known by agreeing with the live refcounts', () => {
  // 512-byte blocks: 256 16-bit entries; clusters 0..299 in the file, live refcount 1 for the first 200.
  const live = Uint16Array.from({ length: 300 }, (_, k) => (k < 200 ? 1 : 0));
  const block = (order: number, value: (k: number) => number, range = 0) => {
    const b = new Uint8Array(512);
    const n = 4096 >> order;
    const dv = new DataView(b.buffer);
    for (let e = 0; e < n; e++) {
      const v = value(range * n + e);
      if (order === 4) dv.setUint16(e * 2, v);
      else if (order === 0) b[e >> 3]! |= (v & 1) << (e & 7);
      else if (order === 5) dv.setUint32(e * 4, v);
    }
    return b;
  };
  it('the width and range whose entries equal the live refcounts', () => {
    expect(staleRefblock(block(4, (k) => live[k] ?? 0), 0, live, 300)).toEqual({ order: 4, covered: 256, agree: 256 });
    // 1-bit refcounts, least significant bit first: 4096 entries, the first 300 inside the file.
    expect(staleRefblock(block(0, (k) => live[k] ?? 0), 0, live, 300)?.order).toBe(0);
    expect(staleRefblock(block(5, (k) => live[k] ?? 0, 1), 1, live, 300)).toEqual({ order: 5, covered: 128, agree: 128 });
    // The same block read for the wrong range disagrees.
    expect(staleRefblock(block(4, (k) => live[k] ?? 0), 1, live, 300)).toBeNull();
  });
  it('a few entries may differ (those the rewrite changed), not many', () => {
    expect(staleRefblock(block(4, (k) => (k === 7 || k === 250 ? 1 - live[k]! : live[k] ?? 0)), 0, live, 300)?.agree).toBe(254);
    expect(staleRefblock(block(4, (k) => (k % 5 === 0 ? 2 : live[k] ?? 0)), 0, live, 300)).toBeNull();
  });
  it('guest data, random bytes and entries past the end of the file are no refcount block', () => {
    expect(staleRefblock(new Uint8Array(512).fill(5), 0, live, 300)).toBeNull();
    expect(staleRefblock(randomBytes(4, 512), 0, live, 300)).toBeNull();
    expect(staleRefblock(block(4, () => 1), 0, Uint16Array.from({ length: 300 }, () => 1), 200)).toBeNull();
  });
});
