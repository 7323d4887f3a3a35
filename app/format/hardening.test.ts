// The known hard cases of hostile input (issue "Hardening"): each one must end in a report (or a
// typed error) within the fuzzer's budget, with bounded findings, and — where qemu-img is
// installed — with qemu-img's own verdict on the very same bytes. Cases that could hang or exhaust
// the heap run in a child process (fuzz/isolated.ts) so that a regression fails instead of hanging.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, type Analysis } from './analyze';
import { qemuCheckJsonText } from './qemu-img';
import { bitmapsSharingOneTable, patchSample, type Patch } from '../../tools/fuzz/cases';
import { buildFuzzEngine, runIsolated } from '../../tools/fuzz/isolated';
import { locate } from '../../tools/fuzz/locate';
import { truncationPoints, writeUint } from '../../tools/fuzz/mutate';
import { runCase } from '../../tools/fuzz/run';
import { decodeUtf8, BytesSource, FINDINGS_PER_CLASS_CAP } from './qcow2';
import { compareWithQemu } from '../test-support/craft';
import { craftImage } from '../test-support/craft-image';
import { hasQemuImg, runTool, type ToolRun } from '../test-support/qemu-tools';
import { ROOT, samplePath } from '../test-support/samples';

/** A hang guard only (a child is killed after 3 × this + 5 s): 10 × the fuzzer's usual 2 s budget. */
const HANG_GUARD_MS = 20_000;
const QEMU = hasQemuImg();
let dir = '';
let engine = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qcowscope-hardening-'));
  engine = join(dir, 'engine.mjs');
  await buildFuzzEngine(ROOT, engine);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = (name: string) => new Uint8Array(readFileSync(samplePath(name)));
const analyzeBytes = (b: Uint8Array): Promise<Analysis> => analyze(new BytesSource(b, 'case.qcow2'));
const refusals = (a: Analysis) => a.qemuRefuses.map((f) => f.message);

/** In a child process under the heap budget the case ends in a report or typed error; time is the bench's (each test bounds the work). */
function withinBudget(b: Uint8Array): void {
  const v = runIsolated(engine, b, 'case.qcow2', HANG_GUARD_MS);
  expect(v, JSON.stringify(v).slice(0, 500)).toMatchObject({ ok: true });
}

/** Every code keeps at most the cap of findings, and its total counts all of them. */
function findingsBounded(a: Analysis): void {
  const listed = new Map<string, number>();
  for (const f of a.findings) listed.set(f.code, (listed.get(f.code) ?? 0) + 1);
  for (const [code, n] of listed) {
    expect(n, code).toBeLessThanOrEqual(FINDINGS_PER_CLASS_CAP);
    expect(a.findingTotals[code], code).toBeGreaterThanOrEqual(n);
  }
}

/** Writes the bytes to a file and runs qemu-img on it; of stderr (maybe millions of lines) the head is kept. */
function qemuImg(b: Uint8Array, args: string[]): ToolRun {
  const name = `case-${Math.random().toString(36).slice(2)}.qcow2`;
  writeFileSync(join(dir, name), b);
  return runTool('qemu-img', [...args, name], { cwd: dir, stderrHead: 65536 });
}

/**
 * qemu-img check's verdict on the same bytes: when QEMU refuses to open the image, the same reason
 * among our refusals (our CLI then exits 1 as qemu-img does); else the same JSON and exit code.
 */
async function sameCheckAsQemu(b: Uint8Array, a: Analysis): Promise<void> {
  const q = qemuImg(b, ['check', '--output=json', '-U']);
  const ours = a.findings.filter((f) => f.code === 'QEMU_REFUSES' || f.code === 'QEMU_REFUSES_IO').map((f) => f.message);
  const notOpened = /^qemu-img: Could not open '[^']*': (.*)$/m.exec(q.stderr);
  if (notOpened || ours.length) {
    expect(q.rc).toBe(1);
    expect(ours.some((m) => m.startsWith(notOpened?.[1] ?? '(qemu-img opened it)')), `qemu-img: ${q.stderr.split('\n')[0]}; ours: ${JSON.stringify(ours)}`).toBe(true);
    return;
  }
  const name = /"filename": "([^"]+)"/.exec(q.stdout)?.[1];
  const json = a.check.json ? qemuCheckJsonText({ ...a.check.json, filename: name ?? a.check.json.filename }) : '';
  expect({ rc: a.check.exitCode, json: json.trim() }).toEqual({ rc: q.rc, json: q.stdout.trim() });
}

