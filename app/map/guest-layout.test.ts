import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type MapRange, analyze, BytesSource } from '../format';
import { listSamples, reference, samplePath } from '../test-support/samples';
import { alignGrid, cellUnit, describeRange, GuestKind, guestCells, kindOf, NOT_MAPPED, rangesIn } from './guest-layout';
import { guestSpansOfHost, hostClustersOfGuest, mergeRanges } from './guest-link';

const plain = { encrypted: false, externalData: false };
const info = (name: string) => reference<{ 'virtual-size': number; 'cluster-size'?: number }>(name, 'info.json');
const withMaps = listSamples().filter((n) => reference(n, 'map.json') !== null && info(n)?.['cluster-size'] !== undefined);

describe('guestCells', () => {
  it.each(withMaps)('%s: one cell per cluster, each the kind of the qemu-img map range covering it', (name) => {
    const ranges = reference<MapRange[]>(name, 'map.json')!;
    const size = info(name)!['virtual-size'];
    const cs = info(name)!['cluster-size']!;
    const g = guestCells(ranges, size, cs, 1 << 22, plain);
    expect(g.unit).toBe(cs);
    expect(g.cells.length).toBe(Math.ceil(size / cs));
    expect(g.bytes.reduce((a, b) => a + b, 0)).toBe(size);
    expect(g.unmapped).toBe(0);
    for (let i = 0; i < g.cells.length; i++) {
      const kinds = rangesIn(ranges, i * cs, (i + 1) * cs, 1e9).list.map((r) => kindOf(r, plain));
      expect(g.cells[i], `cell ${i}`).toBe(Math.max(...kinds));
    }
  });

  it('overlay: data and zeros from the backing file, and its own clusters', () => {
    const ranges = reference<MapRange[]>('overlay', 'map.json')!;
    const g = guestCells(ranges, info('overlay')!['virtual-size'], 65536, 1 << 20, plain);
    // qemu-img map: guest 0 from the base (depth 1), 64k in the overlay, 2M a zero cluster of the overlay.
    expect([g.cells[0], g.cells[1], g.cells[32], g.cells[5]]).toEqual([GuestKind.BACKING_DATA, GuestKind.DATA, GuestKind.ZERO, GuestKind.UNALLOCATED]);
  });

  it('coarsens the unit by doubling on large disks, keeping data visible in mixed cells', () => {
    expect(cellUnit(2 ** 40, 65536, 1 << 20)).toBe(2 ** 20);
    const ranges: MapRange[] = [
      { start: 0, length: 4096, depth: 0, present: true, zero: false, data: true, offset: 1 << 20 },
      { start: 4096, length: 2 ** 30 - 4096, depth: 0, present: false, zero: true, data: false },
    ];
    const g = guestCells(ranges, 2 ** 31, 4096, 1024, plain);
    expect(g.unit).toBe(2 ** 21);
    expect(g.cells[0]).toBe(GuestKind.DATA);
    expect(g.cells[1]).toBe(GuestKind.UNALLOCATED);
    expect(g.cells[g.cells.length - 1]).toBe(NOT_MAPPED);
    expect(g.unmapped).toBe(2 ** 30);
  });

  it('tells compressed from encrypted data, and external data by the image flags', () => {
    const r: MapRange = { start: 0, length: 512, depth: 0, present: true, zero: false, data: true };
    expect(kindOf(r, plain)).toBe(GuestKind.COMPRESSED);
    expect(kindOf(r, { encrypted: true, externalData: false })).toBe(GuestKind.ENCRYPTED);
    expect(kindOf({ ...r, offset: 0 }, { encrypted: false, externalData: true })).toBe(GuestKind.EXTERNAL);
  });
});

describe('alignGrid and describeRange', () => {
  it('starts every row on a cluster boundary when cells are subclusters', () => {
    expect(alignGrid({ clusters: 4096, cols: 58, rows: 71 }, 32)).toEqual({ clusters: 4096, cols: 64, rows: 64 });
    expect(alignGrid({ clusters: 100, cols: 20, rows: 5 }, 32)).toEqual({ clusters: 100, cols: 20, rows: 5 });
    expect(alignGrid({ clusters: 256, cols: 20, rows: 13 }, 1)).toEqual({ clusters: 256, cols: 20, rows: 13 });
  });

  it("says where a range's bytes live: host cluster, backing file, data file", () => {
    const [overlay0, overlay1] = reference<MapRange[]>('overlay', 'map.json')!;
    expect(describeRange(overlay0!, plain, 65536)).toBe('0x0–0xffff: data from the backing file at 0x50000');
    expect(describeRange(overlay0!, { ...plain, backingNames: ['base.qcow2'] }, 65536)).toBe('0x0–0xffff: data from base.qcow2 at 0x50000');
    expect(describeRange(overlay1!, plain, 65536)).toBe('0x10000–0x1ffff: data in this file → host 0x50000 (cluster 5)');
    expect(describeRange({ ...overlay1!, zero: true }, plain, 65536)).toBe('0x10000–0x1ffff: data in this file, reading as zeros → host 0x50000 (cluster 5)');
    expect(describeRange({ ...overlay1!, depth: 0 }, { encrypted: false, externalData: true }, 65536)).toBe('0x10000–0x1ffff: data in the external data file at 0x50000 of the data file');
  });
});

