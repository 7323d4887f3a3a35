// A file cut short (an interrupted copy: the commonest damage there is) diagnosed as such: every
// structure's extent compared with the file size, and ONE finding, FILE_TRUNCATED, naming where the
// file ends and what lies wholly or partly past it. QEMU reads the missing bytes as zeros (and the
// check counts what they break); this finding says why.
//
// Evidence that the file was longer, not that one pointer is wild: a structure the header or its
// extensions place (extensions, backing file name, active L1, refcount table, snapshot table,
// bitmap directory, LUKS header) running past the end; a refcount block past the end; a stored
// refcount saying the first cluster past the end is in use; or a full-cluster structure or data
// cluster cut by the end of the file — with extended L2 entries, an allocated subcluster cut by it
// (QEMU writes a data cluster whole, or with subclusters each allocated subcluster whole: a 512-byte
// write into a fresh cluster ends the file at the cluster's end, or at its subcluster's, in 7.2 and
// 10.0). Without such evidence, references past the end stay what qemu-img calls them
// (corruptions, PAST_EOF).

import { formatBytes } from '../text';
import { hex, type Findings } from '../qcow2/errors';
import type { Structures } from '../qcow2/model';
import type { Reftable } from '../qcow2/refcounts';
import type { ByteSource } from '../qcow2/source';
import * as S from '../qcow2/spec';
import { entryPastEnd } from '../qcow2/zero-fill';
import { Role } from './roles';
import type { CheckState } from './state';

