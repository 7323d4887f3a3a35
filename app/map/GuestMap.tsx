// The guest map: the virtual disk as a grid of cells in guest order, in square blocks of cells
// (guest-grid.ts) so that a large disk shows readable blocks when whole and single cells when zoomed
// in; coloured by where each cell's bytes live (backing layers one hue per depth), zoomed and panned
// with d3-zoom (wheel, drag; arrows pan, + and − zoom, 0 fits, Enter selects the centre cell), with
// a hover tooltip listing the map ranges under the pointer and click-to-select. Marked spans stay in
// full colour, the rest is dimmed. Cells and blocks are drawn once into one-pixel-per-cell images
// which each frame scales (guest-raster.ts). The guest range in view is reported when the person
// moves the view, and a range set from outside (the bitmap lanes) is brought into view.

import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type MouseEvent, type PointerEvent, type Ref } from 'react';
import type { MapRange } from '../format';
import { CODE_PRIORITY, describeRange, guestCells, rangesIn, type GuestImageFlags } from './guest-layout';
import type { GuestSpan } from './guest-link';
import { blockCodes, rasterGuest, spanCells } from './guest-raster';
import { pointIn, useFrameRequest, usePaneSize } from './canvas-pane';
import { ZOOM_KEYS_HINT, useGridZoom } from './grid-zoom';
import { formatBytes, hex } from '../format';
import { cellAtPoint, fitScale, MAX_CELL_PX, type View } from './layout';
import { cellLevel, guestGridFor, pickAt, pixelOf, spanBox, spanView, visibleSpan, type GuestGrid } from './guest-grid';
import { BACKGROUND, GAP, SELECTION } from './palette';

export interface GuestMapHandle {
  zoomBy(factor: number): void;
  reset(): void;
  /** Brings guest bytes [start, end) into view (as large as fits, up to `maxCell` px per cell). */
  showSpan(span: GuestSpan, maxCell?: number): void;
  /** Guest bytes per cell, once laid out. */
  unit(): number | null;
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
  /** Reports the guest bytes a pick takes whenever that changes: a block's at block level, else null (one cell). */
  readonly onBlockBytes?: (bytes: number | null) => void;
  /** A guest range to bring into view, changed with `seq` (e.g. the bitmap lanes' view); outlined when `mark`. */
  readonly viewSpan?: { readonly span: GuestSpan; readonly seq: number; readonly mark: boolean } | null;
  /** A line for the tooltip saying what a click on `span` does beyond selecting it, or null. */
  readonly clickHint?: (span: GuestSpan) => string | null;
  /** A picked span to bring into view at a readable size, changed with `seq` (e.g. a lane click). */
  readonly focusSpan?: { readonly span: GuestSpan; readonly seq: number } | null;
  /** The guest range in view after the person moved the view. */
  readonly onViewSpan?: (span: GuestSpan) => void;
  readonly ref?: Ref<GuestMapHandle>;
}

/** Cell side a picked span is shown at, at most. */
const FOCUS_CELL_PX = 16;

/** Most cells laid out (one pixel each in the cell image); larger disks get coarser cells. */
const MAX_CELLS = 1 << 20;

interface Hover { readonly first: number; readonly last: number; readonly sx: number; readonly sy: number }

