import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, type Analysis } from '../analyze';
import { BytesSource } from '../qcow2';
import { reference, samplePath } from '../../test-support/samples';
import { decodeTable, isTablePlace, refcountAt, subclusterMap, type DecodeContext } from './decode';
import { placeOf } from './place';

interface MapRange { start: number; length: number; depth: number; data: boolean; zero: boolean; offset?: number }

interface Loaded { a: Analysis; r: Analysis; bytes: Uint8Array; ctx: DecodeContext; cs: number }
const cache = new Map<string, Loaded>();
async function load(name: string): Promise<Loaded> {
  let l = cache.get(name);
  if (!l) {
    const bytes = new Uint8Array(readFileSync(samplePath(name)));
    const a = await analyze(new BytesSource(bytes, `${name}.qcow2`));
    const h = a.structures.header;
    const ctx = { clusterBits: h.clusterBits, extendedL2: (h.incompatibleFeatures & 16n) !== 0n, refcountOrder: h.refcountOrder };
    l = { a, r: a, bytes, ctx, cs: h.clusterSize };
    cache.set(name, l);
  }
  return l;
}

function decodeAt(l: Loaded, k: number) {
  const place = placeOf(l.r, k);
  if (!isTablePlace(place)) throw new Error(`cluster ${k} is no table: ${place?.kind}`);
  return { place, d: decodeTable(place, l.bytes.subarray(k * l.cs, (k + 1) * l.cs), l.ctx, 1 << 20) };
}

/** Guest offset → host offset of every data cluster qemu-img map reports at depth 0. */
function mapOffsets(name: string, cs: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of reference<MapRange[]>(name, 'map.json')!) {
    if (!r.data || r.offset === undefined || r.depth !== 0) continue;
    for (let g = r.start; g < r.start + r.length; g += cs) out.set(g, r.offset + (g - r.start));
  }
  return out;
}

describe('L1 and L2 tables', () => {
  it.each(['v3', 'cluster-4k', 'cluster-512', 'zero-clusters'])('%s: every active L2 entry shows the guest offset and host offset qemu-img map reports', async (name) => {
    const l = await load(name);
    const expected = mapOffsets(name, l.cs);
    const seen = new Map<number, number>();
    for (const [off, use] of l.r.check.l2Tables) {
      if (use.firstL1 < 0) continue;
      const { d } = decodeAt(l, off / l.cs);
      for (const row of d.rows) {
        const m = /^guest 0x([0-9a-f]+): data at 0x([0-9a-f]+), COPIED$/.exec(row.text);
        if (!m) continue;
        expect(row.subject).toBe(parseInt(m[1]!, 16));
        seen.set(parseInt(m[1]!, 16), parseInt(m[2]!, 16));
      }
    }
    expect(seen).toEqual(expected);
  });

  it('cluster-4k: the active L1 table points at the L2 tables serving each guest range', async () => {
    const l = await load('cluster-4k');
    const h = l.a.structures.header;
    const { place, d } = decodeAt(l, Number(h.l1TableOffset) / l.cs);
    expect(place.kind).toBe('l1');
    const l2Span = (l.cs / 8) * l.cs;
    const tables = [...l.r.check.l2Tables.values()].filter((u) => u.firstL1 >= 0);
    expect(d.nonEmpty).toBe(tables.length);
    for (const u of tables) {
      const row = d.rows.find((x) => x.index === u.firstL1)!;
      expect(row.text).toBe(`guest 0x${(u.firstL1 * l2Span).toString(16)}–0x${((u.firstL1 + 1) * l2Span - 1).toString(16)} → L2 table at 0x${u.offset.toString(16)}, COPIED`);
      // The inspector's link: the L2 table's offset.
      expect(row.target).toBe(u.offset);
    }
  });

  it('extended-l2: subcluster maps agree with the map ranges of the first cluster', async () => {
    const l = await load('extended-l2');
    const u = [...l.r.check.l2Tables.values()].find((x) => x.firstL1 === 0)!;
    const { d } = decodeAt(l, u.offset / l.cs);
    const sub = l.cs / 32;
    // qemu-img map: data 0–4k, zero 4k–8k (unallocated-alloc), data 8k–10k, …, data 62k–66k.
    const map = reference<MapRange[]>('extended-l2', 'map.json')!;
    const first = d.rows.find((r) => r.index === 0)!;
    const bits = /subclusters (\S{32})/.exec(first.text)![1]!;
    for (let i = 0; i < 32; i++) {
      const g = i * sub;
      const r = map.find((x) => x.start <= g && g < x.start + x.length)!;
      expect(bits[i], `subcluster ${i}`).toBe(r.data ? 'A' : r.zero && r.offset === undefined ? 'Z' : '·');
    }
  });
});

