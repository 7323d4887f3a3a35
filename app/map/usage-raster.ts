// The early map's pixels: a usage summary (app/format check/usage.ts: clusters in use per bucket,
// from the refcount blocks) laid out as square cells in reading order, as the cluster map lays out
// clusters, each cell coloured from free to in use by the share of its clusters in use — or, once
// the L2 tables being read have claimed some of its clusters (an owner summary, check/usage.ts),
// in the colour of the owner the owners' map would show first (lod.ts's drawing priority). Pure:
// the component (UsageMap.tsx) puts the pixels on a canvas.

import type { ClusterUsage } from '../format';
import { ROLE_BIT, topRole } from './lod';
import { ROLE_COLOR, packRgba, rgb } from './palette';

/** How the usage summary fills a width × height canvas: `per` buckets per square cell of `size` px. */
export interface UsageLayout {
  readonly per: number;
  readonly cells: number;
  readonly size: number;
  readonly cols: number;
  readonly rows: number;
}

export function usageLayout(u: ClusterUsage, width: number, height: number): UsageLayout {
  const area = Math.max(1, width * height);
  const buckets = Math.max(1, u.used.length);
  // Of the layouts with 1, 2, 4, … buckets per cell (as few as fit), the one covering the most of
  // the canvas: integer cell sizes leave much of it empty for some counts.
  let best: UsageLayout | null = null;
  for (let per = Math.max(1, Math.ceil(buckets / area)); ; per *= 2) {
    const cells = Math.ceil(buckets / per);
    let size = Math.max(1, Math.floor(Math.sqrt(area / cells)));
    // The largest square cell whose rows all fit.
    while (size > 1 && Math.ceil(cells / Math.floor(width / size)) * size > height) size--;
    const cols = Math.max(1, Math.min(cells, Math.floor(width / size)));
    const l = { per, cells, size, cols, rows: Math.ceil(cells / cols) };
    if (!best || cells * size * size > best.cells * best.size * best.size) best = l;
    if (cells === 1 || per >= 64) return best;
  }
}

/** RGBA (little-endian word) of a share `t` in [0, 1] between the free and in-use colours. */
function mix(free: readonly number[], used: readonly number[], t: number): number {
  const c = (i: number) => Math.round(free[i]! + (used[i]! - free[i]!) * t);
  return (0xff << 24 | c(2) << 16 | c(1) << 8 | c(0)) >>> 0;
}

/** The role a cell whose buckets claimed the roles of `mask` (bit r: role id r) is drawn in. */
export function ownerRole(mask: number): number | null {
  let m = 0;
  for (let rest = mask >>> 0; rest !== 0; rest &= rest - 1) m |= ROLE_BIT[31 - Math.clz32(rest & -rest)]!;
  return topRole(m);
}

/** RGBA (little-endian word) of a role's colour. */
function roleWord(role: number): number {
  const [r, g, b] = rgb(ROLE_COLOR[role] ?? '#ff00ff');
  return packRgba(r, g, b);
}

/**
 * Paints `pixels` (width × height, RGBA words) with the usage map; returns the layout, the
 * clusters drawn (every cluster of the file, in some cell), the cells whose share was summed one
 * by one (the others lay inside a run of equal buckets and were painted with it) and the cells
 * drawn in an owner's colour. `owners`: a role mask per bucket of `u` (or null: none known yet).
 * With `buckets` [from, to), only the cells holding those buckets are painted (over pixels that
 * already hold this map at this size): counts are of those cells, and `rows` says which pixel
 * rows were written.
 */
