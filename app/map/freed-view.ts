// The "what freed clusters held" view of the cluster map (ClusterMapPanel's toggle): the roles with each classified free
// cluster replaced by FREED_BASE + the role of what it held (app/map/lod.ts), for drawing only.

import { FREED_ROLE, Role, type FreedRun } from '../format';
import { FREED_BASE } from './lod';

export function freedDisplayRoles(roles: Uint8Array, runs: readonly FreedRun[], clusterSize: number): Uint8Array {
  const out = roles.slice();
  if (clusterSize <= 0) return out;
  for (const r of runs) {
    const former = FREED_ROLE[r.was];
    if (former === null) continue;
    const first = Math.floor(r.offset / clusterSize);
    const end = Math.min(out.length, first + r.clusters);
    for (let k = first; k < end; k++) if (out[k] === Role.FREE) out[k] = FREED_BASE + former;
  }
  return out;
}

/**
 * The role each freed cluster once held (0 elsewhere: FREE is never a former role), from display
 * bytes: the roles and the keep flags of the map's freed pyramid (raster.ts), which shows the
 * former role wherever a pixel holds a freed cluster, however far the map is zoomed out.
 */
export function freedFormerRoles(display: Uint8Array): Uint8Array {
  const out = new Uint8Array(display.length);
  for (let k = 0; k < display.length; k++) {
    const b = display[k]!;
    if (b >= FREED_BASE) out[k] = b - FREED_BASE;
  }
  return out;
}
