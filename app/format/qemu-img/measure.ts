// qemu-img measure of a qcow2 input, exactly: block/qcow2.c qcow2_measure (option checks in its
// order, the allocated-size estimate from block status, qcow2_calc_prealloc_size and
// qcow2_refcount_metadata_size), block/qcow2-bitmap.c qcow2_get_persistent_dirty_bitmap_size,
// block/raw-format.c raw_measure, and qemu-img.c img_measure's output. 7.2 and 10.0 compute the
// same; they differ only in one option-parsing message (measure-options.ts).
//
// The estimate: every output cluster that a guest range reading as data (not zero, not
// unallocated through the whole chain: qemu-img map's "data": true, "zero": false) touches is
// counted once — qcow2_measure's loop extends each data extent to the end of its output cluster
// and resumes there, so it counts exactly the touched clusters.

import type { MapRange } from '../guest/block-status';
import type { Finding } from '../qcow2/errors';
import * as S from '../qcow2/spec';
import type { Structures } from '../qcow2/model';
import { qdictOrder, toQemuJson, type QValue } from './qemu-json';
import type { MeasureFormat, MeasureOptions } from './measure-options';

export interface MeasureInput {
  /** bdrv_getlength of the input: the header's size rounded down to 512 bytes. */
  readonly length: bigint;
  /** The guest map of the whole chain (qemu-img map's ranges). */
  readonly ranges: readonly MapRange[];
  /**
   * Guest offset where qemu-img map's block status fails (an entry QEMU refuses): `ranges` end
   * there. Null when the whole map was read.
   */
  readonly blockStatusFailsAt: number | null;
  /** Version 3 input: QEMU supports persistent bitmaps on it. */
  readonly v3: boolean;
  /** The persistent bitmaps QEMU loads: name length in bytes and granularity. */
  readonly bitmaps: readonly { readonly nameLength: number; readonly granularity: number }[];
}

export interface MeasureResult {
  readonly required: bigint;
  readonly fullyAllocated: bigint;
  /** Present when the output and the input both support persistent bitmaps. */
  readonly bitmaps: bigint | null;
}

const L1E_SIZE = 8n;
const QCOW_MAX_L1_SIZE = 32n * 1024n * 1024n;
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
const roundUp = (a: bigint, b: bigint) => ceilDiv(a, b) * b;
const bigMax = (a: bigint, b: bigint) => (a > b ? a : b);
const isPow2 = (n: bigint) => n > 0n && (n & (n - 1n)) === 0n;
const ctz = (n: bigint) => {
  let i = 0n;
  while (((n >> i) & 1n) === 0n) i++;
  return i;
};

/** qcow2_refcount_metadata_size without generous increase: refcount blocks + table, in bytes. */
export function refcountMetadataSize(clusters: bigint, clusterSize: bigint, refcountOrder: bigint): bigint {
  const perTableCluster = clusterSize / 8n;
  const perBlock = (clusterSize * 8n) >> refcountOrder;
  let table = 0n;
  let blocks = 0n;
  let n = 0n;
  let last: bigint;
  do {
    last = n;
    blocks = ceilDiv(clusters + table + blocks, perBlock);
    table = ceilDiv(blocks, perTableCluster);
    n = clusters + blocks + table;
  } while (n !== last);
  return (blocks + table) * clusterSize;
}

/** qcow2_calc_prealloc_size: bytes of a fully allocated image of `size` guest bytes. */
export function calcPreallocSize(size: bigint, clusterSize: bigint, refcountOrder: bigint, extendedL2: boolean): bigint {
  const l2e = extendedL2 ? 16n : 8n;
  const aligned = roundUp(size, clusterSize);
  let meta = clusterSize;
  const nl2e = roundUp(aligned / clusterSize, clusterSize / l2e);
  meta += nl2e * l2e;
  const nl1e = roundUp((nl2e * l2e) / clusterSize, clusterSize / L1E_SIZE);
  meta += nl1e * L1E_SIZE;
  meta += refcountMetadataSize((meta + aligned) / clusterSize, clusterSize, refcountOrder);
  return meta + aligned;
}