describe('refcount structures', () => {
  it.each(['v3', 'refcount-1', 'refcount-64', 'leak', 'snapshots'])('%s: each block entry names the host cluster whose stored refcount it holds', async (name) => {
    const l = await load(name);
    const stored = l.a.check.storedRefcounts;
    let rows = 0;
    l.r.check.reftable.offsets.forEach((offset, i) => {
      if (offset === 0) return;
      const { place, d } = decodeAt(l, offset / l.cs);
      expect(place).toMatchObject({ kind: 'refcount-block', blockIndex: i });
      for (const row of d.rows) {
        const k = row.subject!;
        if (k < stored.length - 1) expect(row.text).toBe(`host cluster ${k} (0x${(k * l.cs).toString(16)}): refcount ${stored[k]}`);
        rows++;
      }
    });
    let nonZero = 0;
    for (let k = 0; k < stored.length - 1; k++) if (stored[k]! > 0) nonZero++;
    expect(rows).toBe(nonZero);
  });

  it('v3: the refcount table lists each block with the clusters it counts', async () => {
    const l = await load('v3');
    const h = l.a.structures.header;
    const { d } = decodeAt(l, Number(h.refcountTableOffset) / l.cs);
    const per = (l.cs * 8) / 2 ** h.refcountOrder;
    const blocks = [...l.r.check.reftable.offsets].flatMap((off, i) => (off ? [[i, off] as const] : []));
    expect(d.rows.map((r) => r.text)).toEqual(blocks.map(([i, off]) => `refcount block at 0x${off.toString(16)}: host clusters ${i * per}–${(i + 1) * per - 1}`));
    expect(d.rows.map((r) => r.target)).toEqual(blocks.map(([, off]) => off));
  });
});

describe('bitmap tables', () => {
  it('bitmaps: each table decodes to the entries the directory reader found, with the guest bytes they cover', async () => {
    const l = await load('bitmaps');
    for (const b of l.a.structures.bitmapDirectory!.bitmaps) {
      if (b.tableOffset <= 1n) continue;
      const { place, d } = decodeAt(l, Number(b.tableOffset) / l.cs);
      expect(place).toMatchObject({ kind: 'bitmap-table' });
      const g = l.cs * 8 * 2 ** b.granularityBits;
      const data = d.rows.filter((r) => r.text.includes('data cluster at'));
      expect(data.length).toBe(b.entryKinds.data);
      expect(d.rows.filter((r) => r.text.endsWith('all ones (no data cluster)')).length).toBe(b.entryKinds.ones);
      for (const r of data) {
        expect(r.subject).toBe(r.index * g);
        expect(r.text).toContain(`data cluster at 0x${Number(b.table![r.index]! & 0x00ff_ffff_ffff_fe00n).toString(16)}`);
        expect(r.target).toBe(Number(b.table![r.index]! & 0x00ff_ffff_ffff_fe00n));
      }
      // All-zeros and all-ones entries point nowhere: no link.
      for (const r of d.rows.filter((x) => !x.text.includes('data cluster at'))) expect(r.target).toBeUndefined();
    }
  });

  it('bitmaps: c-fine\'s data cluster shows as dirty exactly the guest ranges make.sh wrote while it was enabled', async () => {
    const l = await load('bitmaps');
    const b = l.a.structures.bitmapDirectory!.bitmaps.find((x) => x.name === 'c-fine')!;
    const data = Number(b.table![0]! & 0x00ff_ffff_ffff_fe00n);
    const { place, d } = decodeAt(l, data / l.cs);
    expect(place).toMatchObject({ kind: 'bitmap-data', entry: 0, granularity: 4096 });
    const M = 2 ** 20;
    const K = 1024;
    const written = [[0, 64 * K], [3 * M, 8 * K], [6 * M, 4 * K], [10 * M, 320 * K], [15 * M, 128 * K]];
    const hx = (n: number) => '0x' + n.toString(16);
    expect(d.rows.map((r) => r.text)).toEqual(written.map(([a, n]) => `guest ${hx(a!)}–${hx(a! + n! - 1)}: dirty`));
    expect(d.summary).toBe(`${b.setBits} of ${b.bitCount} bits set, in 5 runs`);
  });
});

describe('refcountAt and subclusterMap', () => {
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

  it('draws subcluster 0 first, marking both-set as invalid', () => {
    expect(subclusterMap(0b101, 0b110)).toBe('AZ!' + '·'.repeat(29));
    expect(subclusterMap(0xffffffff, 0)).toBe('A'.repeat(32));
  });
});
