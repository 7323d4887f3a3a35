// Colours of the cluster map, one per role of app/format/roles.ts. Families by hue so that a map reads
// at a glance (greens: guest data; blues: L1/L2 tables; oranges: refcounts; yellows: headers;
// olive/brown: bitmaps; white: free; grey: tail), started from the Okabe-Ito and Paul Tol palettes and
// tuned so that damage (magenta/red/purple) stays apart from every common role under simulated protan,
// deutan and tritan vision (palette.test.ts states the margins). Damage roles also carry an 8×8
// pattern at high zoom and in the legend, so they never rely on colour alone.

import { Role, ROLE_COUNT, type RoleId } from '../format';
import { FREED_BASE } from './lod';

/** CSS colour of each role, indexed by role id. */
export const ROLE_COLOR: readonly string[] = (() => {
  const c: string[] = new Array<string>(ROLE_COUNT).fill('#ff00ff');
  const set = (r: RoleId, v: string) => {
    c[r] = v;
  };
  set(Role.FREE, '#f7f7f7');
  set(Role.TAIL, '#909fad');
  set(Role.HEADER, '#ffff5f');
  set(Role.LUKS_HEADER, '#d3ad4f');
  set(Role.L1_ACTIVE, '#1a86bc');
  set(Role.L1_SNAPSHOT, '#7a87e8');
  set(Role.L2_ACTIVE, '#84ccfb');
  set(Role.L2_SNAPSHOT, '#afd3d7');
  set(Role.L2_SHARED, '#00b2cd');
  set(Role.REFCOUNT_TABLE, '#f0b702');
  set(Role.REFCOUNT_BLOCK, '#ffc38f');
  set(Role.SNAPSHOT_TABLE, '#d6a7d7');
  set(Role.BITMAP_DIRECTORY, '#86981e');
  set(Role.BITMAP_TABLE, '#b3b369');
  set(Role.BITMAP_DATA, '#765b0b');
  set(Role.DATA, '#31a17e');
  set(Role.DATA_SHARED, '#006934');
  set(Role.DATA_SNAPSHOT, '#93e0b8');
  set(Role.COMPRESSED, '#b0c730');
  set(Role.LEAKED, '#ff00ff');
  set(Role.CORRUPT, '#ff0d62');
  set(Role.MULTI_OWNED, '#ac04da');
  set(Role.PAST_END, '#a20083');
  set(Role.ORPHANED, '#2200ee');
  set(Role.OVERCOUNTED, '#9900ff');
  return c;
})();

/** Canvas background: outside the grid and after the last cluster. */
export const BACKGROUND = '#1b1f24';
/** Gap drawn between cells once they are large enough to show one. */
export const GAP = '#101316';
/** Outline of the selected cell. */
export const SELECTION = '#ffffff';
/** Fraction of a role's colour kept when a legend filter dims it. */
export const DIM_KEEP = 0.22;

/**
 * Damage patterns: 8 strings of 8 characters, '#' where the pattern colour replaces the role colour.
 * Each damage role has its own pattern so two damage roles differ in shape, not only in hue.
 */
const PATTERNS: Partial<Record<RoleId, readonly string[]>> = {
  [Role.LEAKED]: ['##......', '##......', '........', '........', '....##..', '....##..', '........', '........'],
  [Role.CORRUPT]: ['#.......', '.#......', '..#.....', '...#....', '....#...', '.....#..', '......#.', '.......#'],
  [Role.MULTI_OWNED]: ['#......#', '.#....#.', '..#..#..', '...##...', '...##...', '..#..#..', '.#....#.', '#......#'],
  [Role.PAST_END]: ['########', '........', '........', '........', '########', '........', '........', '........'],
  [Role.ORPHANED]: ['#...#...', '#...#...', '#...#...', '#...#...', '#...#...', '#...#...', '#...#...', '#...#...'],
  [Role.OVERCOUNTED]: ['........', '...#....', '..###...', '...#....', '........', '.......#', '......##', '.......#'],
};

/** Share of the former role's colour in a freed cluster's pale base (the rest white). */
export const FREED_KEEP = 0.35;

/** The hatch of a freed cluster (1 = the former role's colour): diagonal stripes, 2 px of 4. */
export const FREED_HATCH: Uint8Array = (() => {
  const t = new Uint8Array(64);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) t[y * 8 + x] = (x + y) % 4 < 2 ? 1 : 0;
  return t;
})();

/** CSS for a legend swatch of clusters freed from `role`: the same hatch. */
export function freedSwatchCss(role: number): string {
  const color = ROLE_COLOR[role] ?? '#ff00ff';
  return `repeating-linear-gradient(45deg, ${color} 0 2px, #ffffff 2px 4px)`;
}

/** The pattern colour drawn over a damage role's colour. */
export const PATTERN_INK = '#000000';

/** 8×8 pattern tile of a role (1 = ink), or null when the role has none. */
export function patternTile(role: number): Uint8Array | null {
  const rows = PATTERNS[role as RoleId];
  if (!rows) return null;
  const tile = new Uint8Array(64);
  rows.forEach((line, y) => {
    for (let x = 0; x < 8; x++) tile[y * 8 + x] = line[x] === '#' ? 1 : 0;
  });
  return tile;
}

/** [r, g, b] of a '#rrggbb' colour. */
export function rgb(css: string): [number, number, number] {
  const v = Number.parseInt(css.slice(1), 16);
  return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

/** A colour packed for a Uint32Array view of ImageData bytes (R, G, B, A in memory order). */
export function packRgba(r: number, g: number, b: number, a = 255, littleEndian = true): number {
  return littleEndian ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/** `css` mixed toward `toward` keeping `keep` of the original. */
export function mix(css: string, toward: string, keep: number): [number, number, number] {
  const a = rgb(css);
  const b = rgb(toward);
  return [0, 1, 2].map((i) => Math.round((a[i] as number) * keep + (b[i] as number) * (1 - keep))) as [number, number, number];
}

/** CSS background for a legend swatch: the role colour, with its damage pattern when it has one. */
export function swatchCss(role: number): string {
  if (role >= FREED_BASE && role < FREED_BASE + ROLE_COUNT) return freedSwatchCss(role - FREED_BASE);
  const color = ROLE_COLOR[role] ?? '#ff00ff';
  switch (role) {
    case Role.LEAKED:
      return `radial-gradient(${PATTERN_INK} 28%, transparent 30%) 0 0 / 6px 6px, ${color}`;
    case Role.CORRUPT:
      return `repeating-linear-gradient(45deg, ${PATTERN_INK} 0 1.5px, ${color} 1.5px 5px)`;
    case Role.MULTI_OWNED:
      return `repeating-linear-gradient(45deg, ${PATTERN_INK} 0 1.5px, transparent 1.5px 5px), repeating-linear-gradient(-45deg, ${PATTERN_INK} 0 1.5px, ${color} 1.5px 5px)`;
    case Role.PAST_END:
      return `repeating-linear-gradient(0deg, ${PATTERN_INK} 0 1.5px, ${color} 1.5px 5px)`;
    case Role.ORPHANED:
      return `repeating-linear-gradient(90deg, ${PATTERN_INK} 0 1.5px, ${color} 1.5px 5px)`;
    case Role.OVERCOUNTED:
      return `linear-gradient(${PATTERN_INK}, ${PATTERN_INK}) center / 2px 8px no-repeat, linear-gradient(${PATTERN_INK}, ${PATTERN_INK}) center / 8px 2px no-repeat, ${color}`;
    default:
      return color;
  }
}
