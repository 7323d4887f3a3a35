// The map's level-of-detail pyramid, built without blocking the page: the work (about 4/3 × the
// host clusters: 22 M cells for a 1 TiB image) runs in slices of at most SLICE_MS, one per task, so
// panning, zooming and input stay responsive while it is made. Until it is done the hook returns
// null (the map draws nothing yet); a small image is done within its first slice.

import { useEffect, useState } from 'react';
import { pyramidSteps, type Pyramid } from './lod';
import type { Grid } from './layout';

/** Longest stretch of pyramid work per task, in ms (the UI's budget for one task is 50 ms). */
const SLICE_MS = 12;
/** Cells per step: small enough that a step takes well under SLICE_MS. */
const STEP_CELLS = 1 << 16;

/**
 * Runs `fn` in a task of its own, soon; returns its cancel. A message to a fresh channel, not
 * setTimeout(0): a chain of timers is clamped to 4 ms apart after five, which for a 1 TiB image's
 * dozen slices added more waiting than the slices' own work.
 */
export function nextTask(fn: () => void): () => void {
  if (typeof MessageChannel === 'undefined') {
    const t = setTimeout(fn, 0);
    return () => clearTimeout(t);
  }
  const ch = new MessageChannel();
  let live = true;
  ch.port1.onmessage = () => {
    ch.port1.close();
    if (live) fn();
  };
  ch.port2.postMessage(null);
  return () => {
    live = false;
    ch.port1.close();
  };
}

/** The pyramid of `roles` over `grid` (counting only `keep`'s clusters when given), or null until built. */
export function usePyramid(roles: Uint8Array | null, grid: Grid | null, keep: Uint8Array | null = null): Pyramid | null {
  const [built, setBuilt] = useState<Pyramid | null>(null);
  useEffect(() => {
    if (!roles || !grid) return;
    const steps = pyramidSteps(roles, grid, keep, STEP_CELLS);
    let cancel: (() => void) | null = null;
    const run = () => {
      cancel = null;
      const until = performance.now() + SLICE_MS;
      for (;;) {
        const r = steps.next();
        if (r.done) {
          setBuilt(r.value);
          return;
        }
        if (performance.now() >= until) break;
      }
      cancel = nextTask(run);
    };
    // A small map is built at once; a large one starts in a task of its own, not in the task that
    // mounts the map (that one has its layout and canvases to make).
    if (roles.length <= STEP_CELLS) run();
    else cancel = nextTask(run);
    return () => cancel?.();
  }, [roles, grid, keep]);
  // A pyramid of earlier inputs is never shown for new ones.
  return built && built.roles === roles && built.grid === grid && built.keep === keep ? built : null;
}
