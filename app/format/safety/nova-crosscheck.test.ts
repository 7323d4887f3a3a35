// Cross-check with OpenStack's image format inspector (Debian's python3-nova, run standalone:
// test-support/nova-inspector.ts) on every crafted safety case, the sample images and images made
// by qemu-img with random options (held out: the verdict was not tuned on them). Every image nova
// rejects for a backing file, a data file or several formats is unsafe here too; nova's false alarm
// on extended L2 entries is shown and not repeated, and so are the images nova passes that are not
// safe (a qcow version 1 file it calls qcow2, truncated and corrupt images).

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomImage } from '../../test-support/random-images';
import { hasQemuImg } from '../../test-support/qemu-tools';
import { SAFETY_CASES } from '../../test-support/safety-cases';
import { listSamples, samplePath } from '../../test-support/samples';
import { novaInspectorAvailable, novaRejectsForSharedReason, novaVerdicts, standaloneInspector, type NovaVerdict } from '../../test-support/nova-inspector';
import { fileSafety } from './file-node';
import type { Safety } from './types';

/** Cases whose images take seconds to make (LUKS key slots); the LUKS sample stands in for them. */
const SLOW = new Set(['encrypted', 'luks']);
const RANDOM_SEEDS = [11, 12, 13, 14, 15, 16, 17, 18];

interface Row {
  readonly name: string;
  readonly ours: Safety;
  readonly nova: NovaVerdict;
}

describe.runIf(novaInspectorAvailable && hasQemuImg())("OpenStack's format inspector and our verdict", () => {
  let inspector = '';
  const rows = new Map<string, Row>();
  beforeAll(async () => {
    inspector = standaloneInspector();
    const images: { name: string; path: string }[] = [];
    for (const c of SAFETY_CASES) {
      if (SLOW.has(c.name)) continue;
      const dir = join(inspector, 'cases', c.name);
      mkdirSync(dir, { recursive: true });
      images.push({ name: c.name, path: c.make(dir) });
    }
    for (const s of listSamples()) images.push({ name: `sample ${s}`, path: samplePath(s) });
    const randomDir = join(inspector, 'random');
    mkdirSync(randomDir, { recursive: true });
    for (const seed of RANDOM_SEEDS) images.push({ name: `random ${seed}`, path: makeRandomImage(randomDir, seed, { kind: 'structures' }).path });
    const nova = novaVerdicts(inspector, images.map((x) => x.path));
    for (const [i, img] of images.entries()) rows.set(img.name, { name: img.name, ours: await fileSafety(img.path), nova: nova[i]! });
  }, 300_000);
  afterAll(() => {
    if (inspector) rmSync(inspector, { recursive: true, force: true });
  }, 60_000);

  it('calls unsafe every image nova rejects for a backing file, a data file or several formats', () => {
    const shared = [...rows.values()].filter((r) => novaRejectsForSharedReason(r.nova) !== null);
    // Not vacuous: every backing and data file case, two polyglots nova can see, the overlay samples.
    for (const name of ['backing-absolute', 'backing-relative', 'backing-nbd', 'backing-json', 'data-file', 'polyglot-iso-8001', 'polyglot-vdi', 'sample overlay', 'sample data-file']) {
      expect(shared.map((r) => r.name)).toContain(name);
    }
    for (const r of shared) expect({ name: r.name, nova: novaRejectsForSharedReason(r.nova), ours: r.ours.verdict }).toEqual({ name: r.name, nova: novaRejectsForSharedReason(r.nova), ours: 'unsafe' });
  });

  it('names the same cause: a backing file, a data file, or a polyglot', () => {
    const cause = { 'backing file': /^backing-/, 'data file': /^data-file$/, 'several formats': /^polyglot$/ };
    for (const r of rows.values()) {
      const why = novaRejectsForSharedReason(r.nova);
      if (why) expect(r.ours.reasons.some((x) => cause[why].test(x.code)), `${r.name}: ${why}`).toBe(true);
    }
  });

  it('does not repeat its extended-L2 false alarm', () => {
    const r = rows.get('extended-l2')!;
    expect(r.nova).toMatchObject({ format: 'qcow2', safe: false, unknownFeatures: true, backingFile: false, dataFile: false });
    expect(r.ours.verdict).toBe('safe');
    expect(r.ours.notes.map((n) => n.code)).toContain('extended-l2');
    const sample = rows.get('sample extended-l2')!;
    expect([sample.nova.safe, sample.ours.verdict]).toEqual([false, 'safe']);
  });

  it('refuses or rejects what nova passes: qcow version 1, truncated and corrupt images', () => {
    const passed = (name: string) => rows.get(name)!;
    expect(passed('qcow1').nova).toMatchObject({ format: 'qcow2', safe: true });
    expect(passed('qcow1').ours.reasons.map((x) => x.code)).toEqual(['qcow1']);
    for (const name of ['truncated', 'refcount-too-low', 'overlapping-references', 'reference-past-end', 'huge-l1', 'compressed-oversized']) {
      expect({ name, nova: passed(name).nova.safe, ours: passed(name).ours.verdict }).toEqual({ name, nova: true, ours: 'unsafe' });
    }
  });
});
