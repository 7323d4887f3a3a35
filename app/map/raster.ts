// Rasterises the visible part of the cluster map into RGBA pixels (a Uint32Array over ImageData), at
// the pyramid level where one bucket is at least one device pixel wide: every bucket owns at least one
// pixel centre, so a lone leaked cluster among a thousand data clusters still gets its pixel. Each
// pixel costs two array reads and a table look-up; no per-cluster work, whatever the image size.
// With the "what freed clusters held" view (a second pyramid over the former roles of freed clusters,
// freed-view.ts), a pixel whose top role is free and that holds freed clusters is striped in the top
// former role's colour over its pale tint at every zoom (diagonal stripes on the device-pixel grid
// below cell zoom, the cell's own hatch at cell zoom), and a lone one is ringed in that colour.
// Pure: no DOM, so it is tested in Node.

import { levelFor, type View } from './layout';
import { ROLE_INFO, Role } from '../format';
import { FREED_BASE, PRIORITY, ROLE_BIT, shownLevel, type Pyramid } from './lod';
import { BACKGROUND, DIM_KEEP, FREED_HATCH, FREED_KEEP, GAP, PATTERN_INK, ROLE_COLOR, mix, packRgba, patternTile, rgb } from './palette';

/**
 * Colours by priority rank (the bit of lod.ts) for pyramid buckets, and by role byte for single
 * clusters, packed for the target's byte order.
 */
export interface Paint {
  readonly colors: Uint32Array;
  readonly dimmed: Uint32Array;
  readonly byRole: Uint32Array;
  readonly dimByRole: Uint32Array;
  /** 1 where a role byte is shown in full colour under the filter. */
  readonly shownByRole: Uint8Array;
  readonly patternByRole: readonly (Uint8Array | null)[];
  /** Colour of each role byte's pattern (the ink, or a freed cluster's former role colour). */
  readonly inkByRole: Uint32Array;
  /** 1 where a role byte is a damage role (drawn as an enlarged mark when zoomed out). */
  readonly damageByRole: Uint8Array;
  /** Lowest priority rank of a damage role: ranks from here up are damage. */
  readonly damageFrom: number;
  readonly background: number;
  readonly gap: number;
  readonly ink: number;
  /** Presence mask of the roles shown in full colour; 0 means every role. */
  readonly filterMask: number;
  /** Freed clusters by the priority rank of the role they held: the pale tint, and the stripe colour. */
  readonly freedTint: Uint32Array;
  readonly freedInk: Uint32Array;
  /** Priority rank of FREE: the only top role a freed pixel may replace. */
  readonly freeRank: number;
}

/** True on little-endian hosts (how a Uint32Array sees ImageData's R, G, B, A bytes). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function makePaint(filterMask = 0, littleEndian = LITTLE_ENDIAN): Paint {
  const pack = (c: readonly number[]) => packRgba(c[0] as number, c[1] as number, c[2] as number, 255, littleEndian);
  const colors = new Uint32Array(32);
  const dimmed = new Uint32Array(32);
  const tiles: (Uint8Array | null)[] = new Array<Uint8Array | null>(32).fill(null);
  PRIORITY.forEach((role, rank) => {
    const css = ROLE_COLOR[role] as string;
    colors[rank] = pack(rgb(css));
    dimmed[rank] = pack(mix(css, BACKGROUND, DIM_KEEP));
    tiles[rank] = patternTile(role);
  });
  const byRole = new Uint32Array(256);
  const dimByRole = new Uint32Array(256);
  const shownByRole = new Uint8Array(256);
  const patternByRole: (Uint8Array | null)[] = [];
  const damageFrom = PRIORITY.findIndex((r) => ROLE_INFO[r]?.damage === true);
  const damageByRole = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const bit = ROLE_BIT[b] as number;
    const rank = 31 - Math.clz32(bit);
    byRole[b] = colors[rank] as number;
    dimByRole[b] = dimmed[rank] as number;
    shownByRole[b] = filterMask === 0 || (bit & filterMask) !== 0 ? 1 : 0;
    patternByRole.push(tiles[rank] ?? null);
    damageByRole[b] = rank >= damageFrom ? 1 : 0;
  }
  const inkByRole = new Uint32Array(256).fill(pack(rgb(PATTERN_INK)));
  const freedTint = new Uint32Array(32);
  const freedInk = new Uint32Array(32);
  PRIORITY.forEach((role, rank) => {
    const css = ROLE_COLOR[role] as string;
    freedTint[rank] = pack(mix(css, '#ffffff', FREED_KEEP));
    freedInk[rank] = pack(rgb(css));
  });
  // Free clusters by what they once held: a pale tint of the former role, hatched in its colour.
  ROLE_COLOR.forEach((css, role) => {
    const b = FREED_BASE + role;
    byRole[b] = pack(mix(css, '#ffffff', FREED_KEEP));
    dimByRole[b] = pack(mix(css, BACKGROUND, DIM_KEEP * FREED_KEEP));
    inkByRole[b] = pack(rgb(css));
    patternByRole[b] = FREED_HATCH;
  });
  return {
    colors,
    dimmed,
    byRole,
    dimByRole,
    shownByRole,
    patternByRole,
    inkByRole,
    damageByRole,
    damageFrom,
    background: pack(rgb(BACKGROUND)),
    gap: pack(rgb(GAP)),
    ink: pack(rgb(PATTERN_INK)),
    filterMask: filterMask >>> 0,
    freedTint,
    freedInk,
    freeRank: PRIORITY.indexOf(Role.FREE),
  };
}

/** Cell sizes (device px) from which gaps between cells and damage patterns are drawn. */
export const GAP_FROM_PX = 6;
const PATTERN_FROM_PX = 10;
/** Below this bucket size (device px), each shown damage bucket is drawn as a 5×5 px mark (a freed one 7×7). */
const MARK_BELOW_PX = 3;

