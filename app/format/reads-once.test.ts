// Bounded work: an analysis reads each byte of the file at most once, apart from the first 40 KiB
// (the header's first 4 KiB is read to learn the cluster size, then cluster 0; the safety scan looks
// at the first 40 KiB whatever the cluster size) and the last 512 bytes, which the safety scan also
// reads. Checked on every sample image by recording every range the engine reads.
import { describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { NodeFileSource } from './node';
import { listSamples, samplePath } from '../test-support/samples';

const HEAD = 40 * 1024;

async function readRanges(path: string): Promise<[number, number][]> {
  const src = await NodeFileSource.open(path);
  const seen: [number, number][] = [];
  const read = src.read.bind(src);
  const readInto = src.readInto.bind(src);
  src.read = async (o: number, l: number) => {
    const b = await read(o, l);
    seen.push([o, o + b.length]);
    return b;
  };
  // Synchronous, as the source's own: readRanges takes the path the CLI takes.
  src.readInto = (o: number, into: Uint8Array) => {
    const n = readInto(o, into);
    seen.push([o, o + n]);
    return n;
  };
  try {
    await analyze(src, {});
  } finally {
    await src.close();
  }
  return seen;
}

/** Bytes read more than once, leaving out the first HEAD bytes and the last 512 bytes of the file. */
function rereadBytes(ranges: [number, number][], size: number): number {
  const cuts = ranges.map(([a, b]) => [Math.max(a, HEAD), Math.min(b, size - 512)] as const).filter(([a, b]) => b > a);
  const total = cuts.reduce((s, [a, b]) => s + (b - a), 0);
  const sorted = [...cuts].sort((x, y) => x[0] - y[0]);
  let union = 0;
  let end = -1;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    union += b - Math.max(a, end);
    end = b;
  }
  return total - union;
}

describe('each byte is read once', () => {
  it.each(listSamples())('%s', async (name) => {
    const path = samplePath(name);
    const ranges = await readRanges(path);
    const { statSync } = await import('node:fs');
    expect(ranges.length).toBeGreaterThan(0);
    expect(rereadBytes(ranges, statSync(path).size)).toBe(0);
  });
});
