// Every bitmap's summary and health on the samples: the flags and shapes make.sh and craft.mjs
// gave them (sample-images/README.md) come back as the right health lines and export verdicts.

import { describe, expect, it } from 'vitest';
import { Findings } from '../qcow2/errors';
import { NodeFileSource } from '../qcow2/source-node';
import { loadHeaderStage, loadStructures } from '../qcow2/structures';
import { samplePath } from '../../test-support/samples';
import { summarizeBitmaps, summariesJson, summariesText, type BitmapSummary } from './summary';

async function summaries(sample: string): Promise<Map<string, BitmapSummary>> {
  const src = await NodeFileSource.open(samplePath(sample));
  try {
    const f = new Findings();
    const s = await loadStructures(src, await loadHeaderStage(src, f), f);
    const refusals = f.list.filter((x) => x.code === 'QEMU_REFUSES');
    const list = await summarizeBitmaps(src, s.header, s.bitmapDirectory?.bitmaps ?? [], refusals);
    return new Map(list.map((b) => [b.name, b]));
  } finally {
    await src.close();
  }
}

const codes = (b: BitmapSummary | undefined) => b!.health.map((l) => `${l.level}:${l.code}`);

describe('bitmap summaries and health', () => {
  it('bitmaps sample: enabled and disabled, granularity against the cluster size, dirty bytes', async () => {
    const m = await summaries('bitmaps');
    expect(codes(m.get('a-auto'))).toEqual(['ok:recording', 'ok:granularity']);
    expect(codes(m.get('b-disabled'))).toEqual(['note:frozen', 'ok:granularity']);
    expect(codes(m.get('d-coarse'))).toEqual(['ok:recording', 'note:granularity']);
    expect(m.get('d-coarse')!.health[1]!.text).toBe('granularity 1 MiB, coarser than the 64 KiB clusters');
    // README: a-auto 10 bits of 64 KiB, e-never none.
    expect(m.get('a-auto')!.dirtyBytes).toBe(10 * 65536);
    expect(m.get('e-never')).toMatchObject({ dirtyBytes: 0, dirtyExtents: 0, extents: 1, qemuRefusal: null });
  });

  it('in use: stale, not exported, with the reason qemu-nbd gives', async () => {
    const live = (await summaries('bitmap-in-use')).get('live')!;
    expect(codes(live)[0]).toBe('bad:in-use');
    expect(live.qemuRefusal).toContain("Bitmap 'live' is inconsistent and cannot be used");
  });

  it('all-ones entries are a note; the zero-offset empty bitmap is bad and makes QEMU refuse the image', async () => {
    const ones = (await summaries('seed-all-ones-bitmap')).get('fine')!;
    expect(codes(ones)).toContain('note:all-ones');
    expect(ones.dirtyBytes).toBe(64 * 1024 * 1024);
    const seed = await summaries('seed-zero-offset-bitmap');
    expect(codes(seed.get('empty'))[0]).toBe('bad:zero-offset-empty');
    expect(seed.get('empty')).toMatchObject({ dirtyBytes: 0, unknownBytes: 0 });
    // Every bitmap of a refused image is refused, the reason naming the culprit.
    for (const b of seed.values()) expect(b.qemuRefusal).toContain("Bitmap 'empty' doesn't satisfy the constraints");
    expect(codes((await summaries('seed-offset-one-bitmap')).get('nightly'))[0]).toBe('bad:offset-one');
  });

  it('prints JSON and text; names from the file are quoted', async () => {
    const list = [...(await summaries('bitmaps')).values()];
    const doc = JSON.parse(summariesJson(list)) as { name: string; 'qemu-exports': boolean; health: unknown[] }[];
    expect(doc.map((b) => b.name)).toEqual(['a-auto', 'c-fine', 'd-coarse', 'b-disabled', 'e-never', 'f-merged']);
    expect(doc.every((b) => b['qemu-exports'] && b.health.length >= 2)).toBe(true);
    expect(summariesText(list)).toMatch(/^"a-auto": 640 KiB dirty \(655360 bytes\) in \d+ extents?;/);
    expect(summariesText([])).toBe('no bitmaps\n');
  });
});
