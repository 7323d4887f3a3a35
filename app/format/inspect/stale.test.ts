// Stale directory and snapshot table decoding (stale.ts): the live structures' cluster bytes decode
// to the entries the loader parsed (the same rows as the live views); bytes overwritten part-way
// decode up to the damage and say where it stops; random bytes and zeros never throw.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze';
import { BytesSource } from '../qcow2';
import { samplePath } from '../../test-support/samples';
import { bitmapEntryBlocks, snapshotEntryBlocks } from './decode-meta';
import { bitmapOwningTable, staleBitmapEntries, staleSnapshotEntries } from './stale';

async function load(name: string) {
  const bytes = new Uint8Array(readFileSync(samplePath(name)));
  const a = await analyze(new BytesSource(bytes, `${name}.qcow2`));
  return { a, bytes, cs: a.structures.header.clusterSize };
}

/** xorshift bytes. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

describe('stale bitmap directory', () => {
  it('the live directory cluster decodes to the loaded bitmaps, with the same rows as the live view', async () => {
    const { a, bytes, cs } = await load('bitmaps');
    const dir = a.structures.bitmapDirectory!;
    expect(dir.offset % cs).toBe(0);
    const cluster = bytes.slice(dir.offset, dir.offset + cs);
    const d = staleBitmapEntries(cluster, dir.offset);
    expect(d.stop).toBeNull();
    expect(d.entries.map((b) => [b.name, b.tableOffset, b.tableSize, b.granularityBits, b.flags, b.entryOffset])).toEqual(
      dir.bitmaps.map((b) => [b.name, b.tableOffset, b.tableSize, b.granularityBits, b.flags, b.entryOffset]));
    expect(bitmapEntryBlocks(d.entries, cluster, dir.offset)).toEqual(bitmapEntryBlocks(dir.bitmaps, cluster, dir.offset));
    // The table offset is a link target.
    const first = bitmapEntryBlocks(d.entries, cluster, dir.offset)[0]!;
    expect(first.rows.find((r) => r.name === 'bitmap_table_offset')?.target).toBe(Number(dir.bitmaps[0]!.tableOffset));
    const t = dir.bitmaps.find((b) => b.tableOffset > 1n)!;
    expect(bitmapOwningTable(d.entries, Number(t.tableOffset))?.bitmap.name).toBe(t.name);
  });

  it('stops where the bytes were overwritten, and says where', async () => {
    const { a, bytes, cs } = await load('bitmaps');
    const dir = a.structures.bitmapDirectory!;
    expect(dir.bitmaps.length).toBeGreaterThan(1);
    const cluster = bytes.slice(dir.offset, dir.offset + cs);
    const second = dir.bitmaps[1]!.entryOffset - dir.offset;
    cluster.fill(0xee, second, second + 24);
    const d = staleBitmapEntries(cluster, dir.offset);
    expect(d.entries.map((b) => b.name)).toEqual([dir.bitmaps[0]!.name]);
    expect(d.stopAt).toBe(second);
    expect(d.stop).toContain(`entry 1 at byte 0x${second.toString(16)}`);
  });

  it('random bytes and zeros decode to nothing, without throwing', () => {
    for (let seed = 1; seed < 200; seed++) {
      const b = noise(512 + (seed % 7) * 8, seed * 2654435761);
      expect(() => staleBitmapEntries(b, 0)).not.toThrow();
      expect(() => staleSnapshotEntries(b, 0)).not.toThrow();
    }
    expect(staleBitmapEntries(new Uint8Array(4096), 0)).toEqual({ entries: [], stopAt: 0, stop: 'the cluster is zeros' });
  });
});

describe('stale snapshot table', () => {
  it('the live table cluster decodes to the loaded snapshots, with the same rows as the live view', async () => {
    const { a, bytes, cs } = await load('snapshots');
    const st = a.structures.snapshotTable!;
    const cluster = bytes.slice(st.offset, st.offset + cs);
    const d = staleSnapshotEntries(cluster, st.offset);
    const live = st.snapshots.filter((s) => s.entryOffset + s.entryLength <= st.offset + cs);
    expect(live.length).toBeGreaterThan(0);
    expect(d.entries.slice(0, live.length)).toEqual(live);
    expect(snapshotEntryBlocks(d.entries.slice(0, live.length), cluster, st.offset)).toEqual(snapshotEntryBlocks(live, cluster, st.offset));
    const l1 = snapshotEntryBlocks(d.entries, cluster, st.offset)[0]!.rows.find((r) => r.name === 'l1_table_offset');
    expect(l1?.target).toBe(Number(live[0]!.l1TableOffset));
  });

  it('an entry cut by the end of the cluster stops the decoding with the reason', async () => {
    const { a, bytes } = await load('snapshots');
    const st = a.structures.snapshotTable!;
    const first = st.snapshots[0]!;
    const cut = bytes.slice(st.offset, st.offset + first.entryLength + 50);
    const d = staleSnapshotEntries(cut, st.offset);
    expect(d.entries.length).toBe(1);
    expect(d.stop).toMatch(/entry 1 at byte 0x[0-9a-f]+ .*runs past the end of the cluster/);
  });
});
