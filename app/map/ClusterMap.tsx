// The cluster map as a React component: a focusable canvas drawn by MapRenderer, panned and zoomed
// with d3-zoom (wheel, drag, double-click; arrows pan, + and − zoom, 0 fits, Enter selects the cell
// at the centre), a hover tooltip, and click-to-select. Role bytes and refcounts stay in typed arrays:
// React holds only the tooltip's few lines. Zoom runs from "the whole file fits" to 32 px cells.

import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type PointerEvent, type Ref } from 'react';
import { select, zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior } from 'd3';
import { keepFromRanges, maskOf, pickInBucket, bucketExtent, type ClusterRange } from './lod';
import { usePyramid } from './usePyramid';
import { MAX_CELL_PX, cellAtPoint, centerOn, clusterOf, constrainView, fitView, gridFor, scaleExtent, type Grid, type View } from './layout';
import { makePaint } from './raster';
import { MapRenderer, type BucketRef, type MapScene } from './renderer';
import { swatchCss } from './palette';
import { tooltipFor, type TooltipModel } from './tooltip';

/** Roles and/or cluster ranges to show in full colour; everything else is dimmed. */
export interface MapHighlight {
  readonly roles?: readonly number[];
  readonly ranges?: readonly ClusterRange[];
}

/** The visible window, reported to the minimap and toolbar. */
export interface MapViewState {
  readonly view: View;
  readonly width: number;
  readonly height: number;
  readonly grid: Grid;
}

export interface ClusterMapHandle {
  /** Centres a cluster, zoomed to at least `minCell` CSS px per cell. */
  centerOn(cluster: number, minCell?: number): void;
  /** Centres the point (col, row) of the grid, in cell units, keeping the zoom. */
  panTo(col: number, row: number): void;
  zoomBy(factor: number): void;
  reset(): void;
  /** Downloads the current view as a PNG; false when the canvas could not be encoded. */
  exportPng(fileName: string): Promise<boolean>;
  scene(): MapScene | null;
}

export interface ClusterMapProps {
  readonly roles: Uint8Array;
  readonly clusterSize: number;
  readonly refcounts?: Uint16Array | Uint32Array | null;
  readonly highlight?: MapHighlight | null;
  readonly selected: number | null;
  readonly onSelect: (cluster: number) => void;
  /** Owner line of the tooltip for one cluster. */
  readonly describe?: (cluster: number) => string;
  readonly onViewChange?: (v: MapViewState) => void;
  readonly label?: string;
  readonly ref?: Ref<ClusterMapHandle>;
}

interface Hover extends BucketRef {
  readonly sx: number;
  readonly sy: number;
}

