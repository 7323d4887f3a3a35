// Messages between the page and the decompressor's worker, with guards: the page trusts no
// message's shape, and neither does the worker.

import { MAX_CLUSTER_BITS } from '../format';

interface DecompressRequest {
  readonly id: number;
  readonly kind: 'zlib' | 'zstd';
  /** The descriptor's stored bytes (at most two clusters). */
  readonly stored: Uint8Array;
  readonly clusterSize: number;
}

export interface DecompressReply {
  readonly id: number;
  readonly bytes: Uint8Array | null;
  readonly problem: string | null;
}

const MAX_CLUSTER = 2 ** MAX_CLUSTER_BITS;

const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function isDecompressRequest(v: unknown): v is DecompressRequest {
  return record(v) && Number.isSafeInteger(v.id) && (v.kind === 'zlib' || v.kind === 'zstd') && v.stored instanceof Uint8Array
    && typeof v.clusterSize === 'number' && Number.isInteger(Math.log2(v.clusterSize)) && v.clusterSize >= 512 && v.clusterSize <= MAX_CLUSTER
    && v.stored.length <= 2 * v.clusterSize;
}

/** A reply for `clusterSize`: its bytes, when any, at most one cluster. */
export function isDecompressReply(v: unknown, clusterSize: number): v is DecompressReply {
  return record(v) && Number.isSafeInteger(v.id) && (v.bytes === null || (v.bytes instanceof Uint8Array && v.bytes.length <= clusterSize))
    && (v.problem === null || typeof v.problem === 'string');
}