async function sameOpenAsQemu(b: Uint8Array): Promise<void> {
  const path = join(dir, `open-${Math.random().toString(36).slice(2)}.qcow2`);
  writeFileSync(path, b);
  expect(await compareWithQemu(path)).toBeNull();
}

/** A test of our reading of `make()`'s bytes and, where qemu-img is installed, one that qemu-img check (or info) agrees. */
function hardCase(label: string, make: () => Uint8Array, ours: (a: Analysis) => void, how: 'check' | 'open' | null): void {
  it(label, async () => {
    const b = make();
    withinBudget(b);
    ours(await analyzeBytes(b));
  });
  if (how !== null) {
    it.runIf(QEMU)(`${label}: qemu-img ${how === 'check' ? 'check' : 'info'} agrees`, async () => {
      const b = make();
      if (how === 'check') await sameCheckAsQemu(b, await analyzeBytes(b));
      else await sameOpenAsQemu(b);
    });
  }
}

describe('known hard cases', () => {
  const cryptNoHeader = () => patchSample(sample('empty'), { 'header.crypt_method': 2 });
  hardCase('crypt_method 2 without the encryption header extension (qemu-img info 7.2 segfaults on it)', cryptNoHeader, (a) => {
    expect(a.structures.luks).toBeNull();
    expect(refusals(a)).toContainEqual(expect.stringMatching(/^Missing CRYPTO header for crypt method 2 /));
  }, null);
  it.runIf(QEMU)('crypt_method 2 without the encryption header extension: qemu-img check refuses it too', () => {
    const q = qemuImg(cryptNoHeader(), ['check', '-U']);
    expect([q.rc, q.stderr]).toEqual([1, expect.stringContaining('Missing CRYPTO header for crypt method 2')]);
  });

  hardCase('nb_snapshots 65536 in a small file: findings capped, totals exact', () => patchSample(sample('empty'), { 'header.nb_snapshots': 65536, 'header.snapshots_offset': 0x30000 }), (a) => {
    expect(a.structures.snapshotTable?.snapshots.length).toBe(65536);
    expect(a.findingTotals.SNAPSHOT_INCOMPLETE).toBe(65536);
    expect(a.findings.filter((f) => f.code === 'SNAPSHOT_INCOMPLETE')).toHaveLength(FINDINGS_PER_CLASS_CAP);
    findingsBounded(a);
  }, 'check');

  hardCase('an L1 whose entries all point at one L2 whose entries all point at one cluster', () => craftImage({
    clusterBits: 16, refcountOrder: 4, l1Entries: 256, extraClusters: 2,
    fill: (dv, l1, cluster) => {
      for (let i = 0; i < 256; i++) dv.setBigUint64(l1 + i * 8, BigInt(cluster(0)));
      for (let j = 0; j < 8192; j++) dv.setBigUint64(cluster(0) + j * 8, BigInt(cluster(1)));
    },
  }).bytes, (a) => {
    findingsBounded(a);
    expect(a.check.counts.corruptions).toBeGreaterThan(FINDINGS_PER_CLASS_CAP);
  }, 'check');

  hardCase('an unaligned refcount block', () => patchSample(sample('v3'), { 'entry:refcount table:0': 0x20200 }), (a) => {
    expect(a.findingTotals.REFBLOCK_UNALIGNED).toBe(1);
    expect(a.check.counts.checkErrors).toBeGreaterThan(0);
  }, 'check');

  hardCase('an unknown incompatible bit named <script> in the feature name table', () => {
    const base = sample('empty');
    const name = locate(base).names.find((n) => n.name === 'ext[0].feature[0].name')!;
    const b = patchSample(base, { 'ext[0].feature[0].type': 0, 'ext[0].feature[0].bit': 20, 'header.incompatible_features': 1n << 20n });
    b.fill(0, name.offset, name.offset + 46);
    b.set(new TextEncoder().encode('<script>'), name.offset);
    return b;
  }, (a) => {
    expect(a.structures.extensions.featureTable[0]).toMatchObject({ type: 'incompatible', bit: 20, name: '<script>' });
    expect(refusals(a)).toContain('Unsupported qcow2 feature(s): <script>');
  }, 'open');

  hardCase('reserved bits set everywhere', () => {
    const b = sample('bitmaps');
    const l = locate(b);
    const masks: Record<string, bigint> = { 'l1': 0x7f00_0000_0000_01fen, 'snapshot-l1': 0x7f00_0000_0000_01fen, 'l2': 0x3f00_0000_0000_01fen, 'reftable': 0x1ffn, 'bitmap-table': 0xff00_0000_0000_01fen };
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (const t of l.tables) {
      const mask = masks[t.kind];
      if (mask === undefined) continue;
      for (let i = 0; i < t.entries; i++) {
        const at = t.offset + i * t.entrySize;
        const e = dv.getBigUint64(at);
        if (e !== 0n) dv.setBigUint64(at, e | mask);
      }
    }
    for (const f of l.fields.filter((x) => /^bitmap\[\d+\]\.flags$/.test(x.name))) writeUint(b, f.offset, 4, 0xffff_fff8n | BigInt(dv.getUint32(f.offset)));
    writeUint(b, 80, 8, 0xffff_ffff_ffff_fffen);
    writeUint(b, 88, 8, 0xffff_ffff_ffff_fffcn | BigInt(dv.getUint32(92) & 3));
    return b;
  }, (a) => {
    findingsBounded(a);
    expect(a.findingTotals.L1_RESERVED).toBeGreaterThan(0);
    expect(a.findingTotals.L2_RESERVED).toBeGreaterThan(0);
  }, 'check');

  it('files truncated inside each structure end in a report or a typed error', async () => {
    for (const name of ['v2', 'v3', 'snapshots', 'bitmaps', 'luks', 'extended-l2', 'compressed-zlib', 'refcount-1']) {
      const b = sample(name);
      for (const cut of truncationPoints(locate(b))) {
        const v = await runCase(b.subarray(0, cut), `${name}-cut-${cut}.qcow2`);
        expect(v, `${name} cut at ${cut}: ${JSON.stringify(v).slice(0, 300)}`).toMatchObject({ ok: true });
        // Past the version QEMU reads the rest of the header as zeros, and so do we.
        if (cut < 8) expect(v, `${name} cut at ${cut}`).toMatchObject({ outcome: 'typed-error', code: 'NOT_QCOW2' });
      }
    }
  });

  hardCase('L1 size 2^31', () => patchSample(sample('v3'), { 'header.l1_size': 0x8000_0000 }), (a) => {
    expect(a.findingTotals.L1_TOO_LARGE).toBe(1);
    expect(refusals(a)).toContain('Active L1 table too large');
  }, 'open');

  hardCase('65535 bitmaps naming one table of 8192 entries: the table is read once', () => {
    const base = sample('bitmaps');
    const l2 = locate(base).tables.find((t) => t.kind === 'l2')!.offset;
    return bitmapsSharingOneTable(base, 65535, l2, 8192);
  }, (a) => {
    const bitmaps = a.structures.bitmapDirectory!.bitmaps;
    expect(bitmaps).toHaveLength(65535);
    expect(new Set(bitmaps.map((x) => x.table)).size).toBe(1);
    expect(bitmaps[65534]!.setBits).toBe(bitmaps[0]!.setBits);
    findingsBounded(a);
  }, null);

  hardCase('refcount table offset 2^63', () => patchSample(sample('v3'), { 'header.refcount_table_offset': 1n << 63n }), (a) => {
    expect(refusals(a)).toContain('Reference count table offset invalid');
  }, 'open');
});