export interface Truncation {
  /** The file's size: where it ends. */
  readonly fileSize: number;
  /** The furthest byte a structure or reference reaches. */
  readonly reach: number;
  /** What lies wholly or partly past the end, in words ("the bitmap directory", "12 L2 tables"). */
  readonly parts: readonly string[];
  /** Whether tables that reference clusters (L1, L2, bitmap tables, snapshot table, bitmap directory) are cut. */
  readonly tablesMissing: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');
const many = (n: number, one: string, more = `${one}s`): string => `${count(n)} ${n === 1 ? one : more}`;

/** "86.1 MiB": the one text module's sizes. */
export const sizeText = (n: number): string => formatBytes(n);

/** Whether [offset, offset + length) reaches past the end (offsets above 2^53 are far past any file). */
const past = (offset: bigint | number, length: bigint | number, size: number): boolean =>
  length > 0 && BigInt(offset) + BigInt(length) > BigInt(size);

/** What lies past the end of the file, or null when nothing shows the file was cut short. */
export async function diagnoseTruncation(src: ByteSource, s: Structures, st: CheckState, reftable: Reftable): Promise<Truncation | null> {
  const size = st.fileSize;
  const h = s.header;
  const cs = st.clusterSize;
  const t = st.pastEnd;
  // The L2 scan claims data clusters inside the file without ref() (its fast path): a data cluster
  // that the end of the file cuts (the last, partial cluster) is tallied here as ref() tallies one.
  // QEMU writes a new data cluster whole (the guest's bytes and zeros around them), except with
  // extended L2 entries, whose subclusters are written alone: such a file may end inside a cluster,
  // and the L2 scan tallies an allocated subcluster the end cuts.
  const last = Math.floor(size / cs);
  const subclusters = (h.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n;
  const lastRole = size % cs !== 0 && last < st.roles.length && !subclusters ? st.roles[last]! : Role.FREE;
  if (lastRole === Role.DATA || lastRole === Role.DATA_SHARED || lastRole === Role.DATA_SNAPSHOT) t.add(lastRole, last, false, (last + 1) * cs);
  const parts: string[] = [];
  let anchored = false;
  let tablesMissing = false;
  let reach = t.end;
  // A structure the end of the file cuts through is evidence; one wholly past it may be a wild pointer.
  const note = (cut: boolean, what: string, end: bigint | number, table = false, start: bigint | number = 0) => {
    if (!cut) return;
    parts.push(what);
    if (BigInt(start) < BigInt(size)) anchored = true;
    if (table) tablesMissing = true;
    if (Number(end) > reach) reach = Number(end);
  };

  // The header cluster: the header, its extensions (and their end marker), the backing file name.
  const extEnd = s.extensions.list.reduce((e, x) => Math.max(e, x.offset + 8 + Math.ceil(x.length / 8) * 8), h.headerLength) + 8;
  note(size < h.headerLength, 'the header', h.headerLength);
  note(size >= h.headerLength && size < Math.min(extEnd, cs), 'the header extensions', Math.min(extEnd, cs));
  note(h.backingFileOffset > 0n && past(h.backingFileOffset, h.backingFileSize, size), 'the backing file name', h.backingFileOffset + BigInt(h.backingFileSize), false, h.backingFileOffset);
  note(h.l1Size > 0 && past(h.l1TableOffset, h.l1Size * 8, size), 'the active L1 table', h.l1TableOffset + BigInt(h.l1Size * 8), true, h.l1TableOffset);
  note(past(h.refcountTableOffset, h.refcountTableClusters * cs, size), 'the refcount table', h.refcountTableOffset + BigInt(h.refcountTableClusters * cs), false, h.refcountTableOffset);
  const snaps = s.snapshotTable;
  if (h.nbSnapshots > 0 && snaps) note(past(snaps.offset, snaps.byteLength, size), 'the snapshot table', snaps.offset + snaps.byteLength, true, snaps.offset);
  const snapL1 = (snaps?.snapshots ?? []).filter((sn) => sn.l1Size > 0 && past(sn.l1TableOffset, sn.l1Size * 8, size));
  note(snapL1.length > 0, snapL1.length > 0 ? many(snapL1.length, 'snapshot L1 table') : '', 0, true, snapL1.reduce((m, sn) => (sn.l1TableOffset < m ? sn.l1TableOffset : m), 1n << 64n));
  const bx = s.extensions.bitmaps;
  if (bx) note(past(bx.directoryOffset, bx.directorySize, size), 'the bitmap directory', bx.directoryOffset + bx.directorySize, true, bx.directoryOffset);
  const crypt = s.extensions.cryptoHeader;
  if (crypt) note(past(crypt.headerOffset, crypt.headerLength, size), 'the LUKS header', crypt.headerOffset + crypt.headerLength, false, crypt.headerOffset);

  let refblocks = 0;
  for (let i = 0; i < reftable.offsets.length; i++) {
    const off = reftable.offsets[i]!;
    if (reftable.flags[i] === 1 && off % cs === 0 && off + cs > size && off < Number.MAX_SAFE_INTEGER) refblocks++;
  }
  // QEMU places new refcount blocks at the end of the file as it grows: one past the end is evidence.
  note(refblocks > 0, refblocks > 0 ? many(refblocks, 'refcount block') : '', 0);

  // Structures found through tables: bitmap tables and their data (read whether or not QEMU loads them).
  let bitmapTables = 0;
  let bitmapData = 0;
  // Each distinct table once: a hostile directory may name one table from 65535 entries.
  const seen = new Set<bigint>();
  for (const b of s.bitmapDirectory?.bitmaps ?? []) {
    if (entryPastEnd(b, size) || seen.has(b.tableOffset)) continue;
    seen.add(b.tableOffset);
    if (b.tableOffset > 1n && past(b.tableOffset, b.tableSize * 8, size)) bitmapTables++;
    for (const e of b.table ?? []) {
      const off = e & S.BME_TABLE_ENTRY_OFFSET_MASK;
      if (off !== 0n && past(off, cs, size)) bitmapData++;
    }
  }

  const cutCluster = size % cs !== 0 && t.partly;
  if (!anchored && !cutCluster && !(await refcountsInUsePastEnd(src, st))) return null;

  const l2 = t.count([Role.L2_ACTIVE, Role.L2_SNAPSHOT]);
  if (l2 > 0) tablesMissing = true;
  if (bitmapTables > 0) tablesMissing = true;
  const counted: [number, string][] = [
    [l2, 'L2 table'],
    [bitmapTables, 'bitmap table'],
    [bitmapData, 'bitmap data cluster'],
    [t.count([Role.DATA, Role.DATA_SNAPSHOT]), 'data cluster'],
    [t.count([Role.COMPRESSED]), 'compressed data cluster'],
  ];
  for (const [n, what] of counted) if (n > 0) parts.push(many(n, what));
  return { fileSize: size, reach: Math.max(reach, size), parts, tablesMissing };
}

/**
 * Whether the stored refcounts say a cluster just past the end of the file is in use: the refcount
 * block covering the first cluster past the end (when it lies in the file) is read.
 */
async function refcountsInUsePastEnd(src: ByteSource, st: CheckState): Promise<boolean> {
  const first = Math.ceil(st.fileSize / st.clusterSize);
  const stored = st.stored;
  const epb = stored.geo.entriesPerBlock;
  // Up to 65536 clusters: a refcount in use that close to the end says the file was longer.
  const end = Math.min((stored.tableIndex(first) + 1) * epb, first + 65536);
  await stored.ensure(src, [first, end - 1]);
  for (let k = first; k < end; k++) if (stored.get(k) > 0) return true;
  return false;
}

/** "the bitmap directory, 12 L2 tables and 1,314 data clusters". */
export function listParts(parts: readonly string[]): string {
  if (parts.length <= 1) return parts[0] ?? 'nothing';
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
}

/** The FILE_TRUNCATED finding: its message is the verdict's first sentence. */
export function reportTruncation(tr: Truncation, f: Findings): void {
  const what = tr.parts.length > 0 ? `${listParts(tr.parts)} ${tr.parts.length === 1 && /^(the|1) /.test(tr.parts[0]!) ? 'lies' : 'lie'} past the end` : 'the last cluster is cut short';
  const reach = tr.reach > tr.fileSize ? ` (the image reaches at least ${sizeText(tr.reach)})` : '';
  f.error('FILE_TRUNCATED', 'file', tr.fileSize, `Truncated at ${sizeText(tr.fileSize)} (${hex(tr.fileSize)}): ${what}${reach}`);
}
