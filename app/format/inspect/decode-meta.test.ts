import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze';
import { BytesSource } from '../qcow2';
import { reference, samplePath } from '../../test-support/samples';
import { bitmapEntryBlocks, headerRows, rawHex, snapshotEntryBlocks } from './decode-meta';
import { placeOf } from './place';

async function load(name: string) {
  const bytes = new Uint8Array(readFileSync(samplePath(name)));
  const a = await analyze(new BytesSource(bytes, `${name}.qcow2`));
  return { a, r: a, bytes, cs: a.structures.header.clusterSize };
}

const be = (b: Uint8Array, at: number, size: number) => b.subarray(at, at + size).reduce((v, x) => v * 256 + x, 0);

describe('headerRows', () => {
  it('bitmaps: raw bytes of every field as the file holds them, extensions in file order', async () => {
    const { a, bytes, cs } = await load('bitmaps');
    const rows = headerRows(bytes.subarray(0, cs), a.structures.header.fields, a.structures.extensions.list);
    expect(rows.find((r) => r.name === 'magic')?.raw).toBe('514649fb');
    const info = reference<{ 'cluster-size': number; 'virtual-size': number }>('bitmaps', 'info.json')!;
    const field = (n: string) => rows.find((r) => r.name === n)!;
    expect(2 ** parseInt(field('cluster_bits').raw, 16)).toBe(info['cluster-size']);
    expect(parseInt(field('size').raw, 16)).toBe(info['virtual-size']);
    const ext = rows.filter((r) => r.name.startsWith('extension '));
    expect(ext.map((r) => r.raw.slice(0, 8))).toEqual(a.structures.extensions.list.map((e) => e.type.toString(16).padStart(8, '0')));
    expect(rows.map((r) => r.at)).toEqual([...rows.map((r) => r.at)].sort((x, y) => x - y));
  });

  it('rawHex marks bytes past what was read', () => {
    expect(rawHex(new Uint8Array([1, 2, 3]), 1, 4)).toBe('0203…');
    expect(rawHex(new Uint8Array([1]), 5, 1)).toBe('');
  });
});

describe('directory and snapshot entries', () => {
  it('bitmaps: the directory cluster lists each bitmap with its table offset and name as stored', async () => {
    const { a, r, bytes, cs } = await load('bitmaps');
    const dir = a.structures.bitmapDirectory!;
    const k = Math.floor(dir.offset / cs);
    const place = placeOf(r, k);
    expect(place?.kind).toBe('bitmap-directory');
    if (place?.kind !== 'bitmap-directory') return;
    const blocks = bitmapEntryBlocks(place.bitmaps, bytes.subarray(k * cs, (k + 1) * cs), k * cs);
    const names = reference<{ 'format-specific': { data: { bitmaps: { name: string }[] } } }>('bitmaps', 'info.json')!['format-specific'].data.bitmaps.map((b) => b.name);
    expect(blocks.map((b) => /bitmap '(.*)'/.exec(b.title)![1]).sort()).toEqual([...names].sort());
    for (const [i, b] of blocks.entries()) {
      const bm = place.bitmaps[i]!;
      const row = (n: string) => b.rows.find((x) => x.name === n)!;
      expect(BigInt(be(bytes, b.offset, 8))).toBe(bm.tableOffset);
      expect(row('bitmap_table_offset').raw).toBe(bm.tableOffset.toString(16).padStart(16, '0'));
      expect(Buffer.from(row('name').raw, 'hex').toString('utf8')).toBe(bm.name);
    }
  });

  it('seed-zero-offset-bitmap: the empty bitmap shows table offset 0 as the 2016 proposal reads it', async () => {
    const { a, r, bytes, cs } = await load('seed-zero-offset-bitmap');
    const dir = a.structures.bitmapDirectory!;
    const k = Math.floor(dir.offset / cs);
    const place = placeOf(r, k);
    if (place?.kind !== 'bitmap-directory') throw new Error(`not a directory: ${place?.kind}`);
    const blocks = bitmapEntryBlocks(place.bitmaps, bytes.subarray(k * cs, (k + 1) * cs), k * cs);
    const empty = blocks.filter((b) => b.rows.find((x) => x.name === 'bitmap_table_offset')!.raw === '0000000000000000');
    expect(empty.length).toBe(dir.bitmaps.filter((b) => b.zeroOffsetEmpty).length);
    expect(empty.length).toBeGreaterThan(0);
    for (const b of empty) expect(b.rows[0]!.text).toContain('no table');
  });

  it('snapshots: each snapshot entry shows its L1 table offset and name as stored', async () => {
    const { a, r, bytes, cs } = await load('snapshots');
    const st = a.structures.snapshotTable!;
    const k = Math.floor(st.offset / cs);
    const place = placeOf(r, k);
    if (place?.kind !== 'snapshot-table') throw new Error(`not a snapshot table: ${place?.kind}`);
    const blocks = snapshotEntryBlocks(place.snapshots, bytes.subarray(k * cs, (k + 1) * cs), k * cs);
    const info = reference<{ snapshots: { id: string; name: string }[] }>('snapshots', 'info.json')!;
    expect(blocks.map((b) => b.title)).toEqual(info.snapshots.map((s, i) => `snapshot ${s.id} '${s.name}' (entry ${i})`));
    for (const [i, b] of blocks.entries()) {
      const sn = st.snapshots[i]!;
      expect(b.rows.find((x) => x.name === 'l1_table_offset')!.raw).toBe(sn.l1TableOffset.toString(16).padStart(16, '0'));
      expect(Buffer.from(b.rows.find((x) => x.name === 'name')!.raw, 'hex').toString('utf8')).toBe(sn.name);
    }
  });
});
