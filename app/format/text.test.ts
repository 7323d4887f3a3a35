// The one text module: sizes, counts, hex, percentages, plurals and dates at their boundaries.
import { describe, expect, it } from 'vitest';
import { byteUnit, formatBytes, formatBytesExact, formatCount, formatDate, hex, hexByte, hexBytes, hexField, percent, plural } from './text';

describe('formatBytes', () => {
  it.each<[number | bigint, string]>([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1025, '1 KiB'],
    [1536, '1.5 KiB'],
    [65536, '64 KiB'],
    [1024 * 1024 - 1, '1 MiB'], // 1023.999 KiB rounds up a unit, never "1024 KiB"
    [1.5 * 2 ** 30, '1.5 GiB'],
    [1.25 * 2 ** 30, '1.25 GiB'],
    [12.34 * 2 ** 20, '12.3 MiB'],
    [167.94 * 2 ** 20, '168 MiB'], // the page's and the report's figure (issue 19)
    [200 * 2 ** 20 + 1, '200 MiB'],
    [2 ** 40, '1 TiB'],
    [2 ** 53, '8 PiB'],
    [2n ** 64n - 1n, '16 EiB'],
    [2n ** 70n, '1024 EiB'],
    [-65536, '-64 KiB'],
    [-1, '-1 B'],
  ])('%s → %s', (n, s) => expect(formatBytes(n)).toBe(s));

  it('gives the same text for a number and its bigint', () => {
    for (const n of [0, 1023, 1024, 5 * 2 ** 20 + 7, 2 ** 53]) expect(formatBytes(BigInt(n))).toBe(formatBytes(n));
  });
});

describe('byteUnit', () => {
  it.each<[number, number, string]>([[0, 1, 'B'], [1023, 1, 'B'], [1024, 1024, 'KiB'], [2 ** 53, 2 ** 50, 'PiB'], [2 ** 64, 2 ** 60, 'EiB'], [2 ** 70, 2 ** 60, 'EiB']])(
    '%s → %s %s', (n, size, name) => expect(byteUnit(n)).toEqual({ size, name }));
});

describe('formatBytesExact', () => {
  it.each<[number | bigint, string]>([
    [0, '0 B'],
    [1023, '1,023 B'],
    [1024, '1 KiB'],
    [512 * 2 ** 20, '512 MiB'],
    [1.5 * 2 ** 30, '1.5 GiB'],
    [2002 * 2 ** 20, '2,002 MiB'],
    [1234567, '1,234,567 B'],
    [1025, '1,025 B'],
    [-65536, '-64 KiB'],
    [2n ** 64n - 1n, '18,446,744,073,709,551,615 B'],
  ])('%s → %s', (n, s) => expect(formatBytesExact(n)).toBe(s));
});

describe('formatCount', () => {
  it.each<[number | bigint, string]>([
    [0, '0'],
    [1023, '1,023'],
    [16777216, '16,777,216'],
    [2 ** 53, '9,007,199,254,740,992'],
    [2n ** 64n - 1n, '18,446,744,073,709,551,615'],
    [-1024, '-1,024'],
  ])('%s → %s', (n, s) => expect(formatCount(n)).toBe(s));

  it("groups integers as en-US's Intl.NumberFormat does, and leaves other numbers to it", () => {
    const intl = new Intl.NumberFormat('en-US', { maximumFractionDigits: 20 });
    const xs: (number | bigint)[] = [-0, 0.5, -1.25, 1e21, Infinity, NaN, -(2 ** 53) + 1, 2n ** 70n, -(2n ** 70n), 0n];
    for (let d = 1; d <= 16; d++) {
      const v = Number('9'.repeat(d));
      xs.push(v, -v, 10 ** (d - 1), -(10 ** (d - 1)), BigInt(v), -BigInt(v));
    }
    for (const x of xs) expect(formatCount(x)).toBe(intl.format(x));
  });
});

describe('hex', () => {
  it.each<[number | bigint, string]>([
    [0, '0x0'],
    [1023, '0x3ff'],
    [0x30000, '0x30000'],
    [2 ** 53, '0x20000000000000'],
    [2n ** 64n - 1n, '0xffffffffffffffff'],
    [-16, '-0x10'],
    [-16n, '-0x10'],
  ])('%s → %s', (n, s) => expect(hex(n)).toBe(s));

  it('dumps bytes and fields', () => {
    expect(hexByte(0)).toBe('00');
    expect(hexByte(0xab)).toBe('ab');
    expect(hexBytes(new Uint8Array([1, 2, 255]))).toBe('01 02 ff');
    expect(hexBytes(new Uint8Array(5), 2)).toBe('00 00 … (5 bytes)');
    expect(hexField(0x30000n, 8)).toBe('0000000000030000');
    expect(hexField(2n ** 64n - 1n, 8)).toBe('ffffffffffffffff');
  });
});

describe('percent', () => {
  it.each<[number | bigint, number | bigint, string]>([
    [0, 100, '0 %'],
    [1, 1001, '<0.1 %'], // 0.0999 %: never "0.0 %" (issue 19)
    [1, 2 ** 30, '<0.1 %'],
    [1, 1000, '0.1 %'],
    [4, 1000, '0.4 %'],
    [5, 100, '5.0 %'],
    [37, 100, '37 %'],
    [994, 1000, '99 %'],
    [996, 1000, '99.6 %'],
    [9991, 10000, '>99.9 %'],
    [2 ** 30 - 1, 2 ** 30, '>99.9 %'], // never "100 %" for a partial share
    [100, 100, '100 %'],
    [3, 2, '150 %'],
    [5, 0, '0 %'],
    [-1, 4, '-25 %'],
    [-1, 10000, '-<0.1 %'],
    [1n, 2n ** 64n - 1n, '<0.1 %'],
  ])('%s of %s → %s', (p, w, s) => expect(percent(p, w)).toBe(s));
});

describe('plural and dates', () => {
  it('says one or many, with separators', () => {
    expect(plural(0, 'cluster')).toBe('0 clusters');
    expect(plural(1, 'cluster')).toBe('1 cluster');
    expect(plural(1n, 'cluster')).toBe('1 cluster');
    expect(plural(1024, 'entry', 'entries')).toBe('1,024 entries');
  });

  it('prints UTC dates, and the seconds when out of range', () => {
    expect(formatDate(0)).toBe('1970-01-01 00:00:00');
    expect(formatDate(1764076138, 999_999_999)).toBe('2025-11-25 13:08:58');
    expect(formatDate(2 ** 53)).toBe(`${2 ** 53} s`);
  });
});
