// Stored refcounts one byte per cluster (CheckOptions.narrowRefcounts, the CLI's analysis): the
// loader narrows 16-bit blocks while every value fits and widens to stored 16-bit words at the
// first value above 255, in whatever block order the reads arrive. The narrow analysis must equal
// the wide one (the page's) and qemu-img check, for every refcount width.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze, type Analysis } from '../analyze';
import { NodeFileSource } from '../qcow2/source-node';
import { qemuCheckJsonText } from '../qemu-img';
import { patchFile } from '../../test-support/craft';
import { hasQemuImg, mustRun, qemuCheck } from '../../test-support/qemu-tools';

async function analyzeFile(path: string, narrow: boolean): Promise<Analysis> {
  const src = await NodeFileSource.open(path);
  try {
    return await analyze(src, narrow ? { narrowRefcounts: true } : {});
  } finally {
    await src.close();
  }
}

/** Refcount table entry t's block offset. */
const blockAt = (b: Buffer, t: number): number => Number(b.readBigUInt64BE(Number(b.readBigUInt64BE(48)) + 8 * t) & 0x00ff_ffff_ffff_fe00n);

/** Narrow and wide analyses of `path`: equal to each other (messages, counts, refcounts) and to qemu-img check. */
async function bothWays(dir: string, file: string): Promise<{ narrow: Analysis; wide: Analysis; stderr: string }> {
  const path = join(dir, file);
  const [narrow, wide] = [await analyzeFile(path, true), await analyzeFile(path, false)];
  const q = qemuCheck(dir, file);
  const strip = (t: string) => t.replace(/"filename": .*\n/, '');
  expect(strip(qemuCheckJsonText(narrow.check.json!))).toBe(strip(q.stdout));
  expect(narrow.check.exitCode).toBe(q.rc);
  expect(narrow.findings.map((f) => f.message)).toEqual(wide.findings.map((f) => f.message));
  expect(narrow.check.counts).toEqual(wide.check.counts);
  expect(Array.from(narrow.check.roles)).toEqual(Array.from(wide.check.roles));
  expect(narrow.check.storedRefcounts.length).toBe(wide.check.storedRefcounts.length);
  expect(Array.from(narrow.check.storedRefcounts)).toEqual(Array.from(wide.check.storedRefcounts));
  expect(narrow.space).toEqual(wide.space);
  return { narrow, wide, stderr: q.stderr };
}

describe.runIf(hasQemuImg())('stored refcounts one byte per cluster, against the wide ones and the live qemu-img', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-narrow-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // 512-byte clusters: a refcount block covers 256 clusters, so the image has many blocks, and the
  // value above 255 sits in a late one, after narrow blocks with values of 2 and 255.
  it.each([[256, 'late'], [0xff00, 'late'], [300, 'first'], [255, 'none']])('refcount %i in the %s block', async (big, where) => {
    const file = `n${big}-${where}.qcow2`;
    const path = join(dir, file);
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512,preallocation=metadata', path, String(4 << 20)]);
    const clusters = Math.ceil(readFileSync(path).length / 512);
    const blocks = Math.ceil(clusters / 256);
    expect(blocks).toBeGreaterThan(20);
    const patched = new Map<number, number>([[clusters - 5, 2], [clusters - 6, 255], [300, 2], [301, 0]]);
    if (where !== 'none') patched.set(where === 'late' ? (blocks - 3) * 256 + 17 : 3, big);
    patchFile(path, (b) => {
      for (const [k, v] of patched) b.writeUInt16BE(v, blockAt(b, Math.floor(k / 256)) + 2 * (k % 256));
    });
    const { narrow, stderr } = await bothWays(dir, file);
    const rc = narrow.check.storedRefcounts;
    expect(rc).toBeInstanceOf(where === 'none' ? Uint8Array : Uint16Array);
    for (const [k, v] of patched) expect(rc[k], `cluster ${k}`).toBe(v);
    expect(rc[clusters - 7]).toBe(1);
    if (where !== 'none') expect(stderr).toMatch(new RegExp(`cluster \\d+ refcount=${big} reference=`));
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('refcount_order %i: narrow equals wide', async (order) => {
    const file = `o${order}.qcow2`;
    const path = join(dir, file);
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=4096,preallocation=metadata,refcount_bits=${2 ** order}`, path, String(16 << 20)]);
    // A refcount of 2 (a leak) in the last block, in every width that holds it.
    if (order >= 1) {
      patchFile(path, (b) => {
        const bits = 2 ** order;
        const per = (4096 * 8) / bits;
        const k = Math.ceil(b.length / 4096) - 1;
        const block = blockAt(b, Math.floor(k / per));
        const i = k % per;
        if (bits < 8) b[block + ((i * bits) >> 3)] = (b[block + ((i * bits) >> 3)]! & ~(((1 << bits) - 1) << ((i * bits) & 7))) | (2 << ((i * bits) & 7));
        else b[block + (i * bits) / 8 + bits / 8 - 1] = 2;
      });
    }
    const { narrow } = await bothWays(dir, file);
    expect(narrow.check.storedRefcounts).toBeInstanceOf(order <= 4 ? Uint8Array : order === 5 ? Uint32Array : Uint32Array);
    if (order >= 1) expect(narrow.check.counts.leaks).toBe(1);
  });
});
