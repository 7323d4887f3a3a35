import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Role } from '../format/roles';
import { reference, samplePath } from '../format/testing/samples';
import { decodeCluster, refcountAt } from './decode';

interface MapRange { start: number; length: number; data: boolean; offset?: number }

const image = (name: string) => new Uint8Array(readFileSync(samplePath(name)));
const u64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at));
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at);

describe('decodeCluster', () => {
  it("reads v3's first L2 table as the host offsets qemu-img map reports", () => {
    const b = image('v3');
    const cs = 2 ** u32(b, 20);
    const l1 = u64(b, 40);
    const l2 = u64(b, l1) & 0x00ff_ffff_ffff_fe00;
    const d = decodeCluster(Role.L2_ACTIVE, b.subarray(l2, l2 + cs), { clusterBits: 16, extendedL2: false, refcountOrder: 4 })!;
    const map = reference<MapRange[]>('v3', 'map.json')!;
    const expected = new Map<number, number>();
    for (const r of map) {
      if (!r.data || r.offset === undefined) continue;
      for (let g = r.start; g < r.start + r.length && g < (cs / 8) * cs; g += cs) expected.set(g / cs, r.offset + (g - r.start));
    }
    expect(d.nonEmpty).toBe(expected.size);
    expect(d.entries).toBe(cs / 8);
    for (const row of d.rows) expect(row.text).toBe(`guest cluster +${row.index}: data at 0x${expected.get(row.index)!.toString(16)}, COPIED`);
  });

  it("reads leak's refcount block: the header cluster counted twice (the stored leak)", () => {
    const b = image('leak');
    const cs = 2 ** u32(b, 20);
    const rt = u64(b, 48);
    const block = u64(b, rt);
    const d = decodeCluster(Role.REFCOUNT_BLOCK, b.subarray(block, block + cs), { clusterBits: 16, extendedL2: false, refcountOrder: 4 })!;
    expect(d.entries).toBe(cs / 2);
    expect(d.rows[0]).toMatchObject({ index: 0, text: 'refcount 2 for cluster +0' });
    // 14 clusters in the file (917504 / 65536), every one in use.
    expect(d.nonEmpty).toBe(917504 / cs);
  });

  it('has no table layout for data clusters', () => {
    expect(decodeCluster(Role.DATA, new Uint8Array(512), { clusterBits: 9, extendedL2: false, refcountOrder: 4 })).toBeNull();
  });
});

describe('refcountAt', () => {
  it('reads every width, sub-byte widths least significant bit first', () => {
    const dv = new DataView(new Uint8Array([0b1110_0100, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]).buffer);
    expect([0, 1, 2, 3].map((i) => refcountAt(dv, i, 2))).toEqual([0n, 1n, 2n, 3n]);
    expect([0, 1, 2].map((i) => refcountAt(dv, i, 1))).toEqual([0n, 0n, 1n]);
    expect(refcountAt(dv, 1, 4)).toBe(0xen);
    expect(refcountAt(dv, 1, 8)).toBe(0x12n);
    expect(refcountAt(dv, 1, 16)).toBe(0x3456n);
    expect(refcountAt(dv, 1, 32)).toBe(0x789abcden);
    expect(refcountAt(dv, 0, 64)).toBe(0xe4123456789abcden);
  });
});
