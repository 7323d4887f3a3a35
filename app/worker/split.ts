// Separates the per-cluster arrays (one entry per host cluster: up to 16.7 M per TiB) from the
// rest of a check result, so the arrays can be sent apart (in batches), and finds the other large
// typed arrays of the result, which move with it rather than being copied.

import type { Analysis } from '../format';
import type { ClusterArray, ClusterArrayName } from './protocol';

type Check = Analysis['check'];

interface SplitCheck {
  readonly rest: Omit<Check, ClusterArrayName>;
  readonly arrays: readonly [ClusterArrayName, ClusterArray][];
}

/** On return `rest` is `check` without `roles` and `storedRefcounts`, which are in `arrays`. */
export function splitClusterArrays(check: Check): SplitCheck {
  const { roles, storedRefcounts, ...rest } = check;
  return { rest, arrays: [['roles', roles], ['storedRefcounts', storedRefcounts]] };
}

/**
 * The buffers of the typed arrays among `check`'s fields (one level deep) that are worth moving
 * rather than copying: per-cluster and per-entry indexes. The worker must not touch them after.
 */
export function transferables(check: object, minBytes = 64 * 1024): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number) => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.byteLength >= minBytes) out.add(v.buffer);
    } else if (depth > 0 && typeof v === 'object' && v !== null && !(v instanceof Map)) {
      for (const x of Object.values(v)) visit(x, depth - 1);
    }
  };
  visit(check, 2);
  return [...out];
}
