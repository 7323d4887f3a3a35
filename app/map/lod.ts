// Level of detail for the cluster map. When a screen pixel covers many host clusters, the pixel must
// never let a majority hide a rarer, more important cluster: every bucket of the pyramid keeps the
// SET of roles present in it, as a bit mask whose bit position is the role's drawing priority
// (damage > free/tail > structural metadata > data). The highest set bit is what a pixel shows; with
// a legend filter the highest set bit of (mask & filter) is shown. Exact per-role counts of a bucket
// are computed on demand from the role bytes (a bucket at the zoom limits holds few thousand clusters).
// Pure: no DOM; runs in Node for tests.

import { Role, type RoleId } from '../format';
import type { Grid } from './layout';

/** Roles from lowest to highest drawing priority; the index is the role's bit in a presence mask. */
export const PRIORITY: readonly RoleId[] = [
  Role.DATA, Role.DATA_SHARED, Role.DATA_SNAPSHOT, Role.COMPRESSED, Role.BITMAP_DATA,
  Role.L2_ACTIVE, Role.L2_SHARED, Role.L2_SNAPSHOT, Role.REFCOUNT_BLOCK, Role.BITMAP_TABLE,
  Role.L1_SNAPSHOT, Role.L1_ACTIVE, Role.SNAPSHOT_TABLE, Role.BITMAP_DIRECTORY, Role.REFCOUNT_TABLE,
  Role.LUKS_HEADER, Role.HEADER,
  Role.TAIL, Role.FREE,
  Role.OVERCOUNTED, Role.ORPHANED, Role.LEAKED, Role.PAST_END, Role.MULTI_OWNED, Role.CORRUPT,
];

/**
 * Display bytes of the "what freed clusters held" view, never saved or sent: FREED_BASE + r marks a
 * FREE cluster that once held role r (drawn hatched in r's colour; counted, filtered, picked as FREE).
 */
export const FREED_BASE = 64;

/**
 * Presence bit of every possible role byte. A byte that is no known role (a newer producer, a
 * corrupted saved analysis) is drawn as CORRUPT, so it is never hidden.
 */
export const ROLE_BIT: Uint32Array = (() => {
  const bits = new Uint32Array(256);
  const corrupt = PRIORITY.indexOf(Role.CORRUPT);
  bits.fill(1 << corrupt);
  PRIORITY.forEach((role, rank) => {
    bits[role] = 1 << rank;
    // The map's own bytes for "free, once held `role`" (FREED_BASE + role) are free for every purpose but colour.
    if (role !== Role.FREE) bits[FREED_BASE + role] = 1 << PRIORITY.indexOf(Role.FREE);
  });
  return bits;
})();


/** The role shown for a presence mask: its highest-priority member, or null for an empty mask. */
export function topRole(mask: number): RoleId | null {
  if (mask === 0) return null;
  return PRIORITY[31 - Math.clz32(mask)] ?? null;
}

/** The presence mask of a set of roles (e.g. a legend filter). */
export function maskOf(roles: Iterable<number>): number {
  let m = 0;
  for (const r of roles) m |= ROLE_BIT[r & 0xff] ?? 0;
  return m >>> 0;
}

/**
 * levels[L] holds, for each bucket of 2^L × 2^L cells of the grid (row-major, `dims[L].cols` per
 * row), the presence mask of the roles of its clusters. Level 0 is not stored: it is ROLE_BIT of the
 * role byte itself. `levels[0]` is therefore an empty array.
 */
export interface Pyramid {
  readonly grid: Grid;
  readonly roles: Uint8Array;
  /** When set, only clusters i with keep[i] ≠ 0 count (a highlight pyramid); null: all count. */
  readonly keep: Uint8Array | null;
  readonly levels: readonly Uint32Array[];
  readonly dims: readonly { readonly cols: number; readonly rows: number }[];
  /**
   * The lowest level built (lod-coarse.ts: a pyramid made first at the level the map's first view
   * draws); levels 1 … lowest − 1 are then empty arrays. Absent: every level is built.
   */
  readonly lowest?: number;
}

/** The level drawn for `level` with these pyramids: a level none of them has built is drawn at the lowest built one. */
export function shownLevel(level: number, ...pyramids: readonly (Pyramid | null)[]): number {
  if (level === 0) return 0;
  let l = level;
  for (const p of pyramids) if (p) l = Math.min(p.dims.length - 1, Math.max(l, p.lowest ?? 1));
  return l;
}

/**
 * Builds every level up to a single bucket. Work and memory ≈ 4/3 × clusters. With `keep`, only the
 * clusters it flags are counted (a highlight pyramid over the same grid).
 */
