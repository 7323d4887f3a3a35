// qemu-img map --output=json per release on ranges no sample has: 7.2 joins an encrypted image's
// data (no offset) with compressed data beside it, 10.0 keeps them apart and says which is which;
// an empty map still prints one line. (Every sample and random image: goldens.test.ts, qemu-diff.)

import { describe, expect, it } from 'vitest';
import { guestMapJson, mapRangesFor } from './map-json';
import { snapshotTable } from './snapshot-table';
import type { MapRange } from '../guest/block-status';

const data = (start: number, length: number, compressed: boolean): MapRange =>
  ({ start, length, depth: 0, present: true, zero: false, data: true, ...(compressed ? { compressed: true as const } : {}) });

describe('map JSON by release', () => {
  const ranges = [data(0, 65536, false), data(65536, 131072, true), data(196608, 65536, false)];
  it('7.2 joins ranges that differ only in being compressed', () => {
    expect(mapRangesFor(ranges, '7.2')).toEqual([data(0, 262144, false)]);
    expect(guestMapJson({ ranges, error: null }, '7.2')).toBe('[{ "start": 0, "length": 262144, "depth": 0, "present": true, "zero": false, "data": true}]\n');
  });
  it('10.0 keeps them apart, with "compressed"', () => {
    expect(guestMapJson({ ranges, error: null }, '10.0')).toBe([
      '[{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "compressed": false},',
      '{ "start": 65536, "length": 131072, "depth": 0, "present": true, "zero": false, "data": true, "compressed": true},',
      '{ "start": 196608, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "compressed": false}]\n',
    ].join('\n'));
  });
  it('an empty disk is one empty range', () => {
    expect(guestMapJson({ ranges: [], error: null }, '10.0')).toBe('[{ "start": 0, "length": 0, "depth": 0, "present": false, "zero": false, "data": false, "compressed": false}]\n');
  });
});

describe('snapshot table by release (block/qapi.c bdrv_snapshot_dump)', () => {
  const sn = { id: '12', name: 'long-running', 'vm-state-size': 0, 'date-sec': 0, 'date-nsec': 0, 'vm-clock-sec': 123 * 3600 + 61, 'vm-clock-nsec': 5_000_000 };
  it('10.0: hours as %04d, "--" without icount', () => {
    process.env.TZ = 'UTC';
    expect(snapshotTable([sn], '10.0').split('\n')[1]).toBe('12      long-running          0 B 1970-01-01 00:00:00  0123:01:01.005         --');
    expect(snapshotTable([{ ...sn, icount: 7 }], '10.0').split('\n')[1]).toMatch(/\.005 {10}7$/);
  });
  it('7.2: hours as %02d (a wider clock runs into the date, as %13s lets it), nothing without icount', () => {
    expect(snapshotTable([sn], '7.2').split('\n')[1]).toBe('12        long-running          0 B 1970-01-01 00:00:00123:01:01.005           ');
  });
});
