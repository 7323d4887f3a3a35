// Where the structures of a (valid) sample image lie, for field-aware mutation: every header field,
// each header extension's type/length and payload fields, the backing file name, the snapshot
// table entries and bitmap directory entries field by field, and the tables (L1, L2, refcount
// table and blocks, bitmap tables). Reads raw bytes with its own bounds checks and never throws:
// what cannot be found is simply not listed.

import * as S from '../../app/format/qcow2/spec';

export interface Field {
  /** e.g. 'header.l1_size', 'snapshot[1].name_size', 'ext[0].length'. */
  readonly name: string;
  readonly offset: number;
  readonly size: 1 | 2 | 4 | 8;
}

/** A string stored in the image, with the field that holds its length (when there is one). */
export interface NameSlot {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
  /** Bytes that may be overwritten from `offset` without touching anything else that is parsed. */
  readonly room: number;
  readonly lengthField: Field | null;
}

export type TableKind = 'l1' | 'snapshot-l1' | 'l2' | 'reftable' | 'refblock' | 'bitmap-table';

export interface Table {
  readonly kind: TableKind;
  readonly name: string;
  readonly offset: number;
  readonly entries: number;
  /** Bytes per entry (16 for extended L2 tables: entry + subcluster bitmap; refcount blocks 1..8). */
  readonly entrySize: 1 | 2 | 4 | 8 | 16;
}

