// The per-cluster arrays of each analysed file (roles: one byte per host cluster; stored
// refcounts: one u16, or u32 for refcount_bits > 16, per host cluster), kept OUT of React state:
// the map reads them directly.
// The store holds only a version number per file that changes when its arrays do.

import type { ClusterUsage, OwnerSummary } from '../format';
import type { ClusterArray, ClusterArrayName } from '../worker/protocol';

export interface ClusterArrays {
  roles: Uint8Array | null;
  storedRefcounts: Uint16Array | Uint32Array | null;
  /** Clusters per role byte (256 entries) as the worker counted them, when it sent them with the roles. */
  roleCounts?: Uint32Array;
  /** Clusters in use per bucket (the early map), before the roles arrive. */
  usage?: ClusterUsage;
  /** Owners claimed so far per bucket of `usage` (the early map refined), before the roles arrive. */
  owners?: OwnerSummary;
  /** Entries received so far per array (batches may arrive in several messages). */
  readonly filled: Record<ClusterArrayName, number>;
}

const arrays = new Map<string, ClusterArrays>();

const key = (job: number, file: number): string => `${job}:${file}`;

/** The arrays of one file of one job, or undefined before the first batch. */
export function getClusterArrays(job: number, file: number): ClusterArrays | undefined {
  return arrays.get(key(job, file));
}

function entry(job: number, file: number): ClusterArrays {
  const k = key(job, file);
  let a = arrays.get(k);
  if (!a) {
    a = { roles: null, storedRefcounts: null, filled: { roles: 0, storedRefcounts: 0 } };
    arrays.set(k, a);
  }
  return a;
}

/** Stores the usage summary of a file (the early map). */
export function putUsage(job: number, file: number, usage: ClusterUsage): void {
  entry(job, file).usage = usage;
}

/**
 * Stores an owner summary of a file whose usage summary it refines (the same buckets); one that
 * does not fit them, or is older than the one kept, is dropped. Returns whether it was kept.
 */
export function putOwners(job: number, file: number, owners: OwnerSummary): boolean {
  const a = entry(job, file);
  const u = a.usage;
  if (!u || u.perBucket !== owners.perBucket || u.used.length !== owners.masks.length) return false;
  if (a.owners && a.owners.done > owners.done) return false;
  a.owners = owners;
  return true;
}

/**
 * Stores one batch: entries [start, start + chunk.length) of an array of `total` entries.
 * Returns true when that array is now complete.
 */
export function putClusterBatch(job: number, file: number, name: ClusterArrayName, start: number, total: number, chunk: ClusterArray, roleCounts?: Uint32Array): boolean {
  const a = entry(job, file);
  if (roleCounts && name === 'roles' && start === 0 && chunk.length === total) a.roleCounts = roleCounts;
  if (start === 0 && chunk.length === total) {
    // The common case: the whole array in one transferred message, kept as is.
    if (name === 'roles' && chunk instanceof Uint8Array) a.roles = chunk;
    if (name === 'storedRefcounts' && !(chunk instanceof Uint8Array)) a.storedRefcounts = chunk;
  } else if (name === 'roles' && chunk instanceof Uint8Array) {
    if (!a.roles || a.roles.length !== total) a.roles = new Uint8Array(total);
    a.roles.set(chunk, start);
  } else if (name === 'storedRefcounts' && !(chunk instanceof Uint8Array)) {
    if (!a.storedRefcounts || a.storedRefcounts.length !== total || a.storedRefcounts.BYTES_PER_ELEMENT !== chunk.BYTES_PER_ELEMENT) {
      a.storedRefcounts = chunk instanceof Uint16Array ? new Uint16Array(total) : new Uint32Array(total);
    }
    a.storedRefcounts.set(chunk, start);
  }
  a.filled[name] += chunk.length;
  return a.filled[name] >= total;
}

/** Forgets every file of every job but `keepJob`. */
export function dropClusterArrays(keepJob: number | null): void {
  for (const k of [...arrays.keys()]) if (!k.startsWith(`${keepJob}:`)) arrays.delete(k);
}
