// The cluster map as a React component: a focusable canvas drawn by MapRenderer, panned and zoomed
// with d3-zoom (wheel, drag, double-click; arrows pan, + and − zoom, 0 fits), a hover tooltip, and
// click-to-select. From the keyboard, the first map key shows a cursor (an outlined cell at the centre,
// with its tooltip) and Enter selects that cell; Enter before the cursor is shown only shows it.
// Role bytes and refcounts stay in typed arrays: React holds only the tooltip's few lines. Zoom runs
// from "the whole file fits" to 32 px cells (or the fit, for a small file).

import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type PointerEvent, type Ref } from 'react';
import { formatCount } from '../format';
import { keepFromRanges, maskOf, pickInBucket, bucketExtent, shownLevel, type ClusterRange } from './lod';
import { usePyramid } from './usePyramid';
import { pointIn, useFrameRequest, usePaneSize } from './canvas-pane';
import { ZOOM_KEYS_HINT, useGridZoom, zoomKeyAction } from './grid-zoom';
import { cellAtPoint, centerOn, clusterOf, fitCellsView, fitView, gridFor, levelFor, scaleExtent, type Grid, type View } from './layout';
import { makePaint } from './raster';
import { MapRenderer, type BucketRef, type MapScene } from './renderer';
import { swatchCss } from './palette';
import { tooltipFor, type TooltipModel } from './tooltip';
import { saveBlob } from './save-blob';
import { composePng, type PngCaption } from './export-png';

/** Roles and/or cluster ranges to show in full colour; everything else is dimmed. */
interface MapHighlight {
  readonly roles?: readonly number[];
  readonly ranges?: readonly ClusterRange[];
}

/** The visible window, reported to the minimap and toolbar. */
export interface MapViewState {
  readonly view: View;
  readonly width: number;
  readonly height: number;
  readonly grid: Grid;
  /** The view moved since the last report because the person moved it (wheel, drag, keys, buttons). */
  readonly byUser: boolean;
}

export interface ClusterMapHandle {
  /** Centres a cluster, zoomed to at least `minCell` CSS px per cell. */
  centerOn(cluster: number, minCell?: number): void;
  /** Shows host clusters first..last (inclusive) as large as fits. */
  fitClusters(first: number, last: number): void;
  /** Centres the point (col, row) of the grid, in cell units, keeping the zoom. */
  panTo(col: number, row: number): void;
  /** Zooms by `factor` about the centre, as the person's zoom (the zoom buttons). */
  zoomBy(factor: number): void;
  /** Shows `k` CSS px per cell about the centre, not as the person's zoom (a view restored from history). */
  zoomTo(k: number): void;
  reset(): void;
  /** Downloads the current view as a PNG with its caption and legend; false when it could not be encoded. */
  exportPng(fileName: string, caption: Omit<PngCaption, 'clustersPerPixel' | 'date'>): Promise<boolean>;
  scene(): MapScene | null;
}

interface ClusterMapProps {
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
  /** The role each freed cluster once held, 0 elsewhere (freed-view.ts freedFormerRoles), or null. */
  readonly freedFormer?: Uint8Array | null;
}

interface Hover extends BucketRef {
  readonly sx: number;
  readonly sy: number;
}

