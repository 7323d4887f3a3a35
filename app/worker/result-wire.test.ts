// The result as it crosses from the worker to the page (result-wire.ts): the guest map packed into
// moved typed arrays and rebuilt field for field, the rest of the analysis unchanged through a
// real structured clone, and the convert estimate made in the worker equal to what the page used
// to compute from the result it received — and to the live qemu-img measure.

import { describe, expect, it } from 'vitest';
import { convertEstimate, type Analysis, type MapRange } from '../format';
import { analyzePath, analyzeSample } from '../test-support/analyze-sample';
import { makeDense, makeRandomImage, withTmpDir } from '../test-support/random-images';
import { hasQemuImg, runTool } from '../test-support/qemu-tools';
import { listSamples, SAMPLES, samplePath } from '../test-support/samples';
import { isFromWorker, type FromWorker } from './protocol';
import { fromWire, isPackedGuestMap, packedBuffers, packGuestMap, toWire, unpackGuestMap } from './result-wire';
import { splitClusterArrays, transferables } from './split';

/** What analysis.worker.ts posts, through structuredClone with the same transfer list. */
function sent(a: Analysis): Extract<FromWorker, { type: 'result' }> {
  const { rest } = splitClusterArrays(a.check);
  const wire = toWire({ ...a, check: rest });
  const msg = { type: 'result', job: 1, file: 0, ...wire, ms: 1 };
  return structuredClone(msg, { transfer: [...transferables(rest), ...packedBuffers(wire.guestMap)] }) as Extract<FromWorker, { type: 'result' }>;
}

describe('the guest map packed as columns', () => {
  it('rebuilds every field, optional ones present only where they were', () => {
    const ranges: MapRange[] = [
      { start: 0, length: 65536, depth: 0, present: true, zero: false, data: true, offset: 327680 },
      { start: 65536, length: 2 ** 52, depth: 2, present: false, zero: true, data: false },
      { start: 2 ** 52 + 65536, length: 512, depth: 1, present: true, zero: false, data: true, compressed: true, offset: 0 },
      { start: 2 ** 52 + 66048, length: 4096, depth: 0, present: true, zero: true, data: false, offset: 2 ** 53 - 1 },
    ];
    const back = unpackGuestMap(packGuestMap(ranges));
    expect(back).toStrictEqual(ranges);
    expect('offset' in back[1]!).toBe(false);
    expect('compressed' in back[0]!).toBe(false);
    expect(unpackGuestMap(packGuestMap([]))).toStrictEqual([]);
  });

  it('is recognised only with columns of one length and the right kinds', () => {
    const p = packGuestMap([{ start: 0, length: 512, depth: 0, present: true, zero: false, data: true }]);
    expect(isPackedGuestMap(p)).toBe(true);
    expect(isPackedGuestMap({ ...p, flags: new Uint8Array(2) })).toBe(false);
    expect(isPackedGuestMap({ ...p, depth: [0] })).toBe(false);
    expect(isPackedGuestMap({ ...p, offset: new Float32Array(1) })).toBe(false);
    expect(isPackedGuestMap(null)).toBe(false);
  });
});

describe('fromWire', () => {
  it('rebuilds the guest map when first read, once, as one array for the analysis and its check', () => {
    const p = packGuestMap([{ start: 0, length: 512, depth: 0, present: true, zero: false, data: true, offset: 1024 }]);
    let reads = 0;
    const counted = { ...p, get start() { reads++; return p.start; } };
    const a = fromWire({ analysis: { fileSize: 2048, check: { exitCode: 0 } } as never, guestMap: counted });
    expect(reads).toBe(0);
    expect(a.fileSize).toBe(2048);
    const m = a.check.guestMap;
    expect(reads).toBeGreaterThan(0);
    const after = reads;
    expect(a.guestMap).toBe(m);
    expect(m).toStrictEqual([{ start: 0, length: 512, depth: 0, present: true, zero: false, data: true, offset: 1024 }]);
    expect(reads).toBe(after);
    expect(Object.keys(a)).toContain('guestMap');
  });
});

describe('the result message', () => {
  it('arrives as the analysis without its per-cluster arrays, on every sample', async () => {
    let withEstimate = 0;
    for (const name of listSamples()) {
      const a = await analyzeSample(name);
      // A copy made before sending: the message moves the typed arrays' buffers away from `a`.
      const expected = structuredClone({ ...a, check: splitClusterArrays(a.check).rest });
      const m = sent(a);
      expect(isFromWorker(m), name).toBe(true);
      const got = fromWire(m);
      expect(got, name).toStrictEqual(expected);
      // One array for both places the page reads the map, as in the engine's analysis.
      expect(got.check.guestMap).toBe(got.guestMap);
      // The estimate made in the worker is what the page computed from the result it received.
      expect(m.estimate, name).toStrictEqual(convertEstimate(got));
      if (m.estimate !== null) withEstimate++;
    }
    expect(withEstimate).toBeGreaterThan(15);
  });

  it('keeps the packed map out of the cloned objects: a few small objects however long the map', async () => {
    const a = await analyzeSample('compressed-mixed');
    const m = sent(a);
    expect(m.guestMap.start.length).toBe(a.guestMap.length);
    expect('guestMap' in m.analysis || 'guestMap' in m.analysis.check).toBe(false);
  });
});

describe.runIf(hasQemuImg())('the estimate sent with the result against the live qemu-img measure', () => {
  it('on random allocation images (backing files beside them)', async () => {
    let compared = 0;
    for (const seed of [11, 29, 47, 83, 101, 131]) {
      await withTmpDir(async (dir) => {
        const img = makeRandomImage(dir, seed, { kind: 'allocation' });
        makeDense(img.path);
        const theirs = runTool('qemu-img', ['measure', '--output=json', '-O', 'qcow2', img.name], { cwd: dir });
        const m = sent(await analyzePath(img.path));
        if (theirs.rc !== 0) {
          expect(m.estimate, `${img.describe}\n${theirs.stderr}`).toBeNull();
          return;
        }
        const required = BigInt((JSON.parse(theirs.stdout) as { required: number }).required);
        expect(m.estimate, img.describe).toStrictEqual({ required, lessThanFile: BigInt(m.analysis.fileSize) - required });
        compared++;
      });
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('on a sample with data, zeroes and a leak', async () => {
    const a = await analyzeSample('leak');
    const theirs = runTool('qemu-img', ['measure', '--output=json', '-O', 'qcow2', samplePath('leak')], { cwd: SAMPLES });
    expect(theirs.rc).toBe(0);
    const required = BigInt((JSON.parse(theirs.stdout) as { required: number }).required);
    expect(sent(a).estimate).toStrictEqual({ required, lessThanFile: BigInt(a.fileSize) - required });
  });
});