/** Bytes of output clusters of `clusterSize` that data ranges touch (each counted once). */
export function allocatedEstimate(ranges: readonly MapRange[], clusterSize: bigint): bigint {
  // Plain numbers: starts and lengths are already numbers (exact below 2^53), the cluster size a
  // power of two, so each division and product below is exact; a sum of disjoint ranges stays
  // below the largest end. BigInt per range cost tens of ms on the main thread for 10^4 ranges.
  const cs = Number(clusterSize);
  let total = 0;
  let countedTo = 0;
  for (const r of ranges) {
    if (!r.data || r.zero || r.length <= 0) continue;
    const first = Math.max(Math.floor(r.start / cs) * cs, countedTo);
    const end = Math.ceil((r.start + r.length) / cs) * cs;
    if (end > first) total += end - first;
    if (end > countedTo) countedTo = end;
  }
  return BigInt(total);
}

/** qcow2_get_persistent_dirty_bitmap_size for a new image of `clusterSize` clusters. */
export function bitmapsSize(length: bigint, bitmaps: MeasureInput['bitmaps'], clusterSize: bigint): bigint {
  let size = 0n;
  let dir = 0n;
  for (const b of bitmaps) {
    const bytes = ceilDiv(ceilDiv(length, BigInt(b.granularity)), 8n);
    const clusters = ceilDiv(bytes, clusterSize);
    size += clusters * clusterSize + roundUp(clusters * 8n, clusterSize);
    dir += roundUp(24n + BigInt(b.nameLength), 8n);
  }
  return size + roundUp(dir, clusterSize);
}

/** qemu-img measure -O FORMAT with parsed options: the result, or qemu-img's stderr text. */
/**
 * `unknown` marks an error of ours (not qemu-img's): the answer depends on metadata past where
 * QEMU's block status fails.
 */
export function measure(input: MeasureInput, format: MeasureFormat, o: MeasureOptions): MeasureResult | { error: string; unknown?: true } {
  const err = (m: string) => ({ error: `qemu-img: ${m}\n` });
  if (format === 'raw') return { required: input.length, fullyAllocated: input.length, bitmaps: null };
  const extendedL2 = o.get('extended_l2') === true;
  const cs = (o.get('cluster_size') as bigint | undefined) ?? 65536n;
  if (!isPow2(cs) || cs < 512n || cs > 2n * 1024n * 1024n) return err('Cluster size must be a power of two between 512 and 2048k');
  if (extendedL2 && cs < 16384n) return err('Extended L2 entries are only supported with cluster sizes of at least 16384 bytes');
  const compat = o.get('compat') as string | undefined;
  if (compat !== undefined && compat !== '0.10' && compat !== '1.1') return err(`Invalid compatibility level: '${compat}'`);
  const version = compat === '0.10' ? 2 : 3;
  const refcountBits = (o.get('refcount_bits') as bigint | undefined) ?? 16n;
  if (refcountBits > 64n || !isPow2(refcountBits)) return err('Refcount width must be a power of two and may not exceed 64 bits');
  if (version < 3 && refcountBits !== 16n) return err('Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)');
  const prealloc = (o.get('preallocation') as string | undefined) ?? 'off';
  if (!['off', 'metadata', 'falloc', 'full'].includes(prealloc)) return err(`invalid parameter value: ${prealloc}`);
  const hasBacking = o.has('backing_file');
  if (o.get('encrypt.format') === 'luks') {
    const secret = o.get('encrypt.key-secret') as string | undefined;
    return err(secret === undefined ? "Parameter 'encrypt.key-secret' is required for cipher" : `No secret with id '${secret}'`);
  }
  const l2e = extendedL2 ? 16n : 8n;
  const sizeOpt = roundUp((o.get('size') as bigint | undefined) ?? 0n, cs);
  if (ceilDiv(sizeOpt / cs, cs / l2e) * L1E_SIZE > QCOW_MAX_L1_SIZE) return err('The image size is too large (try using a larger cluster size)');
  const virtualSize = roundUp(input.length, cs);
  if (!hasBacking && input.blockStatusFailsAt !== null) {
    // measure's loop skips to the end of each data extent's output cluster: it queries the failing
    // offset unless a data extent's cluster reaches past it; past that offset the map is unknown.
    const f = BigInt(input.blockStatusFailsAt);
    const reach = input.ranges.reduce((m, r) => (r.data && !r.zero ? bigMax(m, roundUp(BigInt(r.start + r.length), cs)) : m), 0n);
    if (reach <= f) return err('Unable to get block status: Input/output error');
    return { error: `qcowscope: cannot measure with ${cs}-byte clusters: QEMU's block status fails at guest offset ${f}, and qemu-img measure would skip past it to ${reach} and read on, beyond what can be read here\n`, unknown: true };
  }
  let required = hasBacking ? virtualSize : allocatedEstimate(input.ranges, cs);
  if (prealloc === 'full' || prealloc === 'falloc') required = virtualSize;
  const fullyAllocated = calcPreallocSize(virtualSize, cs, ctz(refcountBits), extendedL2);
  const bitmaps = version >= 3 && input.v3 ? bitmapsSize(input.length, input.bitmaps, cs) : null;
  return { required: fullyAllocated - virtualSize + required, fullyAllocated, bitmaps };
}