export function ClusterMap(props: ClusterMapProps) {
  const { roles, clusterSize, refcounts = null, highlight = null, selected, onSelect, describe, onViewChange, label, ref } = props;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<MapRenderer | null>(null);
  const zoomRef = useRef<ZoomBehavior<HTMLCanvasElement, unknown> | null>(null);
  const viewRef = useRef<View>({ k: 1, x: 0, y: 0 });
  const hoverRef = useRef<Hover | null>(null);
  const frameRef = useRef(0);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [basis, setBasis] = useState<{ roles: Uint8Array; w: number; h: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);

  // The grid's shape is chosen once per roles array, from the pane's size when it first had one.
  useEffect(() => {
    if (size.w > 0 && size.h > 0 && basis?.roles !== roles) setBasis({ roles, w: size.w, h: size.h });
  }, [roles, size, basis]);
  const grid = useMemo(() => (basis ? gridFor(basis.roles.length, basis.w, basis.h) : null), [basis]);
  const pyramid = usePyramid(basis?.roles ?? null, grid);
  const ranges = highlight?.ranges ?? null;
  const keep = useMemo(() => (grid && ranges ? keepFromRanges(grid.clusters, ranges) : null), [grid, ranges]);
  const highlightPyramid = usePyramid(keep ? basis?.roles ?? null : null, grid, keep);
  const filterMask = maskOf(highlight?.roles ?? []);
  const paint = useMemo(() => makePaint(filterMask), [filterMask]);
  const scene = useMemo<MapScene | null>(
    () => (grid && pyramid ? { grid, pyramid, highlight: highlightPyramid, paint } : null),
    [grid, pyramid, highlightPyramid, paint],
  );
  const sceneRef = useRef(scene);
  const selectedRef = useRef(selected);
  const viewChangeRef = useRef(onViewChange);

  const drawNow = useCallback(() => {
    const r = rendererRef.current;
    const s = sceneRef.current;
    if (!r || !s) return;
    r.draw(s, viewRef.current, selectedRef.current, hoverRef.current);
  }, []);
  const requestDraw = useCallback(() => {
    if (frameRef.current) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      drawNow();
      const s = sceneRef.current;
      const box = boxRef.current;
      if (s && box) viewChangeRef.current?.({ view: viewRef.current, width: box.clientWidth, height: box.clientHeight, grid: s.grid });
    });
  }, [drawNow]);

  useEffect(() => {
    sceneRef.current = scene;
    selectedRef.current = selected;
    viewChangeRef.current = onViewChange;
    requestDraw();
  }, [scene, selected, onViewChange, requestDraw]);

  useEffect(() => {
    const box = boxRef.current;
    const canvas = canvasRef.current;
    if (!box || !canvas) return;
    rendererRef.current = new MapRenderer(canvas);
    const ro = new ResizeObserver(() => setSize({ w: box.clientWidth, h: box.clientHeight }));
    ro.observe(box);
    setSize({ w: box.clientWidth, h: box.clientHeight });
    return () => {
      ro.disconnect();
      cancelAnimationFrame(frameRef.current);
      frameRef.current = 0;
    };
  }, []);

  // d3-zoom over the canvas, rebuilt when the grid or the pane's size changes.
  const fittedGrid = useRef<Grid | null>(null);
  useEffect(() => {
    const canvas = canvasRef.current;
    const renderer = rendererRef.current;
    if (!canvas || !renderer || !grid || size.w === 0 || size.h === 0) return;
    renderer.resize(size.w, size.h, window.devicePixelRatio || 1);
    const [lo, hi] = scaleExtent(grid, size.w, size.h);
    const z = zoom<HTMLCanvasElement, unknown>()
      .extent([[0, 0], [size.w, size.h]])
      .scaleExtent([lo, hi])
      .constrain((t) => {
        const v = constrainView({ k: t.k, x: t.x, y: t.y }, grid, size.w, size.h);
        return zoomIdentity.translate(v.x, v.y).scale(v.k);
      })
      .on('zoom', (e: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        viewRef.current = { k: e.transform.k, x: e.transform.x, y: e.transform.y };
        requestDraw();
      });
    const sel = select(canvas);
    sel.call(z);
    zoomRef.current = z;
    const kept = viewRef.current;
    const start = fittedGrid.current === grid
      ? constrainView({ ...kept, k: Math.min(hi, Math.max(lo, kept.k)) }, grid, size.w, size.h)
      : fitView(grid, size.w, size.h);
    fittedGrid.current = grid;
    sel.call(z.transform, zoomIdentity.translate(start.x, start.y).scale(start.k));
    return () => {
      sel.on('.zoom', null);
    };
  }, [grid, size, requestDraw]);

  // zoom.transform bypasses d3's constrain, so programmatic views are clamped here.
  const setView = useCallback((v: View) => {
    const canvas = canvasRef.current;
    const z = zoomRef.current;
    const s = sceneRef.current;
    if (!canvas || !z || !s) return;
    const [lo, hi] = scaleExtent(s.grid, size.w, size.h);
    const c = constrainView({ ...v, k: Math.min(hi, Math.max(lo, v.k)) }, s.grid, size.w, size.h);
    select(canvas).call(z.transform, zoomIdentity.translate(c.x, c.y).scale(c.k));
  }, [size]);

  useImperativeHandle(ref, () => ({
    centerOn(cluster: number, minCell = 12) {
      const s = sceneRef.current;
      if (!s || cluster < 0 || cluster >= s.grid.clusters) return;
      const k = Math.min(MAX_CELL_PX, Math.max(viewRef.current.k, minCell));
      setView(centerOn(s.grid, size.w, size.h, cluster, k));
    },
    panTo(col: number, row: number) {
      const k = viewRef.current.k;
      setView({ k, x: size.w / 2 - col * k, y: size.h / 2 - row * k });
    },
    zoomBy(factor: number) {
      const canvas = canvasRef.current;
      const z = zoomRef.current;
      if (canvas && z) select(canvas).call(z.scaleBy, factor);
    },
    reset() {
      const s = sceneRef.current;
      if (s) setView(fitView(s.grid, size.w, size.h));
    },
    async exportPng(fileName: string) {
      const r = rendererRef.current;
      if (!r) return false;
      drawNow();
      const blob = await r.toPng();
      if (!blob) return false;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return true;
    },
    scene: () => sceneRef.current,
  }), [size, setView, drawNow]);

  /** The bucket under a CSS point of the canvas at the level currently drawn. */
  const bucketAt = (sx: number, sy: number): BucketRef | null => {
    const s = sceneRef.current;
    const r = rendererRef.current;
    if (!s || !r) return null;
    const v = viewRef.current;
    const level = r.levelAt(v.k, s.pyramid.dims.length - 1);
    const { row, col } = cellAtPoint({ k: v.k * 2 ** level, x: v.x, y: v.y }, sx, sy);
    return bucketExtent(s.grid, level, row, col) ? { level, row, col } : null;
  };

  const pickAt = (b: BucketRef): number => {
    const s = sceneRef.current;
    if (!s) return -1;
    if (b.level === 0) return clusterOf(s.grid, b.row, b.col);
    const e = bucketExtent(s.grid, b.level, b.row, b.col);
    return e ? pickInBucket(s.pyramid.roles, s.grid, e, s.paint.filterMask) : -1;
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const sx = e.clientX - rect.left;
    const sy = e.clientY - rect.top;
    const b = bucketAt(sx, sy);
    const next = b ? { ...b, sx, sy } : null;
    const prev = hoverRef.current;
    hoverRef.current = next;
    if (!prev || !next || prev.level !== next.level || prev.row !== next.row || prev.col !== next.col) requestDraw();
    setHover(next);
  };
  const onPointerLeave = () => {
    hoverRef.current = null;
    setHover(null);
    requestDraw();
  };
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const b = bucketAt(e.clientX - rect.left, e.clientY - rect.top);
    const c = b ? pickAt(b) : -1;
    if (c >= 0) onSelect(c);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const canvas = canvasRef.current;
    const z = zoomRef.current;
    if (!canvas || !z) return;
    const sel = select(canvas);
    const k = viewRef.current.k;
    const step = (e.shiftKey ? 0.8 : 0.15) * Math.min(size.w, size.h);
    const pan: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const p = pan[e.key];
    if (p) sel.call(z.translateBy, p[0] / k, p[1] / k);
    else if (e.key === '+' || e.key === '=') sel.call(z.scaleBy, 2);
    else if (e.key === '-' || e.key === '_') sel.call(z.scaleBy, 0.5);
    else if (e.key === '0') {
      const s = sceneRef.current;
      if (s) setView(fitView(s.grid, size.w, size.h));
    } else if (e.key === 'Enter' || e.key === ' ') {
      const b = bucketAt(size.w / 2, size.h / 2);
      const c = b ? pickAt(b) : -1;
      if (c >= 0) onSelect(c);
    } else return;
    e.preventDefault();
  };

  const tip = hover && scene ? tooltipFor(scene.pyramid.roles, scene.grid, clusterSize, hover.level, hover.row, hover.col, refcounts, describe ?? null) : null;

  return (
    <div className="cmap-box" ref={boxRef}>
      <canvas
        ref={canvasRef}
        className="cmap-canvas"
        data-testid="cluster-map"
        tabIndex={0}
        role="img"
        aria-label={label ?? `Cluster map: ${roles.length} host clusters of ${clusterSize} bytes. Arrows pan, + and − zoom, 0 fits, Enter selects the centre cell.`}
        style={{ width: size.w || '100%', height: size.h || '100%' }}
        onPointerMove={onPointerMove}
        onPointerLeave={onPointerLeave}
        onClick={onClick}
        onKeyDown={onKeyDown}
      />
      {tip && hover ? <MapTooltip model={tip} x={hover.sx} y={hover.sy} width={size.w} height={size.h} /> : null}
    </div>
  );
}

