// qemu-img check over the fixed structures (block/qcow2-refcount.c calculate_refcounts and
// check_refblocks; qcow2-snapshot.c qcow2_check_read_snapshot_table; qcow2-bitmap.c
// qcow2_check_bitmaps_refcounts): the snapshot table and its entries, the refcount table, the LUKS
// header area, the bitmap directory, bitmap tables and bitmap data, and the refcount blocks.

import { hex, type Bitmap, type Structures, REFT_RESERVED, REFT_UNALIGNED, type Reftable, readU64Table, type ByteSource } from '../qcow2';
import { type CheckState, SNAP_MIXED } from './state';
import { Role } from './roles';
import * as S from '../qcow2';

/** Why qemu-img check stops before counting anything: the lines it prints and its errno text. */
export interface SnapshotCheckFailure {
  /** What qemu-img prints (error_report: "qemu-img: ERROR …", then any hint line). */
  readonly lines: string;
  /** strerror of the return value: qemu-img then prints "Check failed: <errno>". */
  readonly errno: 'File too large' | 'Invalid argument' | 'Input/output error';
}

const SNAPSHOT_HEADER_BYTES = 40;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * qcow2_check_read_snapshot_table: the table's size and offset (qcow2_validate_table), then the
 * read: `readRefusal` is the first refusal snapshots.ts met reading it (QEMU's text), or null.
 */
export function snapshotTableFailure(s: Structures, readRefusal: string | null): SnapshotCheckFailure | null {
  const h = s.header;
  const overhang = (n: number) => `\nYou can force-remove all ${n} overhanging snapshots with qemu-img check -r all`;
  if (h.nbSnapshots > S.MAX_SNAPSHOTS) return { lines: `qemu-img: ERROR snapshot table too large${overhang(h.nbSnapshots - S.MAX_SNAPSHOTS)}`, errno: 'File too large' };
  const bytes = BigInt(h.nbSnapshots) * BigInt(SNAPSHOT_HEADER_BYTES);
  if (INT64_MAX - bytes < h.snapshotsOffset || (h.clusterSize && h.snapshotsOffset % BigInt(h.clusterSize) !== 0n)) {
    return { lines: 'qemu-img: ERROR snapshot table offset invalid', errno: 'Invalid argument' };
  }
  if (h.nbSnapshots === 0 || readRefusal === null) return null;
  const lines = `qemu-img: ERROR failed to read the snapshot table: ${readRefusal}`;
  if (readRefusal.startsWith('Too much extra metadata')) return { lines: `${lines}\nYou can force-remove this extra metadata with qemu-img check -r all`, errno: 'File too large' };
  if (readRefusal === 'Snapshot table is too big') return { lines: lines + overhang(h.nbSnapshots - (s.snapshotTable?.snapshots.length ?? 0)), errno: 'File too large' };
  return { lines, errno: 'Input/output error' };
}

/**
 * qcow2_check_read_snapshot_table's count, then the snapshot L1 checks of calculate_refcounts.
 * Returns the snapshots whose L1 tables are to be walked (index, offset, size).
 */
export function checkSnapshotEntries(st: CheckState, s: Structures, dataFile: boolean): { index: number; offset: number; size: number }[] {
  const t = s.snapshotTable;
  if (!t || s.header.nbSnapshots === 0) return [];
  if (s.header.version >= 3) {
    for (const sn of t.snapshots) {
      if (sn.extraDataSize < 16) {
        st.corrupt(1, 'SNAPSHOT_INCOMPLETE', `snapshot ${sn.id} (${sn.name})`, sn.entryOffset + 36,
          () => `ERROR snapshot table entry ${sn.index} is incomplete — extra_data_size ${sn.extraDataSize} is below the 16 bytes version 3 requires`);
      }
    }
  }
  if (dataFile) {
    st.corrupt(1, 'SNAPSHOTS_WITH_DATA_FILE', 'snapshot table', 60, () => `ERROR ${t.snapshots.length} snapshots in image with data file`);
  }
  const out: { index: number; offset: number; size: number }[] = [];
  for (const sn of t.snapshots) {
    const who = `snapshot ${sn.id} (${sn.name})`;
    if (sn.l1TableOffset % BigInt(st.clusterSize) !== 0n) {
      st.corrupt(1, 'CHECK_SNAPSHOT_L1', who, sn.entryOffset, () =>
        `ERROR ${who} l1_offset=${hex(sn.l1TableOffset)}: L1 table is not cluster aligned; snapshot table entry corrupted`);
      continue;
    }
    if (sn.l1Size > S.MAX_L1_BYTES / 8) {
      st.corrupt(1, 'CHECK_SNAPSHOT_L1', who, sn.entryOffset + 8, () =>
        `ERROR ${who} l1_size=${hex(sn.l1Size)}: L1 table is too large; snapshot table entry corrupted`);
      continue;
    }
    const off = Number(sn.l1TableOffset); // cluster-aligned: exact below 2^62
    out.push({ index: sn.index, offset: off, size: sn.l1Size });
  }
  return out;
}

/**
 * An L1 (or bitmap) table as QEMU reads it for the check: up to `size` entries, of which only those
 * inside the file are returned — the rest read as zeros, which reference nothing.
 */
export async function l1ForCheck(src: ByteSource, have: BigUint64Array | null, offset: number, size: number): Promise<BigUint64Array> {
  if (have && have.length >= Math.min(size, Math.max(0, Math.floor((src.size - offset) / 8)))) return have;
  if (!(offset < src.size) || size === 0) return new BigUint64Array(0);
  return readU64Table(src, offset, Math.min(size, Math.floor((src.size - offset) / 8)));
}

/** References of the snapshot table, refcount table, LUKS header and bitmaps (calculate_refcounts). */
export async function referenceMetadata(src: ByteSource, st: CheckState, s: Structures): Promise<void> {
  const h = s.header;
  const t = s.snapshotTable;
  if (h.nbSnapshots > 0 && t) st.ref(t.offset, t.byteLength, 1, Role.SNAPSHOT_TABLE, SNAP_MIXED, () => 'snapshot table');
  st.ref(Number(h.refcountTableOffset), h.refcountTableClusters * h.clusterSize, 1, Role.REFCOUNT_TABLE, SNAP_MIXED, () => 'refcount table');
  const crypt = s.extensions.cryptoHeader;
  if (crypt && crypt.headerLength > 0n) {
    st.ref(safe(crypt.headerOffset), safe(crypt.headerLength), 1, Role.LUKS_HEADER, SNAP_MIXED, () => 'LUKS header');
  }
  await referenceBitmaps(src, st, s);
}

/** A 64-bit field as a number: exact below 2^53; above, near enough (it is far past any file). */
const safe = (v: bigint): number => Number(v);

/**
 * qcow2_check_bitmaps_refcounts: only when QEMU loads the bitmaps (autoclear bit 0 set). Bitmaps
 * naming the same table are one table scanned once, its references applied once per bitmap.
 */
async function referenceBitmaps(src: ByteSource, st: CheckState, s: Structures): Promise<void> {
  const ext = s.extensions.bitmaps;
  if (!ext || ext.nbBitmaps === 0 || !(s.header.autoclearFeatures & S.AUTOCLEAR_BITMAPS)) return;
  st.ref(safe(ext.directoryOffset), safe(ext.directorySize), 1, Role.BITMAP_DIRECTORY, SNAP_MIXED, () => 'bitmap directory');
  const cs = st.clusterSize;
  const tables = new Map<string, { bitmap: Bitmap; times: number }>();
  for (const b of s.bitmapDirectory?.bitmaps ?? []) {
    const key = `${b.tableOffset}:${b.tableSize}`;
    const t = tables.get(key);
    if (t) t.times++;
    else tables.set(key, { bitmap: b, times: 1 });
  }
  for (const { bitmap: b, times } of tables.values()) {
    const name = `bitmap "${b.name}"${times > 1 ? ` (and ${times - 1} more naming the same table)` : ''}`;
    const tableOffset = safe(b.tableOffset);
    st.ref(tableOffset, b.tableSize * 8, times, Role.BITMAP_TABLE, SNAP_MIXED, () => `table of ${name}`);
    let table = b.table;
    if (!table || table.length < b.tableSize) table = await l1ForCheck(src, table, tableOffset, b.tableSize);
    for (let i = 0; i < table.length; i++) {
      const e = table[i]!;
      const off = e & S.BME_TABLE_ENTRY_OFFSET_MASK;
      const invalid = (e & S.BME_TABLE_ENTRY_RESERVED_MASK) !== 0n || (off !== 0n && ((e & 1n) !== 0n || off % BigInt(cs) !== 0n));
      if (invalid) {
        st.corruptions += times; // reported by the bitmap loader as BITMAP_TABLE_ENTRY_INVALID
        continue;
      }
      if (off === 0n) continue;
      st.ref(safe(off), cs, times, Role.BITMAP_DATA, SNAP_MIXED, () => `data cluster ${i} of ${name}`);
    }
  }
}

/** check_refblocks: each refcount block must be aligned, inside the image, and referenced once. */
export function checkRefblocks(st: CheckState, reftable: Reftable, reftableOffset: number): void {
  const cs = st.clusterSize;
  const { offsets, flags } = reftable;
  for (let i = 0; i < offsets.length; i++) {
    const fl = flags[i]!;
    if (fl === 0) continue;
    const offset = offsets[i]!;
    const at = reftableOffset + i * 8;
    if (fl & REFT_RESERVED) {
      st.corrupt(1, 'REFTABLE_RESERVED', 'refcount table', at, () => `ERROR refcount table entry ${i} has reserved bits set`);
      continue;
    }
    if (fl & REFT_UNALIGNED) {
      st.corrupt(1, 'REFBLOCK_UNALIGNED', 'refcount table', at, () => `ERROR refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
      continue;
    }
    const cluster = offset / cs;
    if (cluster >= st.expected.length) {
      st.corrupt(1, 'REFBLOCK_OUTSIDE', 'refcount table', at, () => `ERROR refcount block ${i} is outside image — offset ${hex(offset)}`);
      continue;
    }
    if (offset === 0) continue;
    st.ref(offset, cs, 1, Role.REFCOUNT_BLOCK, SNAP_MIXED, () => `refcount block ${i}`);
    const n = st.expected.counts[cluster]!;
    if (n !== 1) {
      st.corrupt(1, 'REFBLOCK_REFCOUNT', 'refcount block', offset, () => `ERROR refcount block ${i} refcount=${n} — it is referenced ${n} times`, cluster);
    }
  }
}
