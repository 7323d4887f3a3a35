// Staged reveal: a heavy part of the page (the owners' cluster map) mounts in
// a task of its own after the one that brought the data, so the analysis' arrival is several short
// main-thread tasks (the verdict first) instead of one long one. zustand's updates render
// synchronously inside the worker's message task; this moves the follow-ups out of it.

import { useEffect, useState } from 'react';

/**
 * `false` until `on` has been true for `hops` macrotasks (chained `setTimeout(0)`s after the commit
 * that saw it), then `true`; back to `false` as soon as `on` is false. `key` restarts the wait when it
 * changes (another file or job) while `on` stays true.
 */
export function useLater(on: boolean, key: string | number = '', hops = 1): boolean {
  const [ready, setReady] = useState<string | null>(null);
  const token = `${String(key)}`;
  useEffect(() => {
    if (!on) return;
    let left = hops;
    let id: ReturnType<typeof setTimeout>;
    const hop = () => {
      if (--left > 0) id = setTimeout(hop, 0);
      else setReady(token);
    };
    id = setTimeout(hop, 0);
    return () => clearTimeout(id);
  }, [on, token, hops]);
  return on && ready === token;
}