const TIP_WIDTH = 300;

/** The hover tooltip: a TooltipModel laid out beside the pointer, flipped to stay inside the map. */
function MapTooltip({ model, x, y, width, height }: { model: TooltipModel; x: number; y: number; width: number; height: number }) {
  const left = x + 16 + TIP_WIDTH > width ? Math.max(4, x - 16 - TIP_WIDTH) : x + 16;
  const top = y + 16 + 140 > height ? Math.max(4, y - 16 - Math.min(140, 24 + 20 * model.rows.length)) : y + 16;
  return (
    <div className="cmap-tooltip" role="tooltip" data-testid="cluster-tooltip" style={{ left, top, maxWidth: TIP_WIDTH }}>
      <div className="cmap-tip-range mono">{model.range}</div>
      <div className="cmap-tip-what">{model.what}</div>
      <ul className="cmap-tip-rows">
        {model.rows.map((r) => (
          <li key={r.role} data-role={r.role} data-count={r.clusters}>
            <span className="cmap-swatch" style={{ background: swatchCss(r.role) }} aria-hidden="true" />
            <span className="cmap-tip-label">{r.label}</span>
            {model.cluster === null ? <span className="cmap-tip-count mono">{r.clusters.toLocaleString('en-US')}</span> : null}
          </li>
        ))}
      </ul>
      {model.refcount !== null ? <div className="cmap-tip-meta">refcount <span className="mono">{model.refcount}</span></div> : null}
      {model.owner ? <div className="cmap-tip-meta">owner: {model.owner}</div> : null}
    </div>
  );
}
