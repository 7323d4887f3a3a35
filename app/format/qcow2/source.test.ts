// readRanges over every kind of source: plain reads, batched reads of a Blob (one request for many
// scattered ranges), and reads into reused buffers (a Node file): every range gets exactly its
// bytes, in offset order, no byte outside the ranges is read, and no more reads are in flight than
// asked.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeFileSource } from './source-node';
import { BlobSource, BytesSource, readRanges, type ByteSource, type Range } from './source';
import { WrappedSource } from '../../test-support/wrapped-source';

const FILE = (() => {
  const b = new Uint8Array(3 * 1024 * 1024 + 123);
  for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
})();

/** Scattered, touching and overlapping ranges, some running past the end of the file. */
function someRanges(): Range<number>[] {
  const out: Range<number>[] = [];
  let s = 7;
  for (let i = 0; i < 300; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push({ offset: s % (FILE.length + 1000), length: 1 + ((s >>> 8) % 70_000), key: i });
  }
  out.push({ offset: 4096, length: 4096, key: 300 }, { offset: 8192, length: 4096, key: 301 }, { offset: 6000, length: 5000, key: 302 });
  return out;
}

/** Counts bytes asked of the wrapped source and the reads pending at once. */
class Counting extends WrappedSource {
  asked = 0;
  pending = 0;
  maxPending = 0;
  override async read(offset: number, length: number): Promise<Uint8Array> {
    this.asked += Math.max(0, Math.min(this.size, offset + length) - offset);
    this.maxPending = Math.max(this.maxPending, ++this.pending);
    await new Promise((r) => setTimeout(r, 1));
    this.pending--;
    return this.src.read(offset, length);
  }
}

async function collect(src: ByteSource, ranges: readonly Range<number>[], opts = {}) {
  const got: { key: number; offset: number; bytes: Uint8Array }[] = [];
  // Copies: the bytes may live in a reused buffer.
  await readRanges(src, ranges, (key, bytes, offset) => void got.push({ key, offset, bytes: bytes.slice() }), opts);
  return got;
}

function expectExact(got: { key: number; offset: number; bytes: Uint8Array }[], ranges: readonly Range<number>[]) {
  const inFile = ranges.filter((r) => r.offset < FILE.length);
  expect(got.map((g) => g.key).sort((a, b) => a - b)).toEqual(inFile.map((r) => r.key).sort((a, b) => a - b));
  for (let i = 1; i < got.length; i++) expect(got[i]!.offset).toBeGreaterThanOrEqual(got[i - 1]!.offset);
  for (const g of got) {
    const r = ranges.find((x) => x.key === g.key)!;
    expect(Buffer.from(g.bytes).equals(Buffer.from(FILE.subarray(r.offset, r.offset + r.length))), `range ${g.key}`).toBe(true);
  }
}

/** Bytes of the file that some range covers. */
function coveredBytes(ranges: readonly Range<number>[]): number {
  const cover = new Uint8Array(FILE.length);
  for (const r of ranges) if (r.offset < FILE.length) cover.fill(1, r.offset, Math.min(FILE.length, r.offset + r.length));
  return cover.reduce((n, x) => n + x, 0);
}

