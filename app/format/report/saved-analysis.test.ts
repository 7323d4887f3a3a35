// The saved analysis on every sample: written, read back, and compared with the analysis it was
// made from (roles byte for byte, refcounts, verdict, findings, bitmaps, snapshots, space, qemu-img
// check's JSON text and map) and with qemu-img's stored outputs; written again from what was read,
// it is the same text. A 1 TiB preallocated image's document stays kilobytes.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze, type Analysis } from '../analyze';
import { qemuCheckJsonText } from '../qemu-img';
import { guestMapJson } from '../qemu-img';
import { analysisVerdict, reportMarkdown } from './markdown';
import { patchSample, type Patch } from '../../../tools/fuzz/cases';
import { buildReport, looksLikeReport, MAX_SAVED_BITMAPS, MAX_SAVED_SNAPSHOTS, parseReport, type SavedAnalysis } from './saved-analysis';
import { BytesSource } from '../qcow2';
import { roleCounts } from '../check';
import { formatBytes, formatCount, percent } from '../text';
import { analyzePath, analyzeSample, referenceText } from '../../test-support/analyze-sample';
import { hasQemuImg, runTool } from '../../test-support/qemu-tools';
import { listSamples, reference, samplePath } from '../../test-support/samples';

const samples = listSamples();

/** Typed arrays compared by bytes (toEqual walks every index as a key: too slow for 16 M entries). */
type Typed = Uint8Array | Uint16Array | Uint32Array;
const bytesOf = (x: Typed): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const sameArray = (x: Typed, y: Typed): boolean => x.constructor === y.constructor && x.length === y.length && bytesOf(x).equals(bytesOf(y));

function roundTrip(a: Analysis): { text: string; saved: SavedAnalysis } {
  const text = JSON.stringify(buildReport(a, 'qcowscope test'));
  return { text, saved: parseReport(text) };
}

interface InfoBitmaps {
  'format-specific': { data: { bitmaps?: { name: string; granularity: number; flags: string[] }[] } };
  snapshots?: { id: string; name: string }[];
}

describe('a saved analysis reads back as the analysis it was made from', () => {
  it.each(samples)('%s', async (name) => {
    const a = await analyzeSample(name);
    const { text, saved } = roundTrip(a);
    expect(looksLikeReport(text.slice(0, 64))).toBe(true);
    const b = saved.analysis;
    expect(b.fileName).toBe(a.fileName);
    expect(b.fileSize).toBe(a.fileSize);
    expect(sameArray(b.check.roles, a.check.roles)).toBe(true);
    expect(roleCounts(b.check.roles, b.check.clusterSize, b.fileSize)).toEqual(roleCounts(a.check.roles, a.check.clusterSize, a.fileSize));
    expect(saved.refcountsSaved).toBe(true);
    expect(sameArray(b.check.storedRefcounts, a.check.storedRefcounts)).toBe(true);
    expect(analysisVerdict(b)).toEqual(analysisVerdict(a));
    expect(b.check.counts).toEqual(a.check.counts);
    expect(b.check.exitCode).toBe(a.check.exitCode);
    expect(b.findings).toEqual(a.findings);
    expect(b.findingTotals).toEqual(a.findingTotals);
    expect(b.qemuRefuses).toEqual(a.qemuRefuses);
    expect(b.space).toEqual(a.space);
    expect(b.structures.header).toEqual(a.structures.header);
    expect(b.structures.extensions).toEqual(a.structures.extensions);
    expect(b.structures.snapshotTable).toEqual(a.structures.snapshotTable);
    expect(b.structures.bitmapDirectory).toEqual(a.structures.bitmapDirectory);
    expect(b.structures.luks).toEqual(a.structures.luks);
    // qemu-img info recomputed from the saved structures is the one of the image.
    expect(b.info).toEqual(a.info);
    expect(saved.stage.header).toEqual(a.structures.header);

    // qemu-img's own outputs, byte for byte where it printed them.
    const checkText = referenceText(name, 'check.json');
    if (a.check.json) expect(qemuCheckJsonText(b.check.json!)).toBe(qemuCheckJsonText(a.check.json));
    if (checkText !== null && name !== 'luks') {
      expect(qemuCheckJsonText({ ...b.check.json!, filename: reference<{ filename: string }>(name, 'check.json')!.filename })).toBe(checkText);
    }
    const mapText = referenceText(name, 'map.json');
    if (mapText !== null && a.check.mapError === null && a.structures.backingFile === null) expect(guestMapJson({ ranges: b.guestMap, error: null })).toBe(mapText);
    expect(b.guestMap).toEqual(a.guestMap);
    const info = reference<InfoBitmaps>(name, 'info.json');
    const bitmaps = info?.['format-specific'].data.bitmaps ?? [];
    expect((b.structures.bitmapDirectory?.bitmaps ?? []).filter((x) => !x.zeroOffsetEmpty && !x.offsetOneAllSet).map((x) => x.name))
      .toEqual(expect.arrayContaining(bitmaps.map((x) => x.name)));
    expect((b.structures.snapshotTable?.snapshots ?? []).map((x) => [x.id, x.name])).toEqual((info?.snapshots ?? []).map((x) => [x.id, x.name]));

    // Written again from what was read: the same document.
    expect(JSON.stringify(buildReport(b, 'qcowscope test'))).toBe(text);
    expect(reportMarkdown(b, 'a saved analysis')).toBe(reportMarkdown(a, 'a saved analysis'));
  });
});

