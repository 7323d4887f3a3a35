// The cluster map's canvas renderer, with no React: one ImageData per frame filled by raster.ts at the
// current level of detail, then the hover and selection outlines stroked on top. It also mirrors the
// current transform into data-* attributes of the canvas, so that a test can compute where cluster N
// is drawn (centre x = offsetX + (N mod cols + ½)·cellSize, y likewise with ⌊N / cols⌋, in CSS px).

import { bucketExtent, type Pyramid } from './lod';
import { cellRect, levelFor, type Grid, type View } from './layout';
import { SELECTION } from './palette';
import { rasterize, type Paint } from './raster';

/** What the map shows: the role pyramid of a grid, an optional highlight pyramid and the paint. */
export interface MapScene {
  readonly grid: Grid;
  readonly pyramid: Pyramid;
  readonly highlight: Pyramid | null;
  readonly paint: Paint;
  /** The roles freed clusters once held ("what freed held" on), or null. */
  readonly freed: Pyramid | null;
}

/** A bucket of the pyramid: (row, col) at `level`. */
export interface BucketRef {
  readonly level: number;
  readonly row: number;
  readonly col: number;
}

export class MapRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageData | null = null;
  private cssWidth = 0;
  private cssHeight = 0;
  private dpr = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('canvas 2D context unavailable');
    this.ctx = ctx;
  }

  /** Sets the canvas size in CSS pixels; the backing store is `dpr` times larger. */
  resize(cssWidth: number, cssHeight: number, dpr: number): void {
    const w = Math.max(1, Math.round(cssWidth * dpr));
    const h = Math.max(1, Math.round(cssHeight * dpr));
    this.cssWidth = cssWidth;
    this.cssHeight = cssHeight;
    this.dpr = dpr;
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    if (!this.image || this.image.width !== w || this.image.height !== h) this.image = this.ctx.createImageData(w, h);
  }

  /**
   * Draws one frame: `view` is in CSS pixels. Returns the pyramid level drawn. Each frame's cost is
   * recorded as a 'cluster-map-draw' performance measure (DevTools, e2e).
   */
  draw(scene: MapScene, view: View, selected: number | null, hover: BucketRef | null): number {
    const image = this.image;
    if (!image) return 0;
    const start = performance.now();
    const d = this.dpr;
    const pixels = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
    const level = rasterize({ pixels, width: image.width, height: image.height }, { k: view.k * d, x: view.x * d, y: view.y * d }, scene.pyramid, scene.paint, scene.highlight, true, scene.freed, d);
    this.ctx.putImageData(image, 0, 0);
    if (hover) {
      this.outlineBucket(scene.grid, view, hover, 'rgba(0,0,0,0.8)', 3);
      this.outlineBucket(scene.grid, view, hover, 'rgba(255,255,255,0.9)', 1);
    }
    if (selected !== null && selected >= 0 && selected < scene.grid.clusters) this.outlineCluster(scene.grid, view, selected);
    this.publish(scene.grid, view, level);
    performance.measure('cluster-map-draw', { start, end: performance.now() });
    return level;
  }

  /** The pyramid level drawn at a CSS cell size on this canvas. */
  levelAt(k: number, maxLevel: number): number {
    return Math.min(maxLevel, levelFor(k * this.dpr));
  }

  private outlineBucket(grid: Grid, view: View, b: BucketRef, color: string, width: number): void {
    const e = bucketExtent(grid, b.level, b.row, b.col);
    if (!e) return;
    const d = this.dpr;
    const x = (view.x + e.colFrom * view.k) * d;
    const y = (view.y + e.rowFrom * view.k) * d;
    const w = (e.colTo - e.colFrom) * view.k * d;
    const h = (e.rowTo - e.rowFrom) * view.k * d;
    if (w < 3 && h < 3) return;
    this.ctx.strokeStyle = color;
    this.ctx.lineWidth = width * d;
    this.ctx.strokeRect(x + 0.5 * d, y + 0.5 * d, w - d, h - d);
  }

  /** A two-tone box around the selected cell, never smaller than 9 CSS pixels so it stays visible. */
  private outlineCluster(grid: Grid, view: View, cluster: number): void {
    const r = cellRect(view, grid, cluster);
    const d = this.dpr;
    const size = Math.max(9, r.size);
    const cx = r.x + r.size / 2;
    const cy = r.y + r.size / 2;
    const x = (cx - size / 2) * d;
    const y = (cy - size / 2) * d;
    const ctx = this.ctx;
    ctx.lineWidth = 3 * d;
    ctx.strokeStyle = '#000000';
    ctx.strokeRect(x - 1.5 * d, y - 1.5 * d, size * d + 3 * d, size * d + 3 * d);
    ctx.lineWidth = 1.5 * d;
    ctx.strokeStyle = SELECTION;
    ctx.strokeRect(x - 0.75 * d, y - 0.75 * d, size * d + 1.5 * d, size * d + 1.5 * d);
  }

  private publish(grid: Grid, view: View, level: number): void {
    const ds = this.canvas.dataset;
    ds.clusters = String(grid.clusters);
    ds.cols = String(grid.cols);
    ds.rows = String(grid.rows);
    ds.cellSize = String(view.k);
    ds.offsetX = String(view.x);
    ds.offsetY = String(view.y);
    ds.level = String(level);
    ds.dpr = String(this.dpr);
    ds.viewWidth = String(this.cssWidth);
    ds.viewHeight = String(this.cssHeight);
  }
}
