// A saved analysis is untrusted input: every way of breaking one ends in a ReportError with a code
// and the path of the field (never another exception), including thousands of seeded random
// mutations of real documents; what still reads must also render (Markdown) and save again. The
// compact encodings agree with Node's own base64 and survive random arrays and maps.

import { describe, expect, it } from 'vitest';
import { Rng } from '../../test-support/prng';
import { reportMarkdown } from './markdown';
import { buildReport, parseReport } from './saved-analysis';
import { ReportError, type Json } from './codec';
import { decodeMap, decodeRuns, encodeMap, encodeRuns, fromBase64, toBase64 } from './rle';
import { analyzeSample } from '../../test-support/analyze-sample';

type Doc = Record<string, unknown>;

async function docOf(name: string): Promise<Doc> {
  return JSON.parse(JSON.stringify(buildReport(await analyzeSample(name), 'test'))) as Doc;
}

function failure(text: string): ReportError {
  try {
    parseReport(text);
  } catch (e) {
    if (e instanceof ReportError) return e;
    throw e;
  }
  throw new Error('parsed');
}

const edit = (doc: Doc, f: (d: Doc) => void): string => {
  const d = structuredClone(doc);
  f(d);
  return JSON.stringify(d);
};

describe('a broken saved analysis is a typed error at the field concerned', () => {
  it('is not JSON, not an object, not ours, or a newer version', async () => {
    expect(failure('{"format": "qcowscope-analysis",').code).toBe('NOT_JSON');
    expect(failure('[1, 2]').code).toBe('NOT_A_REPORT');
    expect(failure('{"format": "something-else", "version": 1}').code).toBe('NOT_A_REPORT');
    expect(failure('{"format": "qcowscope-analysis", "version": 2}')).toMatchObject({ code: 'UNSUPPORTED_VERSION', path: 'version' });
  });

  it('names the field that is missing, mistyped or out of range', async () => {
    const doc = await docOf('bitmaps');
    const s = (d: Doc) => d.structures as Doc;
    expect(failure(edit(doc, (d) => delete d.check))).toMatchObject({ code: 'BAD_FIELD', path: 'check' });
    expect(failure(edit(doc, (d) => ((s(d).header as Doc).size = '-1')))).toMatchObject({ code: 'BAD_FIELD', path: 'structures.header.size' });
    expect(failure(edit(doc, (d) => ((s(d).header as Doc).size = '18446744073709551616')))).toMatchObject({ path: 'structures.header.size' });
    const bitmaps = () => (s as (d: Doc) => Doc);
    expect(failure(edit(doc, (d) => (((bitmaps()(d).bitmapDirectory as Doc).bitmaps as Doc[])[2]!.name = 7))))
      .toMatchObject({ code: 'BAD_FIELD', path: 'structures.bitmapDirectory.bitmaps[2].name' });
    expect(failure(edit(doc, (d) => (((d.findings as Doc[]).push({ code: 'X', severity: 'fatal' })))))).toMatchObject({ code: 'BAD_FIELD' });
    expect(failure(edit(doc, (d) => ((d.check as Doc).clusterSize = 65537)))).toMatchObject({ path: 'check.clusterSize' });
  });

  it('refuses roles that do not cover the file, roles that do not exist, and bad encodings', async () => {
    const doc = await docOf('leak');
    const roles = (d: Doc) => d.roles as Doc;
    const entries = (doc.roles as Doc).entries as number;
    expect(failure(edit(doc, (d) => (roles(d).entries = entries + 1)))).toMatchObject({ code: 'INCONSISTENT', path: 'roles.entries' });
    expect(failure(edit(doc, (d) => (roles(d).runs = toBase64(new Uint8Array([1, entries - 1])))))).toMatchObject({ code: 'INCONSISTENT', path: 'roles.runs' });
    expect(failure(edit(doc, (d) => (roles(d).runs = toBase64(new Uint8Array([99, entries])))))).toMatchObject({ code: 'BAD_FIELD', path: 'roles.runs' });
    expect(failure(edit(doc, (d) => (roles(d).runs = 'not base64!')))).toMatchObject({ code: 'BAD_FIELD', path: 'roles.runs' });
    expect(failure(edit(doc, (d) => (roles(d).encoding = 'raw')))).toMatchObject({ code: 'BAD_FIELD', path: 'roles.encoding' });
    expect(failure(edit(doc, (d) => ((d.storedRefcounts as Doc).entries = entries + 5)))).toMatchObject({ code: 'INCONSISTENT' });
    expect(failure(edit(doc, (d) => ((d.map as Doc).ranges = toBase64(new Uint8Array([0x80, 0x01, 1, 0])))))).toMatchObject({ code: 'BAD_FIELD', path: 'map.ranges' });
    // A claim of 2^28 + 1 clusters is refused before anything is allocated.
    expect(failure(edit(doc, (d) => (roles(d).entries = 2 ** 28 + 2)))).toMatchObject({ code: 'BAD_FIELD', path: 'roles.entries' });
  });

  it('keeps a "__proto__" finding code as data', async () => {
    const text = JSON.stringify(await docOf('leak')).replace('"findingTotals":{', '"findingTotals":{"__proto__":5,');
    const totals = parseReport(text).analysis.findingTotals;
    expect(Object.getPrototypeOf(totals)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(totals, '__proto__')?.value).toBe(5);
  });
});

