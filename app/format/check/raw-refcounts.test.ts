// 16-bit stored refcounts are kept as stored (big-endian words) while the check runs
// (qcow2/refcount-words.ts): refcount 256 is the bytes 01 00, which a little-endian host reads as
// the word 1. Images made by the live qemu-img with preallocated metadata (every cluster referenced
// once: the compare's and the L2 scan's bulk paths), their refcount blocks patched, checked by us
// and by qemu-img; and the result's refcounts against the blocks decoded here, for every width.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuCheckJsonText } from '../qemu-img';
import { analyzePath } from '../../test-support/analyze-sample';
import { patchFile } from '../../test-support/craft';
import { COPIED, craftImage } from '../../test-support/craft-image';
import { hasQemuImg, mustRun, qemuCheck } from '../../test-support/qemu-tools';

const CS = 65536;

/** The file offset of cluster k's 16-bit refcount (the image's first refcount block covers it). */
function refcountAt(b: Buffer, k: number): number {
  const block = Number(b.readBigUInt64BE(Number(b.readBigUInt64BE(48))) & 0x00ff_ffff_ffff_fe00n);
  return block + 2 * k;
}

/** The stored refcounts of the file's clusters, decoded from its refcount blocks here. */
function decodedRefcounts(b: Buffer, order: number, clusters: number): bigint[] {
  const bits = 2 ** order;
  const perBlock = (CS * 8) / bits;
  const table = Number(b.readBigUInt64BE(48));
  const out: bigint[] = [];
  for (let k = 0; k < clusters; k++) {
    const block = Number(b.readBigUInt64BE(table + 8 * Math.floor(k / perBlock)) & 0x00ff_ffff_ffff_fe00n);
    const i = k % perBlock;
    if (block === 0) out.push(0n);
    else if (bits < 8) out.push(BigInt((b[block + ((i * bits) >> 3)]! >> ((i * bits) & 7)) & ((1 << bits) - 1)));
    else {
      let v = 0n;
      for (let j = 0; j < bits / 8; j++) v = (v << 8n) | BigInt(b[block + (i * bits) / 8 + j]!);
      out.push(v);
    }
  }
  return out;
}

