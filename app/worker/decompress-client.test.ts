// The decompressor's client with a stand-in worker: answers by id, a silent worker ended at the
// budget with the problem said, a crashed one replaced, malformed answers refused; and the guards.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWorker } from './fake-worker';
import { isDecompressReply, isDecompressRequest } from './decompress-protocol';


vi.mock('./decompress.worker?worker&inline', async () => ({ default: (await import('./fake-worker')).FakeWorker }));
const { DecompressClient } = await import('./decompress-client');

const CS = 65536;
const stored = new Uint8Array([1, 2, 3]);

describe('DecompressClient', () => {
  beforeEach(() => {
    FakeWorker.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('answers each request by its id, in any order', async () => {
    const c = new DecompressClient(1000);
    const a = c.decompress('zlib', stored, CS);
    const b = c.decompress('zstd', stored, CS);
    const w = FakeWorker.all[0]!;
    expect(FakeWorker.all).toHaveLength(1);
    expect(w.sent.map((m) => (m as { id: number }).id)).toEqual([1, 2]);
    w.reply({ id: 2, bytes: null, problem: 'bad frame' });
    w.reply({ id: 1, bytes: new Uint8Array(CS).fill(7), problem: null });
    await expect(b).resolves.toEqual({ bytes: null, problem: 'bad frame' });
    const r = await a;
    expect(r.problem).toBeNull();
    expect(r.bytes?.length).toBe(CS);
  });

  it('ends a worker that stays silent past the budget, says so, and starts a new one next time', async () => {
    const c = new DecompressClient(2500);
    const a = c.decompress('zstd', stored, CS);
    vi.advanceTimersByTime(2499);
    expect(FakeWorker.all[0]!.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    const r = await a;
    expect(r.bytes).toBeNull();
    expect(r.problem).toBe('decompression stopped after 2.5 s: the stored bytes may be built to make the decompressor loop (a new decompressor will be started)');
    expect(FakeWorker.all[0]!.terminated).toBe(true);
    void c.decompress('zlib', stored, CS);
    expect(FakeWorker.all).toHaveLength(2);
    // A late answer from the ended worker is ignored.
    FakeWorker.all[0]!.reply({ id: 1, bytes: null, problem: null });
  });

  it('answers every waiting request when the worker crashes', async () => {
    const c = new DecompressClient(1000);
    const a = c.decompress('zlib', stored, CS);
    const b = c.decompress('zlib', stored, CS);
    FakeWorker.all[0]!.crash('out of memory');
    await expect(a).resolves.toEqual({ bytes: null, problem: 'the decompressor failed: out of memory' });
    await expect(b).resolves.toEqual({ bytes: null, problem: 'the decompressor failed: out of memory' });
  });

  it('refuses an answer larger than a cluster', async () => {
    const c = new DecompressClient(1000);
    const a = c.decompress('zlib', stored, CS);
    FakeWorker.all[0]!.reply({ id: 1, bytes: new Uint8Array(CS + 1), problem: null });
    await expect(a).resolves.toEqual({ bytes: null, problem: 'the decompressor sent a malformed answer' });
  });
});

describe('decompressor messages', () => {
  it('accepts requests of at most two clusters of a power-of-two cluster size', () => {
    expect(isDecompressRequest({ id: 1, kind: 'zlib', stored: new Uint8Array(2 * CS), clusterSize: CS })).toBe(true);
    expect(isDecompressRequest({ id: 1, kind: 'zlib', stored: new Uint8Array(2 * CS + 1), clusterSize: CS })).toBe(false);
    expect(isDecompressRequest({ id: 1, kind: 'lz4', stored, clusterSize: CS })).toBe(false);
    expect(isDecompressRequest({ id: 1, kind: 'zstd', stored, clusterSize: 3000 })).toBe(false);
    expect(isDecompressRequest({ id: 1, kind: 'zstd', stored, clusterSize: 2 ** 22 })).toBe(false);
    expect(isDecompressRequest({ id: 1.5, kind: 'zstd', stored, clusterSize: CS })).toBe(false);
    expect(isDecompressRequest(null)).toBe(false);
  });

  it('accepts replies of at most one cluster', () => {
    expect(isDecompressReply({ id: 1, bytes: new Uint8Array(CS), problem: null }, CS)).toBe(true);
    expect(isDecompressReply({ id: 1, bytes: null, problem: 'x' }, CS)).toBe(true);
    expect(isDecompressReply({ id: 1, bytes: [1, 2], problem: null }, CS)).toBe(false);
    expect(isDecompressReply({ id: 1, bytes: null, problem: 3 }, CS)).toBe(false);
  });
});