export function GuestMap(props: GuestMapProps) {
  const { ranges, size, granule, clusterSize, flags, marked, selected, onSelect, onUnit, onBlockBytes, viewSpan = null, focusSpan = null, onViewSpan, clickHint, ref } = props;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<View>({ k: 1, x: 0, y: 0 });
  const box = usePaneSize(boxRef);
  const [basis, setBasis] = useState<{ w: number; h: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  // The cells of a range set from outside (the lanes' view), outlined until the person moves the map.
  const [band, setBand] = useState<{ first: number; last: number } | null>(null);

  useEffect(() => {
    if (!basis && box.w > 0 && box.h > 0) setBasis(box);
  }, [box, basis]);
  const model = useMemo(() => guestCells(ranges, size, granule, MAX_CELLS, flags), [ranges, size, granule, flags]);
  const grid = useMemo<GuestGrid | null>(
    () => (basis ? guestGridFor(model.cells.length, basis.w, basis.h, undefined, Math.max(1, clusterSize / model.unit)) : null),
    [model, basis, clusterSize],
  );
  useEffect(() => {
    onUnit?.(model.unit);
  }, [model, onUnit]);

  // Pixel of each cell in the cell image (guest order → block layout).
  const pos = useMemo(() => {
    if (!grid || grid.block === 1) return null;
    const p = new Uint32Array(grid.clusters);
    for (let i = 0; i < p.length; i++) p[i] = pixelOf(grid, i);
    return p;
  }, [grid]);
  const blocks = useMemo(() => (grid && grid.block > 1 ? blockCodes(model.cells, grid.block * grid.block, CODE_PRIORITY) : null), [grid, model]);

  // The one-pixel-per-cell image and the one-pixel-per-block image, redrawn when the marks change.
  const images = useMemo(() => {
    if (!grid || grid.rows === 0) return null;
    const marks = marked ? spanCells(marked, model.unit, model.cells.length) : null;
    const cellImage = paint(grid.cols, grid.rows, (px) => rasterGuest(px, model.cells, marks, pos));
    let blockImage: HTMLCanvasElement | null = null;
    if (blocks) {
      const per = grid.block * grid.block;
      const bmarks = marks ? marks.map((m) => ({ first: Math.floor(m.first / per), last: Math.ceil(m.last / per) })) : null;
      blockImage = paint(grid.blockCols, grid.blockRows, (px) => rasterGuest(px, blocks, bmarks));
    }
    return cellImage ? { cellImage, blockImage } : null;
  }, [model, grid, marked, pos, blocks]);

  // What the next frame draws: updated after each render that changes it.
  const state = useRef({ images, grid, model, selected, hover, band });
  const levelSeen = useRef<number | null | undefined>(undefined);
  const blockBytesCb = useRef(onBlockBytes);
  useEffect(() => {
    blockBytesCb.current = onBlockBytes;
  }, [onBlockBytes]);

  const drawNow = useCallback(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d', { alpha: false });
    const { images: img, grid: g, model: m, selected: sel, hover: hv, band: bd } = state.current;
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const v = viewRef.current;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, canvas.width / dpr, canvas.height / dpr);
    if (!img || !g) return;
    const w = canvas.width / dpr;
    const h = canvas.height / dpr;
    const cells = cellLevel(g, v.k);
    ctx.imageSmoothingEnabled = false;
    if (cells || !img.blockImage) ctx.drawImage(img.cellImage, v.x, v.y, g.cols * v.k, g.rows * v.k);
    else ctx.drawImage(img.blockImage, v.x, v.y, g.blockCols * g.block * v.k, g.blockRows * g.block * v.k);
    // Gaps between cells once they are large enough, and between blocks.
    if (cells && v.k >= 6) gridLines(ctx, g, v, v.k, w, h, GAP, 1);
    if (g.block > 1 && v.k * g.block >= 6) gridLines(ctx, g, v, v.k * g.block, w, h, GAP, cells ? 2 : 1);
    if (bd) {
      // The lanes' range: one dashed box around its cells (whole rows when it spans several).
      const b = spanBox(g, bd.first, bd.last);
      ctx.setLineDash([5, 4]);
      ctx.strokeStyle = 'rgba(255,255,255,0.85)';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(v.x + b.c0 * v.k - 1, v.y + b.r0 * v.k - 1, (b.c1 - b.c0) * v.k + 2, (b.r1 - b.r0) * v.k + 2);
      ctx.setLineDash([]);
    }
    if (hv) outlineSpan(ctx, g, v, hv.first, hv.last, 'rgba(255,255,255,0.9)', 1, w, h);
    if (sel) {
      for (const s of spanCells([sel], m.unit, m.cells.length)) {
        outlineSpan(ctx, g, v, s.first, s.last, '#000000', 3, w, h);
        outlineSpan(ctx, g, v, s.first, s.last, SELECTION, 1.5, w, h);
      }
    }
    const pickBytes = cells ? null : m.unit * g.block * g.block;
    if (levelSeen.current !== pickBytes) {
      levelSeen.current = pickBytes;
      blockBytesCb.current?.(pickBytes);
    }
    const ds = canvas.dataset;
    Object.assign(ds, {
      cells: String(g.clusters), cols: String(g.cols), rows: String(g.rows), unit: String(m.unit), block: String(g.block),
      blockCols: String(g.blockCols), level: cells ? 'cell' : 'block', cellSize: String(v.k), offsetX: String(v.x), offsetY: String(v.y),
    });
  }, []);
  const requestDraw = useFrameRequest(drawNow);
  useEffect(() => {
    state.current = { images, grid, model, selected, hover, band };
    requestDraw();
  }, [images, grid, model, selected, hover, band, requestDraw]);

  // The canvas's backing store follows the pane; the zoom below is rebuilt over it.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid || box.w === 0 || box.h === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(box.w * dpr);
    canvas.height = Math.round(box.h * dpr);
    // Resizing clears the canvas (also when it is shown again at the same size).
    requestDraw();
  }, [grid, box.w, box.h, requestDraw]);

  // The guest range in view, reported once per frame while the person moves the view.
  const report = useRef<number | null>(null);
  const onUserView = useCallback(() => {
    setBand(null);
    if (report.current !== null || !onViewSpan) return;
    report.current = requestAnimationFrame(() => {
      report.current = null;
      const g = state.current.grid;
      const c = canvasRef.current;
      if (!g || !c) return;
      const dpr = window.devicePixelRatio || 1;
      const s = visibleSpan(g, viewRef.current, c.width / dpr, c.height / dpr);
      const u = state.current.model.unit;
      onViewSpan({ start: s.first * u, end: Math.min(size, s.last * u) });
    });
  }, [onViewSpan, size]);
  useEffect(() => () => {
    if (report.current !== null) cancelAnimationFrame(report.current);
  }, []);
  const { zoomBy, fit, setView, onKeyDown } = useGridZoom({
    canvasRef, viewRef, grid, width: box.w, height: box.h, onZoom: requestDraw, keepViewOnResize: true, onSelectAt: (sx, sy) => selectAt(sx, sy), onUserView,
  });
  const showSpan = useCallback((span: GuestSpan, maxCell = MAX_CELL_PX) => {
    if (!grid || box.w === 0) return;
    const first = Math.max(0, Math.floor(span.start / model.unit));
    const last = Math.min(grid.clusters, Math.max(first + 1, Math.ceil(span.end / model.unit)));
    setView(spanView(grid, box.w, box.h, first, last, maxCell, fitScale(grid, box.w, box.h)));
  }, [grid, box.w, box.h, model.unit, setView]);
  useImperativeHandle(ref, () => ({ zoomBy, reset: fit, showSpan, unit: () => model.unit }), [zoomBy, fit, showSpan, model.unit]);

  // A range set from outside is shown once per request, after the zoom behaviour is in place.
  const shown = useRef<number | null>(null);
  useEffect(() => {
    if (!viewSpan || shown.current === viewSpan.seq || !grid || box.w === 0) return;
    shown.current = viewSpan.seq;
    showSpan(viewSpan.span);
    const u = model.unit;
    const whole = !viewSpan.mark || (viewSpan.span.start <= 0 && viewSpan.span.end >= size);
    setBand(whole ? null : { first: Math.floor(viewSpan.span.start / u), last: Math.max(Math.floor(viewSpan.span.start / u) + 1, Math.ceil(viewSpan.span.end / u)) });
  }, [viewSpan, grid, box.w, showSpan, model.unit, size]);

  // A picked span, likewise (also when the map was hidden when it was picked).
  const focused = useRef<number | null>(null);
  useEffect(() => {
    if (!focusSpan || focused.current === focusSpan.seq || !grid || box.w === 0) return;
    focused.current = focusSpan.seq;
    showSpan(focusSpan.span, FOCUS_CELL_PX);
  }, [focusSpan, grid, box.w, showSpan]);

  const pickAtPoint = (sx: number, sy: number): { first: number; last: number } | null => {
    if (!grid) return null;
    const { row, col } = cellAtPoint(viewRef.current, sx, sy);
    return pickAt(grid, viewRef.current.k, row, col);
  };
  const spanOf = (p: { first: number; last: number }): GuestSpan => ({ start: p.first * model.unit, end: Math.min(size, p.last * model.unit) });
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const { sx, sy } = pointIn(e);
    const p = pickAtPoint(sx, sy);
    setHover(p ? { ...p, sx, sy } : null);
  };
  const selectAt = (sx: number, sy: number) => {
    const p = pickAtPoint(sx, sy);
    if (p) onSelect(spanOf(p));
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
        aria-label={`Guest map: the ${formatBytes(size)} virtual disk, ${formatBytes(model.unit)} per cell${grid && grid.block > 1 ? `, ${formatBytes(model.unit * grid.block * grid.block)} per block` : ''}. ${ZOOM_KEYS_HINT}`}
        style={{ width: box.w || '100%', height: box.h || '100%' }}
        onPointerMove={onPointerMove}
        onPointerLeave={() => setHover(null)}
        onClick={onClick}
        onKeyDown={onKeyDown}
      />
      {hover ? <GuestTooltip ranges={ranges} span={spanOf(hover)} flags={flags} clusterSize={clusterSize} hint={clickHint?.(spanOf(hover)) ?? null} x={hover.sx} y={hover.sy} width={box.w} height={box.h} /> : null}
    </div>
  );
}