describe.runIf(hasQemuImg())('16-bit refcounts read as stored, against the live qemu-img', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-rawrc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Guest sizes of 1000 and 1001 clusters: an even and an odd number of file clusters.
  it.each([1000, 1001])('refcounts 256, 257, 0xff00 and 0 among 1s, %i guest clusters', async (guest) => {
    const file = `p${guest}.qcow2`;
    const path = join(dir, file);
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${CS},preallocation=metadata`, path, String(guest * CS)]);
    const clusters = Math.ceil(readFileSync(path).length / CS);
    // Data clusters in the middle of the preallocated run (one rewritten as the 1 it was), and a
    // cluster past the end of the file that the block covers.
    const mid = clusters - 400;
    const patched = new Map([[mid, 0x0100], [mid + 1, 0x0101], [mid + 7, 0xff00], [mid + 8, 0x0001], [mid + 9, 0], [clusters + 3, 0x0100]]);
    // Eight refcounts of 256 in a row, from a multiple of 8: whole words that read as two 1s.
    const row = (mid + 24) & ~7;
    for (let k = row; k < row + 8; k++) patched.set(k, 0x0100);
    patchFile(path, (b) => {
      for (const [k, v] of patched) b.writeUInt16BE(v, refcountAt(b, k));
    });
    const a = await analyzePath(path);
    const q = qemuCheck(dir, file);
    expect(qemuCheckJsonText(a.check.json!).replace(/"filename": .*\n/, '')).toBe(q.stdout.replace(/"filename": .*\n/, ''));
    expect(a.check.exitCode).toBe(q.rc);
    const lines = q.stderr.split('\n').filter((l) => /^(ERROR|Leaked)/.test(l));
    // Eleven leaks, one error, and their OFLAG_COPIED errors (refcount 256 is not 1).
    expect(lines.filter((l) => l.startsWith('Leaked cluster')).length).toBe(11);
    expect(lines).toContain(`Leaked cluster ${row + 5} refcount=256 reference=1`);
    expect(lines).toContain(`Leaked cluster ${mid} refcount=256 reference=1`);
    expect(lines).toContain(`ERROR cluster ${mid + 9} refcount=0 reference=1`);
    expect(lines.filter((l) => l.startsWith('ERROR OFLAG_COPIED data cluster')).length).toBe(12);
    expect(lines.some((l) => l.startsWith('ERROR OFLAG_COPIED data cluster') && l.endsWith('refcount=256'))).toBe(true);
    const ours = new Set(a.findings.map((f) => f.message.split(' — ')[0]));
    for (const l of lines) expect(ours.has(l), l).toBe(true);
    // The result holds host-order refcounts: the patched values, and 1 beside them.
    const rc = a.check.storedRefcounts;
    expect(rc).toBeInstanceOf(Uint16Array);
    expect(rc.length).toBe(clusters + 1);
    for (const [k, v] of patched) if (k < rc.length) expect(rc[k], `cluster ${k}`).toBe(v);
    expect(a.findings.some((f) => f.code === 'LEAK' && f.message.startsWith(`Leaked cluster ${mid + 7} refcount=65280 `))).toBe(true);
    expect(rc[mid + 2]).toBe(1);
    expect(rc[mid - 1]).toBe(1);
  });

  it('16-bit expected counts (one cluster referenced 300 times): refcounts of 256 where 1 is expected', async () => {
    const img = craftImage({
      clusterBits: 16, refcountOrder: 4, l1Entries: 1, extraClusters: 18,
      fill: (dv, l1, cluster) => {
        dv.setBigUint64(l1, COPIED | BigInt(cluster(0)));
        for (let j = 0; j < 300; j++) dv.setBigUint64(cluster(0) + 8 * j, BigInt(cluster(1)));
        for (let j = 0; j < 16; j++) dv.setBigUint64(cluster(0) + 8 * (300 + j), COPIED | BigInt(cluster(2 + j)));
      },
    });
    // Refcount block at cluster 2: the shared cluster's 300, and 256 on the 16 clusters of their own
    // (word pairs that read as two 1s, against expected counters of 1 that are 16 bits wide).
    const dv = new DataView(img.bytes.buffer);
    const first = img.firstExtra / img.clusterSize;
    dv.setUint16(2 * img.clusterSize + 2 * (first + 1), 300);
    for (let j = 0; j < 16; j++) dv.setUint16(2 * img.clusterSize + 2 * (first + 2 + j), 0x0100);
    const file = 'widened.qcow2';
    writeFileSync(join(dir, file), img.bytes);
    const a = await analyzePath(join(dir, file));
    const q = qemuCheck(dir, file);
    expect(qemuCheckJsonText(a.check.json!).replace(/"filename": .*\n/, '')).toBe(q.stdout.replace(/"filename": .*\n/, ''));
    expect(a.check.exitCode).toBe(q.rc);
    expect(a.check.counts.leaks).toBe(16);
    expect(q.stderr).toContain(`Leaked cluster ${first + 9} refcount=256 reference=1`);
    expect(Array.from(a.check.storedRefcounts.subarray(first + 1, first + 18))).toEqual([300, ...Array<number>(16).fill(256)]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('refcount_order %i: the result holds the refcounts the blocks store', async (order) => {
    const file = `o${order}.qcow2`;
    const path = join(dir, file);
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${CS},preallocation=metadata,refcount_bits=${2 ** order}`, path, String(333 * CS)]);
    // A refcount of 2 on the last cluster (a leak), in every width that holds it.
    if (order >= 1) {
      patchFile(path, (b) => {
        const k = Math.ceil(b.length / CS) - 1;
        const bits = 2 ** order;
        const block = Number(b.readBigUInt64BE(Number(b.readBigUInt64BE(48))) & 0x00ff_ffff_ffff_fe00n);
        if (bits < 8) b[block + ((k * bits) >> 3)] = (b[block + ((k * bits) >> 3)]! & ~(((1 << bits) - 1) << ((k * bits) & 7))) | (2 << ((k * bits) & 7));
        else b[block + (k * bits) / 8 + bits / 8 - 1] = 2;
      });
    }
    const a = await analyzePath(path);
    const q = qemuCheck(dir, file);
    expect(qemuCheckJsonText(a.check.json!).replace(/"filename": .*\n/, '')).toBe(q.stdout.replace(/"filename": .*\n/, ''));
    expect(a.check.exitCode).toBe(q.rc);
    const b = readFileSync(path);
    const clusters = Math.ceil(b.length / CS);
    const want = decodedRefcounts(b, order, clusters);
    const got = Array.from(a.check.storedRefcounts.subarray(0, clusters), BigInt);
    expect(got).toEqual(want);
    if (order >= 1) expect(got.at(-1)).toBe(2n);
  });
});