export interface RasterTarget {
  readonly pixels: Uint32Array;
  readonly width: number;
  readonly height: number;
}

/** Whether device pixel (x, y) is on a stripe of the freed hatch (2 px of 4, on the diagonal, as FREED_HATCH). */
const onStripe = (x: number, y: number): boolean => ((x + y) & 3) < 2;

/**
 * Draws `view` (in device pixels) of the pyramid into `target`. `highlight`, when given, is a
 * pyramid over the same grid holding only highlighted clusters: buckets without one are dimmed.
 * While buckets are under MARK_BELOW_PX pixels, every damage bucket shown in full colour is enlarged
 * to a 5×5 mark (unless `enlargeDamage` is false) so a lone one is seen, not merely present.
 * `freed`, when given, is a pyramid over the same grid of the roles freed clusters once held
 * (freed-view.ts freedFormerRoles): a shown free pixel holding one is striped in that role's colour,
 * and ringed in it while buckets are under MARK_BELOW_PX. Marks are `dpr` times larger (device
 * pixels per CSS pixel), so they keep their size on screen. Returns the pyramid level drawn.
 */
export function rasterize(
  target: RasterTarget,
  view: View,
  pyr: Pyramid,
  paint: Paint,
  highlight: Pyramid | null = null,
  enlargeDamage = true,
  freed: Pyramid | null = null,
  dpr = 1,
): number {
  const { pixels, width, height } = target;
  const level = shownLevel(Math.min(pyr.dims.length - 1, levelFor(view.k)), pyr, highlight, freed);
  const dims = pyr.dims[level] as { cols: number; rows: number };
  const bsz = view.k * 2 ** level;
  const colB = new Int32Array(width);
  const inX = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const u = x + 0.5 - view.x;
    const b = Math.floor(u / bsz);
    colB[x] = b >= 0 && b < dims.cols ? b : -1;
    inX[x] = Math.floor(u - b * bsz);
  }
  const patterned = level === 0 && view.k >= PATTERN_FROM_PX;
  const row: RowSpec = {
    pixels, width, colB, inX, paint, start: 0, base: 0, y: 0,
    gapW: level === 0 && view.k >= GAP_FROM_PX ? (view.k >= 24 ? 2 : 1) : 0,
    gapRow: false, patterned, shift: view.k >= 40 ? 1 : 0, tileRow: 0,
    stripes: freed !== null && !patterned,
    marking: enlargeDamage && bsz < MARK_BELOW_PX, marks: [],
    freedMarking: freed !== null && bsz < MARK_BELOW_PX, freedMarks: [],
  };
  // Marks found per computed row as (x, colour) pairs, and for the whole frame as (x, y, colour).
  const rowMarks = new Map<number, { d: number[]; f: number[] }>();
  const marks: number[] = [];
  const freedMarks: number[] = [];
  const maxMarks = Math.ceil((width * height) / 50) * 3;
  const add = (into: number[], m: readonly number[], y: number) => {
    for (let i = 0; i < m.length; i += 2) into.push(m[i] as number, y, m[i + 1] as number);
  };
  // A pixel row is a copy of an earlier one of the same bucket row with the same gap/pattern/stripe phase.
  const rowSrc = new Int32Array(17).fill(-1);
  let curBy = -1;
  for (let y = 0; y < height; y++) {
    const start = y * width;
    const v = y + 0.5 - view.y;
    const by = Math.floor(v / bsz);
    if (by < 0 || by >= dims.rows) {
      pixels.fill(paint.background, start, start + width);
      continue;
    }
    const iy = Math.floor(v - by * bsz);
    const gapRow = iy < row.gapW;
    const phase = (iy >> row.shift) & 7;
    const key = gapRow ? 16 : row.patterned ? phase : row.stripes ? 8 + (y & 3) : 0;
    if (by !== curBy) {
      rowSrc.fill(-1);
      rowMarks.clear();
      curBy = by;
    }
    const src = rowSrc[key] as number;
    if (src >= 0) {
      pixels.copyWithin(start, src * width, src * width + width);
      const m = rowMarks.get(src);
      if (m) {
        add(marks, m.d, y);
        add(freedMarks, m.f, y);
      }
      continue;
    }
    rowSrc[key] = y;
    row.start = start;
    row.y = y;
    row.gapRow = gapRow;
    row.tileRow = phase << 3;
    if (level === 0) {
      row.base = by * pyr.grid.cols;
      drawClusterRow(row, pyr, highlight);
    } else {
      row.base = by * dims.cols;
      const lvl = (p: Pyramid | null) => (p ? (p.levels[level] as Uint32Array) : null);
      drawBucketRow(row, pyr.levels[level] as Uint32Array, lvl(highlight), lvl(freed));
    }
    if (row.marks.length > 0 || row.freedMarks.length > 0) {
      rowMarks.set(y, { d: row.marks, f: row.freedMarks });
      add(marks, row.marks, y);
      add(freedMarks, row.freedMarks, y);
      row.marks = [];
      row.freedMarks = [];
      // Damage (or freed clusters) everywhere needs no enlarging, and marking it all would cost more than the frame.
      if (marks.length > maxMarks) row.marking = false;
      if (freedMarks.length > maxMarks) row.freedMarking = false;
    }
  }
  // Freed rings first: a damage mark over one wins.
  const scale = Math.max(1, Math.round(dpr));
  if (row.freedMarking) drawFreedMarks(target, freedMarks, paint, scale);
  if (row.marking) drawMarks(target, marks, paint.ink, scale);
  return level;
}

