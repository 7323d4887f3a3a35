// qemu-img check parity: every sample's JSON (byte for byte), exit code and per-cluster stderr
// lines against qemu-img's stored outputs; crafted pathological images (every L1 entry sharing one
// L2 table, references far past the end of the file) against the live qemu-img; and a 1 TiB
// preallocated image for speed.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REFUSED, runCheck } from './check';
import { MAX_MAP_RANGES } from '../guest';
import { FINDINGS_PER_CLASS_CAP, Findings, BytesSource, loadHeaderStage, loadStructures } from '../qcow2';
import { qemuCheckJson, qemuCheckJsonText } from '../qemu-img';
import { NodeFileSource } from '../qcow2/source-node';
import { analyzePath, analyzeSample, referenceText } from '../../test-support/analyze-sample';
import { COPIED, craftImage, type Crafted } from '../../test-support/craft-image';
import { hasQemuImg, qemuCheck, runTool } from '../../test-support/qemu-tools';
import { listSamples, reference, referenceCheckRc } from '../../test-support/samples';

const samples = listSamples();

describe('every sample against qemu-img check', () => {
  it.each(samples)('%s', async (name) => {
    const a = await analyzeSample(name);
    const text = referenceText(name, 'check.json');
    const rc = referenceCheckRc(name);
    expect(rc).not.toBeNull();
    expect(a.check.exitCode).toBe(rc);
    if (text === null) {
      // qemu-img refused to open it (the seed's bitmaps): no JSON, exit code 1, and we say why.
      expect(a.check.json).toBeNull();
      expect(a.check.failure).toBe(`${REFUSED} ${a.qemuRefuses[0]!.message}`);
      return;
    }
    const filename = reference<{ filename: string }>(name, 'check.json')!.filename;
    expect(qemuCheckJsonText(qemuCheckJson(filename, a.check.counts))).toBe(text);
    expect(a.qemuRefuses).toEqual([]);
    const err = referenceText(name, 'check.err');
    const ours = a.findings.map((f) => f.message);
    for (const line of (err ?? '').split('\n').filter(Boolean)) expect(ours.some((m) => m.startsWith(line)), line).toBe(true);
  });

  it('the seed images whose bitmaps own nothing check clean (QEMU refuses to open them)', async () => {
    for (const name of samples.filter((n) => n.startsWith('seed-') && referenceText(n, 'check.json') === null)) {
      const a = await analyzeSample(name);
      expect(a.check.counts, name).toMatchObject({ corruptions: 0, leaks: 0, checkErrors: 0 });
    }
  });

  it('a dirty image: the stale refcounts are corruptions, with a note that QEMU repairs them', async () => {
    const a = await analyzeSample('lazy-dirty');
    expect(a.check.counts.corruptions).toBe(reference<{ corruptions: number }>('lazy-dirty', 'check.json')!.corruptions);
    expect(a.findings.filter((f) => f.code === 'DIRTY_REFCOUNTS').map((f) => f.severity)).toEqual(['info']);
  });
});

/** Every active L1 entry points at one L2 table; every entry of it at one data cluster. */
function sharedEverything(l1Entries: number, refcountOrder: 3 | 4): Crafted {
  return craftImage({
    clusterBits: 16, refcountOrder, l1Entries, extraClusters: 2,
    fill: (dv, l1, cluster) => {
      for (let i = 0; i < l1Entries; i++) dv.setBigUint64(l1 + 8 * i, COPIED | BigInt(cluster(0)));
      for (let j = 0; j < 8192; j++) dv.setBigUint64(cluster(0) + 8 * j, COPIED | BigInt(cluster(1)));
    },
  });
}

/**
 * One L2 table: its first 300 entries share one data cluster (the 256th reference widens the
 * expected counters mid-table), the entries after them map clusters of their own.
 */
function widenMidTable(): Crafted {
  return craftImage({
    clusterBits: 16, refcountOrder: 4, l1Entries: 1, extraClusters: 6,
    fill: (dv, l1, cluster) => {
      dv.setBigUint64(l1, COPIED | BigInt(cluster(0)));
      for (let j = 0; j < 300; j++) dv.setBigUint64(cluster(0) + 8 * j, COPIED | BigInt(cluster(1)));
      for (let j = 0; j < 4; j++) dv.setBigUint64(cluster(0) + 8 * (300 + j), COPIED | BigInt(cluster(2 + j)));
    },
  });
}

/** L1 and L2 entries pointing 2^55 and more bytes into the file, and a compressed one beyond 2^53. */
function farPastEof(): Crafted {
  return craftImage({
    clusterBits: 16, refcountOrder: 4, l1Entries: 3, extraClusters: 2,
    fill: (dv, l1, cluster) => {
      dv.setBigUint64(l1, COPIED | BigInt(cluster(0)));
      dv.setBigUint64(l1 + 8, COPIED | (1n << 55n));
      const l2 = cluster(0);
      dv.setBigUint64(l2, COPIED | (1n << 55n));
      dv.setBigUint64(l2 + 8, COPIED | ((1n << 56n) - 65536n));
      dv.setBigUint64(l2 + 16, (1n << 62n) | (3n << 54n) | ((1n << 54n) - 1000n));
      dv.setBigUint64(l2 + 24, COPIED | BigInt(cluster(1)));
      dv.setBigUint64(l2 + 32, COPIED | BigInt(cluster(2)));
    },
  });
}

