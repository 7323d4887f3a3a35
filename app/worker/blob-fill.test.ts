import { describe, expect, it } from 'vitest';
import { openAsBlob, readdirSync } from 'node:fs';
import { analyze, BlobSource } from '../format';
import { fillFromBlob } from './blob-fill';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('fillFromBlob', () => {
  it('fills the reused buffer with every byte of a composite blob, and moves its memory', async () => {
    const parts = [bytes(70_000, 1), bytes(1, 2), bytes(65_536, 3)];
    const whole = new Blob(parts);
    const into = new Uint8Array(200_000).subarray(0, whole.size);
    const got = await fillFromBlob(whole, into);
    expect(got.length).toBe(whole.size);
    expect(got.byteOffset).toBe(0);
    expect([...got]).toEqual([...parts[0]!, ...parts[1]!, ...parts[2]!]);
    // The bytes landed in into's memory (now a new ArrayBuffer of the same size): nothing was allocated per read.
    expect(got.buffer.byteLength).toBe(200_000);
    expect(into.buffer.byteLength).toBe(0);
  });

  it('reads no more than the buffer holds', async () => {
    const got = await fillFromBlob(new Blob([bytes(5000, 4)]), new Uint8Array(3000));
    expect([...got]).toEqual([...bytes(5000, 4).subarray(0, 3000)]);
  });

  it('reads the blob whole when a read does not settle (the guard against a stalled stream)', async () => {
    const data = bytes(1000, 5);
    const stalled = {
      size: data.length,
      stream: () => ({ getReader: () => ({ read: () => new Promise<never>(() => {}), cancel: () => Promise.resolve() }) }),
      arrayBuffer: () => Promise.resolve(data.slice().buffer),
    } as unknown as Blob;
    const got = await fillFromBlob(stalled, new Uint8Array(1000), 20);
    expect([...got]).toEqual([...data]);
  });

  it('gives the same whole analysis of every sample image as fresh buffers per batch', async () => {
    const dir = 'sample-images';
    const images = readdirSync(dir).filter((f) => f.endsWith('.qcow2'));
    expect(images.length).toBeGreaterThan(10);
    const text = (x: unknown) => JSON.stringify(x, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...v] : ArrayBuffer.isView(v) ? Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).join(',') : v);
    for (const name of images) {
      const blob = await openAsBlob(`${dir}/${name}`);
      const run = (fill: boolean) => analyze(new BlobSource<Blob>(blob, name, (p) => new Blob(p), fill ? { fill: fillFromBlob, maxRead: 1 << 20 } : {})).then(text, (e: unknown) => String(e));
      expect(await run(true), name).toBe(await run(false));
    }
  }, 120_000);
});
