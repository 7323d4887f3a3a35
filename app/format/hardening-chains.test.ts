// Backing chains that loop (hostile input, see hardening.test.ts): an image naming itself, or two
// naming each other, end in one BACKING_CHAIN_CYCLE finding after a bounded number of reads.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { BytesSource } from './qcow2';
import { writeUint } from '../../tools/fuzz/mutate';
import { samplePath } from '../test-support/samples';

const sample = (name: string) => new Uint8Array(readFileSync(samplePath(name)));

/** A copy of `b` naming `name` as its backing file (written at the end of cluster 0). */
function withBackingName(b: Uint8Array, name: string): Uint8Array {
  const out = b.slice();
  const at = 65536 - 64;
  out.fill(0, at, at + 64);
  out.set(new TextEncoder().encode(name), at);
  writeUint(out, 8, 8, BigInt(at));
  writeUint(out, 16, 4, BigInt(name.length));
  return out;
}

describe('backing chains that loop', () => {
  /** Analyses `top` with backing files opened by name from `files` (one source per file), counting reads. */
  async function chain(top: Uint8Array, files: Record<string, Uint8Array>) {
    let reads = 0;
    const counted = (b: Uint8Array, name: string) => {
      const src = new BytesSource(b, name);
      const read = src.read.bind(src);
      src.read = (o: number, n: number) => {
        reads++;
        return read(o, n);
      };
      return src;
    };
    const sources = new Map(Object.entries(files).map(([n, b]) => [n, counted(b, n)]));
    const topSrc = counted(top, 'top.qcow2');
    sources.set('top.qcow2', topSrc);
    const a = await analyze(topSrc, { openBacking: async (name) => sources.get(name) ?? null });
    return { a, reads };
  }

  it('an image that names itself as its backing file', async () => {
    const top = withBackingName(sample('v3'), 'top.qcow2');
    const { a, reads } = await chain(top, {});
    expect(a.findingTotals.BACKING_CHAIN_CYCLE).toBe(1);
    expect(reads).toBeLessThan(40);
  });

  it('two backing files that name each other', async () => {
    const b = withBackingName(sample('v3'), 'c.qcow2');
    const c = withBackingName(sample('zero-clusters'), 'b.qcow2');
    const { a, reads } = await chain(withBackingName(sample('v3'), 'b.qcow2'), { 'b.qcow2': b, 'c.qcow2': c });
    expect(a.findingTotals.BACKING_CHAIN_CYCLE).toBe(1);
    expect(a.findingTotals.BACKING_CHAIN_TOO_DEEP ?? 0).toBe(0);
    expect(reads).toBeLessThan(60);
  });
});
