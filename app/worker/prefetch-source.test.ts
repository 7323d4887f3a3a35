// The analysed file's source: the header the chain planner read is not read again by the engine,
// cluster 0, the refcount table and the L1 table are read as one span when they lie close together
// (and every read inside it is served from it), a prefetched range is read once and handed to the
// engine's read of exactly that range, and the analysis through it equals the analysis through a
// plain source.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyze, BlobSource, reftableRange } from '../format';
import { samplePath } from '../test-support/samples';
import { planChain } from './chain';
import { headSpanEnd, PrefetchSource, SPAN_MAX } from './prefetch-source';

const combine = (parts: Blob[]) => new Blob(parts);

function sample(name: string): File {
  return new File([readFileSync(samplePath(name))], `${name}.qcow2`);
}

/** A qcow2 v3 header's first 104 bytes with the given layout. */
function header(o: { bits?: number; l1Size?: number; l1Offset?: number; rtOffset?: number; rtClusters?: number; magic?: number }): Uint8Array {
  const b = new Uint8Array(104);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, o.magic ?? 0x514649fb);
  dv.setUint32(4, 3);
  dv.setUint32(20, o.bits ?? 16);
  dv.setUint32(36, o.l1Size ?? 16);
  dv.setBigUint64(40, BigInt(o.l1Offset ?? 0x30000));
  dv.setBigUint64(48, BigInt(o.rtOffset ?? 0x10000));
  dv.setUint32(56, o.rtClusters ?? 1);
  dv.setUint32(100, 104);
  return b;
}

/** A file of `size` bytes starting with `head`, the rest a byte pattern. */
function fileWith(head: Uint8Array, size: number): File {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
  b.set(head);
  return new File([b], 'x.qcow2');
}

describe('headSpanEnd', () => {
  it('ends at the last of cluster 0, the refcount table and the L1 table', () => {
    expect(headSpanEnd(header({}), 1 << 30)).toBe(0x30000 + 16 * 8);
    expect(headSpanEnd(header({ l1Offset: 0x8000, rtOffset: 0x20000, rtClusters: 2 }), 1 << 30)).toBe(0x40000);
    expect(headSpanEnd(header({ l1Size: 0, rtClusters: 0 }), 1 << 30)).toBe(0x10000);
  });

  it('no span longer than SPAN_MAX, none past the file end', () => {
    expect(headSpanEnd(header({ l1Offset: SPAN_MAX }), 1 << 30)).toBeNull();
    expect(headSpanEnd(header({ l1Offset: SPAN_MAX - 128 }), 1 << 30)).toBe(SPAN_MAX);
    expect(headSpanEnd(header({ rtOffset: 2 ** 52 }), 1 << 30)).toBeNull();
    expect(headSpanEnd(header({ bits: 21 }), 1 << 30)).toBeNull();
    expect(headSpanEnd(header({}), 100_000)).toBe(100_000);
  });

  it('a damaged header: no span', () => {
    expect(headSpanEnd(header({ magic: 0x12345678 }), 1 << 30)).toBeNull();
    expect(headSpanEnd(header({ bits: 8 }), 1 << 30)).toBeNull();
    expect(headSpanEnd(header({ bits: 40 }), 1 << 30)).toBeNull();
    expect(headSpanEnd(header({}).subarray(0, 60), 1 << 30)).toBeNull();
  });
});

describe('PrefetchSource', () => {
  it('reads inside the span are served from it, byte for byte, with one read of the file', async () => {
    const f = fileWith(header({}), 0x50000);
    const src = new PrefetchSource(f, f.name, combine, {});
    const plain = new BlobSource<Blob>(f, f.name);
    const same = async (o: number, n: number) => Buffer.from(await src.read(o, n)).equals(Buffer.from(await plain.read(o, n)));
    expect(await same(0, 4096)).toBe(true);
    expect(src.spanEnd).toBe(0x30080);
    expect(src.reads).toBe(2);
    for (const [o, n] of [[0, 0x10000], [0x10000, 0x10000], [0x30000, 128], [0x2fff0, 0x90], [5, 1]] as const) expect(await same(o, n)).toBe(true);
    src.prefetch(0x10000, 0x10000);
    src.prefetch(0x30000, 128);
    expect(src.reads).toBe(2);
    // Past the span: read from the file.
    expect(await same(0x30000, 0x100)).toBe(true);
    expect(src.reads).toBe(3);
  });

  it('a span never reads past the file end; reads reaching the end are served as the file would', async () => {
    const f = fileWith(header({}), 0x20000);
    const src = new PrefetchSource(f, f.name, combine, {});
    const plain = new BlobSource<Blob>(f, f.name);
    await src.read(0, 4096);
    expect(src.spanEnd).toBe(0x20000);
    expect(src.bytesRead).toBe(4096 + 0x20000);
    const got = await src.read(0x1ff00, 0x1000);
    expect(Buffer.from(got).equals(Buffer.from(await plain.read(0x1ff00, 0x1000)))).toBe(true);
    expect(got.length).toBe(0x100);
    expect(src.reads).toBe(2);
  });

  it('a damaged header or a far L1 table: no span, reads go to the file', async () => {
    for (const h of [header({ magic: 0 }), header({ l1Offset: 1 << 20 })]) {
      const f = fileWith(h, 0x120000);
      const src = new PrefetchSource(f, f.name, combine, {});
      await src.read(0, 4096);
      expect(src.spanEnd).toBe(0);
      await src.read(0x10000, 0x10000);
      expect(src.reads).toBe(2);
    }
  });

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
  });

  it('the span and prefetched ranges replace the engine\'s reads, and the analysis is the same', async () => {
    for (const name of ['snapshots', 'base', 'bitmaps']) {
      const f = sample(name);
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
          src.prefetch(0x400000, 64 * 1024 * 1024);
          prefetched = src.reads;
        },
      });
      expect(prefetched).toBeGreaterThan(0);
      // The header, cluster 0 and both tables: two reads (the header, then the span), where a plain
      // source makes four; other reads inside the span (a refcount block in cluster 2) are saved too.
      expect(src.spanEnd).toBeGreaterThan(0);
      expect(src.reads).toBeLessThanOrEqual(plainSrc.reads - 2);
      expect(JSON.stringify(got.check.storedRefcounts)).toBe(JSON.stringify(want.check.storedRefcounts));
      expect(got.findings).toEqual(want.findings);
      expect(got.info).toEqual(want.info);
    }
  });
});
