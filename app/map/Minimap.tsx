// An overview of the whole file beside the cluster map, with the visible window outlined. The
// overview is rasterised once per scene (same level-of-detail rules as the map, so damage shows here
// too) and kept in an offscreen canvas; moving the window only redraws the outline. Click or drag to
// move the map there.

import { useEffect, useMemo, useRef, type PointerEvent } from 'react';
import { scaleLinear } from 'd3';
import type { MapViewState } from './ClusterMap';
import { visibleCells } from './layout';
import { rasterize } from './raster';
import type { MapScene } from './renderer';

interface MinimapProps {
  readonly scene: MapScene;
  readonly state: MapViewState | null;
  /** Centre the map on grid point (col, row), in cell units. */
  readonly onNavigate: (col: number, row: number) => void;
  readonly maxWidth?: number;
  readonly maxHeight?: number;
}

export function Minimap({ scene, state, onNavigate, maxWidth = 168, maxHeight = 112 }: MinimapProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const { grid } = scene;
  const mk = Math.min(maxWidth / grid.cols, maxHeight / Math.max(1, grid.rows));
  const w = Math.max(24, Math.ceil(grid.cols * mk));
  const h = Math.max(8, Math.ceil(grid.rows * mk));
  const xs = useMemo(() => scaleLinear().domain([0, grid.cols]).range([0, grid.cols * mk]), [grid, mk]);
  const ys = useMemo(() => scaleLinear().domain([0, grid.rows]).range([0, grid.rows * mk]), [grid, mk]);

  const overview = useMemo(() => {
    const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
    const c = document.createElement('canvas');
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return null;
    const img = ctx.createImageData(c.width, c.height);
    const pixels = new Uint32Array(img.data.buffer, img.data.byteOffset, c.width * c.height);
    rasterize({ pixels, width: c.width, height: c.height }, { k: mk * dpr, x: 0, y: 0 }, scene.pyramid, scene.paint, scene.highlight, true, scene.freed, dpr);
    ctx.putImageData(img, 0, 0);
    return c;
  }, [scene, w, h, mk]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !overview) return;
    canvas.width = overview.width;
    canvas.height = overview.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.drawImage(overview, 0, 0);
    if (!state) return;
    const d = overview.width / w;
    const v = visibleCells(state.view, grid, state.width, state.height);
    const x0 = xs(v.col0) * d;
    const y0 = ys(v.row0) * d;
    const rw = Math.max(3 * d, (xs(v.col1) - xs(v.col0)) * d);
    const rh = Math.max(3 * d, (ys(v.row1) - ys(v.row0)) * d);
    ctx.lineWidth = 2 * d;
    ctx.strokeStyle = '#000000';
    ctx.strokeRect(x0, y0, rw, rh);
    ctx.lineWidth = 1 * d;
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(x0, y0, rw, rh);
  }, [overview, state, grid, xs, ys, w]);

  const go = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    onNavigate(xs.invert(e.clientX - rect.left), ys.invert(e.clientY - rect.top));
  };

  return (
    <canvas
      ref={canvasRef}
      className="cmap-minimap"
      data-testid="cluster-minimap"
      role="img"
      aria-label="Overview of the whole file; the outlined box is the part shown in the map. Click to move there."
      style={{ width: w, height: h }}
      onPointerDown={(e) => {
        e.currentTarget.setPointerCapture(e.pointerId);
        go(e);
      }}
      onPointerMove={(e) => {
        if (e.buttons & 1) go(e);
      }}
    />
  );
}
