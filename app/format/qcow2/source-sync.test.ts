// readRanges over a source whose readInto returns its count at once (a local file read with pread):
// the synchronous path must hand out exactly what the promise path does — every range's bytes, in
// the same order, the same progress, the same error after the same callbacks — whether the
// callbacks are synchronous or not, and when the source turns asynchronous part way.

import { describe, expect, it } from 'vitest';
import { readRanges, type ByteSource, type Range } from './source';

const FILE = (() => {
  const b = new Uint8Array(2 * 1024 * 1024 + 77);
  for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
})();

/** Scattered, touching and overlapping ranges, some past the end of the file, some cut by it. */
function someRanges(): Range<number>[] {
  const out: Range<number>[] = [];
  let s = 11;
  for (let i = 0; i < 200; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push({ offset: s % (FILE.length + 500), length: 1 + ((s >>> 8) % 50_000), key: i });
  }
  out.push({ offset: FILE.length - 10, length: 4096, key: 200 }, { offset: 0, length: 64, key: 201 }, { offset: 32, length: 64, key: 202 });
  return out;
}

type Mode = 'sync' | 'async' | 'sync-then-async';

/**
 * A file source whose readInto returns the count (sync), a promise of it (async), or the count for
 * its first 5 reads and then promises. `failAt`: that read throws (sync) or rejects (async).
 */
function source(mode: Mode, failAt = -1): ByteSource & { calls: number } {
  const src = {
    size: FILE.length,
    name: mode,
    calls: 0,
    read: async (o: number, l: number) => FILE.slice(o, Math.min(FILE.length, o + l)),
    readInto(offset: number, into: Uint8Array): number | Promise<number> {
      const call = src.calls++;
      const sync = mode === 'sync' || (mode === 'sync-then-async' && call < 5);
      const fill = () => {
        if (call === failAt) throw new Error(`read ${call} failed`);
        const n = Math.max(0, Math.min(into.length, FILE.length - offset));
        into.set(FILE.subarray(offset, offset + n));
        return n;
      };
      return sync ? fill() : new Promise<void>((resolve) => setTimeout(resolve, 0)).then(fill);
    },
  };
  return src;
}

/** Everything readRanges hands out, in order, and how it ends. */
async function run(src: ByteSource, asyncCallback: boolean, failKey = -1, opts: { maxRead?: number } = {}) {
  const log: string[] = [];
  let end = 'resolved';
  try {
    await readRanges(src, someRanges(), (key, bytes, offset) => {
      if (key === failKey) throw new Error(`callback ${key} failed`);
      log.push(`${key}@${offset}:${Buffer.from(bytes).toString('base64')}`);
      return asyncCallback && key % 3 === 0 ? new Promise<void>((r) => setTimeout(r, 0)) : undefined;
    }, { ...opts, onProgress: (done, total) => log.push(`progress ${done}/${total}`) });
  } catch (e) {
    end = `rejected: ${(e as Error).message}`;
  }
  return { log, end };
}

describe('readRanges with a synchronous readInto', () => {
  for (const asyncCallback of [false, true]) {
    for (const maxRead of [8 * 1024 * 1024, 64 * 1024]) {
      it(`hands out the same as the promise path (${asyncCallback ? 'some async' : 'sync'} callbacks, maxRead ${maxRead})`, async () => {
        const want = await run(source('async'), asyncCallback, -1, { maxRead });
        expect(want.end).toBe('resolved');
        expect(want.log.length).toBeGreaterThan(200);
        // Every range's bytes are the file's (the promise path is the reference).
        for (const line of want.log.filter((l) => !l.startsWith('progress'))) {
          const [, key, offset, b64] = /^(\d+)@(\d+):(.*)$/.exec(line)!;
          const r = someRanges()[Number(key)]!;
          expect(Number(offset)).toBe(r.offset);
          expect(Buffer.from(b64!, 'base64').equals(Buffer.from(FILE.subarray(r.offset, r.offset + r.length)))).toBe(true);
        }
        expect(await run(source('sync'), asyncCallback, -1, { maxRead })).toEqual(want);
        expect(await run(source('sync-then-async'), asyncCallback, -1, { maxRead })).toEqual(want);
      });
    }
  }

  it('the same callbacks, then the same error, when a read fails', async () => {
    for (const failAt of [0, 3, 7]) {
      const want = await run(source('async', failAt), false, -1, { maxRead: 64 * 1024 });
      expect(want.end).toBe(`rejected: read ${failAt} failed`);
      expect(await run(source('sync', failAt), false, -1, { maxRead: 64 * 1024 })).toEqual(want);
      expect(await run(source('sync-then-async', failAt), false, -1, { maxRead: 64 * 1024 })).toEqual(want);
    }
  });

  it('the same callbacks, then the same error, when a callback fails', async () => {
    const want = await run(source('async'), true, 150);
    expect(want.end).toBe('rejected: callback 150 failed');
    expect(await run(source('sync'), true, 150)).toEqual(want);
    expect(await run(source('sync-then-async'), true, 150)).toEqual(want);
  });

  it('reads synchronously: no read waits for a turn of the event loop', async () => {
    const src = source('sync');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await readRanges(src, someRanges(), () => undefined, { maxRead: 64 * 1024 });
    } finally {
      clearInterval(timer);
    }
    expect(src.calls).toBeGreaterThan(5);
    expect(ticks).toBe(0);
  });
});
