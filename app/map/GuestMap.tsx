// The guest map: the virtual disk as a grid of cells in guest order (guest-layout.ts), coloured by
// where each cell's bytes live, zoomed and panned with d3-zoom (wheel, drag; arrows pan, + and −
// zoom, 0 fits, Enter selects the centre cell), with a hover tooltip listing the map ranges in the
// cell and click-to-select. Marked spans stay in full colour, the rest is dimmed. The cells are
// drawn once into a one-pixel-per-cell canvas which each frame scales (guest-raster.ts).

import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type MouseEvent, type PointerEvent, type Ref } from 'react';
import type { MapRange } from '../format';
import { alignGrid, describeRange, guestCells, rangesIn, type GuestImageFlags } from './guest-layout';
import type { GuestSpan } from './guest-link';
import { rasterGuest, spanCells } from './guest-raster';
import { pointIn, useFrameRequest, usePaneSize } from './canvas-pane';
import { ZOOM_KEYS_HINT, useGridZoom } from './grid-zoom';
import { formatBytes, hex } from '../format';
import { cellAtPoint, clusterOf, gridFor, type Grid, type View } from './layout';
import { BACKGROUND, GAP, SELECTION } from './palette';

export interface GuestMapHandle {
  zoomBy(factor: number): void;
  reset(): void;
}

export interface GuestMapProps {
  readonly ranges: readonly MapRange[];
  /** Virtual disk size in bytes. */
  readonly size: number;
  /** Finest cell: the cluster size, or the subcluster size with extended L2. */
  readonly granule: number;
  /** Host cluster size, for host cluster numbers in the tooltip. */
  readonly clusterSize: number;
  readonly flags: GuestImageFlags;
  /** Guest spans to keep in full colour (others dimmed), or null for all. Pass a stable array. */
  readonly marked: readonly GuestSpan[] | null;
  readonly selected: GuestSpan | null;
  readonly onSelect: (span: GuestSpan) => void;
  /** Reports guest bytes per cell once the cells are laid out. */
  readonly onUnit?: (unit: number) => void;
  readonly ref?: Ref<GuestMapHandle>;
}

/** Most cells laid out: one pixel each in the scaled image. */
const MAX_CELLS = 1 << 20;

interface Hover { readonly cell: number; readonly sx: number; readonly sy: number }

export function GuestMap(props: GuestMapProps) {
  const { ranges, size, granule, clusterSize, flags, marked, selected, onSelect, onUnit, ref } = props;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<View>({ k: 1, x: 0, y: 0 });
  const box = usePaneSize(boxRef);
  const [basis, setBasis] = useState<{ w: number; h: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);

  useEffect(() => {
    if (!basis && box.w > 0 && box.h > 0) setBasis(box);
  }, [box, basis]);
  // At most one cell per CSS pixel of the pane at "fit", so no cell is lost when the whole disk shows.
  const model = useMemo(
    () => (basis ? guestCells(ranges, size, granule, Math.min(MAX_CELLS, Math.floor(basis.w * basis.h)), flags) : null),
    [basis, ranges, size, granule, flags],
  );
  const grid = useMemo<Grid | null>(
    () => (model && basis ? alignGrid(gridFor(model.cells.length, basis.w, basis.h), Math.max(1, clusterSize / model.unit)) : null),
    [model, basis, clusterSize],
  );
  useEffect(() => {
    if (model) onUnit?.(model.unit);
  }, [model, onUnit]);

  // The one-pixel-per-cell image, redrawn when the cells or the marked spans change.
  const image = useMemo(() => {
    if (!model || !grid || grid.rows === 0) return null;
    const c = document.createElement('canvas');
    c.width = grid.cols;
    c.height = grid.rows;
    const ctx = c.getContext('2d');
    if (!ctx) return null;
    const data = ctx.createImageData(grid.cols, grid.rows);
    const marks = marked ? spanCells(marked, model.unit, model.cells.length) : null;
    rasterGuest(new Uint32Array(data.data.buffer), model.cells, marks);
    ctx.putImageData(data, 0, 0);
    return c;
  }, [model, grid, marked]);

  // What the next frame draws: updated after each render that changes it.
  const state = useRef({ image, grid, model, selected, hover });

  const drawNow = useCallback(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d', { alpha: false });
    const { image: img, grid: g, model: m, selected: sel, hover: hv } = state.current;
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const v = viewRef.current;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, canvas.width / dpr, canvas.height / dpr);
    if (!img || !g || !m) return;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, v.x, v.y, g.cols * v.k, g.rows * v.k);
    const w = canvas.width / dpr;
    const h = canvas.height / dpr;
    if (v.k >= 6) {
      ctx.fillStyle = GAP;
      const c0 = Math.max(0, Math.floor(-v.x / v.k));
      const c1 = Math.min(g.cols, Math.ceil((w - v.x) / v.k));
      const r0 = Math.max(0, Math.floor(-v.y / v.k));
      const r1 = Math.min(g.rows, Math.ceil((h - v.y) / v.k));
      for (let c = c0; c <= c1; c++) ctx.fillRect(v.x + c * v.k - 0.5, v.y + r0 * v.k, 1, (r1 - r0) * v.k);
      for (let r = r0; r <= r1; r++) ctx.fillRect(v.x + c0 * v.k, v.y + r * v.k - 0.5, (c1 - c0) * v.k, 1);
    }
    if (hv) outlineCells(ctx, g, v, hv.cell, hv.cell + 1, 'rgba(255,255,255,0.9)', 1, h);
    if (sel) {
      for (const s of spanCells([sel], m.unit, m.cells.length)) {
        outlineCells(ctx, g, v, s.first, s.last, '#000000', 3, h);
        outlineCells(ctx, g, v, s.first, s.last, SELECTION, 1.5, h);
      }
    }
    const ds = canvas.dataset;
    Object.assign(ds, { cells: String(g.clusters), cols: String(g.cols), rows: String(g.rows), unit: String(m.unit), cellSize: String(v.k), offsetX: String(v.x), offsetY: String(v.y) });
  }, []);
  const requestDraw = useFrameRequest(drawNow);
  useEffect(() => {
    state.current = { image, grid, model, selected, hover };
    requestDraw();
  }, [image, grid, model, selected, hover, requestDraw]);

  // The canvas's backing store follows the pane; the zoom below is rebuilt over it.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid || box.w === 0 || box.h === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(box.w * dpr);
    canvas.height = Math.round(box.h * dpr);
  }, [grid, box.w, box.h]);
  const { zoomBy, fit, onKeyDown } = useGridZoom({
    canvasRef, viewRef, grid, width: box.w, height: box.h, onZoom: requestDraw, onSelectAt: (sx, sy) => selectAt(sx, sy),
  });
  useImperativeHandle(ref, () => ({ zoomBy, reset: fit }), [zoomBy, fit]);

  const cellAt = (sx: number, sy: number): number => {
    if (!grid) return -1;
    const { row, col } = cellAtPoint(viewRef.current, sx, sy);
    return clusterOf(grid, row, col);
  };
  const spanOf = (cell: number): GuestSpan => ({ start: cell * model!.unit, end: Math.min(size, (cell + 1) * model!.unit) });
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const { sx, sy } = pointIn(e);
    const cell = cellAt(sx, sy);
    setHover(cell >= 0 ? { cell, sx, sy } : null);
  };
  const selectAt = (sx: number, sy: number) => {
    const cell = cellAt(sx, sy);
    if (cell >= 0 && model) onSelect(spanOf(cell));
  };
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const { sx, sy } = pointIn(e);
    selectAt(sx, sy);
  };

  return (
    <div className="cmap-box gmap-box" ref={boxRef}>
      <canvas
        ref={canvasRef}
        className="cmap-canvas"
        data-testid="guest-map"
        tabIndex={0}
        role="img"
        aria-label={`Guest map: the ${formatBytes(size)} virtual disk${model ? `, ${formatBytes(model.unit)} per cell` : ''}. ${ZOOM_KEYS_HINT}`}
        style={{ width: box.w || '100%', height: box.h || '100%' }}
        onPointerMove={onPointerMove}
        onPointerLeave={() => setHover(null)}
        onClick={onClick}
        onKeyDown={onKeyDown}
      />
      {hover && model ? <GuestTooltip ranges={ranges} span={spanOf(hover.cell)} flags={flags} clusterSize={clusterSize} x={hover.sx} y={hover.sy} width={box.w} height={box.h} /> : null}
    </div>
  );
}

