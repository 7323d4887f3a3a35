// The fuzzer itself: its mutators are deterministic and find the structures the engine finds, and
// a fixed-seed slice of `npm run fuzz` (the real runner: worker processes, per-case budget) passes.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../app/format/analyze';
import { Findings } from '../../app/format/qcow2/errors';
import { BytesSource } from '../../app/format/qcow2/source';
import { loadHeaderStage, loadStructures } from '../../app/format/qcow2/structures';
import { listSamples, ROOT, samplePath } from '../../app/test-support/samples';
import { patchSample } from './cases';
import { locate } from './locate';
import { truncationPoints, writeUint } from './mutate';
import { Rng } from '../../app/test-support/prng';
import { makeCase, prepareSample } from './run';

const bytesOf = (name: string) => new Uint8Array(readFileSync(samplePath(name)));

async function structuresOf(b: Uint8Array) {
  const src = new BytesSource(b);
  const f = new Findings();
  return loadStructures(src, await loadHeaderStage(src, f), f);
}

describe('locate', () => {
  it.each(['snapshots', 'bitmaps', 'luks', 'extended-l2', 'v2'])('finds in %s what the engine reads', async (name) => {
    const b = bytesOf(name);
    const l = locate(b);
    const s = await structuresOf(b);
    const field = (n: string) => l.fields.find((x) => x.name === n);
    expect(field('header.l1_table_offset')?.offset).toBe(40);
    expect(l.tables.find((t) => t.kind === 'l1')?.offset).toBe(Number(s.header.l1TableOffset));
    expect(l.tables.find((t) => t.kind === 'reftable')?.offset).toBe(Number(s.header.refcountTableOffset));
    expect((s.snapshotTable?.snapshots ?? []).map((x) => x.entryOffset)).toEqual(
      l.fields.filter((x) => /^snapshot\[\d+\]\.l1_table_offset$/.test(x.name)).map((x) => x.offset));
    expect((s.bitmapDirectory?.bitmaps ?? []).map((x) => x.entryOffset)).toEqual(
      l.fields.filter((x) => /^bitmap\[\d+\]\.table_offset$/.test(x.name)).map((x) => x.offset));
    const l2 = new Set<number>();
    for (const t of [s.l1, ...s.snapshotL1]) for (const e of t ?? []) if (e & 0x00ff_ffff_ffff_fe00n) l2.add(Number(e & 0x00ff_ffff_ffff_fe00n));
    expect(new Set(l.tables.filter((t) => t.kind === 'l2').map((t) => t.offset))).toEqual(l2);
    if (s.luks) expect(l.regions.find((r) => r.name === 'LUKS header')?.offset).toBe(s.luks.offset);
  });

  it.each(['compressed-zlib', 'compressed-zstd', 'compressed-mixed'])('finds in %s the compressed streams the check indexes', async (name) => {
    const b = bytesOf(name);
    const l = locate(b);
    const a = await analyze(new BytesSource(b, name));
    const c = a.check.compressed;
    const want = Array.from({ length: c.n }, (_, i) => `${c.host[i]}+${c.length[i]}`).sort();
    expect(l.compressed.map((r) => `${r.offset}+${r.length}`).sort()).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
  });

  it('never throws on damaged bytes', () => {
    const b = bytesOf('snapshots');
    const rng = new Rng(1);
    for (let k = 0; k < 200; k++) {
      const c = b.slice(0, rng.int(b.length));
      for (let i = 0; i < 64 && c.length; i++) c[rng.int(c.length)] = rng.int(256);
      expect(() => locate(c)).not.toThrow();
    }
  });
});

describe('mutators', () => {
  it('writeUint writes big-endian, truncated to the width, never past the end', () => {
    const b = new Uint8Array(6);
    writeUint(b, 0, 4, 0x1_2345_6789n);
    writeUint(b, 4, 4, 0xaabb_ccddn);
    expect(Array.from(b)).toEqual([0x23, 0x45, 0x67, 0x89, 0xaa, 0xbb]);
  });

  it('patchSample sets header fields and table entries by name', async () => {
    const b = patchSample(bytesOf('v3'), { 'header.nb_snapshots': 3, 'header.l1_size': 0x1234, 'entry:active L1 table:0': 0x5000n });
    const s = await structuresOf(b);
    expect([s.header.nbSnapshots, s.header.l1Size]).toEqual([3, 0x1234]);
    expect(new DataView(b.buffer).getBigUint64(Number(s.header.l1TableOffset))).toBe(0x5000n);
    expect(() => patchSample(b, { 'header.nope': 1 })).toThrow(/no field/);
  });

  it('cuts at every structure boundary, inside the file', () => {
    const b = bytesOf('snapshots');
    const l = locate(b);
    const points = truncationPoints(l);
    for (const r of l.regions.filter((x) => x.offset + x.length < b.length)) {
      expect(points).toContain(r.offset);
      expect(points).toContain(r.offset + r.length);
    }
    expect(Math.max(...points)).toBeLessThan(b.length);
  });

  it('makes the same case from the same seed and index, and different ones otherwise', () => {
    const samples = ['v3', 'snapshots', 'bitmaps'].map((n) => prepareSample(n, bytesOf(n)));
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const a = makeCase(samples, 99, i);
      const again = makeCase(samples, 99, i);
      expect(again.ops).toEqual(a.ops);
      expect(Buffer.compare(Buffer.from(again.bytes), Buffer.from(a.bytes))).toBe(0);
      seen.add(a.ops.join('|'));
    }
    expect(seen.size).toBeGreaterThan(45);
  });
});

describe('a fixed-seed slice of npm run fuzz', () => {
  // The per-case CPU budget is 10 × the fuzzer's usual 2 s and the run's wall-clock guard 10 min:
  // only guards against hangs (npm run bench measures speed), generous on a loaded machine.
  it('2000 cases: every one ends in a report or a typed error, none hangs', () => {
    expect(listSamples().length).toBeGreaterThan(10);
    const dir = mkdtempSync(join(tmpdir(), 'qcowscope-fuzz-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'tools/scripts/fuzz.mjs'), '--cases', '2000', '--seed', '20251125', '--budget-ms', '20000', '--bundle', join(dir, 'engine.mjs'), '--out', join(dir, 'failures')], {
        cwd: ROOT, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024,
      });
      const result = /^fuzz result: .*$/m.exec(r.stdout)?.[0] ?? `no result line (signal ${r.signal}): ${r.stderr.slice(-2000)}`;
      const failures = r.stdout.split('\n').filter((l) => /^FAIL|^ {2}(ops|rerun):/.test(l)).slice(0, 30).join('\n');
      expect(result + '\n' + failures).toMatch(/^fuzz result: seed 20251125, 2000 cases in [\d.]+ s: \d+ reports, \d+ typed errors \(.*\), 0 failures/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 620_000);
});
