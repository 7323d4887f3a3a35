// The map's level-of-detail pyramid, built without blocking the page: the work (about 4/3 × the
// host clusters: 22 M cells for a 1 TiB image) runs in slices of at most SLICE_MS, one per task, so
// panning, zooming and input stay responsive while it is made. Until it is done the hook returns
// null (the map draws nothing yet); a small image is done within its first slice.

import { useEffect, useRef, useState } from 'react';
import { pyramidSteps, type Pyramid } from './lod';
import { coarsePyramidSteps } from './lod-coarse';
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

/**
 * Runs `fn` when the page is idle (a task of its own, after what is queued and the next frame), or
 * soon where there is no idle callback; returns its cancel.
 */
function idleTask(fn: () => void): () => void {
  if (typeof requestIdleCallback === 'undefined') return nextTask(fn);
  const id = requestIdleCallback(() => fn(), { timeout: 100 });
  return () => cancelIdleCallback(id);
}

/**
 * The pyramid of `roles` over `grid` (counting only `keep`'s clusters when given), or null until built.
 * With `firstLevel` ≥ 2 (the level the map's first view draws) and no `keep`, a pyramid of that
 * level and the ones above it comes first (lod-coarse.ts: one pass over the role bytes writing a
 * 4^L-th of level 1), then the full one, built when the page is idle, replaces it.
 */
export function usePyramid(roles: Uint8Array | null, grid: Grid | null, keep: Uint8Array | null = null, firstLevel = 0): Pyramid | null {
  const [built, setBuilt] = useState<Pyramid | null>(null);
  // The first level is read when the build starts; a later change (a resize) does not restart it.
  const firstRef = useRef(firstLevel);
  firstRef.current = firstLevel;
  useEffect(() => {
    if (!roles || !grid) return;
    const coarse = keep === null && firstRef.current >= 2 && roles.length > STEP_CELLS;
    const stages: { steps: Generator<void, Pyramid, void>; later: boolean }[] = [];
    if (coarse) stages.push({ steps: coarsePyramidSteps(roles, grid, firstRef.current, STEP_CELLS), later: false });
    stages.push({ steps: pyramidSteps(roles, grid, keep, STEP_CELLS), later: coarse });
    let cancel: (() => void) | null = null;
    const schedule = () => {
      cancel = (stages[0]?.later ? idleTask : nextTask)(run);
    };
    const run = () => {
      cancel = null;
      const until = performance.now() + SLICE_MS;
      for (;;) {
        const stage = stages[0];
        if (!stage) return;
        const r = stage.steps.next();
        if (r.done) {
          setBuilt(r.value);
          stages.shift();
          // The next stage waits for the page to draw this one.
          if (stages.length > 0) schedule();
          return;
        }
        if (performance.now() >= until) break;
      }
      schedule();
    };
    // A small map is built at once; a large one starts in a task of its own, not in the task that
    // mounts the map (that one has its layout and canvases to make).
    if (roles.length <= STEP_CELLS) run();
    else schedule();
    return () => cancel?.();
  }, [roles, grid, keep]);
  // A pyramid of earlier inputs is never shown for new ones.
  return built && built.roles === roles && built.grid === grid && built.keep === keep ? built : null;
}