describe('readRanges', () => {
  it('plain reads: exact bytes, offset order, nothing outside the ranges, at most inFlight pending', async () => {
    const ranges = someRanges();
    const src = new Counting(new BytesSource(FILE));
    expectExact(await collect(src, ranges, { inFlight: 3 }), ranges);
    expect(src.asked).toBe(coveredBytes(ranges));
    expect(src.maxPending).toBeLessThanOrEqual(3);
    expect(src.maxPending).toBeGreaterThan(1);
  });

  it('batched reads of a Blob: one request per batch of scattered ranges', async () => {
    const ranges = someRanges();
    const src = new BlobSource(new Blob([FILE]), 'blob', (parts) => new Blob(parts));
    expectExact(await collect(src, ranges, { batchParts: 16 }), ranges);
    expect(src.bytesRead).toBe(coveredBytes(ranges));
    const merged = await mergedReads(ranges);
    expect(src.reads).toBe(Math.ceil(merged / 16));
  });

  it('batched reads into reused buffers: the bytes right in every callback, at most inFlight + 1 buffers', async () => {
    // Tables of one size, scattered (as L2 tables are), in batches of 4.
    const ranges = Array.from({ length: 120 }, (_, i) => ({ offset: ((i * 7919) % 120) * 8192 + 512, length: 4096, key: i }));
    const buffers = new Set<ArrayBufferLike>();
    const fill = async (whole: Blob, into: Uint8Array) => {
      buffers.add(into.buffer);
      const got = new Uint8Array(await whole.arrayBuffer());
      into.set(got);
      return into.subarray(0, got.length);
    };
    const src = new BlobSource<Blob>(new Blob([FILE]), 'blob', (parts) => new Blob(parts), { fill, maxRead: 4096 });
    expectExact(await collect(src, ranges, { batchParts: 4, inFlight: 2 }), ranges);
    expect(src.bytesRead).toBe(coveredBytes(ranges));
    expect(src.reads).toBeGreaterThan(3);
    expect(buffers.size).toBeLessThanOrEqual(3);
  });

  it('reads into reused buffers (a Node file), with the bytes right in every callback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcowscope-src-'));
    try {
      writeFileSync(join(dir, 'f'), FILE);
      const src = await NodeFileSource.open(join(dir, 'f'));
      const ranges = someRanges();
      expectExact(await collect(src, ranges), ranges);
      expect(src.bytesRead).toBe(coveredBytes(ranges));
      await src.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('arrivalOrder: each request handed out when it arrives, every range exact, buffers still reused', async () => {
    // Later reads finish first: request q takes (inFlight - q % inFlight) ms.
    const ranges = Array.from({ length: 60 }, (_, i) => ({ offset: i * 40_000 + 100, length: 4096, key: i }));
    const order: number[] = [];
    const progress: number[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let q = 0;
    const slowFirst: ByteSource = {
      size: FILE.length,
      name: 'slow-first',
      readInto: async (offset, into) => {
        buffers.add(into.buffer);
        await new Promise((r) => setTimeout(r, 4 * (4 - (q++ % 4))));
        into.set(FILE.subarray(offset, offset + into.length));
        return Math.min(into.length, FILE.length - offset);
      },
      read: async (o, l) => FILE.slice(o, o + l),
    };
    const got: { key: number; offset: number; bytes: Uint8Array }[] = [];
    await readRanges(slowFirst, ranges, (key, bytes, offset) => {
      order.push(key);
      got.push({ key, offset, bytes: bytes.slice() });
    }, { inFlight: 4, arrivalOrder: true, onProgress: (done) => progress.push(done) });
    expectExact(got.sort((a, b) => a.offset - b.offset), ranges);
    // Handed out of offset order (the fourth request of each round arrived first)…
    expect(order.slice(0, 4)).not.toEqual([0, 1, 2, 3]);
    expect([...order].sort((a, b) => a - b)).toEqual(ranges.map((r) => r.key));
    // …progress counts up to every range, and at most inFlight + 1 buffers were used.
    expect(progress).toEqual(ranges.map((_, i) => i + 1));
    expect(buffers.size).toBeLessThanOrEqual(5);
  });

  it('reads through gaps up to maxGap when asked to', async () => {
    const src = new Counting(new BytesSource(FILE));
    const ranges = [{ offset: 0, length: 100, key: 0 }, { offset: 1100, length: 100, key: 1 }];
    expectExact(await collect(src, ranges, { maxGap: 1000 }), ranges);
    expect(src.asked).toBe(1200);
  });
});

/** How many reads a plain source gets for `ranges` (the merged groups). */
async function mergedReads(ranges: readonly Range<number>[]): Promise<number> {
  let reads = 0;
  const src: ByteSource = {
    size: FILE.length,
    name: 'count',
    read: async (o, l) => {
      reads++;
      return FILE.subarray(o, o + l);
    },
  };
  await readRanges(src, ranges, () => undefined);
  return reads;
}
