// Decompression of one compressed cluster: deflate and zstd as QEMU reads them, with bounded work
// on hostile input (bombs, frames that make fzstd spin or loop), and the stored-bytes helpers.

import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { assembleStored, decompressCluster, inflateCluster, inflateStep, storedSpan, zstdCluster, zstdFrameLength } from './decompress';

/** The "file content" make.sh writes into the compressed samples: `seq 1 40000`. */
const TEXT = new TextEncoder().encode(Array.from({ length: 40000 }, (_, i) => `${i + 1}\n`).join(''));

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** A zstd block header (RFC 8878 §3.1.1.2): type 0 raw, 1 RLE, 2 compressed. */
const blockHeader = (size: number, type: number, last: boolean): number[] => {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [h & 0xff, (h >> 8) & 0xff, h >> 16];
};

/** What make.sh wrote at each guest cluster of the compressed sources (pattern byte or text offset). */
const SOURCE: Record<string, (guest: number) => { fill: number } | { text: number }> = {
  // 0xc0 at 0–128k, text at 1M–1M+192k, 0xc1 at 3M, text at 5M, 0xc2 at 8128k.
  'compressed-zlib': (g) => (g < 0x20000 ? { fill: 0xc0 } : g < 0x100000 + 0x30000 && g >= 0x100000 ? { text: g - 0x100000 } : g === 0x300000 ? { fill: 0xc1 } : g === 0x500000 ? { text: 0 } : { fill: 0xc2 }),
  'compressed-zstd': (g) => SOURCE['compressed-zlib']!(g),
  // -c -P 0xd0 at 0, text at 128k and 192k (offset 0 of the text both times), 0xd3 at 4M.
  'compressed-mixed': (g) => (g === 0 ? { fill: 0xd0 } : g === 0x20000 || g === 0x30000 ? { text: 0 } : { fill: 0xd3 }),
};

describe('decompressCluster on damaged input', () => {
  const cs = 4096;
  it('reports a short stream, too much data and garbage as problems, never throwing', () => {
    const short = decompressCluster('zlib', deflateSync(new Uint8Array(100).fill(7)), cs);
    expect(short.bytes!.length).toBe(100);
    expect(short.problem).toContain('decompresses to 100 bytes');
    const long = decompressCluster('zlib', deflateSync(new Uint8Array(cs * 2).fill(1)), cs);
    expect(long.bytes!.length).toBe(cs);
    expect(long.problem).toContain('more than a cluster');
    expect(decompressCluster('zlib', new Uint8Array([0xff, 0xff, 0xff]), cs)).toMatchObject({ bytes: null });
    expect(decompressCluster('zstd', new Uint8Array(512), cs).problem).toContain('no zstd frame magic');
  });

  it('measures zstd frames from their block headers and refuses oversized ones', () => {
    // Magic, single-segment header with a 1-byte content size of 5, one last raw block of 5 bytes.
    const frame = [0x28, 0xb5, 0x2f, 0xfd, 0x20, 5, (5 << 3) | 1, 0, 0, 1, 2, 3, 4, 5];
    const withTail = new Uint8Array([...frame, 0, 0, 0, 0, 0]);
    expect(zstdFrameLength(withTail)).toBe(frame.length);
    expect(decompressCluster('zstd', withTail, cs)).toEqual({ bytes: new Uint8Array([1, 2, 3, 4, 5]), problem: expect.stringContaining('decompresses to 5 bytes') });
    expect(zstdFrameLength(withTail.subarray(0, 10))).toBe('the zstd frame runs past the stored bytes');
    // Frame content size flag 2: a 4-byte size of 1 MiB, more than a 4 KiB cluster.
    const big = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0x10, 0, 1, 0, 0]);
    expect(decompressCluster('zstd', big, cs).problem).toContain('declares 1048576 bytes');
  });

  it('reads a stream cut after a full cluster as QEMU does: the first cluster, not an error', () => {
    const z = deflateSync(TEXT.subarray(0, 3 * cs));
    const r = decompressCluster('zlib', z.subarray(0, Math.floor(z.length * 0.7)), cs);
    expect(Buffer.from(r.bytes!).equals(Buffer.from(TEXT.subarray(0, cs)))).toBe(true);
    expect(r.problem).toContain('more than a cluster');
  });
});

