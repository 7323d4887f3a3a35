// For the level-of-detail tests (lod.test.ts, lod-coarse.test.ts): a pyramid bucket's presence mask
// computed the slow way, cluster by cluster, to compare the fast builds with. Not used by the page.

import type { Grid } from './layout';
import { ROLE_BIT } from './lod';

/** The presence mask of the bucket at (row, col) of `level`, from the roles one cluster at a time. */
export function bruteMask(roles: Uint8Array, g: Grid, level: number, row: number, col: number): number {
  const s = 2 ** level;
  let m = 0;
  for (let r = row * s; r < Math.min(g.rows, row * s + s); r++) {
    for (let c = col * s; c < Math.min(g.cols, col * s + s); c++) {
      const i = r * g.cols + c;
      if (i < g.clusters) m |= ROLE_BIT[roles[i] as number] as number;
    }
  }
  return m;
}
