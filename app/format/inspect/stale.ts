// Decoding a freed cluster's stale bitmap directory or snapshot table for the inspector, entry by
// entry from the cluster's first byte (spec: "Bitmap directory", "Snapshot table"), into the same
// Bitmap / Snapshot shapes the live decoders (decode-meta.ts) show. The stale bytes may be partly
// overwritten or continue a table from the cluster before: decoding stops at the first entry that
// is not one a qcow2 writer could have written (or runs past the cluster) and says where and why.
// Also: which stale directory entry owns a stale bitmap table cluster (its granularity). Pure.

import type { Bitmap, Snapshot } from '../qcow2';
import { decodeUtf8 } from '../qcow2';
import { emptyKinds } from '../qcow2/bitmap-data';
import * as S from '../qcow2/spec';

/** Entries decoded from a stale cluster, and why decoding stopped (null: the cluster ends at an entry boundary). */
export interface StaleEntries<T> {
  readonly entries: readonly T[];
  /** Byte offset within the cluster where decoding stopped. */
  readonly stopAt: number;
  readonly stop: string | null;
}

const BITMAP_ENTRY = 24;
const hexAt = (n: number): string => '0x' + n.toString(16);
const cString = (b: Uint8Array): Uint8Array => {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
};

/** Whether bytes [from, to) of `b` are all zero. */
function zeros(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < Math.min(to, b.length); i++) if (b[i] !== 0) return false;
  return true;
}

/** Bitmap directory entries from byte 0 of the cluster at file offset `clusterOffset`. */
export function staleBitmapEntries(b: Uint8Array, clusterOffset: number): StaleEntries<Bitmap> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Bitmap[] = [];
  let at = 0;
  const stop = (why: string): StaleEntries<Bitmap> => ({ entries: out, stopAt: at, stop: `entry ${out.length} at byte ${hexAt(at)} ${why}` });
  while (at < b.length && out.length < S.MAX_BITMAPS) {
    if (zeros(b, at, b.length)) return { entries: out, stopAt: at, stop: out.length ? null : 'the cluster is zeros' };
    if (at + BITMAP_ENTRY > b.length) return stop('runs past the end of the cluster');
    const flags = dv.getUint32(at + 12);
    const type = dv.getUint8(at + 16);
    const gran = dv.getUint8(at + 17);
    const nameSize = dv.getUint16(at + 18);
    const extra = dv.getUint32(at + 20);
    if (zeros(b, at, at + BITMAP_ENTRY)) return stop('is zeros: the directory ends before it (or the rest was overwritten)');
    if (type !== S.BITMAP_TYPE_DIRTY_TRACKING) return stop(`has type ${type}, not 1 (dirty tracking): not a directory entry`);
    if (gran < S.MIN_BITMAP_GRANULARITY_BITS || gran > S.MAX_BITMAP_GRANULARITY_BITS) return stop(`has granularity_bits ${gran}, outside 9..31`);
    if (nameSize === 0 || nameSize > S.MAX_BITMAP_NAME) return stop(`has name_size ${nameSize}, outside 1..${S.MAX_BITMAP_NAME}`);
    if (extra > S.MAX_SNAPSHOT_EXTRA_DATA) return stop(`has extra_data_size ${extra}: too large to be real`);
    const len = BITMAP_ENTRY + extra + nameSize;
    if (at + len > b.length) return stop(`(${len} bytes) runs past the end of the cluster: the rest is in the next cluster`);
    const nameBytes = cString(b.slice(at + BITMAP_ENTRY + extra, at + len));
    const tableOffset = dv.getBigUint64(at);
    const tableSize = dv.getUint32(at + 8);
    out.push({
      index: out.length, entryOffset: clusterOffset + at, entryLength: len, name: decodeUtf8(nameBytes), nameBytes, flags,
      inUse: (flags & S.BME_FLAG_IN_USE) !== 0, auto: (flags & S.BME_FLAG_AUTO) !== 0, extraDataCompatible: (flags & S.BME_FLAG_EXTRA_DATA_COMPATIBLE) !== 0,
      type, granularityBits: gran, tableOffset, tableSize, extraDataSize: extra, extraData: b.slice(at + BITMAP_ENTRY, at + BITMAP_ENTRY + extra),
      zeroOffsetEmpty: tableOffset === 0n && tableSize === 0, offsetOneAllSet: tableOffset === 1n && tableSize === 0,
      bitCount: 0, table: null, entryKinds: emptyKinds(), setBits: null, strip: new Uint32Array(0), qemuRefuses: [],
    });
    at += Math.ceil(len / 8) * 8;
  }
  return { entries: out, stopAt: at, stop: null };
}

