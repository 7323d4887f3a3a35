// The picture people share: the cluster map as drawn, with what a reader needs to read it without
// the app — a title band (file name, its size, the scale of a cell and of a pixel, the date) and the
// legend (a swatch, the role and its cluster count for every role present) beside the map. Drawn on
// a new canvas at the map's device pixel ratio; the map canvas itself is left as it is.

import { ROLE_INFO } from '../format';
import { formatBytes } from '../format';
import { ROLE_COLOR } from './palette';
import { roleLabel } from './tooltip';

export interface PngCaption {
  readonly fileName: string;
  readonly fileSize: number;
  readonly clusterSize: number;
  /** Clusters per role byte (length 256). */
  readonly counts: Uint32Array;
  /** Clusters per device pixel of the map as drawn (1 when a cell is a pixel or more). */
  readonly clustersPerPixel: number;
  readonly date: Date;
}

/** Layout in CSS pixels (scaled by the map's device pixel ratio). */
export const PNG_LAYOUT = { band: 68, legendWidth: 300, row: 22, swatch: 14, pad: 12 } as const;

/** Roles present, damage first, as the app's legend lists them. */
export function legendRoles(counts: Uint32Array): number[] {
  const has = ROLE_INFO.filter((r) => (counts[r.id] ?? 0) > 0);
  const out: number[] = [...has.filter((r) => r.damage), ...has.filter((r) => !r.damage)].map((r) => r.id);
  for (let b = ROLE_INFO.length; b < 256; b++) if ((counts[b] ?? 0) > 0) out.push(b);
  return out;
}

/** "2026-12-03 08:55 UTC". */
export function captionDate(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The map canvas with its title band and legend, as a PNG blob (null if the canvas cannot be made). */
export function composePng(map: HTMLCanvasElement, dpr: number, c: PngCaption): Promise<Blob | null> {
  const L = PNG_LAYOUT;
  const roles = legendRoles(c.counts);
  const legendHeight = (L.pad * 2 + 24 + roles.length * L.row) * dpr;
  const out = document.createElement('canvas');
  out.width = map.width + L.legendWidth * dpr;
  out.height = L.band * dpr + Math.max(map.height, legendHeight);
  const ctx = out.getContext('2d');
  if (!ctx) return Promise.resolve(null);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(map, 0, L.band * dpr);

  const font = (px: number, weight = 400) => `${weight} ${px * dpr}px system-ui, 'DejaVu Sans', sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#1d2329';
  ctx.font = font(15, 600);
  ctx.fillText(`${c.fileName} — ${formatBytes(c.fileSize)} (${c.fileSize.toLocaleString('en-US')} bytes)`, L.pad * dpr, 16 * dpr);
  ctx.font = font(12.5);
  ctx.fillStyle = '#5d6873';
  const scale = c.clustersPerPixel > 1
    ? `one cell = one ${formatBytes(c.clusterSize)} cluster; as drawn, 1 px ≈ ${c.clustersPerPixel.toLocaleString('en-US')} clusters (${formatBytes(c.clustersPerPixel * c.clusterSize)})`
    : `one cell = one ${formatBytes(c.clusterSize)} cluster`;
  ctx.fillText(scale, L.pad * dpr, 36 * dpr);
  ctx.fillText(`host file, cluster 0 at the top left, rows left to right · ${captionDate(c.date)} · qcowscope`, L.pad * dpr, 54 * dpr);

  const x0 = map.width + L.pad * dpr;
  let y = L.band * dpr + L.pad * dpr;
  ctx.fillStyle = '#1d2329';
  ctx.font = font(13, 600);
  let total = 0;
  for (const r of roles) total += c.counts[r] ?? 0;
  ctx.fillText(`Roles (${total.toLocaleString('en-US')} clusters)`, x0, y + 9 * dpr);
  y += 24 * dpr;
  ctx.font = font(12.5);
  for (const r of roles) {
    const cy = y + (L.row / 2) * dpr;
    ctx.fillStyle = ROLE_COLOR[r] ?? '#ff00ff';
    ctx.fillRect(x0, cy - (L.swatch / 2) * dpr, L.swatch * dpr, L.swatch * dpr);
    ctx.strokeStyle = 'rgba(0,0,0,0.35)';
    ctx.lineWidth = dpr;
    ctx.strokeRect(x0, cy - (L.swatch / 2) * dpr, L.swatch * dpr, L.swatch * dpr);
    ctx.fillStyle = '#1d2329';
    ctx.textAlign = 'left';
    ctx.fillText(roleLabel(r), x0 + (L.swatch + 8) * dpr, cy);
    ctx.textAlign = 'right';
    ctx.fillText((c.counts[r] ?? 0).toLocaleString('en-US'), out.width - L.pad * dpr, cy);
    ctx.textAlign = 'left';
    y += L.row * dpr;
  }
  return new Promise((resolve) => out.toBlob((b) => resolve(b), 'image/png'));
}