/** Draws each (x, y, colour) as a 3×3 square of its colour inside a 1-pixel ring of ink (× `scale`). */
function drawMarks(t: RasterTarget, marks: readonly number[], ink: number, scale: number): void {
  const { pixels, width, height } = t;
  for (const [radius, inkOnly] of [[2 * scale, true], [scale, false]] as const) {
    for (let i = 0; i < marks.length; i += 3) {
      const x = marks[i] as number;
      const y = marks[i + 1] as number;
      const c = inkOnly ? ink : (marks[i + 2] as number);
      for (let yy = Math.max(0, y - radius); yy <= Math.min(height - 1, y + radius); yy++) {
        pixels.fill(c, yy * width + Math.max(0, x - radius), yy * width + Math.min(width - 1, x + radius) + 1);
      }
    }
  }
}

/** Draws each freed (x, y, rank) as a 7×7 square: a 2-pixel ring of the former role's colour around its pale tint (× `scale`). */
function drawFreedMarks(t: RasterTarget, marks: readonly number[], paint: Paint, scale: number): void {
  const { pixels, width, height } = t;
  for (const radius of [3 * scale, scale]) {
    for (let i = 0; i < marks.length; i += 3) {
      const x = marks[i] as number;
      const y = marks[i + 1] as number;
      const rank = marks[i + 2] as number;
      const c = radius === scale ? (paint.freedTint[rank] as number) : (paint.freedInk[rank] as number);
      for (let yy = Math.max(0, y - radius); yy <= Math.min(height - 1, y + radius); yy++) {
        pixels.fill(c, yy * width + Math.max(0, x - radius), yy * width + Math.min(width - 1, x + radius) + 1);
      }
    }
  }
}

