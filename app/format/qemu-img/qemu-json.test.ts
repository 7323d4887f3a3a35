// QEMU's JSON rules: key order (QDict buckets), string decoding and escaping, pretty printing,
// int64s. Checked against text the live qemu-img printed where a rule is visible there.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { int64, qdictHash, qdictOrder, qemuDecodeCString, toQemuJson, type QValue } from './qemu-json';
import { SAMPLES, listSamples, reference } from '../../test-support/samples';

/** Every object's key list, depth first, from JSON text (JSON.parse keeps the text's order). */
function keyLists(v: unknown, out: string[][] = []): string[][] {
  if (Array.isArray(v)) v.forEach((x) => keyLists(x, out));
  else if (v && typeof v === 'object') {
    out.push(Object.keys(v));
    Object.values(v).forEach((x) => keyLists(x, out));
  }
  return out;
}

describe('QDict key order', () => {
  it('reorders schema-ordered keys into what qemu-img printed, for every sample', () => {
    const schema: Record<string, string[]> = {
      top: ['filename', 'format', 'dirty-flag', 'actual-size', 'virtual-size', 'cluster-size', 'encrypted', 'backing-filename', 'full-backing-filename', 'backing-filename-format', 'snapshots', 'format-specific'],
      snapshot: ['id', 'name', 'vm-state-size', 'date-sec', 'date-nsec', 'vm-clock-sec', 'vm-clock-nsec', 'icount'],
      data: ['compat', 'data-file', 'data-file-raw', 'extended-l2', 'lazy-refcounts', 'corrupt', 'refcount-bits', 'encrypt', 'bitmaps', 'compression-type'],
      luks: ['format', 'cipher-alg', 'cipher-mode', 'ivgen-alg', 'ivgen-hash-alg', 'hash-alg', 'payload-offset', 'master-key-iters', 'uuid', 'slots'],
      slot: ['active', 'iters', 'stripes', 'key-offset'],
      bitmap: ['name', 'granularity', 'flags'],
      spec: ['type', 'data'],
    };
    let checked = 0;
    for (const name of listSamples().filter((n) => reference(n, 'info.json') !== null)) {
      for (const keys of keyLists(JSON.parse(readFileSync(join(SAMPLES, `${name}.info.json`), 'utf8')))) {
        const order = Object.values(schema).find((s) => keys.every((k) => s.includes(k)))!;
        const inserted = order.filter((k) => keys.includes(k));
        expect(Object.keys(qdictOrder(Object.fromEntries(inserted.map((k) => [k, 0]))))).toEqual(keys);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('puts a later-inserted key first within one bucket', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; !pair; i++) {
      const k = `k${i}`;
      const b = qdictHash(k) % 512;
      const other = seen.get(b);
      if (other) pair = [other, k];
      seen.set(b, k);
    }
    const [first, second] = pair;
    expect(Object.keys(qdictOrder({ [first]: 1, [second]: 2 }))).toEqual([second, first]);
    expect(Object.keys(qdictOrder({ [second]: 2, [first]: 1 }))).toEqual([first, second]);
  });
});

describe('strings', () => {
  const dec = (bytes: number[]) => qemuDecodeCString(new Uint8Array(bytes));
  it('decodes UTF-8 and stops at NUL', () => {
    expect(dec([0x68, 0xc3, 0xa9, 0x00, 0x41])).toBe('hé');
    expect(dec([0xf0, 0x9f, 0x98, 0x80])).toBe('😀');
  });
  it('turns each bad sequence into one U+FFFD, as util/unicode.c does', () => {
    expect(dec([0xc0, 0xaf])).toBe('\ufffd'); // overlong: one replacement (WHATWG gives two)
    expect(dec([0xed, 0xa0, 0x80])).toBe('\ufffd'); // surrogate
    expect(dec([0xef])).toBe('\ufffd'); // cut short
    expect(dec([0xc3, 0x28])).toBe('\ufffd('); // missing continuation: the next byte is kept
    expect(dec([0xef, 0xbf, 0xbe])).toBe('\ufffd'); // U+FFFE noncharacter
    expect(dec([0xc0, 0x80])).toBe('\u0000'); // modified UTF-8 NUL
    expect(dec([0x80, 0xff])).toBe('\ufffd\ufffd');
  });
  it('escapes like qobject/qjson.c', () => {
    expect(toQemuJson('a"b\\c\n\t\u0001é😀\u007f')).toBe('"a\\"b\\\\c\\n\\t\\u0001\\u00E9\\uD83D\\uDE00\\u007F"');
  });
});

describe('printing', () => {
  it('breaks empty containers over two lines and indents by 4', () => {
    const v: QValue = { a: [], b: { c: [1, true, null] }, d: {} };
    expect(toQemuJson(v)).toBe('{\n    "a": [\n    ],\n    "b": {\n        "c": [\n            1,\n            true,\n            null\n        ]\n    },\n    "d": {\n    }\n}');
  });
  it('prints int64s exactly, signed', () => {
    expect(int64(5n)).toBe(5);
    expect(int64(0xffff_ffff_ffff_fffen)).toBe(-2);
    expect(toQemuJson({ n: int64(0x8000_0000_0000_0001n) })).toBe('{\n    "n": -9223372036854775807\n}');
    expect(toQemuJson({ n: int64(2n ** 60n) })).toBe('{\n    "n": 1152921504606846976\n}');
  });
});
