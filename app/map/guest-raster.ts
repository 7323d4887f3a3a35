// Colours of the guest map and the one-pixel-per-cell image it is drawn from: the GuestMap component
// scales that image with the zoom (nearest neighbour), so a frame costs one drawImage. Marked spans
// (e.g. the guest bytes stored in the selected host cluster) keep full colour and the rest is dimmed.
// Pure: fills a Uint32Array of RGBA pixels.

import { Role } from '../format';
import { DEEP_BASE, depthOfCode, kindOfCode, GuestKind, NOT_MAPPED } from './guest-layout';
import type { GuestSpan } from './guest-link';
import { BACKGROUND, DIM_KEEP, mix, packRgba, rgb, ROLE_COLOR } from './palette';

/** CSS colour per GuestKind (index), data kinds sharing the host map's colours. */
export const GUEST_KIND_COLOR: readonly string[] = [
  '#3b444e', // unallocated: dark, close to the background — nothing is stored
  '#cbbfe8', // zeros from the backing file
  '#8f72d6', // data from the backing file
  '#c9d3dc', // zero clusters
  ROLE_COLOR[Role.DATA]!,
  ROLE_COLOR[Role.COMPRESSED]!,
  ROLE_COLOR[Role.LUKS_HEADER]!,
  '#00b2cd', // external data file
];
/** Cells no map range covers (the map stopped early). */
const NOT_MAPPED_COLOR = '#7a2236';

/** Backing layers by depth − 2 (depth 1 uses GUEST_KIND_COLOR): [data, zeros], a hue per layer. */
const DEEP_COLOR: readonly (readonly [string, string])[] = [
  ['#4f7fd9', '#b8ccf0'], // 2 levels down: blue
  ['#d0607a', '#efc0cb'], // 3: rose
  ['#3e9e9e', '#bfe0e0'], // 4: teal
  ['#a08a5a', '#ddd2bb'], // 5 and deeper: sand
];

/** CSS colour of a cell code (codeOf): its kind's colour, backing layers one hue per depth. */
export function guestKindCss(code: number): string {
  if (code === NOT_MAPPED) return NOT_MAPPED_COLOR;
  if (code >= DEEP_BASE) {
    const depth = depthOfCode(code);
    if (depth < 2) return NOT_MAPPED_COLOR;
    const pair = DEEP_COLOR[Math.min(DEEP_COLOR.length - 1, depth - 2)]!;
    return kindOfCode(code) === GuestKind.BACKING_DATA ? pair[0] : pair[1];
  }
  return GUEST_KIND_COLOR[code] ?? NOT_MAPPED_COLOR;
}

/** Whether the platform stores Uint32 words little-endian (ImageData byte order). */
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function packed(css: string, dim: boolean): number {
  const [r, g, b] = dim ? mix(css, BACKGROUND, DIM_KEEP) : rgb(css);
  return packRgba(r, g, b, 255, LITTLE);
}

/** Cells [first, last) of each span, merged; `unit` guest bytes per cell. */
export function spanCells(spans: readonly GuestSpan[], unit: number, cells: number): { first: number; last: number }[] {
  const out: { first: number; last: number }[] = [];
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    const first = Math.max(0, Math.floor(s.start / unit));
    const last = Math.min(cells, Math.max(first + 1, Math.ceil(s.end / unit)));
    const prev = out[out.length - 1];
    if (prev && first <= prev.last) prev.last = Math.max(prev.last, last);
    else out.push({ first, last });
  }
  return out;
}

/**
 * Fills `pixels` with cell i at pixel pos[i] (row-major when `pos` is null); pixels no cell lands
 * on get the background. With `marked`, cells outside it are dimmed.
 */
export function rasterGuest(pixels: Uint32Array, cells: Uint8Array, marked: readonly { first: number; last: number }[] | null, pos: Uint32Array | null = null): void {
  const full = new Uint32Array(256);
  const dim = new Uint32Array(256);
  for (let k = 0; k < 256; k++) {
    const css = guestKindCss(k);
    full[k] = packed(css, false);
    dim[k] = packed(css, true);
  }
  const n = cells.length;
  const base = marked && marked.length > 0 ? dim : full;
  pixels.fill(packed(BACKGROUND, false));
  const at = (i: number) => (pos ? pos[i]! : i);
  for (let i = 0; i < n; i++) pixels[at(i)] = base[cells[i]!]!;
  if (base === dim) {
    for (const m of marked!) for (let i = m.first; i < m.last && i < n; i++) pixels[at(i)] = full[cells[i]!]!;
  }
}

/** The code of each block of `per` cells: the highest-priority code among its cells. */
export function blockCodes(cells: Uint8Array, per: number, priority: Uint16Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(cells.length / per));
  for (let b = 0; b < out.length; b++) {
    let best = cells[b * per]!;
    for (let i = b * per + 1, end = Math.min(cells.length, (b + 1) * per); i < end; i++) {
      const c = cells[i]!;
      if (priority[c]! > priority[best]!) best = c;
    }
    out[b] = best;
  }
  return out;
}