interface RowSpec {
  readonly pixels: Uint32Array;
  readonly width: number;
  readonly colB: Int32Array;
  readonly inX: Int32Array;
  readonly paint: Paint;
  readonly gapW: number;
  readonly patterned: boolean;
  readonly shift: number;
  /** Freed pixels are striped on the device-pixel grid (below cell zoom, with the freed view on). */
  readonly stripes: boolean;
  start: number;
  base: number;
  /** The device pixel row drawn. */
  y: number;
  gapRow: boolean;
  tileRow: number;
  /** Whether shown damage pixels are recorded in `marks` as (x, colour) pairs. */
  marking: boolean;
  marks: number[];
  /** Whether shown freed pixels are recorded in `freedMarks` as (x, former role's rank) pairs. */
  freedMarking: boolean;
  freedMarks: number[];
}

/** One pixel row at level 0: each pixel is one cluster, coloured by its role byte. */
function drawClusterRow(r: RowSpec, pyr: Pyramid, highlight: Pyramid | null): void {
  const { pixels, width, colB, inX, start, base, gapW, gapRow, shift, tileRow, y } = r;
  const { byRole, dimByRole, shownByRole, patternByRole, inkByRole, background, gap } = r.paint;
  const roles = pyr.roles;
  const keep = highlight?.keep ?? null;
  const n = Math.min(pyr.grid.clusters, roles.length);
  for (let x = 0; x < width; x++) {
    const bx = colB[x] as number;
    const i = base + bx;
    if (bx < 0 || i >= n) {
      pixels[start + x] = background;
    } else if (gapRow || (inX[x] as number) < gapW) {
      pixels[start + x] = gap;
    } else {
      const role = roles[i] as number;
      if (shownByRole[role] === 0 || (keep !== null && keep[i] === 0)) {
        pixels[start + x] = dimByRole[role] as number;
      } else if (role >= FREED_BASE && r.stripes) {
        if (r.freedMarking) r.freedMarks.push(x, 31 - Math.clz32(ROLE_BIT[role - FREED_BASE] as number));
        pixels[start + x] = onStripe(x, y) ? (inkByRole[role] as number) : (byRole[role] as number);
      } else {
        if (r.marking && r.paint.damageByRole[role] === 1) r.marks.push(x, byRole[role] as number);
        const tile = r.patterned ? patternByRole[role] : null;
        pixels[start + x] = tile && tile[tileRow | (((inX[x] as number) >> shift) & 7)] === 1 ? (inkByRole[role] as number) : (byRole[role] as number);
      }
    }
  }
}

/**
 * One pixel row at level ≥ 1: each pixel shows the top role of its bucket (of the filter, if on);
 * a free one holding freed clusters (`flvl`) is striped in the top former role's colour.
 */
function drawBucketRow(r: RowSpec, lvl: Uint32Array, hlvl: Uint32Array | null, flvl: Uint32Array | null): void {
  const { pixels, width, colB, start, base, y } = r;
  const { colors, dimmed, background, filterMask, freeRank, freedInk, freedTint } = r.paint;
  const filter = filterMask === 0 ? 0xffffffff : filterMask;
  const dimming = filterMask !== 0 || hlvl !== null;
  for (let x = 0; x < width; x++) {
    const bx = colB[x] as number;
    const m = bx < 0 ? 0 : (lvl[base + bx] as number);
    if (m === 0) {
      pixels[start + x] = background;
      continue;
    }
    const shown = (hlvl === null ? m : (hlvl[base + bx] as number)) & filter;
    if (shown === 0 && dimming) {
      pixels[start + x] = dimmed[31 - Math.clz32(m)] as number;
      continue;
    }
    const rank = 31 - Math.clz32(shown === 0 ? m : shown);
    const fm = flvl !== null && rank === freeRank ? (flvl[base + bx] as number) : 0;
    if (fm !== 0) {
      const former = 31 - Math.clz32(fm);
      pixels[start + x] = onStripe(x, y) ? (freedInk[former] as number) : (freedTint[former] as number);
      if (r.freedMarking) r.freedMarks.push(x, former);
      continue;
    }
    pixels[start + x] = colors[rank] as number;
    if (r.marking && rank >= r.paint.damageFrom) r.marks.push(x, colors[rank] as number);
  }
}