/** Every [parent, key] in a JSON tree. */
function slots(v: unknown, out: [Doc | unknown[], string | number][] = []): [Doc | unknown[], string | number][] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([v, i]);
      slots(x, out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push([v as Doc, k]);
      slots(x, out);
    }
  }
  return out;
}

const NASTY: readonly Json[] = [null, -1, 0, 1.5, 2 ** 53, 1e308, '', 'x', '-5', '0x10', 'AAAA', [], {}, [[]], true, 'z'.repeat(70_000)];

describe('seeded random mutations of real documents never escape as anything but ReportError', () => {
  it.each(['bitmaps', 'snapshots', 'compressed-mixed', 'luks', 'seed-zero-offset-bitmap'])('%s', async (name) => {
    const doc = await docOf(name);
    const rng = new Rng(0x5eed + name.length);
    let read = 0;
    for (let i = 0; i < 400; i++) {
      const d = structuredClone(doc);
      const all = slots(d);
      for (let m = rng.range(1, 3); m > 0; m--) {
        const [parent, key] = rng.pick(all);
        const slot = parent as Record<string | number, unknown>;
        if (!Array.isArray(parent) && rng.chance(0.2)) delete parent[key as string];
        // Plausible values (numbers in range, decimal strings) get past the type checks.
        else if (typeof slot[key] === 'number' && rng.chance(0.5)) slot[key] = rng.chance(0.5) ? rng.int(64) : rng.u32();
        else if (typeof slot[key] === 'string' && rng.chance(0.3)) slot[key] = String(rng.u64());
        else slot[key] = rng.pick(NASTY);
      }
      let saved;
      try {
        saved = parseReport(JSON.stringify(d));
      } catch (e) {
        expect(e, `mutation ${i}`).toBeInstanceOf(ReportError);
        continue;
      }
      read++;
      // What reads must also render and save again, as the app does with it.
      expect(typeof reportMarkdown(saved.analysis)).toBe('string');
      parseReport(JSON.stringify(buildReport(saved.analysis, 'again')));
    }
    expect(read).toBeGreaterThan(0);
  });
});

describe('compact encodings', () => {
  it('base64 is the standard one', () => {
    const rng = new Rng(7);
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n * 7 + (n % 3) }, () => rng.int(256));
      const ours = toBase64(b);
      expect(ours).toBe(Buffer.from(b).toString('base64'));
      expect(fromBase64(ours, 'x')).toEqual(b);
    }
  });

  it('runs round-trip random arrays of every width', () => {
    const rng = new Rng(11);
    for (const make of [(n: number) => new Uint8Array(n), (n: number) => new Uint16Array(n), (n: number) => new Uint32Array(n)]) {
      for (let t = 0; t < 20; t++) {
        const a = make(rng.int(5000));
        const max = a instanceof Uint8Array ? 255 : a instanceof Uint16Array ? 0xffff : 0xffff_ffff;
        for (let i = 0; i < a.length; ) {
          const v = rng.chance(0.5) ? rng.int(4) : rng.int(max + 1);
          const n = rng.range(1, 300);
          a.fill(v, i, i + n);
          i += n;
        }
        expect(decodeRuns(encodeRuns(a), make(a.length), max, 'x')).toEqual(a);
      }
    }
  });

  it('runs round-trip where two words read as one float64 would be ±0, NaN or denormal', () => {
    // Long runs are skipped eight bytes at a time as float64 compares: float equality must not stand
    // for bit equality where it is not (0 = -0, NaN ≠ NaN).
    const cases: (Uint8Array | Uint16Array | Uint32Array)[] = [];
    for (const at of [0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103]) {
      const a = new Uint16Array(200);
      a[at] = 0x8000; // lanes 0, 0, 0, 0x8000: the float64 -0 among zeros
      cases.push(a);
      const b = new Uint32Array(120).fill(0x7ff8_0000);
      b[at] = 0x7ff8_0001; // NaN patterns
      cases.push(b);
      const c = new Uint32Array(120).fill(1); // denormals
      c[at] = 2;
      cases.push(c, new Uint32Array(120).fill(0).fill(0x8000_0000, at, at + 1));
      const d = new Uint8Array(300).fill(13);
      d[at + 50] = 14;
      cases.push(d, d.subarray(4), d.subarray(8));
    }
    for (const a of cases) {
      const max = a instanceof Uint8Array ? 255 : a instanceof Uint16Array ? 0xffff : 0xffff_ffff;
      const out = a instanceof Uint8Array ? new Uint8Array(a.length) : a instanceof Uint16Array ? new Uint16Array(a.length) : new Uint32Array(a.length);
      expect(decodeRuns(encodeRuns(a), out, max, 'x')).toEqual(a);
    }
  });

  it('map ranges round-trip, offsets going back and forth, gaps and all', () => {
    const ranges = [
      { start: 0, length: 65536, depth: 0, present: true, zero: false, data: true, offset: 327680 },
      { start: 65536, length: 131072, depth: 0, present: true, zero: false, data: true, offset: 196608 },
      { start: 196608, length: 2 ** 40, depth: 1, present: false, zero: true, data: false },
      { start: 2 ** 41, length: 512, depth: 2, present: true, zero: false, data: true, offset: 2 ** 50 },
      { start: 2 ** 41 + 512, length: 65536, depth: 2, present: true, zero: false, data: true, compressed: true as const },
    ];
    expect(decodeMap(encodeMap(ranges), 10, 'x')).toEqual(ranges);
    expect(() => decodeMap(encodeMap(ranges), 3, 'x')).toThrow(ReportError);
  });
});