/** Snapshot table entries from byte 0 of the cluster at file offset `clusterOffset`. */
export function staleSnapshotEntries(b: Uint8Array, clusterOffset: number): StaleEntries<Snapshot> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Snapshot[] = [];
  let at = 0;
  const stop = (why: string): StaleEntries<Snapshot> => ({ entries: out, stopAt: at, stop: `entry ${out.length} at byte ${hexAt(at)} ${why}` });
  while (at < b.length && out.length < S.MAX_SNAPSHOTS) {
    if (zeros(b, at, b.length)) return { entries: out, stopAt: at, stop: out.length ? null : 'the cluster is zeros' };
    if (at + S.SNAPSHOT_HEADER_BYTES > b.length) return stop('runs past the end of the cluster');
    const idLen = dv.getUint16(at + 12);
    const nameLen = dv.getUint16(at + 14);
    const nsec = dv.getUint32(at + 20);
    const extra = dv.getUint32(at + 36);
    if (zeros(b, at, at + S.SNAPSHOT_HEADER_BYTES)) return stop('is zeros: the table ends before it (or the rest was overwritten)');
    if (idLen === 0) return stop('has id_str_size 0: not a snapshot entry');
    if (nsec >= 1e9) return stop(`has date_nsec ${nsec}, not below 10^9: not a snapshot entry`);
    if (extra > S.MAX_SNAPSHOT_EXTRA_DATA) return stop(`has extra_data_size ${extra}, above QEMU's ${S.MAX_SNAPSHOT_EXTRA_DATA}`);
    const len = S.SNAPSHOT_HEADER_BYTES + extra + idLen + nameLen;
    if (at + len > b.length) return stop(`(${len} bytes) runs past the end of the cluster: the rest is in the next cluster`);
    const ex = new DataView(b.buffer, b.byteOffset + at + S.SNAPSHOT_HEADER_BYTES, extra);
    const strings = at + S.SNAPSHOT_HEADER_BYTES + extra;
    const idBytes = cString(b.slice(strings, strings + idLen));
    const nameBytes = cString(b.slice(strings + idLen, strings + idLen + nameLen));
    out.push({
      index: out.length, entryOffset: clusterOffset + at, entryLength: len,
      l1TableOffset: dv.getBigUint64(at), l1Size: dv.getUint32(at + 8),
      id: decodeUtf8(idBytes), name: decodeUtf8(nameBytes), idBytes, nameBytes,
      dateSec: dv.getUint32(at + 16), dateNsec: nsec, vmClockNsec: dv.getBigUint64(at + 24),
      vmStateSize: extra >= 8 ? ex.getBigUint64(0) : BigInt(dv.getUint32(at + 32)),
      extraDataSize: extra, diskSize: extra >= 16 ? ex.getBigUint64(8) : null, icount: extra >= 24 ? ex.getBigUint64(16) : null,
      extra: b.slice(at + S.SNAPSHOT_HEADER_BYTES, strings),
    });
    at += Math.ceil(len / 8) * 8;
  }
  return { entries: out, stopAt: at, stop: null };
}

/** The entry of `bitmaps` whose table holds file offset `offset`, and the index of its first entry there. */
export function bitmapOwningTable(bitmaps: readonly Bitmap[], offset: number): { bitmap: Bitmap; firstEntry: number } | null {
  for (const bm of bitmaps) {
    const t = Number(bm.tableOffset);
    if (bm.tableOffset > 1n && offset + 8 > t && offset < t + bm.tableSize * 8) return { bitmap: bm, firstEntry: Math.max(0, Math.floor((offset - t) / 8)) };
  }
  return null;
}