export function ClusterMap(props: ClusterMapProps) {
  const { roles, clusterSize, refcounts = null, highlight = null, selected, onSelect, describe, onViewChange, label, ref, freedFormer = null } = props;
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<MapRenderer | null>(null);
  const viewRef = useRef<View>({ k: 1, x: 0, y: 0 });
  const hoverRef = useRef<Hover | null>(null);
  /** The keyboard cursor is shown (the centre cell, outlined); Enter selects it only then. */
  const cursorRef = useRef(false);
  // The map mounts in a task of its own (MapPane): its size is read there, not a frame later.
  const size = usePaneSize(boxRef, true);
  const [basis, setBasis] = useState<{ roles: Uint8Array; w: number; h: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);

  // The grid's shape is chosen once per roles array, from the pane's size when it first had one.
  useEffect(() => {
    if (size.w <= 0 || size.h <= 0 || basis?.roles === roles) return;
    // New roles for the same clusters (the "what freed held" view) keep the grid: cells stay put.
    setBasis(basis && basis.roles.length === roles.length ? { roles, w: basis.w, h: basis.h } : { roles, w: size.w, h: size.h });
  }, [roles, size, basis]);
  const grid = useMemo(() => (basis ? gridFor(basis.roles.length, basis.w, basis.h) : null), [basis]);
  // Built first at the level the whole-file view draws (the view the map opens with), the rest when idle.
  const firstLevel = grid && size.w > 0 && size.h > 0 ? levelFor(fitView(grid, size.w, size.h).k * (window.devicePixelRatio || 1)) : 0;
  const pyramid = usePyramid(basis?.roles ?? null, grid, null, firstLevel);
  const ranges = highlight?.ranges ?? null;
  const keep = useMemo(() => (grid && ranges ? keepFromRanges(grid.clusters, ranges) : null), [grid, ranges]);
  const highlightPyramid = usePyramid(keep ? basis?.roles ?? null : null, grid, keep);
  // The former roles count only where they match the roles drawn (the same display array's length).
  const former = freedFormer && basis && freedFormer.length === basis.roles.length ? freedFormer : null;
  const freedPyramid = usePyramid(former, grid, former);
  const filterMask = maskOf(highlight?.roles ?? []);
  const paint = useMemo(() => makePaint(filterMask), [filterMask]);
  const scene = useMemo<MapScene | null>(
    () => (grid && pyramid ? { grid, pyramid, highlight: highlightPyramid, paint, freed: freedPyramid } : null),
    [grid, pyramid, highlightPyramid, paint, freedPyramid],
  );
  const sceneRef = useRef(scene);
  const selectedRef = useRef(selected);
  const viewChangeRef = useRef(onViewChange);
  /** The person moved the view since the last report. */
  const userMoved = useRef(false);
  const onUserView = useCallback(() => {
    userMoved.current = true;
  }, []);

  const drawNow = useCallback(() => {
    const r = rendererRef.current;
    const s = sceneRef.current;
    if (!r || !s) return;
    r.draw(s, viewRef.current, selectedRef.current, hoverRef.current);
  }, []);
  const drawAndReport = useCallback(() => {
    drawNow();
    const s = sceneRef.current;
    const box = boxRef.current;
    if (!s || !box) return;
    const byUser = userMoved.current;
    userMoved.current = false;
    viewChangeRef.current?.({ view: viewRef.current, width: box.clientWidth, height: box.clientHeight, grid: s.grid, byUser });
  }, [drawNow]);
  const requestDraw = useFrameRequest(drawAndReport);

  useEffect(() => {
    sceneRef.current = scene;
    selectedRef.current = selected;
    viewChangeRef.current = onViewChange;
    requestDraw();
  }, [scene, selected, onViewChange, requestDraw]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (canvas) rendererRef.current = new MapRenderer(canvas);
  }, []);

  // The canvas's backing store follows the pane; the zoom below is rebuilt over it.
  useEffect(() => {
    const renderer = rendererRef.current;
    if (!renderer || !grid || size.w === 0 || size.h === 0) return;
    renderer.resize(size.w, size.h, window.devicePixelRatio || 1);
  }, [grid, size.w, size.h]);
  const { setView, zoomBy, fit, onKeyDown: zoomKeys } = useGridZoom({
    canvasRef, viewRef, grid, width: size.w, height: size.h, onZoom: requestDraw, keepViewOnResize: true, onSelectAt: (sx, sy) => selectAt(sx, sy), onUserView,
  });

  /** A view set by code moves the cells under a resting pointer: its tooltip would be stale. */
  const dropHover = useCallback(() => {
    if (!hoverRef.current) return;
    hoverRef.current = null;
    setHover(null);
  }, []);

  useImperativeHandle(ref, () => ({
    centerOn(cluster: number, minCell = 12) {
      const s = sceneRef.current;
      if (!s || cluster < 0 || cluster >= s.grid.clusters) return;
      const k = Math.min(scaleExtent(s.grid, size.w, size.h)[1], Math.max(viewRef.current.k, minCell));
      dropHover();
      setView(centerOn(s.grid, size.w, size.h, cluster, k));
    },
    fitClusters(first: number, last: number) {
      const s = sceneRef.current;
      if (!s || size.w === 0 || size.h === 0) return;
      const hi = s.grid.clusters - 1;
      dropHover();
      setView(fitCellsView(s.grid, size.w, size.h, Math.min(hi, first), Math.min(hi, last)));
    },
    panTo(col: number, row: number) {
      const k = viewRef.current.k;
      dropHover();
      setView({ k, x: size.w / 2 - col * k, y: size.h / 2 - row * k });
    },
    zoomBy,
    zoomTo(k: number) {
      const v = viewRef.current;
      if (!(k > 0) || size.w === 0 || size.h === 0) return;
      const f = k / v.k;
      dropHover();
      setView({ k, x: size.w / 2 - (size.w / 2 - v.x) * f, y: size.h / 2 - (size.h / 2 - v.y) * f });
    },
    reset() {
      dropHover();
      fit();
    },
    async exportPng(fileName: string, caption: Omit<PngCaption, 'clustersPerPixel' | 'date'>) {
      const r = rendererRef.current;
      const canvas = canvasRef.current;
      if (!r || !canvas) return false;
      drawNow();
      const dpr = window.devicePixelRatio || 1;
      const blob = await composePng(canvas, dpr, { ...caption, clustersPerPixel: 4 ** levelFor(viewRef.current.k * dpr), date: new Date() });
      if (!blob) return false;
      saveBlob(blob, fileName);
      return true;
    },
    scene: () => sceneRef.current,
  }), [size, setView, zoomBy, fit, drawNow, dropHover]);

  /** The bucket under a CSS point of the canvas at the level currently drawn. */
  const bucketAt = (sx: number, sy: number): BucketRef | null => {
    const s = sceneRef.current;
    const r = rendererRef.current;
    if (!s || !r) return null;
    const v = viewRef.current;
    const level = shownLevel(r.levelAt(v.k, s.pyramid.dims.length - 1), s.pyramid, s.highlight, s.freed);
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

  /** Points the cursor (and its tooltip) at the centre cell, after the view has moved. */
  const aimCursor = () => {
    const b = bucketAt(size.w / 2, size.h / 2);
    hoverRef.current = b ? { ...b, sx: size.w / 2, sy: size.h / 2 } : null;
    setHover(hoverRef.current);
    requestDraw();
  };
  const hideCursor = () => {
    if (!cursorRef.current) return;
    cursorRef.current = false;
    canvasRef.current?.removeAttribute('data-cursor');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    if (!zoomKeyAction(e.key, e.shiftKey, size.w, size.h)) return;
    if ((e.key === 'Enter' || e.key === ' ') && !cursorRef.current) {
      e.preventDefault();
    } else zoomKeys(e);
    cursorRef.current = true;
    canvasRef.current?.setAttribute('data-cursor', 'centre');
    aimCursor();
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    hideCursor();
    const { sx, sy } = pointIn(e);
    const b = bucketAt(sx, sy);
    const next = b ? { ...b, sx, sy } : null;
    const prev = hoverRef.current;
    hoverRef.current = next;
    if (!prev || !next || prev.level !== next.level || prev.row !== next.row || prev.col !== next.col) requestDraw();
    setHover(next);
  };
  const onPointerLeave = () => {
    if (cursorRef.current) return;
    hoverRef.current = null;
    setHover(null);
    requestDraw();
  };
  /** Selects the cluster under a CSS point of the canvas (a pick within a bucket when zoomed out). */
  const selectAt = (sx: number, sy: number) => {
    const b = bucketAt(sx, sy);
    const c = b ? pickAt(b) : -1;
    if (c >= 0) onSelect(c);
  };
  const onClick = (e: MouseEvent<HTMLCanvasElement>) => {
    const { sx, sy } = pointIn(e);
    selectAt(sx, sy);
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
        aria-label={label ?? `Cluster map: ${roles.length} host clusters of ${clusterSize} bytes. ${ZOOM_KEYS_HINT}`}
        style={{ width: size.w || '100%', height: size.h || '100%' }}
        onPointerMove={onPointerMove}
        onPointerLeave={onPointerLeave}
        onClick={onClick}
        onKeyDown={onKeyDown}
        onBlur={() => {
          if (!cursorRef.current) return;
          hideCursor();
          onPointerLeave();
        }}
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
            {model.cluster === null ? <span className="cmap-tip-count mono">{formatCount(r.clusters)}</span> : null}
          </li>
        ))}
      </ul>
      {model.refcount !== null ? <div className="cmap-tip-meta">refcount <span className="mono">{model.refcount}</span></div> : null}
      {model.owner ? <div className="cmap-tip-meta">owner: {model.owner}</div> : null}
    </div>
  );
}