/** Crashers the fuzzer found, one line each: a sample and the fields it changed. */
const REGRESSIONS: [label: string, sample: string, patch: Patch][] = [
  ['refcount table of 2049 clusters (over QEMU\'s 8 MiB)', 'v3', { 'header.refcount_table_clusters': 0x801 }],
  ['refcount table of 2^32-1 clusters', 'cluster-512', { 'header.refcount_table_clusters': 0xffff_ffff }],
  ['nb_snapshots 2^29 with the table at 0', 'v3', { 'header.nb_snapshots': 0x2000_0000 }],
  ['nb_snapshots 2^32-1', 'snapshots', { 'header.nb_snapshots': 0xffff_ffff }],
  ['virtual size 2^63 + 512', 'compressed-zstd', { 'header.size': (1n << 63n) + 512n }],
  ['virtual size 2^64 - 1', 'cluster-2m', { 'header.size': 0xffff_ffff_ffff_ffffn }],
  ['virtual size 2^53 - 1 with extended L2', 'extended-l2', { 'header.size': (1n << 53n) - 1n }],
  ['l1_size 2^32-1 in a v2 image', 'v2', { 'header.l1_size': 0xffff_ffff }],
  ['l1_size 2^27 (4 GiB of L1)', 'compressed-zlib', { 'header.l1_size': 0x800_0000 }],
  ['65535 snapshot entries parsed from the header cluster on', 'extended-l2', { 'header.nb_snapshots': 0xffff }],
  ['a refcount table of 1 Mi entries over 14 MiB of data (the analysis must still clone to the page)', 'cluster-2m', { 'header.refcount_table_clusters': 0xffff_ffff }],
  ['a 4 MiB bitmap directory of zeros past the end of the file (65535 empty entries)', 'bitmaps', { 'ext[1].directory_size': 0x40_0000, 'ext[1].nb_bitmaps': 65535, 'ext[1].directory_offset': 0x10_0000_0000n }],
  ['extended L2 switched on over a 2 MiB-cluster table, the last cluster invalid (the query into it scans 4 Mi subclusters)', 'cluster-2m', { 'header.incompatible_features': 16, 'entry:L2 table at 8388608:261237': 0xffff_ffffn }],
  ['65537 snapshots over a damaged v2 image', 'v2', { 'header.nb_snapshots': 0x10001, 'entry:L2 table at 262144:*': 0xffff_ffff_ffff_ffffn }],
];

