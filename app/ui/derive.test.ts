import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, type Analysis, Role, BytesSource, placeOf } from '../format';
import { listSamples, reference, referenceCheckRc, samplePath } from '../test-support/samples';
import { newFileEntry, type FileEntry } from '../state/store';
import { splitClusterArrays } from '../worker/split';
import { bitmapClusterRanges, checkCounts, spaceRows, verdict } from './derive';

const cache = new Map<string, Analysis>();
async function run(name: string): Promise<Analysis> {
  let a = cache.get(name);
  if (!a) {
    a = await analyze(new BytesSource(new Uint8Array(readFileSync(samplePath(name))), `${name}.qcow2`));
    cache.set(name, a);
  }
  return a;
}

/** The file entry as the store holds it once the worker's result has arrived. */
function entry(name: string, a: Analysis): FileEntry {
  const { rest } = splitClusterArrays(a.check);
  return { ...newFileEntry(0, { name, size: a.fileSize }), result: { ...a, check: rest } };
}

interface CheckJson { corruptions?: number; leaks?: number; 'check-errors': number; 'image-end-offset'?: number }

describe('verdict', () => {
  it.each(listSamples())('%s: says what qemu-img check and open say', async (name) => {
    const a = await run(name);
    const v = verdict(entry(name, a));
    const rc = referenceCheckRc(name);
    const json = reference<CheckJson>(name, 'check.json');
    const refusals = a.qemuRefuses.filter((r) => r.severity === 'error');
    if (refusals.length > 0) {
      expect(v).toMatchObject({ kind: 'refused', severity: 'error' });
      expect(v.text.startsWith(`QEMU would refuse to open this image because ${refusals[0]!.message}`)).toBe(true);
      return;
    }
    if (a.qemuRefuses.length > 0) expect(v.more.at(-1) ?? v.text).toMatch(/^Consistent: 0 leaks, 0 corruptions\. .*QEMU 7\.2 refuses to open the image: /);
    else if (rc === 2 && a.findings.some((f) => f.code === 'DIRTY_REFCOUNTS')) expect(v).toMatchObject({ kind: 'dirty', severity: 'warning' });
    else if (rc === 2) expect(v.text).toMatch(new RegExp(`^${json!.corruptions} corruptions?`));
    else if (rc === 3) expect(v.text).toMatch(new RegExp(`^${json!.leaks} (leaked )?clusters?`));
    else if (rc === 0 && a.structures.bitmapDirectory?.bitmaps.some((b) => b.inUse)) expect(v).toMatchObject({ kind: 'bitmaps-in-use', severity: 'warning' });
    else if (rc === 0 && a.findings.some((f) => f.code === 'BACKING_UNAVAILABLE')) expect(v).toMatchObject({ kind: 'backing-missing', severity: 'warning' });
    else if (rc === 0) expect(v).toEqual({ kind: 'clean', severity: 'ok', text: 'clean', more: [] });
    else expect(v.kind).toBe('errors');
  });

  it('names the refusal of the seed image in QEMU words', async () => {
    const v = verdict(entry('seed-zero-offset-bitmap', await run('seed-zero-offset-bitmap')));
    expect(v.text).toContain("Bitmap 'empty' doesn't satisfy the constraints");
  });
});

describe('checkCounts', () => {
  it("shows qemu-img check's numbers, zero where its JSON omits them", async () => {
    const a = await run('leak');
    const json = reference<CheckJson>('leak', 'check.json')!;
    const cells = Object.fromEntries(checkCounts(entry('leak', a).result!).map((c) => [c.key, c.value]));
    expect(cells.leaks).toBe(json.leaks);
    expect(cells.corruptions).toBe(json.corruptions ?? 0);
    expect(cells['check-errors']).toBe(json['check-errors']);
    expect(cells['image-end-offset']).toBe(json['image-end-offset']);
  });
});

describe('spaceRows', () => {
  it.each(['bitmaps', 'snapshots', 'leak', 'compressed-zlib'])('%s: rows sum to the file size, largest first', async (name) => {
    const a = await run(name);
    const rows = spaceRows(entry(name, a).result!);
    expect(rows.reduce((n, r) => n + r.bytes, 0)).toBe(a.fileSize);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.bytes).toBeGreaterThanOrEqual(rows[i]!.bytes);
  });
});

describe('bitmapClusterRanges', () => {
  it('covers exactly the bitmap table and data clusters of the bitmaps sample', async () => {
    const a = await run('bitmaps');
    const roles = a.check.roles;
    const owned = new Set<number>();
    for (const b of a.structures.bitmapDirectory!.bitmaps) {
      for (const r of bitmapClusterRanges(b, a.check.clusterSize)) for (let k = r.start; k < r.end; k++) owned.add(k);
    }
    const expected = new Set<number>();
    roles.forEach((r, k) => {
      if (r === Role.BITMAP_TABLE || r === Role.BITMAP_DATA) expected.add(k);
    });
    expect([...owned].sort((x, y) => x - y)).toEqual([...expected].sort((x, y) => x - y));
  });

  it('gives a zero-offset empty bitmap no cluster', async () => {
    const a = await run('seed-zero-offset-bitmap');
    const empty = a.structures.bitmapDirectory!.bitmaps.find((b) => b.name === 'empty')!;
    expect(empty.zeroOffsetEmpty).toBe(true);
    expect(bitmapClusterRanges(empty, a.check.clusterSize)).toEqual([]);
  });
});

describe('placeOf', () => {
  it('knows a table by who points at it, not by its role (a damaged one still decodes as one)', async () => {
    const a = await run('v3');
    const r = entry('v3', a).result!;
    const cs = a.check.clusterSize;
    const l2 = Number(a.structures.l1[0]! & 0x00ff_ffff_ffff_fe00n) / cs;
    expect(placeOf(r, l2)?.kind).toBe('l2');
    expect(placeOf(r, Number(a.structures.header.refcountTableOffset) / cs)?.kind).toBe('refcount-table');
    expect(placeOf(r, Number(a.structures.header.l1TableOffset) / cs)?.kind).toBe('l1');
    expect(placeOf(r, 0)?.kind).toBe('header');
  });
});