describe('the document is small', () => {
  it('roles and refcounts are runs, not per-cluster arrays', async () => {
    const a = await analyzeSample('prealloc-metadata');
    const { text } = roundTrip(a);
    const doc = JSON.parse(text) as { roles: { entries: number; runs: string } };
    expect(doc.roles.entries).toBe(a.check.roles.length);
    expect(doc.roles.entries).toBeGreaterThan(60);
    expect(doc.roles.runs.length).toBeLessThan(40);
  });

  const dir = mkdtempSync(join(tmpdir(), 'qcowscope-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // With the cluster owners (guest owner runs, L2 table uses, refcount blocks: about 18 KB here).
  it.runIf(hasQemuImg())('a 1 TiB image with preallocated metadata: under 80 KiB', async () => {
    expect(runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', 'big.qcow2', '1T'], { cwd: dir }).rc).toBe(0);
    const a = await analyzePath(join(dir, 'big.qcow2'));
    expect(a.check.roles.length).toBeGreaterThan(2 ** 24);
    const { text, saved } = roundTrip(a);
    expect(text.length).toBeLessThan(80 * 1024);
    expect(saved.refcountsSaved).toBe(true);
    expect(sameArray(saved.analysis.check.roles, a.check.roles)).toBe(true);
    expect(sameArray(saved.analysis.check.storedRefcounts, a.check.storedRefcounts)).toBe(true);
    expect(saved.analysis.guestMap).toEqual(a.guestMap);
  }, 120_000);
});

describe('the Markdown report', () => {
  it('has the verdict, qemu-img check JSON and the tables a bug report needs', async () => {
    const a = await analyzeSample('leak');
    const md = reportMarkdown(a);
    const leaks = reference<{ leaks: number }>('leak', 'check.json')!.leaks;
    expect(md).toContain(`**Verdict:** ${leaks} leaked clusters`);
    expect(md).toContain('```json\n' + qemuCheckJsonText(a.check.json!).trimEnd() + '\n```');
    expect(md).toMatch(/\| `LEAK\w*` \| \w+ \| \d+ \|/);
    expect(md).toContain('### Where the bytes go');
  });

  it('prints sizes and shares as the page does (one text module: "168 MiB", "<0.1 %", never "0.0 %")', async () => {
    const a = await analyzeSample('snapshots');
    const md = reportMarkdown(a);
    expect(md).toContain(`| file size | ${formatBytes(a.fileSize)} (${formatCount(a.fileSize)} bytes) |`);
    for (const x of a.space.categories.filter((c) => c.bytes > 0)) {
      expect(md).toContain(`| ${x.label} | ${formatBytes(x.bytes)} | ${formatCount(x.clusters)} | ${percent(x.bytes, a.fileSize)} |`);
    }
    expect(md).not.toMatch(/\b0\.0 %|\d\d\.\d\d [KMGTPE]iB|\d{3}\.\d+ [KMGTPE]iB/); // three significant digits
  });

  it('lists bitmaps and snapshots by name, escaping text from the image', async () => {
    const bitmaps = reportMarkdown(await analyzeSample('bitmaps'));
    for (const b of reference<InfoBitmaps>('bitmaps', 'info.json')!['format-specific'].data.bitmaps!) {
      expect(bitmaps).toContain(`| ${b.name.replace(/_/g, '\\_')} |`);
    }
    const snaps = await analyzeSample('snapshots');
    const md = reportMarkdown(snaps);
    for (const s of reference<InfoBitmaps>('snapshots', 'info.json')!.snapshots!) expect(md).toContain(`| ${s.id} | ${s.name} |`);
    const hostile = reportMarkdown({ ...snaps, fileName: '<img src=x onerror=alert(1)>|`x`\n# h' });
    expect(hostile).toContain('## qcowscope: &lt;img src=x onerror=alert(1)&gt;\\|\\`x\\`\\u000a\\# h');
  });
});

describe('a saved analysis of a damaged image reads back (found by the fuzzer)', () => {
  const damaged = async (name: string, patch: Patch): Promise<Analysis> => {
    const b = patchSample(new Uint8Array(readFileSync(samplePath(name))), patch);
    return analyze(new BytesSource(b, `${name}-damaged.qcow2`));
  };

  it('keeps offsets past 2^53 that findings and qemu-img map name', async () => {
    const a = await damaged('extended-l2', { 'entry:active L1 table:0': 0xffff_ffff_ffff_ffffn, 'header.snapshots_offset': 0x7fff_ffff_ffff_0000n });
    const far = a.findings.filter((f) => f.offset !== null && f.offset > 2 ** 53);
    expect(far.length).toBeGreaterThan(0);
    const { saved } = roundTrip(a);
    expect(saved.analysis.findings.filter((f) => f.offset !== null && f.offset > 2 ** 53).map((f) => f.offset)).toEqual(far.map((f) => f.offset));
    expect(saved.analysis.structures.header.snapshotsOffset).toBe(0x7fff_ffff_ffff_0000n);
  });

  it('keeps map ranges whose host offsets lie past 2^53', async () => {
    // Guest cluster 0 of the v3 sample is data: point it at 2^55 (aligned, far past the file).
    const a = await damaged('v3', { 'entry:L2 table at 262144:0': (1n << 55n) | (1n << 63n) });
    const far = a.guestMap.filter((r) => r.offset !== undefined && r.offset >= 2 ** 55);
    expect(far.length).toBe(1);
    expect(roundTrip(a).saved.analysis.guestMap).toEqual(a.guestMap);
  });

  it('keeps counts past 2^53 (a virtual size of 2^64 - 1, a bitmap of 2^63-byte granularity)', async () => {
    const a = await damaged('cluster-512', { 'header.size': 0xffff_ffff_ffff_ffffn });
    expect(a.check.counts.totalClusters).toBeGreaterThan(2 ** 53);
    const back = roundTrip(a).saved.analysis;
    expect(back.check.counts).toEqual(a.check.counts);
    const b = await damaged('seed-offset-one-bitmap', { 'bitmap[0].granularity_bits': 63 });
    expect(b.space.bitmaps[0]?.granularity).toBe(2 ** 63);
    expect(roundTrip(b).saved.analysis.space).toEqual(b.space);
  });

  it('saves the first 4096 of 65536 snapshots, and says so', async () => {
    const a = await damaged('empty', { 'header.nb_snapshots': 65536, 'header.snapshots_offset': 0x30000 });
    expect(a.structures.snapshotTable?.snapshots.length).toBe(65536);
    const { text, saved } = roundTrip(a);
    expect(text.length).toBeLessThan(8 * 1024 * 1024);
    expect(saved.analysis.structures.snapshotTable?.snapshots.length).toBe(MAX_SAVED_SNAPSHOTS);
    expect(saved.analysis.space.snapshots.length).toBe(MAX_SAVED_SNAPSHOTS);
    expect(saved.notes).toContain(`Only the first ${MAX_SAVED_SNAPSHOTS} of the 65536 snapshots are saved.`);
    expect(saved.analysis.check.counts).toEqual(a.check.counts);
  });

  it('saves the first 1024 of 65535 bitmap directory entries, and says so', async () => {
    const a = await damaged('bitmaps', { 'ext[1].directory_size': 0x40_0000, 'ext[1].nb_bitmaps': 65535, 'ext[1].directory_offset': 0x10_0000_0000n });
    const n = a.structures.bitmapDirectory?.bitmaps.length ?? 0;
    expect(n).toBeGreaterThan(MAX_SAVED_BITMAPS);
    const { text, saved } = roundTrip(a);
    expect(text.length).toBeLessThan(4 * 1024 * 1024);
    expect(saved.analysis.structures.bitmapDirectory?.bitmaps.length).toBe(MAX_SAVED_BITMAPS);
    expect(saved.notes).toContain(`Only the first ${MAX_SAVED_BITMAPS} of the ${n} bitmap directory entries are saved.`);
    expect(saved.analysis.check.counts).toEqual(a.check.counts);
  });
});