/** A w × h canvas whose pixels `fill` writes (RGBA words). */
function paint(w: number, h: number, fill: (px: Uint32Array) => void): HTMLCanvasElement | null {
  const c = document.createElement('canvas');
  c.width = Math.max(1, w);
  c.height = Math.max(1, h);
  const ctx = c.getContext('2d');
  if (!ctx) return null;
  const data = ctx.createImageData(c.width, c.height);
  fill(new Uint32Array(data.data.buffer));
  ctx.putImageData(data, 0, 0);
  return c;
}

/** Lines every `step` px over the visible part of the grid. */
function gridLines(ctx: CanvasRenderingContext2D, g: GuestGrid, v: View, step: number, w: number, h: number, color: string, width: number): void {
  ctx.fillStyle = color;
  const cols = (g.cols * v.k) / step;
  const rows = (g.rows * v.k) / step;
  const c0 = Math.max(0, Math.floor(-v.x / step));
  const c1 = Math.min(cols, Math.ceil((w - v.x) / step));
  const r0 = Math.max(0, Math.floor(-v.y / step));
  const r1 = Math.min(rows, Math.ceil((h - v.y) / step));
  for (let c = c0; c <= c1; c++) ctx.fillRect(v.x + c * step - width / 2, v.y + r0 * step, width, (r1 - r0) * step);
  for (let r = r0; r <= r1; r++) ctx.fillRect(v.x + c0 * step, v.y + r * step - width / 2, (c1 - c0) * step, width);
}

