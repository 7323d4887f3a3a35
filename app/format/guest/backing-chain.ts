// The lower layers of a backing chain for the guest map: each backing file is opened by the name
// its overlay records (the caller resolves it as qemu-img does: relative to the overlay's folder)
// and read as the backing format says — raw (all data, at the same offset) or qcow2 (its active
// L1 and L2 tables only). Without a format the file is probed by its magic, as QEMU does.

import { Findings, parseBackingFileName, parseExtensions, parseHeader, geometry, readU64Table, readRanges, tableEntryOffset, type ByteSource } from '../qcow2';
import { Kind, RunList, qcow2Layer, tableRuns, type Layer } from './block-status';
import * as S from '../qcow2';

/** Opens a backing file named by `from`'s header; null when it cannot be found. */
export type OpenBacking = (name: string, from: ByteSource) => Promise<ByteSource | null>;

/** QEMU's limit on backing chain length is far higher; deeper chains here are cut as unreadable. */
const MAX_DEPTH = 64;

/**
 * The layer for the backing file `name` of `from`, or null (with a finding) when it cannot be
 * opened or read; the guest map then treats `from`'s unallocated ranges as having no backing.
 */
export async function backingLayer(
  from: ByteSource, name: string, format: string | null, open: OpenBacking | undefined, f: Findings, depth: number,
  /** The sources of the chain above this one (the top first); an opener returning one of them again is a cycle. */
  above: readonly ByteSource[] = [from],
): Promise<Layer | null> {
  const src = open ? await open(name, from) : null;
  if (!src) {
    f.warn('BACKING_UNAVAILABLE', 'backing file', 8,
      `The backing file '${name}' was not opened, so the guest map shows this image alone; qemu-img map needs the backing chain and would differ (or fail).`);
    return null;
  }
  if (above.includes(src)) {
    f.error('BACKING_CHAIN_CYCLE', 'backing file', null, `The backing file '${name}' is already in this image's backing chain (a cycle); it is not read again.`);
    return null;
  }
  if (depth > MAX_DEPTH) {
    f.error('BACKING_CHAIN_TOO_DEEP', 'backing file', null, `The backing chain is deeper than ${MAX_DEPTH} images; '${name}' is not read.`);
    return null;
  }
  const head = await src.read(0, 4096);
  const isQcow2 = head.length >= 104 && new DataView(head.buffer, head.byteOffset).getUint32(0) === S.QCOW_MAGIC;
  if (format === 'raw' || (format === null && !isQcow2)) return rawLayer(src.size);
  if (format !== null && format !== 'qcow2') {
    f.warn('BACKING_FORMAT_UNSUPPORTED', 'backing file', null, `The backing file '${name}' is in format '${format}', which the guest map cannot read.`);
    return null;
  }
  if (!isQcow2) {
    f.error('BACKING_NOT_QCOW2', 'backing file', null, `The backing file '${name}' should be qcow2 but has no qcow2 header.`);
    return null;
  }
  return readQcow2Layer(src, head, f, open, depth, name, [...above, src]);
}

/**
 * A raw backing file: data at the guest offset up to its length, which QEMU rounds up to 512; the
 * rest of that last sector reads as zeros (file-posix reports it as a hole: zero, not data).
 */
function rawLayer(fileSize: number): Layer {
  const runs = new RunList();
  const size = Math.ceil(fileSize / 512) * 512;
  if (fileSize > 0) runs.push(0, fileSize, Kind.DATA, 0);
  if (size > fileSize) runs.push(fileSize, size - fileSize, Kind.ZERO, fileSize);
  return { size, clusterSize: 512, span: Math.max(size, 1), entries: [runs], dataFile: false, backing: null };
}

async function readQcow2Layer(
  src: ByteSource, head: Uint8Array, f: Findings, open: OpenBacking | undefined, depth: number, name: string, chain: readonly ByteSource[],
): Promise<Layer | null> {
  const local = new Findings();
  const bits = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(20);
  if (bits < S.MIN_CLUSTER_BITS || bits > S.MAX_CLUSTER_BITS) {
    f.error('BACKING_UNREADABLE', 'backing file', null, `The backing file '${name}' has an unsupported cluster size (2^${bits}).`);
    return null;
  }
  const cluster0 = 2 ** bits <= head.length ? head : await src.read(0, 2 ** bits);
  const h = parseHeader(cluster0);
  const ext = parseExtensions(h, cluster0, local);
  const backingName = parseBackingFileName(h, cluster0, local);
  const extL2 = (h.incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0n;
  const dataFile = (h.incompatibleFeatures & S.INCOMPAT_DATA_FILE) !== 0n;
  const g = geometry(h.clusterBits, extL2);
  const l1Offset = Number(h.l1TableOffset);
  const l1 = l1Offset < src.size && h.l1Size <= S.MAX_L1_BYTES / 8 ? await readU64Table(src, l1Offset, h.l1Size) : new BigUint64Array(0);
  const wanted = new Set<number>();
  for (const e of l1) {
    const off = tableEntryOffset(e);
    if (off !== 0 && off % g.clusterSize === 0 && off < src.size) wanted.add(off);
  }
  const tables = new Map<number, RunList>();
  const flags = { dataFile, crypto: h.cryptMethod !== 0, v2: h.version < 3 };
  await readRanges(src, [...wanted].map((offset) => ({ offset, length: g.clusterSize, key: offset })), (off, bytes) => {
    tables.set(off, tableRuns(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), g, flags));
  });
  const size = Number((h.size / 512n) * 512n);
  const backing = backingName !== null ? await backingLayer(src, backingName, ext.backingFormat, open, f, depth + 1, chain) : null;
  return qcow2Layer(l1, size, g, tables, dataFile, backing);
}
