// The snapshot table (spec: "Snapshots"), read as QEMU 7.2 reads it (block/qcow2-snapshot.c,
// qcow2_do_read_snapshots): entries start 8-aligned; 40 fixed bytes, extra data, id, name. The
// extra data holds vm_state_size_large (8 bytes), disk_size (8) and icount (8), each only when
// extra_data_size covers it. Bytes past the end of the file read as zeros, as in QEMU.

import { Findings, hex } from './errors';
import type { Header } from './header';
import type { Snapshot, SnapshotTable } from './model';
import { Reader, decodeUtf8 } from './reader';
import type { ByteSource } from './source';
import * as S from './spec';
import { FINDINGS_PER_CLASS_CAP, SNAPSHOT_HEADER_BYTES } from './spec';
import { ZeroFilledWindow } from './zero-fill';

/** icount all ones: no instruction count recorded. */
export const ICOUNT_NONE = 0xffff_ffff_ffff_ffffn;

const EMPTY = new Uint8Array(0);
/** A copy, except that every empty one is the same array: 65536 empty names are no garbage. */
const copyOf = (b: Uint8Array): Uint8Array => (b.length ? b.slice() : EMPTY);

/** The bytes of a C string: up to the first NUL. */
export function cStringBytes(b: Uint8Array): Uint8Array {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}

/**
 * Reads the snapshot table the header points at, or returns null when nb_snapshots is 0.
 * Problems QEMU refuses the image for become 'QEMU_REFUSES' findings; entries read before a fatal
 * problem are kept. The table is bounded by QEMU's limits (65536 entries, 64 MiB).
 */
export async function loadSnapshotTable(src: ByteSource, h: Header, f: Findings): Promise<SnapshotTable | null> {
  if (h.nbSnapshots === 0) return null;
  const structure = 'snapshot table';
  // Past the end of the file QEMU reads zeros, up to its BDRV_MAX_LENGTH where reads fail; an
  // offset past 2^53 is past any file, so Number()'s rounding of it changes nothing read.
  if (h.snapshotsOffset + BigInt(S.MAX_SNAPSHOT_TABLE_BYTES) > (1n << 63n) - (1n << 30n)) {
    f.error('QEMU_REFUSES', structure, 64, 'Failed to read snapshot table: Input/output error');
    f.error('SNAPSHOT_TABLE_UNREADABLE', structure, 64, `snapshots_offset ${hex(h.snapshotsOffset)} is beyond any file`);
    return { offset: Number.MAX_SAFE_INTEGER, byteLength: 0, snapshots: [] };
  }
  const start = Number(h.snapshotsOffset);
  const count = Math.min(h.nbSnapshots, S.MAX_SNAPSHOTS);
  if (count < h.nbSnapshots) {
    f.warn('SNAPSHOTS_CAPPED', structure, 60, `nb_snapshots is ${h.nbSnapshots}; only the first ${count} (QEMU's maximum) are read`);
  }
  const win = new ZeroFilledWindow(src, start, S.MAX_SNAPSHOT_TABLE_BYTES);
  const snapshots: Snapshot[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    pos = Math.ceil(pos / 8) * 8;
    const entryOffset = start + pos;
    if (pos + SNAPSHOT_HEADER_BYTES > S.MAX_SNAPSHOT_TABLE_BYTES) {
      f.error('QEMU_REFUSES', structure, entryOffset, 'Snapshot table is too big');
      break;
    }
    // peek() first: 65536 entries must not cost 65536 awaits (and their garbage) each.
    const r = new Reader(win.peek(pos, SNAPSHOT_HEADER_BYTES) ?? await win.bytes(pos, SNAPSHOT_HEADER_BYTES), entryOffset, structure);
    const idLen = r.u16(12);
    const nameLen = r.u16(14);
    const extraDataSize = r.u32(36);
    const entryLength = SNAPSHOT_HEADER_BYTES + extraDataSize + idLen + nameLen;
    if (extraDataSize > S.MAX_SNAPSHOT_EXTRA_DATA) {
      f.error('QEMU_REFUSES', structure, entryOffset + 36, `Too much extra metadata in snapshot table entry ${i}`);
    } else if (h.version >= 3 && extraDataSize < 16) {
      f.warn('SNAPSHOT_EXTRA_SHORT', structure, entryOffset + 36,
        `snapshot table entry ${i}: extra_data_size ${extraDataSize}, but the spec requires at least 16 in version 3 images (QEMU 7.2 reads it anyway)`);
    }
    if (pos + entryLength > S.MAX_SNAPSHOT_TABLE_BYTES) {
      f.error('QEMU_REFUSES', structure, entryOffset, 'Snapshot table is too big');
      break;
    }
    const extraLen = Math.min(extraDataSize, S.MAX_SNAPSHOT_EXTRA_DATA);
    const extra = win.peek(pos + SNAPSHOT_HEADER_BYTES, extraLen) ?? await win.bytes(pos + SNAPSHOT_HEADER_BYTES, extraLen);
    const er = new Reader(extra, entryOffset + SNAPSHOT_HEADER_BYTES, structure);
    const stringsAt = pos + SNAPSHOT_HEADER_BYTES + extraDataSize;
    const strings = win.peek(stringsAt, idLen + nameLen) ?? await win.bytes(stringsAt, idLen + nameLen);
    const idBytes = cStringBytes(strings.subarray(0, idLen));
    const nameBytes = cStringBytes(strings.subarray(idLen));
    snapshots.push({
      index: i,
      entryOffset,
      entryLength,
      l1TableOffset: r.u64(0),
      l1Size: r.u32(8),
      id: idBytes.length ? decodeUtf8(idBytes) : '',
      name: nameBytes.length ? decodeUtf8(nameBytes) : '',
      idBytes: copyOf(idBytes),
      nameBytes: copyOf(nameBytes),
      dateSec: r.u32(16),
      dateNsec: r.u32(20),
      vmClockNsec: r.u64(24),
      vmStateSize: extraDataSize >= 8 ? er.u64(0) : BigInt(r.u32(32)),
      extraDataSize,
      diskSize: extraDataSize >= 16 ? er.u64(8) : null,
      icount: extraDataSize >= 24 ? er.u64(16) : null,
      extra: copyOf(extra),
    });
    pos += entryLength;
  }
  if (win.pastEof) {
    f.error('SNAPSHOT_TABLE_PAST_EOF', structure, start,
      `the snapshot table (${snapshots.length} entries, ${pos} bytes at ${hex(start)}) runs past the end of the file; QEMU reads the missing bytes as zeros`);
  }
  checkSnapshots(snapshots, h, f);
  return { offset: start, byteLength: pos, snapshots };
}

