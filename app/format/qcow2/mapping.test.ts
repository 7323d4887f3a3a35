// The one L1/L2/refcount-table entry decoder (mapping.ts) against the bit layouts of the spec,
// built here from the bigint masks of spec.ts so that the 32-bit halves are checked against them.
import { describe, expect, it } from 'vitest';
import {
  entryOffset, extEntryInvalid, extSubclusterKind, hasOffset, Kind, l2Kind, l2Reserved, reftEntryOffset, reftReserved,
  stdEntryKind, tableEntryOffset,
} from './mapping';
import { L2E_OFFSET_MASK, L2E_STD_RESERVED_MASK, QCOW_OFLAG_COMPRESSED, QCOW_OFLAG_COPIED, QCOW_OFLAG_ZERO, REFT_OFFSET_MASK, REFT_RESERVED_MASK } from './spec';

const halves = (e: bigint): [number, number] => [Number(e >> 32n), Number(e & 0xffff_ffffn)];
const CS = 65536;
const inCluster = (CS - 1) & ~0x1ff;
const std = { dataFile: false, v2: false };

describe('entry halves', () => {
  it('offset, reserved bits and flags agree with the bigint masks of spec.ts', () => {
    for (const e of [0n, 1n, 0x1fen, 0xffff_ffff_ffff_ffffn, 0x00ab_cdef_1234_5600n, QCOW_OFLAG_COPIED | 0x1_0000n, 0x3f00_0000_0000_0000n]) {
      const [hi, lo] = halves(e);
      expect(entryOffset(hi, lo)).toBe(Number(e & L2E_OFFSET_MASK));
      expect(tableEntryOffset(e)).toBe(Number(e & L2E_OFFSET_MASK));
      expect(hasOffset(hi, lo)).toBe((e & L2E_OFFSET_MASK) !== 0n);
      expect(l2Reserved(hi, lo)).toBe((e & L2E_STD_RESERVED_MASK) !== 0n);
      expect(reftEntryOffset(hi, lo)).toBe(Number(e & REFT_OFFSET_MASK));
      expect(reftReserved(lo)).toBe((e & REFT_RESERVED_MASK) !== 0n);
    }
  });
});

describe('stdEntryKind (qcow2_get_subcluster_type, standard L2)', () => {
  const kind = (e: bigint, fl = std) => stdEntryKind(...halves(e), fl, inCluster);
  it('classifies every cluster type', () => {
    expect(kind(0n)).toBe(Kind.UNALLOCATED);
    expect(kind(QCOW_OFLAG_ZERO)).toBe(Kind.ZERO);
    expect(kind(0x5_0000n | QCOW_OFLAG_ZERO)).toBe(Kind.ZERO_ALLOC);
    expect(kind(QCOW_OFLAG_COPIED | 0x5_0000n)).toBe(Kind.DATA);
    expect(kind(QCOW_OFLAG_COMPRESSED | 0x5_0123n)).toBe(Kind.COMPRESSED);
  });
  it('refuses what QEMU refuses: unaligned offsets, zero entries in v2, compressed with a data file', () => {
    expect(kind(0x5_0200n)).toBe(Kind.INVALID);
    expect(kind(0x5_0200n | QCOW_OFLAG_ZERO)).toBe(Kind.INVALID);
    expect(kind(QCOW_OFLAG_ZERO, { dataFile: false, v2: true })).toBe(Kind.INVALID);
    expect(kind(QCOW_OFLAG_COMPRESSED, { dataFile: true, v2: false })).toBe(Kind.INVALID);
  });
  it('with a data file, offset 0 with COPIED set is allocated', () => {
    expect(kind(QCOW_OFLAG_COPIED, { dataFile: true, v2: false })).toBe(Kind.DATA);
    expect(kind(QCOW_OFLAG_COPIED)).toBe(Kind.UNALLOCATED);
  });
  it('l2Kind names the cluster type for the inspector', () => {
    expect(l2Kind(...halves(0x5_0000n | QCOW_OFLAG_ZERO), false)).toBe('zero-alloc');
    expect(l2Kind(...halves(0x5_0000n | QCOW_OFLAG_ZERO), true)).toBe('normal');
    expect(l2Kind(...halves(QCOW_OFLAG_ZERO), false)).toBe('zero-plain');
  });
});

describe('extended L2 subclusters', () => {
  const [hi, lo] = halves(0x5_0000n);
  it('reads the zero bitmap before the allocation bitmap', () => {
    expect(extSubclusterKind(hi, lo, 0b01, 0b10, 0, false)).toBe(Kind.ZERO_ALLOC);
    expect(extSubclusterKind(hi, lo, 0b01, 0b10, 1, false)).toBe(Kind.DATA);
    expect(extSubclusterKind(hi, lo, 0b01, 0b10, 2, false)).toBe(Kind.UNALLOCATED_ALLOC);
    expect(extSubclusterKind(0, 0, 0b01, 0, 0, false)).toBe(Kind.ZERO);
    expect(extSubclusterKind(0, 0, 0b01, 0, 1, false)).toBe(Kind.UNALLOCATED);
  });
  it('an entry is invalid when the bitmaps overlap, or allocation bits have no host cluster', () => {
    expect(extEntryInvalid(hi, lo, 0b11, 0b10, false)).toBe(true);
    expect(extEntryInvalid(hi, lo, 0b01, 0b10, false)).toBe(false);
    expect(extEntryInvalid(0, 0, 0, 0b1, false)).toBe(true);
    expect(extEntryInvalid(0, 0, 0b1, 0, false)).toBe(false);
  });
});