/** What qemu-img measure prints on stdout. */
export function measureText(r: MeasureResult, output: 'json' | 'human'): string {
  if (output === 'human') {
    return `required size: ${r.required}\nfully allocated size: ${r.fullyAllocated}\n${r.bitmaps === null ? '' : `bitmaps size: ${r.bitmaps}\n`}`;
  }
  const o: Record<string, QValue> = { required: r.required, 'fully-allocated': r.fullyAllocated };
  if (r.bitmaps !== null) o.bitmaps = r.bitmaps;
  return toQemuJson(qdictOrder(o)) + '\n';
}

/** What measure reads of an analysis (a live one, or the worker's result). */
export interface MeasureSource {
  readonly fileSize: number;
  readonly structures: Pick<Structures, 'header' | 'extensions' | 'bitmapDirectory'>;
  readonly guestMap: readonly MapRange[];
  readonly check: { readonly mapError: string | null; readonly mapTruncatedAt: number | null };
  readonly qemuRefuses: readonly Finding[];
}

/** The measure input of an analysis: length, guest map, and the bitmaps QEMU loads (autoclear bit 0 set). */
export function measureInputOf(a: MeasureSource): MeasureInput {
  const s = a.structures;
  const h = s.header;
  const considered = h.version >= 3 && (h.autoclearFeatures & S.AUTOCLEAR_BITMAPS) !== 0n && (s.extensions.bitmaps?.nbBitmaps ?? 0) > 0;
  const bitmaps = considered ? (s.bitmapDirectory?.bitmaps ?? []).map((b) => ({ nameLength: b.nameBytes.length, granularity: 2 ** b.granularityBits })) : [];
  const failsAt = a.check.mapError === null ? null : a.guestMap.reduce((e, r) => Math.max(e, r.start + r.length), 0);
  return { length: (h.size / 512n) * 512n, ranges: a.guestMap, blockStatusFailsAt: failsAt, v3: h.version >= 3, bitmaps };
}

/** qemu-img measure -O qcow2's required size, and the file's size minus it. */
export interface ConvertEstimate {
  readonly required: bigint;
  readonly lessThanFile: bigint;
}

/**
 * What `qemu-img convert -O qcow2` (default options, no bitmaps) would write: `qemu-img measure -O
 * qcow2`'s required size, and how much less than the file that is (negative: more). Null where
 * qemu-img could not measure (an image QEMU refuses, a map it cannot read, a map cut short).
 */
export function convertEstimate(a: MeasureSource): ConvertEstimate | null {
  if (a.qemuRefuses.length > 0 || a.check.mapError !== null || a.check.mapTruncatedAt !== null) return null;
  const r = measure(measureInputOf(a), 'qcow2', new Map());
  if ('error' in r) return null;
  return { required: r.required, lessThanFile: BigInt(a.fileSize) - r.required };
}