/** QEMU's limits, each exceeded once: [label, sample, patch, a finding code we must report]. */
const LIMITS: [label: string, sample: string, patch: Patch, code: string][] = [
  ['snapshot extra data of 2^32-1 bytes', 'snapshots', { 'snapshot[0].extra_data_size': 0xffff_ffff }, 'QEMU_REFUSES'],
  ['snapshot name of 65535 bytes running past the table', 'snapshots', { 'snapshot[1].name_size': 0xffff }, 'SNAPSHOT_TABLE_PAST_EOF'],
  ['65536 bitmaps in the extension', 'bitmaps', { 'ext[1].nb_bitmaps': 65536 }, 'QEMU_REFUSES'],
  ['a bitmap directory of 4 GiB', 'bitmaps', { 'ext[1].directory_size': 0x1_0000_0000n }, 'BITMAP_DIRECTORY_UNREADABLE'],
  ['a bitmap table of 2^32-1 entries', 'bitmaps', { 'bitmap[0].table_size': 0xffff_ffff }, 'BITMAP_TABLE_CAPPED'],
  ['a bitmap name of 65535 bytes', 'bitmaps', { 'bitmap[0].name_size': 0xffff }, 'QEMU_REFUSES'],
  ['a backing file name of 2^32-1 bytes', 'overlay', { 'header.backing_file_size': 0xffff_ffff }, 'QEMU_REFUSES'],
  ['header_length 2^32-1', 'v3', { 'header.header_length': 0xffff_ffff }, 'QEMU_REFUSES'],
  ['a header extension of 2^32-1 bytes', 'v3', { 'ext[0].length': 0xffff_ffff }, 'QEMU_REFUSES'],
  ['a LUKS header at 2^63', 'luks', { 'ext[0].offset': 1n << 63n }, 'LUKS_UNREADABLE'],
  ['a LUKS header of 2^64-1 bytes', 'luks', { 'ext[0].length': 0xffff_ffff_ffff_ffffn }, 'QEMU_REFUSES'],
  ['cluster_bits 63', 'v3', { 'header.cluster_bits': 63 }, 'QEMU_REFUSES'],
  ['refcount_order 64', 'v3', { 'header.refcount_order': 64 }, 'QEMU_REFUSES'],
];

describe('limits', () => {
  it.each(LIMITS)('%s', async (_label, name, patch, code) => {
    const b = patchSample(sample(name), patch);
    withinBudget(b);
    const a = await analyzeBytes(b);
    expect(Object.keys(a.findingTotals)).toContain(code);
    findingsBounded(a);
  });
  it.runIf(QEMU).each(LIMITS)('%s: qemu-img info agrees', async (_label, name, patch) => {
    await sameOpenAsQemu(patchSample(sample(name), patch));
  });
});