describe('decompressCluster on decompression bombs: bounded work, never more than a cluster', () => {
  // Each of these took from a quarter of a second to forever on the page's thread before.
  it('inflates a deflate bomb only until a cluster is out', () => {
    const cs = 4096;
    const bomb = deflateSync(new Uint8Array(8 << 20)).subarray(0, 2 * cs); // ~8 MB of zeros in 8 KiB
    const r = inflateCluster(bomb, cs);
    expect(r.bytes).toEqual(new Uint8Array(cs));
    expect(r.problem).toContain('more than a cluster');
    expect(r.consumed).toBe(inflateStep(cs));
    expect(r.produced).toBeLessThan(cs + 1100 * inflateStep(cs));
  });

  it('gives up on a deflate stream that gives no output', () => {
    const cs = 65536;
    // Non-final empty stored blocks (BFINAL 0, BTYPE 00, LEN 0, NLEN 0xffff), two clusters of them.
    const empty = new Uint8Array(2 * cs).map((_, i) => [0, 0, 0, 0xff, 0xff][i % 5]!);
    const r = inflateCluster(empty, cs);
    expect(r).toMatchObject({ bytes: null, produced: 0, problem: expect.stringContaining('no output for') });
    expect(r.consumed).toBeLessThan(65540 + 2 * inflateStep(cs));
    // A stream that ends early, then two clusters of trailing bytes: read only so far.
    const tail = new Uint8Array(2 * cs);
    tail.set(deflateSync(new Uint8Array(1000).fill(3)));
    const s = inflateCluster(tail, cs);
    expect(s).toMatchObject({ bytes: new Uint8Array(1000).fill(3), problem: expect.stringContaining('decompresses to 1000 bytes') });
    expect(s.consumed).toBeLessThan(65540 + 2 * inflateStep(cs));
  });

  it('decodes only the zstd blocks that reach past a cluster in a frame that declares no size', () => {
    const cs = 4096;
    // No content size, an 8 MiB window, 1000 RLE blocks of 128 KiB of 0x41: 131 MB from 4 KB.
    const blocks = Array.from({ length: 1000 }, (_, i) => [...blockHeader(128 << 10, 1, i === 999), 0x41]).flat();
    const r = zstdCluster(new Uint8Array([...ZSTD_MAGIC, 0x00, 13 << 3, ...blocks]), cs);
    expect(r.bytes).toEqual(new Uint8Array(cs).fill(0x41));
    expect(r.problem).toContain('more than a cluster');
    expect(r.planned).toBe(128 << 10);
  });

  it('refuses zstd blocks whose sequences claim more than a block, before fzstd sees them', () => {
    // RLE-coded tables: literal length 0, offset code 0, match length code 52 (65539 + 16 bits).
    // 32512 sequences with no bits for them: fzstd spun 5 s copying 2 GB of matches.
    const spin = [0x00, 0xff, 0, 0, 0x54, 0, 0, 52, 0x01];
    const a = zstdCluster(new Uint8Array([...ZSTD_MAGIC, 0x20, 0xff, ...blockHeader(spin.length, 2, true), ...spin]), 65536);
    expect(a).toEqual({ bytes: null, planned: 0, problem: expect.stringContaining('the sequences bitstream runs out') });
    // 3 such sequences with their 48 bits present: 196 KiB from a block of at most 128 KiB.
    const big = [0x00, 3, 0x54, 0, 0, 52, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const b = zstdCluster(new Uint8Array([...ZSTD_MAGIC, 0x00, 10 << 3, ...blockHeader(big.length, 2, true), ...big]), 1 << 20);
    expect(b).toEqual({ bytes: null, planned: 0, problem: expect.stringContaining('more than its 131072-byte maximum') });
  });

  it('refuses Huffman weights whose FSE states read no bits (fzstd looped forever on them)', () => {
    // Literals: compressed, 16 of them, 9 bytes: FSE-coded weights, one symbol of probability 64/64.
    const body = [0x02, 0x41, 0x02, 5, 0xf1, 0x07, 0xff, 0xff, 0x01, 0, 0, 0, 0x01, 0];
    const r = zstdCluster(new Uint8Array([...ZSTD_MAGIC, 0x20, 16, ...blockHeader(body.length, 2, true), ...body]), 65536);
    expect(r).toEqual({ bytes: null, planned: 0, problem: expect.stringContaining('the Huffman weights do not end') });
  });

  it('walks no more zstd blocks than a cluster can need', () => {
    const empties = Array.from({ length: 200 }, () => blockHeader(0, 0, false)).flat();
    const r = zstdCluster(new Uint8Array([...ZSTD_MAGIC, 0x00, 0, ...empties, ...blockHeader(1, 0, true), 7]), 4096);
    expect(r).toEqual({ bytes: null, planned: 0, problem: expect.stringContaining('not previewed') });
  });
});

describe('zstd frames as QEMU reads them', () => {
  it('decodes frames one after another, skipping skippable ones, until the cluster is full', () => {
    // Two frames declaring 2048 bytes (2-byte size + 256), one raw block each, a skippable frame between.
    const frame = (v: number) => [...ZSTD_MAGIC, 0x60, 0x00, 0x07, ...blockHeader(2048, 0, true), ...new Array<number>(2048).fill(v)];
    const stored = new Uint8Array([...frame(1), 0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9, ...frame(2), 0, 0, 0]);
    const r = decompressCluster('zstd', stored, 4096);
    expect(r.problem).toBeNull();
    expect(r.bytes).toEqual(new Uint8Array(4096).fill(1, 0, 2048).fill(2, 2048));
    expect(decompressCluster('zstd', stored.subarray(0, 2048 + 10 + 11), 4096).problem).toContain('decompresses to 2048 bytes');
  });

  it('decodes literals with directly stored Huffman weights as libzstd does', () => {
    // Weight 1 for symbol 0, symbol 1 implied: 1-bit codes; 8 literals from one byte, then its end mark.
    const body = [0x82, 0x00, 0x01, 128, 0x10, 0b10110010, 0x01, 0];
    const r = decompressCluster('zstd', new Uint8Array([...ZSTD_MAGIC, 0x20, 8, ...blockHeader(body.length, 2, true), ...body]), 8);
    // What `zstd -d` makes of the same frame.
    expect(r).toEqual({ bytes: new Uint8Array([1, 0, 1, 1, 0, 0, 1, 0]), problem: null });
  });
});

describe('stored bytes', () => {
  it('cuts the stored bytes out of one or two host clusters, zeros past the end of the file', () => {
    expect(storedSpan(4096 * 3 + 4000, 512, 4096)).toEqual({ first: 3, last: 4, length: 512 });
    expect(storedSpan(100, 9 * 4096, 4096).length).toBe(8192);
    const a = new Uint8Array(4096).fill(1);
    expect([...assembleStored(4090, 10, 4096, 0, [a, null])]).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
});
