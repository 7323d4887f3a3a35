// The analysed file's source: the header the chain planner read is not read again by the engine,
// a prefetched range is read once and handed to the engine's read of exactly that range, and the
// analysis through it equals the analysis through a plain source.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyze, BlobSource, reftableRange } from '../format';
import { samplePath } from '../test-support/samples';
import { planChain } from './chain';
import { PrefetchSource } from './prefetch-source';

const combine = (parts: Blob[]) => new Blob(parts);

function sample(name: string): File {
  return new File([readFileSync(samplePath(name))], `${name}.qcow2`);
}

describe('PrefetchSource', () => {
  it('the header read by the chain planner is served again from memory, byte for byte', async () => {
    const f = sample('snapshots');
    const src = new PrefetchSource(f, f.name, combine, {});
    await planChain([f], () => src);
    const planned = src.reads;
    expect(planned).toBeGreaterThan(0);
    const plain = new BlobSource<Blob>(f, f.name);
    for (const n of [104, 4096, 65536]) {
      expect(Buffer.from(await src.read(0, n)).equals(Buffer.from(await plain.read(0, n)))).toBe(true);
    }
    expect(src.reads).toBe(planned);
    // Longer than what was kept: read from the file.
    await src.read(0, 65536 * 2);
    expect(src.reads).toBe(planned + 1);
  });

  it('a prefetched range is read once, handed to the read of exactly that range, and the analysis is the same', async () => {
    const f = sample('snapshots');
    const plainSrc = new BlobSource<Blob>(f, f.name, combine);
    const want = await analyze(plainSrc);
    const src = new PrefetchSource(f, f.name, combine, {});
    let prefetched = 0;
    const got = await analyze(src, {
      onEvent: (e) => {
        if (e.kind !== 'header') return;
        const rt = reftableRange(e.stage.header, src.size);
        src.prefetch(rt.offset, rt.length);
        src.prefetch(Number(e.stage.header.l1TableOffset), e.stage.header.l1Size * 8);
        // Ignored: past the end of the file, empty, too long.
        src.prefetch(src.size + 10, 100);
        src.prefetch(0, 0);
        src.prefetch(0, 64 * 1024 * 1024);
        prefetched = src.reads;
      },
    });
    expect(prefetched).toBeGreaterThan(0);
    // The two prefetched reads were the engine's own: no more reads in all than without them.
    expect(src.reads).toBe(plainSrc.reads);
    expect(src.bytesRead).toBe(plainSrc.bytesRead);
    expect(JSON.stringify(got.check.storedRefcounts)).toBe(JSON.stringify(want.check.storedRefcounts));
    expect(got.findings).toEqual(want.findings);
    expect(got.info).toEqual(want.info);
  });
});