/** Outlines cells [first, last) row by row (visible rows only); tiny cells get a 9 px box. */
function outlineCells(ctx: CanvasRenderingContext2D, g: Grid, v: View, first: number, last: number, color: string, width: number, viewHeight: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  const rFirst = Math.max(Math.floor(first / g.cols), Math.floor(-v.y / v.k) - 1);
  const rLast = Math.min(Math.floor((last - 1) / g.cols), Math.ceil((viewHeight - v.y) / v.k) + 1);
  for (let r = rFirst; r <= rLast; r++) {
    const c0 = Math.max(0, first - r * g.cols);
    const c1 = Math.min(g.cols, last - r * g.cols);
    if (c1 <= c0) continue;
    let x = v.x + c0 * v.k;
    let y = v.y + r * v.k;
    let w = (c1 - c0) * v.k;
    let h = v.k;
    if (w < 9 && h < 9) {
      x -= (9 - w) / 2;
      y -= (9 - h) / 2;
      w = h = 9;
    }
    ctx.strokeRect(x - width / 2, y - width / 2, w + width, h + width);
  }
}

const TIP_WIDTH = 360;

function GuestTooltip(p: { ranges: readonly MapRange[]; span: GuestSpan; flags: GuestImageFlags; clusterSize: number; x: number; y: number; width: number; height: number }) {
  const { list, total } = rangesIn(p.ranges, p.span.start, p.span.end, 6);
  const left = p.x + 16 + TIP_WIDTH > p.width ? Math.max(4, p.x - 16 - TIP_WIDTH) : p.x + 16;
  const top = p.y + 16 + 150 > p.height ? Math.max(4, p.y - 16 - Math.min(150, 40 + 18 * list.length)) : p.y + 16;
  return (
    <div className="cmap-tooltip" role="tooltip" data-testid="guest-tooltip" style={{ left, top, maxWidth: TIP_WIDTH }}>
      <div className="cmap-tip-range mono">guest {hex(p.span.start)} – {hex(p.span.end - 1)}</div>
      <div className="cmap-tip-what">{formatBytes(p.span.end - p.span.start)}{total > 1 ? `, ${total} map ranges` : ''}</div>
      <ul className="cmap-tip-rows">
        {list.map((r) => <li key={r.start} className="mono">{describeRange(r, p.flags, p.clusterSize)}</li>)}
        {total === 0 ? <li>not mapped (the map stopped before here)</li> : null}
      </ul>
      {total > list.length ? <div className="cmap-tip-meta">and {total - list.length} more</div> : null}
    </div>
  );
}