/** Outlines cells [first, last): whole blocks at block level, else the cells, block by block (visible blocks only). */
function outlineSpan(ctx: CanvasRenderingContext2D, g: GuestGrid, v: View, first: number, last: number, color: string, width: number, w: number, h: number): void {
  const B = g.block;
  const per = B * B;
  if (B === 1) return outlineRows(ctx, g.cols, v.k, v.x, v.y, first, last, color, width, h);
  const bk = v.k * B;
  if (!cellLevel(g, v.k)) return outlineRows(ctx, g.blockCols, bk, v.x, v.y, Math.floor(first / per), Math.ceil(last / per), color, width, h);
  const br0 = Math.max(0, Math.floor(-v.y / bk));
  const br1 = Math.min(g.blockRows - 1, Math.floor((h - v.y) / bk));
  const bc0 = Math.max(0, Math.floor(-v.x / bk));
  const bc1 = Math.min(g.blockCols - 1, Math.floor((w - v.x) / bk));
  for (let br = br0; br <= br1; br++) {
    for (let bc = bc0; bc <= bc1; bc++) {
      const b0 = (br * g.blockCols + bc) * per;
      const a = Math.max(first, b0) - b0;
      const z = Math.min(last, b0 + per) - b0;
      if (a === 0 && z === per) {
        // A whole block: one box.
        ctx.strokeStyle = color;
        ctx.lineWidth = width;
        ctx.strokeRect(v.x + bc * bk - width / 2, v.y + br * bk - width / 2, bk + width, bk + width);
      } else if (z > a) outlineRows(ctx, B, v.k, v.x + bc * bk, v.y + br * bk, a, z, color, width, h);
    }
  }
}

/** Outlines cells [first, last) of a row-major grid of `cols` columns at (ox, oy), row by row; tiny cells get a 9 px box. */
function outlineRows(ctx: CanvasRenderingContext2D, cols: number, k: number, ox: number, oy: number, first: number, last: number, color: string, width: number, viewHeight: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  const rFirst = Math.max(Math.floor(first / cols), Math.floor(-oy / k) - 1);
  const rLast = Math.min(Math.floor((last - 1) / cols), Math.ceil((viewHeight - oy) / k) + 1);
  for (let r = rFirst; r <= rLast; r++) {
    const c0 = Math.max(0, first - r * cols);
    const c1 = Math.min(cols, last - r * cols);
    if (c1 <= c0) continue;
    let x = ox + c0 * k;
    let y = oy + r * k;
    let bw = (c1 - c0) * k;
    let bh = k;
    if (bw < 9 && bh < 9) {
      x -= (9 - bw) / 2;
      y -= (9 - bh) / 2;
      bw = bh = 9;
    }
    ctx.strokeRect(x - width / 2, y - width / 2, bw + width, bh + width);
  }
}

const TIP_WIDTH = 360;

function GuestTooltip(p: { ranges: readonly MapRange[]; span: GuestSpan; flags: GuestImageFlags; clusterSize: number; hint: string | null; x: number; y: number; width: number; height: number }) {
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
      {p.hint ? <div className="cmap-tip-meta" data-testid="guest-tip-hint">{p.hint}</div> : null}
    </div>
  );
}