export function buildPyramid(roles: Uint8Array, grid: Grid, keep: Uint8Array | null = null): Pyramid {
  const steps = pyramidSteps(roles, grid, keep, Infinity);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * buildPyramid in steps, for a caller that must not block (the page's main thread): each `next()`
 * does about `sliceCells` cells of work and yields; the last one returns the pyramid.
 */
export function* pyramidSteps(roles: Uint8Array, grid: Grid, keep: Uint8Array | null = null, sliceCells = 1 << 20): Generator<void, Pyramid, void> {
  const levels: Uint32Array[] = [new Uint32Array(0)];
  const dims = [{ cols: grid.cols, rows: grid.rows }];
  let cols = Math.ceil(grid.cols / 2);
  let rows = Math.ceil(grid.rows / 2);
  // Level 1 straight from the role bytes: each bucket ORs up to four clusters.
  const l1 = new Uint32Array(cols * rows);
  const n = Math.min(roles.length, grid.clusters);
  const rowsPerSlice = evenRows(sliceCells, grid.cols, grid.rows);
  for (let r = 0; r * grid.cols < n; r += rowsPerSlice) {
    level1Rows(roles, keep, n, grid.cols, l1, cols, r, Math.min(grid.rows, r + rowsPerSlice));
    yield;
  }
  levels.push(l1);
  dims.push({ cols, rows });
  while (cols > 1 || rows > 1) {
    const prev = levels[levels.length - 1] as Uint32Array;
    const pc = cols;
    const pr = rows;
    cols = Math.ceil(pc / 2);
    rows = Math.ceil(pr / 2);
    const next = new Uint32Array(cols * rows);
    const per = evenRows(sliceCells, pc, pr);
    for (let r = 0; r < pr; r += per) {
      levelUpRows(prev, pc, next, cols, r, Math.min(pr, r + per));
      if (pc * pr > sliceCells) yield;
    }
    levels.push(next);
    dims.push({ cols, rows });
  }
  return { grid, roles, keep, levels, dims };
}

/** Rows of `cols` cells per step: about `cells` cells, an even number (buckets pair rows), 2 to rows + 1. */
function evenRows(cells: number, cols: number, rows: number): number {
  const n = Math.min(rows + 1, Math.max(2, Math.floor(cells / Math.max(1, cols))));
  return n + (n & 1);
}

/** Level 1 buckets of grid rows [rowFrom, rowTo) (rowFrom even). */
function level1Rows(roles: Uint8Array, keep: Uint8Array | null, n: number, gridCols: number, l1: Uint32Array, cols: number, rowFrom: number, rowTo: number): void {
  // Without `keep`, whole pairs of rows are made a bucket at a time (one write each).
  if (keep === null) {
    while (rowFrom + 1 < rowTo && (rowFrom + 2) * gridCols <= n) {
      level1Pair(roles, gridCols, l1, cols, rowFrom);
      rowFrom += 2;
    }
  }
  for (let r = rowFrom, i = rowFrom * gridCols; r < rowTo && i < n; r++) {
    const base = (r >> 1) * cols;
    for (let c = 0; c < gridCols && i < n; c++, i++) {
      if (keep !== null && keep[i] === 0) continue;
      const b = base + (c >> 1);
      l1[b] = (l1[b] as number) | (ROLE_BIT[roles[i] as number] as number);
    }
  }
}

/** Whether a Uint32Array over bytes reads byte 0 as its low 8 bits (every browser's and Node's platform). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Level 1 buckets of grid rows r and r + 1 (r even), both whole: each bucket written once from its four clusters. */
function level1Pair(roles: Uint8Array, gridCols: number, l1: Uint32Array, cols: number, r: number): void {
  const a = r * gridCols;
  const b = a + gridCols;
  const base = (r >> 1) * cols;
  const pairs = gridCols >> 1;
  // Both rows' starts on a 4-byte boundary (grids over 64 columns have a multiple of 8): four
  // clusters of each row per word read, two buckets per pair of words.
  const j0 = LITTLE_ENDIAN && ((roles.byteOffset + a) & 3) === 0 && (gridCols & 3) === 0 ? level1PairWords(roles, gridCols, l1, base, a, b) : 0;
  for (let j = j0; j < pairs; j++) {
    const x = roles[a + 2 * j] as number;
    const y = roles[a + 2 * j + 1] as number;
    const z = roles[b + 2 * j] as number;
    const w = roles[b + 2 * j + 1] as number;
    l1[base + j] = x === y && x === z && x === w ? (ROLE_BIT[x] as number) : (ROLE_BIT[x] as number) | (ROLE_BIT[y] as number) | (ROLE_BIT[z] as number) | (ROLE_BIT[w] as number);
  }
  if (gridCols & 1) l1[base + pairs] = (ROLE_BIT[roles[a + gridCols - 1] as number] as number) | (ROLE_BIT[roles[b + gridCols - 1] as number] as number);
}

/**
 * level1Pair's buckets a word at a time (rows at byte offsets a and b of `roles`, both 4-aligned in
 * its buffer; gridCols a multiple of 4). A run of equal words in both rows, each one role four
 * times over, is filled with that role's bit at once. Returns the buckets made (gridCols / 2).
 */
function level1PairWords(roles: Uint8Array, gridCols: number, l1: Uint32Array, base: number, a: number, b: number): number {
  const n = gridCols >> 2;
  const wa = new Uint32Array(roles.buffer, roles.byteOffset + a, n);
  const wb = new Uint32Array(roles.buffer, roles.byteOffset + b, n);
  for (let k = 0; k < n; k++) {
    const x = wa[k] as number;
    const y = wb[k] as number;
    const lo = x & 0xff;
    if (x === y && x === Math.imul(lo, 0x01010101) >>> 0) {
      let e = k + 1;
      while (e < n && wa[e] === x && wb[e] === x) e++;
      l1.fill(ROLE_BIT[lo] as number, base + 2 * k, base + 2 * e);
      k = e - 1;
      continue;
    }
    l1[base + 2 * k] = (ROLE_BIT[lo] as number) | (ROLE_BIT[(x >>> 8) & 0xff] as number) | (ROLE_BIT[y & 0xff] as number) | (ROLE_BIT[(y >>> 8) & 0xff] as number);
    l1[base + 2 * k + 1] = (ROLE_BIT[(x >>> 16) & 0xff] as number) | (ROLE_BIT[x >>> 24] as number) | (ROLE_BIT[(y >>> 16) & 0xff] as number) | (ROLE_BIT[y >>> 24] as number);
  }
  return 2 * n;
}

/**
 * Buckets of the next level from rows [rowFrom, rowTo) of the previous one (rowFrom even): each
 * bucket is written once, from the (up to) four cells under it.
 */
export function levelUpRows(prev: Uint32Array, pc: number, next: Uint32Array, cols: number, rowFrom: number, rowTo: number): void {
  const pairs = pc >> 1;
  for (let r = rowFrom; r < rowTo; r += 2) {
    const base = (r >> 1) * cols;
    const a = r * pc;
    const b = r + 1 < rowTo ? a + pc : -1;
    for (let j = 0; j < pairs; j++) {
      const c = a + 2 * j;
      next[base + j] = (prev[c] as number) | (prev[c + 1] as number) | (b < 0 ? 0 : (prev[b + 2 * j] as number) | (prev[b + 2 * j + 1] as number));
    }
    if (pc & 1) next[base + pairs] = (prev[a + pc - 1] as number) | (b < 0 ? 0 : (prev[b + pc - 1] as number));
  }
}

/** The presence mask of bucket (row, col) at level L (0 when outside the grid or past the last cluster). */
export function bucketMask(p: Pyramid, level: number, row: number, col: number): number {
  const d = p.dims[level];
  if (!d || row < 0 || col < 0 || row >= d.rows || col >= d.cols) return 0;
  if (level === 0) {
    const i = row * p.grid.cols + col;
    if (i >= p.grid.clusters || i >= p.roles.length || (p.keep !== null && p.keep[i] === 0)) return 0;
    return ROLE_BIT[p.roles[i] as number] as number;
  }
  if (level < (p.lowest ?? 1)) {
    const e = bucketExtent(p.grid, level, row, col);
    return e ? maskOfBucket(p.roles, p.keep, p.grid, e) : 0;
  }
  return (p.levels[level] as Uint32Array)[row * d.cols + col] as number;
}

function maskOfBucket(roles: Uint8Array, keep: Uint8Array | null, grid: Grid, e: BucketExtent): number {
  let m = 0;
  const end = Math.min(grid.clusters, roles.length);
  for (let r = e.rowFrom; r < e.rowTo; r++) {
    for (let i = r * grid.cols + e.colFrom, to = Math.min(end, r * grid.cols + e.colTo); i < to; i++) if (keep === null || keep[i] !== 0) m |= ROLE_BIT[roles[i] as number] as number;
  }
  return m;
}

/** The clusters of one bucket: `rows` runs of `cols` consecutive clusters, cut at the last cluster. */
interface BucketExtent {
  readonly first: number;
  readonly last: number;
  readonly rowFrom: number;
  readonly rowTo: number;
  readonly colFrom: number;
  readonly colTo: number;
}

/** Cluster extent of bucket (row, col) at level L, or null when it holds no cluster. */
export function bucketExtent(grid: Grid, level: number, row: number, col: number): BucketExtent | null {
  const s = 2 ** level;
  const rowFrom = row * s;
  const colFrom = col * s;
  if (row < 0 || col < 0 || rowFrom >= grid.rows || colFrom >= grid.cols) return null;
  const rowTo = Math.min(grid.rows, rowFrom + s);
  const colTo = Math.min(grid.cols, colFrom + s);
  const first = rowFrom * grid.cols + colFrom;
  if (first >= grid.clusters) return null;
  const last = Math.min(grid.clusters - 1, (rowTo - 1) * grid.cols + colTo - 1);
  return { first, last, rowFrom, rowTo, colFrom, colTo };
}

/** Exact number of clusters of each role byte (index = role byte, length 256) inside a bucket. */
export function countBucket(roles: Uint8Array, grid: Grid, e: BucketExtent): Uint32Array {
  const counts = new Uint32Array(256);
  const end = Math.min(grid.clusters, roles.length);
  for (let r = e.rowFrom; r < e.rowTo; r++) {
    const from = r * grid.cols + e.colFrom;
    const to = Math.min(end, r * grid.cols + e.colTo);
    for (let i = from; i < to; i++) {
      const b = roles[i] as number;
      counts[b] = (counts[b] as number) + 1;
    }
  }
  return counts;
}

/**
 * Exact number of clusters of each role byte over the whole array (length 256). Reads four role
 * bytes at a time where the array is 4-byte aligned: a run of words of four equal bytes (long runs
 * of one role are the common case) counts in one step.
 */
/** countRoles of a roles array, made once per array (role arrays are never changed once made). */
export function countRolesOnce(roles: Uint8Array): Uint32Array {
  let c = counted.get(roles);
  if (!c) counted.set(roles, (c = countRoles(roles)));
  return c;
}
const counted = new WeakMap<Uint8Array, Uint32Array>();

/**
 * Gives countRolesOnce the counts of `roles` made elsewhere (the worker's, with the array), so it
 * need not count them again. `counts` must be countRoles(roles): 256 entries summing to its length
 * (otherwise it is ignored and they are counted here when asked).
 */
export function knowRoleCounts(roles: Uint8Array, counts: Uint32Array): void {
  if (counted.has(roles) || counts.length !== 256) return;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += counts[i]!;
  if (sum === roles.length) counted.set(roles, counts);
}

export function countRoles(roles: Uint8Array): Uint32Array {
  const counts = new Uint32Array(256);
  let i = 0;
  if (roles.byteOffset % 4 === 0) {
    const words = new Uint32Array(roles.buffer, roles.byteOffset, roles.length >> 2);
    for (let j = 0; j < words.length; j++) {
      const w = words[j] as number;
      const b = w & 0xff;
      if (w === Math.imul(b, 0x01010101) >>> 0) {
        // A run of equal words (a long run of one role: data, free) counts in one step.
        let e = j + 1;
        while (e < words.length && words[e] === w) e++;
        counts[b] = (counts[b] as number) + 4 * (e - j);
        j = e - 1;
      } else {
        counts[b] = (counts[b] as number) + 1;
        counts[(w >>> 8) & 0xff] = (counts[(w >>> 8) & 0xff] as number) + 1;
        counts[(w >>> 16) & 0xff] = (counts[(w >>> 16) & 0xff] as number) + 1;
        counts[w >>> 24] = (counts[w >>> 24] as number) + 1;
      }
    }
    i = words.length * 4;
  }
  for (; i < roles.length; i++) {
    const b = roles[i] as number;
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/** First cluster of the bucket holding the role the bucket is drawn as (what a click should pick). */
export function pickInBucket(roles: Uint8Array, grid: Grid, e: BucketExtent, filterMask = 0): number {
  let mask = 0;
  const end = Math.min(grid.clusters, roles.length);
  for (let r = e.rowFrom; r < e.rowTo; r++) {
    for (let i = r * grid.cols + e.colFrom, to = Math.min(end, r * grid.cols + e.colTo); i < to; i++) {
      mask |= ROLE_BIT[roles[i] as number] as number;
    }
  }
  const shown = filterMask !== 0 && (mask & filterMask) !== 0 ? mask & filterMask : mask;
  const want = 1 << (31 - Math.clz32(shown));
  for (let r = e.rowFrom; r < e.rowTo; r++) {
    for (let i = r * grid.cols + e.colFrom, to = Math.min(end, r * grid.cols + e.colTo); i < to; i++) {
      if (((ROLE_BIT[roles[i] as number] as number) & want) !== 0) return i;
    }
  }
  return e.first;
}

/** A half-open range of host clusters [start, end). */
export interface ClusterRange {
  readonly start: number;
  readonly end: number;
}

/** One flag byte per cluster: 1 inside any of `ranges` (clamped to [0, clusters)). */
export function keepFromRanges(clusters: number, ranges: readonly ClusterRange[]): Uint8Array {
  const keep = new Uint8Array(clusters);
  for (const r of ranges) {
    const a = Math.max(0, Math.floor(r.start));
    const b = Math.min(clusters, Math.ceil(r.end));
    if (b > a) keep.fill(1, a, b);
  }
  return keep;
}

