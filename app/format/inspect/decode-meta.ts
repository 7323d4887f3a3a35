// Decoding for the inspector of the variable-length structures: the header fields and extensions of
// cluster 0 (spec: "Header", "Header extensions"), bitmap directory entries ("Bitmap directory") and
// snapshot table entries ("Snapshot table"). Each row names its byte range inside the cluster and
// shows the raw bytes read from the cluster itself beside the value the engine parsed, so a reader
// can check one against the other. Pure: bytes and parsed structures in, rows out.

import type { Bitmap, Extension, HeaderField, Snapshot } from '../qcow2';

export interface FieldRow {
  /** Byte offset within the cluster. */
  readonly at: number;
  readonly size: number;
  readonly name: string;
  /** The bytes at [at, at + size) of the cluster in hex ('' when outside the bytes read). */
  readonly raw: string;
  readonly text: string;
  /** File offset of the cluster the field points at (a bitmap table, a snapshot's L1 table). */
  readonly target?: number;
}

/** One entry (a bitmap or a snapshot) and its fields, for the part of it inside the cluster. */
export interface EntryBlock {
  readonly title: string;
  /** File offset and length of the whole entry. */
  readonly offset: number;
  readonly length: number;
  readonly rows: readonly FieldRow[];
}

const hexOff = (n: number | bigint): string => '0x' + n.toString(16);
const entries = (n: number): string => `${n} ${n === 1 ? 'entry' : 'entries'}`;

/** Hex of bytes [at, at + size) of `bytes`; bytes past the end are left out (shown as '…'). */
export function rawHex(bytes: Uint8Array, at: number, size: number): string {
  if (at < 0 || at >= bytes.length) return '';
  let s = '';
  const end = Math.min(bytes.length, at + Math.min(size, 16));
  for (let i = at; i < end; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return end < at + size ? s + '…' : s;
}

/** Header fields and extension headers of cluster 0, in file order. */
export function headerRows(cluster0: Uint8Array, fields: readonly HeaderField[], extensions: readonly Extension[]): FieldRow[] {
  const rows: FieldRow[] = fields.map((f) => ({ at: f.offset, size: f.size, name: f.name, raw: rawHex(cluster0, f.offset, f.size), text: f.decoded }));
  for (const e of extensions) {
    rows.push({ at: e.offset, size: 8, name: `extension ${hexOff(e.type)}`, raw: rawHex(cluster0, e.offset, 8), text: `${e.name}, ${e.length} bytes of data` });
  }
  return rows.sort((a, b) => a.at - b.at);
}

/** Fields of one entry at file offset `entry`: [name, offset in entry, size, text, pointed file offset?]. */
type Field = readonly [string, number, number, string, (number | undefined)?];

/** A pointer field's target: a non-zero offset below 2^53 (else no link). */
const pointsAt = (off: bigint): number | undefined => (off > 1n && off < 1n << 53n ? Number(off) : undefined);

function block(title: string, entry: number, length: number, clusterOffset: number, bytes: Uint8Array, fields: readonly Field[]): EntryBlock {
  const rows = fields.map(([name, off, size, text, target]) => {
    const at = entry + off - clusterOffset;
    return { at, size, name, raw: rawHex(bytes, at, size), text, ...(target === undefined ? {} : { target }) };
  });
  return { title, offset: entry, length, rows };
}

/** Directory entries of the bitmaps whose entries (partly) lie in the cluster at `clusterOffset`. */
export function bitmapEntryBlocks(bitmaps: readonly Bitmap[], bytes: Uint8Array, clusterOffset: number): EntryBlock[] {
  return bitmaps.map((b) => {
    const flags = [b.inUse && 'in_use', b.auto && 'auto', b.extraDataCompatible && 'extra_data_compatible'].filter(Boolean).join(', ') || 'none';
    const table = b.zeroOffsetEmpty ? '0: no table (the 2016 proposal: an empty bitmap)' : b.offsetOneAllSet ? '1: all bits set? (the proposal\'s open question)' : hexOff(b.tableOffset);
    const nameAt = 24 + b.extraDataSize;
    return block(`bitmap '${b.name}' (directory entry ${b.index})`, b.entryOffset, b.entryLength, clusterOffset, bytes, [
      ['bitmap_table_offset', 0, 8, table, pointsAt(b.tableOffset)],
      ['bitmap_table_size', 8, 4, entries(b.tableSize)],
      ['flags', 12, 4, flags],
      ['type', 16, 1, b.type === 1 ? '1 (dirty tracking)' : `${b.type} (unknown)`],
      ['granularity_bits', 17, 1, `${b.granularityBits} (${2 ** b.granularityBits} bytes per bit)`],
      ['name_size', 18, 2, String(b.nameBytes.length)],
      ['extra_data_size', 20, 4, String(b.extraDataSize)],
      ...(b.extraDataSize > 0 ? [['extra_data', 24, b.extraDataSize, `${b.extraDataSize} bytes`] as const] : []),
      ['name', nameAt, b.nameBytes.length, JSON.stringify(b.name)],
    ]);
  });
}

/** Snapshot table entries (partly) in the cluster at `clusterOffset`. */
export function snapshotEntryBlocks(snapshots: readonly Snapshot[], bytes: Uint8Array, clusterOffset: number): EntryBlock[] {
  return snapshots.map((sn) => {
    const date = new Date(sn.dateSec * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
    const extra: Field[] = [];
    if (sn.extraDataSize >= 8) extra.push(['vm_state_size_large', 40, 8, String(sn.vmStateSize)]);
    if (sn.diskSize !== null) extra.push(['disk_size', 48, 8, `${sn.diskSize} bytes`]);
    if (sn.icount !== null) extra.push(['icount', 56, 8, sn.icount === 0xffff_ffff_ffff_ffffn ? 'none (-1)' : String(sn.icount)]);
    const idAt = 40 + sn.extraDataSize;
    return block(`snapshot ${sn.id} '${sn.name}' (entry ${sn.index})`, sn.entryOffset, sn.entryLength, clusterOffset, bytes, [
      ['l1_table_offset', 0, 8, hexOff(sn.l1TableOffset), pointsAt(sn.l1TableOffset)],
      ['l1_size', 8, 4, entries(sn.l1Size)],
      ['id_str_size', 12, 2, String(sn.idBytes.length)],
      ['name_size', 14, 2, String(sn.nameBytes.length)],
      ['date_sec', 16, 4, date],
      ['date_nsec', 20, 4, String(sn.dateNsec)],
      ['vm_clock_nsec', 24, 8, `${sn.vmClockNsec} ns`],
      ['vm_state_size', 32, 4, sn.extraDataSize >= 8 ? '(see vm_state_size_large)' : String(sn.vmStateSize)],
      ['extra_data_size', 36, 4, String(sn.extraDataSize)],
      ...extra,
      ['id_str', idAt, sn.idBytes.length, JSON.stringify(sn.id)],
      ['name', idAt + sn.idBytes.length, sn.nameBytes.length, JSON.stringify(sn.name)],
    ]);
  });
}