/** Problems QEMU does not refuse at open but that make a snapshot unusable or odd. */
function checkSnapshots(list: readonly Snapshot[], h: Header, f: Findings): void {
  const ids = new Map<string, number>();
  const cs = BigInt(h.clusterSize || 1);
  for (const sn of list) {
    const structure = `snapshot ${sn.id} (${sn.name})`;
    if (h.clusterSize && sn.l1TableOffset % cs !== 0n) {
      f.error('SNAPSHOT_L1_UNALIGNED', structure, sn.entryOffset, `L1 table offset ${hex(sn.l1TableOffset)} is not cluster-aligned; snapshot table entry corrupted`);
    }
    if (sn.l1Size > S.MAX_L1_BYTES / 8) {
      f.error('SNAPSHOT_L1_TOO_LARGE', structure, sn.entryOffset + 8, `L1 table size ${sn.l1Size} entries is too large; snapshot table entry corrupted`);
    }
    const prev = ids.get(sn.id);
    if (prev !== undefined) {
      // Past the cap only the count grows: no message is built for 65535 repeats of one id.
      if (f.count('SNAPSHOT_ID_REPEATED') < FINDINGS_PER_CLASS_CAP) f.warn('SNAPSHOT_ID_REPEATED', structure, sn.entryOffset, `snapshot id "${sn.id}" is also used by entry ${prev}`);
      else f.countMore('SNAPSHOT_ID_REPEATED', 1);
    }
    ids.set(sn.id, sn.index);
    if (sn.diskSize !== null && sn.diskSize !== h.size) {
      f.info('SNAPSHOT_DISK_SIZE', structure, sn.entryOffset + 48, `the disk was ${sn.diskSize} bytes when this snapshot was taken (now ${h.size})`);
    }
  }
}