export function rasterUsage(u: ClusterUsage, pixels: Uint32Array, width: number, height: number, free: readonly number[], used: readonly number[], background: readonly number[], owners: Uint32Array | null = null, only: { from: number; to: number } | null = null): { layout: UsageLayout; clustersDrawn: number; cellsSummed: number; cellsOwned: number; cellsPainted: number; rows: { from: number; to: number } } {
  const layout = usageLayout(u, width, height);
  const { size, cols, per, cells } = layout;
  const first = only ? Math.min(cells, Math.floor(only.from / per)) : 0;
  const last = only ? Math.min(cells, Math.ceil(only.to / per)) : cells;
  if (!only) pixels.fill(mix(background, background, 0));
  const buckets = u.used;
  const nb = buckets.length;
  let drawn = 0;
  let summed = 0;
  let owned = 0;
  const masks = owners && owners.length === nb ? owners : null;
  const ownerWords = new Map<number, number>();
  /** The colour of a cell with owner mask `m` (≠ 0), one lookup per distinct mask. */
  const ownerColour = (m: number) => {
    let w = ownerWords.get(m);
    if (w === undefined) {
      w = roleWord(ownerRole(m) ?? 0);
      ownerWords.set(m, w);
    }
    return w;
  };
  let lastT = -1;
  let colour = 0;
  const colourOf = (t: number) => {
    // Neighbouring runs mostly share a share (all free, all in use): mix only when it changes.
    if (t !== lastT) {
      lastT = t;
      colour = mix(free, used, t);
    }
    return colour;
  };
  // Cells [c0, c1) in one colour: one fill per pixel row of each grid row they span.
  const paint = (c0: number, c1: number, rgba: number) => {
    for (let row = Math.floor(c0 / cols); row * cols < c1; row++) {
      const x0 = (Math.max(c0, row * cols) - row * cols) * size;
      const x1 = Math.min(width, (Math.min(c1, (row + 1) * cols) - row * cols) * size);
      const y0 = row * size;
      if (x0 >= x1) continue;
      for (let y = y0; y < Math.min(height, y0 + size); y++) pixels.fill(rgba, y * width + x0, y * width + x1);
    }
  };
  // Buckets come in long runs of one count (all free, all in use): a run is found with a tight
  // scan and the whole cells inside it painted at once (their share is the run's count over
  // perBucket); only a cell that straddles two runs, or the last (short) one, is summed by itself.
  const fullCells = nb * u.perBucket === u.clusters && nb === cells * per ? cells : cells - 1;
  let pending = 0;
  let pendingFrom = 0;
  let pendingColour = -1;
  const emit = (c0: number, c1: number, rgba: number) => {
    // Adjacent cells of one colour are painted together.
    if (rgba === pendingColour && c0 === pending) {
      pending = c1;
      return;
    }
    if (pendingColour !== -1) paint(pendingFrom, pending, pendingColour);
    pendingFrom = c0;
    pending = c1;
    pendingColour = rgba;
  };
  for (let c = first; c < last;) {
    const b0 = c * per;
    const v = buckets[b0]!;
    const mv = masks ? masks[b0]! : 0;
    let e = b0 + 1;
    if (masks) while (e < nb && buckets[e] === v && masks[e] === mv) e++;
    else while (e < nb && buckets[e] === v) e++;
    const cEnd = Math.min(fullCells, last, Math.floor(e / per));
    if (cEnd > c) {
      const t = v === 0 ? 0 : Math.max(0.35, v / u.perBucket);
      emit(c, cEnd, mv !== 0 ? ownerColour(mv) : colourOf(t));
      if (mv !== 0) owned += cEnd - c;
      drawn += (cEnd - c) * per * u.perBucket;
      c = cEnd;
      continue;
    }
    const b1 = Math.min(nb, b0 + per);
    let inUse = 0;
    let m = 0;
    for (let b = b0; b < b1; b++) inUse += buckets[b]!;
    if (masks) for (let b = b0; b < b1; b++) m |= masks[b]!;
    const clusters = Math.min(u.clusters, b1 * u.perBucket) - b0 * u.perBucket;
    drawn += clusters;
    summed++;
    if (m !== 0) owned++;
    // Any cluster in use shows: a cell with one used cluster in a million is not drawn as free.
    emit(c, c + 1, m !== 0 ? ownerColour(m >>> 0) : colourOf(inUse === 0 ? 0 : Math.max(0.35, inUse / Math.max(1, clusters))));
    c++;
  }
  if (pendingColour !== -1) paint(pendingFrom, pending, pendingColour);
  const rows = last > first ? { from: Math.floor(first / cols) * size, to: Math.min(height, (Math.floor((last - 1) / cols) + 1) * size) } : { from: 0, to: 0 };
  return { layout, clustersDrawn: drawn, cellsSummed: summed, cellsOwned: owned, cellsPainted: Math.max(0, last - first), rows };
}