/** A byte range some structure occupies: truncation points and raw-mutation targets. */
export interface Region {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

export interface ImageLayout {
  readonly fileSize: number;
  readonly clusterSize: number;
  readonly fields: readonly Field[];
  readonly names: readonly NameSlot[];
  readonly tables: readonly Table[];
  readonly regions: readonly Region[];
  /** Host offsets of (a bounded sample of) data clusters the active L2 tables point at. */
  readonly dataClusters: readonly number[];
  /** Stored bytes of (a bounded sample of) compressed guest clusters: descriptor offset and size. */
  readonly compressed: readonly Region[];
  /** First free byte of cluster 0 after the extension list (where a new extension may go), or -1. */
  readonly extensionEnd: number;
}

const HEADER_FIELDS: readonly [string, number, 1 | 4 | 8][] = [
  ['magic', 0, 4], ['version', 4, 4], ['backing_file_offset', 8, 8], ['backing_file_size', 16, 4],
  ['cluster_bits', 20, 4], ['size', 24, 8], ['crypt_method', 32, 4], ['l1_size', 36, 4],
  ['l1_table_offset', 40, 8], ['refcount_table_offset', 48, 8], ['refcount_table_clusters', 56, 4],
  ['nb_snapshots', 60, 4], ['snapshots_offset', 64, 8], ['incompatible_features', 72, 8],
  ['compatible_features', 80, 8], ['autoclear_features', 88, 8], ['refcount_order', 96, 4],
  ['header_length', 100, 4], ['compression_type', 104, 1],
];

/** Tables listed at most (an image of millions of L2 tables needs only a sample). */
const MAX_TABLES = 4096;
const MAX_DATA_CLUSTERS = 4096;

class Bytes {
  private readonly dv: DataView;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  has(at: number, n: number): boolean {
    return at >= 0 && n >= 0 && at + n <= this.b.length;
  }
  u8 = (at: number): number => (this.has(at, 1) ? this.dv.getUint8(at) : 0);
  u16 = (at: number): number => (this.has(at, 2) ? this.dv.getUint16(at) : 0);
  u32 = (at: number): number => (this.has(at, 4) ? this.dv.getUint32(at) : 0);
  /** A u64 as a number, or -1 when it is not a safe integer. */
  u64n = (at: number): number => {
    if (!this.has(at, 8)) return -1;
    const v = this.dv.getBigUint64(at);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : -1;
  };
  offsetAt = (at: number): number => {
    if (!this.has(at, 8)) return 0;
    return (this.dv.getUint32(at) & 0x00ffffff) * 2 ** 32 + ((this.dv.getUint32(at + 4) & 0xfffffe00) >>> 0);
  };
}

/** Lists the structures of `bytes`; a damaged image yields a shorter layout, never an exception. */
export function locate(bytes: Uint8Array): ImageLayout {
  const r = new Bytes(bytes);
  const fields: Field[] = [];
  const names: NameSlot[] = [];
  const tables: Table[] = [];
  const regions: Region[] = [];
  const dataClusters: number[] = [];
  const compressed: Region[] = [];
  const size = bytes.length;
  const version = r.u32(4);
  const bits = r.u32(20);
  const cs = bits >= S.MIN_CLUSTER_BITS && bits <= S.MAX_CLUSTER_BITS ? 2 ** bits : 65536;
  const headerLength = version >= 3 ? r.u32(100) : S.HEADER_V2_LENGTH;
  for (const [name, offset, width] of HEADER_FIELDS) {
    if (offset + width <= Math.max(headerLength, S.HEADER_V2_LENGTH) && r.has(offset, width)) fields.push({ name: `header.${name}`, offset, size: width });
  }
  regions.push({ name: 'header', offset: 0, length: Math.min(size, headerLength) }, { name: 'cluster 0', offset: 0, length: Math.min(size, cs) });

  const backingOffset = r.u64n(8);
  const backingSize = r.u32(16);
  const c0End = Math.min(size, cs);
  const extensionEnd = locateExtensions(r, headerLength, backingOffset > 0 && backingOffset < c0End ? backingOffset : c0End, fields, names, regions, tables);
  if (backingOffset > 0 && backingOffset + backingSize <= c0End) {
    names.push({ name: 'backing file name', offset: backingOffset, length: backingSize, room: c0End - backingOffset, lengthField: { name: 'header.backing_file_size', offset: 16, size: 4 } });
    regions.push({ name: 'backing file name', offset: backingOffset, length: backingSize });
  }

  const l1Offset = r.u64n(40);
  const l1Size = r.u32(36);
  const extL2 = (r.u32(76) & Number(S.INCOMPAT_EXTL2)) !== 0 && version >= 3;
  const l2Offsets = new Set<number>();
  const addL1 = (kind: 'l1' | 'snapshot-l1', name: string, offset: number, entries: number) => {
    if (offset <= 0 || entries <= 0 || !r.has(offset, 8)) return;
    const n = Math.min(entries, Math.floor((size - offset) / 8));
    tables.push({ kind, name, offset, entries: n, entrySize: 8 });
    regions.push({ name, offset, length: n * 8 });
    for (let i = 0; i < n && l2Offsets.size < MAX_TABLES; i++) {
      const l2 = r.offsetAt(offset + i * 8);
      if (l2 > 0 && l2 % cs === 0 && l2 + cs <= size) l2Offsets.add(l2);
    }
  };
  addL1('l1', 'active L1 table', l1Offset, l1Size);
  locateSnapshots(r, fields, names, regions, addL1);
  const l2Entries = cs / (extL2 ? 16 : 8);
  for (const l2 of l2Offsets) {
    tables.push({ kind: 'l2', name: `L2 table at ${l2}`, offset: l2, entries: l2Entries, entrySize: extL2 ? 16 : 8 });
    regions.push({ name: `L2 table at ${l2}`, offset: l2, length: cs });
    for (let i = 0; i < l2Entries && dataClusters.length < MAX_DATA_CLUSTERS; i++) {
      const at = l2 + i * (extL2 ? 16 : 8);
      if (r.u32(at) & 0x40000000) {
        if (compressed.length < MAX_DATA_CLUSTERS) compressed.push(compressedStream(r, at, bits, i));
        continue;
      }
      const d = r.offsetAt(at);
      if (d > 0 && d % cs === 0 && d + cs <= size) dataClusters.push(d);
    }
  }

  const rtOffset = r.u64n(48);
  const rtClusters = r.u32(56);
  if (rtOffset > 0 && rtClusters > 0 && r.has(rtOffset, 8)) {
    const n = Math.min((rtClusters * cs) / 8, Math.floor((size - rtOffset) / 8));
    tables.push({ kind: 'reftable', name: 'refcount table', offset: rtOffset, entries: n, entrySize: 8 });
    regions.push({ name: 'refcount table', offset: rtOffset, length: n * 8 });
    const refcountOrder = version >= 3 ? r.u32(96) : 4;
    const perBlock = refcountOrder <= 6 ? (cs * 8) / 2 ** refcountOrder : 0;
    for (let i = 0; i < n && tables.length < MAX_TABLES; i++) {
      const rb = r.offsetAt(rtOffset + i * 8);
      if (rb <= 0 || rb + cs > size) continue;
      const width = refcountOrder >= 3 && refcountOrder <= 6 ? 2 ** (refcountOrder - 3) : 0;
      // Sub-byte refcounts are not mutated entry-wise; their blocks stay regions for raw mutation.
      if (width === 1 || width === 2 || width === 4 || width === 8) tables.push({ kind: 'refblock', name: `refcount block ${i}`, offset: rb, entries: perBlock, entrySize: width });
      regions.push({ name: `refcount block ${i}`, offset: rb, length: cs });
    }
  }
  return { fileSize: size, clusterSize: cs, fields, names, tables, regions, dataClusters, compressed: compressed.filter((c) => c.length > 0 && c.offset < size), extensionEnd };
}

/** The stored bytes a compressed L2 entry describes (spec: "Compressed Clusters Descriptor"). */
function compressedStream(r: Bytes, at: number, clusterBits: number, index: number): Region {
  const x = clusterBits - 8; // bits of the sector count
  const hi = r.u32(at);
  const lo = r.u32(at + 4);
  const offsetBits = 62 - x;
  const low = lo % 2 ** Math.min(32, offsetBits);
  const offset = (hi & (2 ** Math.max(0, offsetBits - 32) - 1)) * 2 ** 32 + low;
  const sectors = (hi >>> (offsetBits - 32)) & (2 ** x - 1); // bits offsetBits..61, all in the high word
  return { name: `compressed stream of L2 entry ${index}`, offset, length: (sectors + 1) * 512 - (offset % 512) };
}

/** Walks the extension list; returns the first byte after its end marker (or -1). */
function locateExtensions(r: Bytes, start: number, end: number, fields: Field[], names: NameSlot[], regions: Region[], tables: Table[]): number {
  let p = start;
  for (let i = 0; p + 8 <= end && i < 64; i++) {
    const type = r.u32(p);
    const length = r.u32(p + 4);
    const tag = `ext[${i}]`;
    fields.push({ name: `${tag}.type`, offset: p, size: 4 }, { name: `${tag}.length`, offset: p + 4, size: 4 });
    if (type === S.EXT_END) return p + 8 <= end ? p : -1;
    if (length > end - p - 8) return -1;
    const d = p + 8;
    regions.push({ name: `${tag} (${S.EXTENSION_NAMES[type] ?? 'unknown'})`, offset: p, length: 8 + length });
    const room = end - d;
    switch (type) {
      case S.EXT_BACKING_FORMAT:
      case S.EXT_DATA_FILE:
        names.push({ name: `${tag} name`, offset: d, length, room, lengthField: { name: `${tag}.length`, offset: p + 4, size: 4 } });
        break;
      case S.EXT_FEATURE_TABLE:
        for (let k = 0; (k + 1) * 48 <= length; k++) {
          fields.push({ name: `${tag}.feature[${k}].type`, offset: d + k * 48, size: 1 }, { name: `${tag}.feature[${k}].bit`, offset: d + k * 48 + 1, size: 1 });
          names.push({ name: `${tag}.feature[${k}].name`, offset: d + k * 48 + 2, length: 46, room: 46, lengthField: null });
        }
        break;
      case S.EXT_BITMAPS:
        fields.push({ name: `${tag}.nb_bitmaps`, offset: d, size: 4 }, { name: `${tag}.reserved`, offset: d + 4, size: 4 },
          { name: `${tag}.directory_size`, offset: d + 8, size: 8 }, { name: `${tag}.directory_offset`, offset: d + 16, size: 8 });
        locateBitmaps(r, r.u32(d), r.u64n(d + 8), r.u64n(d + 16), fields, names, regions, tables);
        break;
      case S.EXT_CRYPTO_HEADER: {
        fields.push({ name: `${tag}.offset`, offset: d, size: 8 }, { name: `${tag}.length`, offset: d + 8, size: 8 });
        const lo = r.u64n(d);
        const ll = r.u64n(d + 8);
        if (lo > 0 && ll > 0 && r.has(lo, 1)) {
          regions.push({ name: 'LUKS header', offset: lo, length: Math.min(ll, r.b.length - lo) });
          fields.push({ name: 'luks.version', offset: lo + 6, size: 2 }, { name: 'luks.payload_offset', offset: lo + 104, size: 4 },
            { name: 'luks.key_bytes', offset: lo + 108, size: 4 }, { name: 'luks.slot[0].stripes', offset: lo + 208 + 44, size: 4 },
            { name: 'luks.slot[0].key_offset', offset: lo + 208 + 40, size: 4 });
          names.push({ name: 'luks cipher name', offset: lo + 8, length: 32, room: 32, lengthField: null },
            { name: 'luks cipher mode', offset: lo + 40, length: 32, room: 32, lengthField: null });
        }
        break;
      }
      default:
        break;
    }
    p = d + Math.ceil(length / 8) * 8;
  }
  return -1;
}

type AddL1 = (kind: 'snapshot-l1', name: string, offset: number, entries: number) => void;

function locateSnapshots(r: Bytes, fields: Field[], names: NameSlot[], regions: Region[], addL1: AddL1): void {
  const n = Math.min(r.u32(60), 1024);
  const base = r.u64n(64);
  if (n === 0 || base <= 0) return;
  let p = base;
  for (let i = 0; i < n && r.has(p, 40); i++) {
    const tag = `snapshot[${i}]`;
    const idLen = r.u16(p + 12);
    const nameLen = r.u16(p + 14);
    const extra = r.u32(p + 36);
    const f = (name: string, at: number, size: 1 | 2 | 4 | 8) => fields.push({ name: `${tag}.${name}`, offset: p + at, size });
    f('l1_table_offset', 0, 8); f('l1_size', 8, 4); f('id_str_size', 12, 2); f('name_size', 14, 2);
    f('date_sec', 16, 4); f('date_nsec', 20, 4); f('vm_clock_nsec', 24, 8); f('vm_state_size', 32, 4); f('extra_data_size', 36, 4);
    if (extra >= 8) f('vm_state_size_large', 40, 8);
    if (extra >= 16) f('disk_size', 48, 8);
    if (extra >= 24) f('icount', 56, 8);
    const end = p + 40 + extra + idLen + nameLen;
    regions.push({ name: `${tag} entry`, offset: p, length: end - p });
    names.push({ name: `${tag}.id`, offset: p + 40 + extra, length: idLen, room: idLen, lengthField: { name: `${tag}.id_str_size`, offset: p + 12, size: 2 } });
    names.push({ name: `${tag}.name`, offset: p + 40 + extra + idLen, length: nameLen, room: nameLen, lengthField: { name: `${tag}.name_size`, offset: p + 14, size: 2 } });
    addL1('snapshot-l1', `L1 table of ${tag}`, r.u64n(p), r.u32(p + 8));
    p = Math.ceil(end / 8) * 8;
  }
  regions.push({ name: 'snapshot table', offset: base, length: p - base });
}

function locateBitmaps(r: Bytes, nb: number, dirSize: number, dirOffset: number, fields: Field[], names: NameSlot[], regions: Region[], tables: Table[]): void {
  if (dirOffset <= 0 || dirSize <= 0 || !r.has(dirOffset, 24)) return;
  regions.push({ name: 'bitmap directory', offset: dirOffset, length: Math.min(dirSize, r.b.length - dirOffset) });
  let p = dirOffset;
  const end = Math.min(dirOffset + dirSize, r.b.length);
  for (let i = 0; i < Math.min(nb, 1024) && p + 24 <= end; i++) {
    const tag = `bitmap[${i}]`;
    const f = (name: string, at: number, size: 1 | 2 | 4 | 8) => fields.push({ name: `${tag}.${name}`, offset: p + at, size });
    f('table_offset', 0, 8); f('table_size', 8, 4); f('flags', 12, 4); f('type', 16, 1);
    f('granularity_bits', 17, 1); f('name_size', 18, 2); f('extra_data_size', 20, 4);
    const nameSize = r.u16(p + 18);
    const extra = r.u32(p + 20);
    names.push({ name: `${tag}.name`, offset: p + 24 + extra, length: nameSize, room: nameSize, lengthField: { name: `${tag}.name_size`, offset: p + 18, size: 2 } });
    const tOff = r.u64n(p);
    const tSize = r.u32(p + 8);
    if (tOff > 1 && tSize > 0 && r.has(tOff, 8)) {
      const ents = Math.min(tSize, Math.floor((r.b.length - tOff) / 8));
      regions.push({ name: `table of ${tag}`, offset: tOff, length: ents * 8 });
      tables.push({ kind: 'bitmap-table', name: `table of ${tag}`, offset: tOff, entries: ents, entrySize: 8 });
    }
    p += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
}