/**
 * Refusals the qemu-img oracle (npm run fuzz -- --oracle) found us wording or deciding differently:
 * [label, sample, patch, QEMU's reason for refusing it, or null when qemu-img info opens it].
 */
const REFUSALS: [label: string, sample: string, patch: Patch, qemu: string | null][] = [
  ['an unknown compression type', 'v3', { 'header.compression_type': 2 }, 'qcow2: unknown compression type: 2'],
  ['zstd without its incompatible bit', 'v3', { 'header.compression_type': 1 }, 'qcow2: Compression type incompatible feature bit must be set'],
  ['zlib with the compression incompatible bit', 'compressed-zstd', { 'header.compression_type': 0 }, 'qcow2: Compression type incompatible feature bit must not be set'],
  ['crypt_method 16', 'v3', { 'header.crypt_method': 16 }, 'Unsupported encryption method 16'],
  ['crypt_method 2^32-1 (printed as a C int)', 'v3', { 'header.crypt_method': 0xffff_ffff }, 'Unsupported encryption method -1'],
  ['65537 snapshots', 'v3', { 'header.nb_snapshots': 65537 }, 'Snapshot table too large'],
  ['no refcount table', 'v3', { 'header.refcount_table_clusters': 0 }, 'Image does not contain a reference count table'],
  ['an L1 table at 2^56 (within INT64_MAX: QEMU opens it)', 'v3', { 'header.l1_table_offset': 1n << 56n }, null],
  ['a refcount table at 2^62 (QEMU reads zeros there)', 'v3', { 'header.refcount_table_offset': 1n << 62n }, null],
  ['a virtual size of 2^64-1 (wraps size_to_l1)', 'cluster-4k', { 'header.size': 0xffff_ffff_ffff_ffffn }, 'Could not refresh total sector count: File too large'],
  ['an end-of-extensions marker with a length', 'v3', { 'ext[1].length': 0x10000 }, 'Header extension too large'],
  ['a snapshot table at 2^62 (QEMU reads zero entries there)', 'snapshots', { 'header.snapshots_offset': 1n << 62n }, null],
  ['65536 bitmaps', 'bitmaps', { 'ext[1].nb_bitmaps': 65536 }, 'bitmaps_ext: Image has 65536 bitmaps, exceeding the QEMU supported maximum of 65535'],
  ['a 4 GiB bitmap directory', 'bitmaps', { 'ext[1].directory_size': 0x1_0000_0000n }, 'bitmaps_ext: bitmap directory size (4294967296) exceeds the maximum supported size (67107840)'],
  ['a bitmaps extension with its reserved field set', 'bitmaps', { 'ext[1].reserved': 1 }, 'bitmaps_ext: Reserved field is not zero'],
  ['an unaligned bitmap directory', 'bitmaps', { 'ext[1].directory_offset': 0x1000 }, 'bitmaps_ext: invalid bitmap directory offset'],
  ['bitmap extra data of 2^32-1 bytes (a C int wraps its entry size)', 'bitmaps', { 'bitmap[0].extra_data_size': 0xffff_ffff }, 'Bitmap extra data is not supported'],
  ['a bitmap directory far past the end of the file', 'bitmaps', { 'ext[1].directory_offset': (1n << 56n) - 4096n }, "Bitmap '' doesn't satisfy the constraints"],
  ['a bitmap table QEMU cannot read', 'bitmaps', { 'bitmap[0].table_offset': 0x7fff_ffff_ff00_0000n }, "Could not read bitmap_table table from image for bitmap 'a-auto': Input/output error"],
  ['a CRYPTO header extension of 24 bytes', 'luks', { 'ext[0].length': 24 }, 'CRYPTO header extension size 24, but expected size 16'],
  ['a CRYPTO header extension without LUKS', 'luks', { 'header.crypt_method': 0 }, 'CRYPTO header extension only expected with LUKS encryption method'],
  ['a LUKS header QEMU cannot read', 'luks', { 'ext[0].offset': (1n << 63n) - (1n << 30n) }, 'Could not read encryption header: Input/output error'],
  ['LUKS without its CRYPTO header extension and an unknown feature: the feature is refused first, named from the table (oracle, seed 555 case 2857)', 'luks', { 'ext[0].type': 0x0537be76, 'ext[1].feature[0].bit': 20, 'header.incompatible_features': 1n << 20n }, 'Unsupported qcow2 feature(s): dirty bit'],
  ['an unknown feature named after a CRYPTO extension (QEMU never reads the name)', 'luks', { 'ext[1].feature[0].bit': 20, 'header.incompatible_features': 1n << 20n }, 'Unsupported qcow2 feature(s): Unknown incompatible feature: 100000'],
  ['extended L2 entries with 4 KiB clusters', 'cluster-4k', { 'header.incompatible_features': 0x10 }, 'Unsupported subcluster size: 128'],
  ['a snapshot in an image with an external data file (qemu-img info lists none)', 'data-file', { 'header.nb_snapshots': 1 }, null],
  ['an in-use bitmap in an image of virtual size 2^64-1: bdrv_getlength fails in check_dir_entry, before the size is refused (oracle, seed 90210 case 9720)', 'bitmap-in-use', { 'header.size': 0xffff_ffff_ffff_ffffn }, "Bitmap 'live' doesn't satisfy the constraints"],
];