async function check(bytes: Uint8Array, name: string) {
  const src = new BytesSource(bytes, name);
  const f = new Findings();
  const s = await loadStructures(src, await loadHeaderStage(src, f), f);
  const c = await runCheck(src, s, f);
  return { c, f };
}

describe.runIf(hasQemuImg())('crafted pathological images against the live qemu-img', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string, () => Crafted][] = [
    ['two L1 entries share one L2 table whose 8192 entries share one cluster (8-bit refcounts overflow)', () => sharedEverything(2, 3)],
    // 16-bit refcounts: the expected counters start at one byte and widen mid-table (at the 256th
    // reference of one L2 entry each, or the first entry when two L1 entries share the table).
    ['16-bit refcounts, one L1 entry: one L2 table whose 8192 entries share one cluster', () => sharedEverything(1, 4)],
    ['16-bit refcounts, widened mid-table, then clusters of their own', widenMidTable],
    ['16-bit refcounts, two L1 entries share one L2 table whose 8192 entries share one cluster', () => sharedEverything(2, 4)],
    ['references 2^55 bytes and more past the end of the file', farPastEof],
  ];
  it.each(cases)('%s', async (label, make) => {
    const img = make();
    const file = `${label.slice(0, 20).replace(/\W+/g, '-')}.qcow2`;
    writeFileSync(join(dir, file), img.bytes);
    const { c, f } = await check(img.bytes, file);
    const q = qemuCheck(dir, file);
    expect(qemuCheckJsonText(c.json!)).toBe(q.stdout);
    expect(c.exitCode).toBe(q.rc);
    // Never an array sized by a reference: only the file's clusters (plus one) are tracked.
    expect(c.roles.length).toBe(img.bytes.length / img.clusterSize);
    expect(c.storedRefcounts.length).toBe(c.roles.length + 1);
    const lines = q.stderr.split('\n').filter((l) => /^(ERROR|Leaked)/.test(l));
    const kept = new Set(f.list.map((x) => x.message.split(' — ')[0]));
    for (const l of lines.slice(0, 50)) expect(kept.has(l), l).toBe(true);
  });
});

describe('pathological shapes stay bounded', () => {
  it('8192 L1 entries → one L2 table → one cluster: 67 M references, counted, not listed', async () => {
    const { c, f } = await check(sharedEverything(8192, 4).bytes, 'shared.qcow2');
    const refs = 8192 * 8192;
    // As the 8-bit variant above shows against qemu-img: each reference past 65535 is one
    // corruption, plus the data cluster's and the L2 table's refcount mismatches.
    expect(c.counts.corruptions).toBe(refs - 65535 + 2);
    // One finding per L2 entry that overflowed (each stands for 8192 references), not per reference.
    expect(f.count('REFCOUNT_OVERFLOW')).toBe(8192 - Math.floor(65535 / 8192));
    expect(f.list.length).toBeLessThan(FINDINGS_PER_CLASS_CAP + 10);
    // qemu-img map would print 67 M ranges; the map is cut, with a finding.
    expect(c.guestMap.length).toBe(MAX_MAP_RANGES);
    expect(f.count('MAP_TRUNCATED')).toBe(1);
  });
});

describe.runIf(hasQemuImg())('a 1 TiB image with preallocated metadata (16.7 M clusters)', () => {
  // Speed is npm run bench's business (against qemu-img in the same run); this test checks the result.
  it('matches qemu-img check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcowscope-1t-'));
    try {
      expect(runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', 'big.qcow2', '1T'], { cwd: dir }).rc).toBe(0);
      const src = await NodeFileSource.open(join(dir, 'big.qcow2'));
      const f = new Findings();
      const s = await loadStructures(src, await loadHeaderStage(src, f), f);
      const c = await runCheck(src, s, f);
      await src.close();
      expect(qemuCheckJsonText(c.json!)).toBe(qemuCheck(dir, 'big.qcow2').stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('analyzePath on a damaged copy', () => {
  /** A refcount block moved 512 bytes off its cluster, written to `dir`/x.qcow2. */
  const unalignedBlock = (dir: string) => {
    const img = sharedEverything(2, 4);
    const dv = new DataView(img.bytes.buffer);
    dv.setBigUint64(img.clusterSize, dv.getBigUint64(img.clusterSize) + 512n);
    writeFileSync(join(dir, 'x.qcow2'), img.bytes);
    return img;
  };

  it('a refcount block at an unaligned offset makes check-errors, as qemu-img counts them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcowscope-rb-'));
    try {
      const img = unalignedBlock(dir);
      const a = await analyzePath(join(dir, 'x.qcow2'));
      // Every cluster the block covers that QEMU compares (the file's 6) cannot be read.
      expect(a.check.counts.checkErrors).toBe(img.bytes.length / img.clusterSize);
      expect(a.check.exitCode).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(hasQemuImg())('a refcount block at an unaligned offset: the same check JSON and exit code as qemu-img', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcowscope-rb-'));
    try {
      unalignedBlock(dir);
      const a = await analyzePath(join(dir, 'x.qcow2'));
      const q = qemuCheck(dir, 'x.qcow2');
      expect(qemuCheckJsonText(a.check.json!).replace(/"filename": .*\n/, '')).toBe(q.stdout.replace(/"filename": .*\n/, ''));
      expect(q.rc).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
