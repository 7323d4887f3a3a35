import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { samplePath } from '../test-support/samples';
import { baseName, planChain, readBackingName, type NamedBlob } from './chain';

function blob(path: string, name = basename(path)): NamedBlob {
  const bytes = readFileSync(path);
  return {
    name,
    size: bytes.length,
    slice: (a, b) => ({ arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset + a, bytes.byteOffset + Math.min(b, bytes.length)) }),
  };
}

describe('baseName', () => {
  it('takes the last component of POSIX and Windows paths', () => {
    expect(baseName('base.qcow2')).toBe('base.qcow2');
    expect(baseName('/var/lib/images/base.qcow2')).toBe('base.qcow2');
    expect(baseName('C:\\vm\\base.qcow2')).toBe('base.qcow2');
  });
});

describe('readBackingName', () => {
  it("reads the overlay samples' backing names and null for images without one", async () => {
    expect(await readBackingName(blob(samplePath('overlay')))).toBe('base.qcow2');
    expect(await readBackingName(blob(samplePath('overlay-raw')))).toBe('raw-base.raw');
    expect(await readBackingName(blob(samplePath('base')))).toBeNull();
  });
});

describe('planChain', () => {
  it('puts the overlay first, whatever the drop order, and resolves its backing file', async () => {
    const files = [blob(samplePath('base')), blob(samplePath('overlay'))];
    const plan = await planChain(files);
    expect(plan.order).toEqual([1, 0]);
    expect(plan.backing).toEqual([null, 0]);
    expect(plan.missing).toEqual([null, null]);
    expect(plan.resolve(1, 'base.qcow2')).toBe(0);
    expect(plan.resolve(1, 'other.qcow2')).toBeNull();
  });

  it('reports a backing file that was not dropped instead of guessing', async () => {
    const plan = await planChain([blob(samplePath('overlay')), blob(samplePath('leak'))]);
    expect(plan.backing).toEqual([null, null]);
    expect(plan.missing).toEqual(['base.qcow2', null]);
    expect(plan.order).toEqual([0, 1]);
  });

  it('does not let a file back itself, and survives a file that is not qcow2', async () => {
    const self = blob(samplePath('overlay'), 'base.qcow2');
    const junk: NamedBlob = { name: 'junk.bin', size: 3, slice: () => ({ arrayBuffer: async () => new Uint8Array([1, 2, 3]).buffer }) };
    const plan = await planChain([self, junk]);
    expect(plan.backing).toEqual([null, null]);
    expect(plan.missing).toEqual(['base.qcow2', null]);
    expect(plan.order).toEqual([0, 1]);
  });
});