describe('refusals in QEMU\'s words', () => {
  it.each(REFUSALS)('%s', async (_label, name, patch, qemu) => {
    const b = patchSample(sample(name), patch);
    withinBudget(b);
    const a = await analyzeBytes(b);
    const ours = a.findings.filter((x) => x.code.startsWith('QEMU_REFUSES')).map((x) => x.message);
    if (qemu === null) expect(ours).toEqual([]);
    else expect(ours).toContainEqual(expect.stringMatching(new RegExp(`^${qemu.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)));
  });
  it.runIf(QEMU).each(REFUSALS)('%s: qemu-img info agrees', async (_label, name, patch) => {
    await sameOpenAsQemu(patchSample(sample(name), patch));
  });

  hardCase('a misaligned CRYPTO header extension followed by a second one of the wrong size: QEMU stops at the first (oracle, seed 90210 case 4563)', () => {
    const b = patchSample(sample('luks'), { 'ext[0].offset': 0xff });
    const at = locate(b).extensionEnd;
    expect(at).toBeGreaterThan(0);
    writeUint(b, at, 4, 0x0537be77n);
    writeUint(b, at + 4, 4, 24n);
    b.fill(0, at + 8, at + 40); // 24 bytes of data, then the end marker
    return b;
  }, (a) => {
    const ours = a.findings.filter((x) => x.code === 'QEMU_REFUSES').map((x) => x.message);
    expect(ours[0]).toBe("Encryption header offset '255' is not a multiple of cluster size '65536'");
    expect(ours).toContain('CRYPTO header extension size 24, but expected size 16');
  }, 'open');

  hardCase('a LUKS header QEMU cannot open, then a second CRYPTO header extension: QEMU stops at the first (oracle, seed 90210 case 19176)', () => {
    const b = sample('luks');
    const ch = locate(b).fields.find((x) => x.name === 'ext[0].offset')!;
    const luksAt = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(ch.offset));
    b.fill(0, luksAt + 8, luksAt + 40);
    b.set(new TextEncoder().encode('nocipher'), luksAt + 8); // cipher_name
    const at = locate(b).extensionEnd;
    writeUint(b, at, 4, 0x0537be77n);
    writeUint(b, at + 4, 4, 24n);
    b.fill(0, at + 8, at + 40);
    return b;
  }, (a) => {
    const ours = a.findings.filter((x) => x.code === 'QEMU_REFUSES').map((x) => x.message);
    expect(ours[0]).toMatch(/^Algorithm 'nocipher/);
    expect(ours).toContain('CRYPTO header extension size 24, but expected size 16');
  }, 'open');

  hardCase('a file cut inside its header extensions reads as QEMU reads it: zeros past the end', () => sample('empty').subarray(0, 308), (a) => {
    expect(a.findings.filter((x) => x.code.startsWith('QEMU_REFUSES'))).toEqual([]);
    expect(a.structures.extensions.featureTable.length).toBeGreaterThan(0);
  }, 'open');

  it('names keep a leading U+FEFF (it is part of the name, not a byte-order mark)', () => {
    expect(decodeUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41))).toBe('\ufeffA');
  });
});

describe('fuzz regressions', () => {
  it.each(REGRESSIONS)('%s', (_label, name, patch) => {
    withinBudget(patchSample(sample(name), patch));
  });
});