describe('guest ↔ host links', () => {
  it.each(withMaps)('%s: every host cluster of a depth-0 range links back to the guest bytes stored in it', (name) => {
    const ranges = reference<MapRange[]>(name, 'map.json')!;
    const cs = info(name)!['cluster-size']!;
    const external = name.startsWith('data-file');
    const f = { encrypted: name === 'luks', externalData: external };
    for (const r of ranges) {
      if (r.depth !== 0 || r.offset === undefined) continue;
      const host = hostClustersOfGuest(ranges, r.start, r.start + r.length, cs, f, null);
      if (external) {
        expect(host).toEqual([]);
        continue;
      }
      expect(host).toEqual([{ start: Math.floor(r.offset / cs), end: Math.ceil((r.offset + r.length) / cs) }]);
      const k = Math.floor(r.offset / cs);
      const spans = guestSpansOfHost(ranges, k, cs, f, null);
      expect(spans.some((s) => s.start === r.start && s.end <= r.start + r.length), `${name} guest 0x${r.start.toString(16)}`).toBe(true);
    }
  });

  it('compressed-mixed: compressed guest clusters link to the host clusters their L2 descriptors name', async () => {
    const bytes = new Uint8Array(readFileSync(samplePath('compressed-mixed')));
    const a = await analyze(new BytesSource(bytes, 'compressed-mixed.qcow2'));
    const ranges = reference<MapRange[]>('compressed-mixed', 'map.json')!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const cs = a.structures.header.clusterSize;
    const l2 = Number(dv.getBigUint64(Number(dv.getBigUint64(40))) & 0x00ff_ffff_ffff_fe00n);
    const shift = 62n - BigInt(a.structures.header.clusterBits - 8);
    let checked = 0;
    for (let i = 0; i < cs / 8; i++) {
      const e = dv.getBigUint64(l2 + i * 8);
      if (!(e & (1n << 62n))) continue;
      const host = Number(e & ((1n << shift) - 1n));
      const len = (Number((e >> shift) & ((1n << (BigInt(a.structures.header.clusterBits) - 8n)) - 1n)) + 1) * 512 - (host & 511);
      const want = mergeRanges([{ start: Math.floor(host / cs), end: Math.floor((host + len - 1) / cs) + 1 }]);
      expect(hostClustersOfGuest(ranges, i * cs, (i + 1) * cs, cs, plain, a.check.compressed)).toEqual(want);
      expect(guestSpansOfHost(ranges, Math.floor(host / cs), cs, plain, a.check.compressed)).toContainEqual({ start: i * cs, end: (i + 1) * cs });
      checked++;
    }
    expect(checked).toBe(a.check.counts.compressedClusters);
  });
});

describe('codes per backing layer', () => {
  it('gives each depth its code, colour and name, and a shallower layer wins a mixed cell', async () => {
    const { codeOf, codeLabel, depthOfCode, CODE_PRIORITY, DEEP_BASE } = await import('./guest-layout');
    const { guestKindCss } = await import('./guest-raster');
    const f = { encrypted: false, externalData: false, backingNames: ['mid.qcow2', 'base.qcow2'] };
    const r = (depth: number, data: boolean) => ({ start: 0, length: 65536, depth, present: true, zero: !data, data, ...(data ? { offset: 0 } : {}) });
    expect(codeOf(r(1, true), f)).toBe(GuestKind.BACKING_DATA);
    expect(codeOf(r(2, true), f)).toBe(DEEP_BASE + 1);
    expect(codeOf(r(3, false), f)).toBe(DEEP_BASE + 2);
    expect(depthOfCode(DEEP_BASE + 2)).toBe(3);
    expect(codeLabel(GuestKind.BACKING_DATA, f)).toBe('data from mid.qcow2');
    expect(codeLabel(DEEP_BASE + 1, f)).toBe('data from base.qcow2 (2 levels down)');
    expect(codeLabel(DEEP_BASE + 2, f)).toBe('zeros from the backing file 3 levels down');
    expect(CODE_PRIORITY[GuestKind.BACKING_DATA]!).toBeGreaterThan(CODE_PRIORITY[DEEP_BASE + 1]!);
    expect(CODE_PRIORITY[GuestKind.DATA]!).toBeGreaterThan(CODE_PRIORITY[GuestKind.BACKING_DATA]!);
    const colours = new Set([GuestKind.BACKING_DATA, DEEP_BASE + 1, DEEP_BASE + 3, DEEP_BASE + 5].map(guestKindCss));
    expect(colours.size).toBe(4);
    // Every byte value has a colour (codes no range makes draw as "not mapped").
    for (let c = 0; c < 256; c++) expect(guestKindCss(c)).toMatch(/^#[0-9a-f]{6}$/);
  });
});
