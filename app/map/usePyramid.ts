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

/** The pyramid of `roles` over `grid` (counting only `keep`'s clusters when given), or null until built. */
export function usePyramid(roles: Uint8Array | null, grid: Grid | null, keep: Uint8Array | null = null): Pyramid | null {
  const [built, setBuilt] = useState<Pyramid | null>(null);
  useEffect(() => {
    if (!roles || !grid) return;
    const steps = pyramidSteps(roles, grid, keep, STEP_CELLS);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = () => {
      timer = null;
      const until = performance.now() + SLICE_MS;
      for (;;) {
        const r = steps.next();
        if (r.done) {
          setBuilt(r.value);
          return;
        }
        if (performance.now() >= until) break;
      }
      timer = setTimeout(run, 0);
    };
    // A small map is built at once; a large one starts in a task of its own, not in the task that
    // mounts the map (that one has its layout and canvases to make).
    if (roles.length <= STEP_CELLS) run();
    else timer = setTimeout(run, 0);
    return () => {
      if (timer !== null) clearTimeout(timer);
    };
  }, [roles, grid, keep]);
  // A pyramid of earlier inputs is never shown for new ones.
  return built && built.roles === roles && built.grid === grid && built.keep === keep ? built : null;
}
