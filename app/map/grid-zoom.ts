// Pan and zoom shared by the two map canvases (the host cluster map and the guest map): a d3-zoom
// behaviour (wheel, drag, double-click) over a canvas that shows a Grid of square cells, zooming from
// "the whole grid fits" to MAX_CELL_PX per cell, with every view kept in sight by constrainView; and
// the keyboard both maps answer to: arrows pan (Shift: further), + and − zoom, 0 fits, Enter or Space
// selects the cell at the centre. The pure parts, clampView and zoomKeyAction, need no DOM.

import { useCallback, useEffect, useRef, type KeyboardEvent, type RefObject } from 'react';
import { select, zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior, type ZoomTransform } from 'd3';
import { constrainView, fitView, scaleExtent, type Grid, type View } from './layout';

/**
 * A view brought inside the zoom limits and kept in sight: what d3's `constrain` does to gestures,
 * for views set by code (zoom.transform bypasses the scale extent).
 */
export function clampView(view: View, grid: Grid, width: number, height: number): View {
  const [lo, hi] = scaleExtent(grid, width, height);
  return constrainView({ ...view, k: Math.min(hi, Math.max(lo, view.k)) }, grid, width, height);
}

/** What a key does to a map: pan by (dx, dy) screen pixels, zoom by a factor, fit, or select the centre. */
type ZoomKeyAction =
  | { readonly kind: 'pan'; readonly dx: number; readonly dy: number }
  | { readonly kind: 'zoom'; readonly factor: number }
  | { readonly kind: 'fit' }
  | { readonly kind: 'select' };

/** The keys, as the maps' accessible names tell them. */
export const ZOOM_KEYS_HINT = 'Arrows pan, + and − zoom, 0 fits; the outlined centre cell is selected with Enter.';

/** Share of the pane's shorter side that an arrow key pans by, without and with Shift. */
const PAN_STEP = 0.15;
const PAN_STEP_SHIFT = 0.8;

/**
 * The action of a key on a map pane of width × height CSS pixels, or null for a key the map leaves
 * to the page. An arrow moves the content the other way, so that the view moves the arrow's way.
 */
export function zoomKeyAction(key: string, shiftKey: boolean, width: number, height: number): ZoomKeyAction | null {
  const step = (shiftKey ? PAN_STEP_SHIFT : PAN_STEP) * Math.min(width, height);
  switch (key) {
    case 'ArrowLeft': return { kind: 'pan', dx: step, dy: 0 };
    case 'ArrowRight': return { kind: 'pan', dx: -step, dy: 0 };
    case 'ArrowUp': return { kind: 'pan', dx: 0, dy: step };
    case 'ArrowDown': return { kind: 'pan', dx: 0, dy: -step };
    case '+':
    case '=': return { kind: 'zoom', factor: 2 };
    case '-':
    case '_': return { kind: 'zoom', factor: 0.5 };
    case '0': return { kind: 'fit' };
    case 'Enter':
    case ' ': return { kind: 'select' };
    default: return null;
  }
}

/** Runs `f` with `flag` set: the zoom events it causes count as the person's. */
function asUser(flag: { current: boolean }, f: () => void): void {
  flag.current = true;
  try {
    f();
  } finally {
    flag.current = false;
  }
}

/** The d3 transform of a view. */
export function transformOf(view: View): ZoomTransform {
  return zoomIdentity.translate(view.x, view.y).scale(view.k);
}

interface GridZoomOptions {
  readonly canvasRef: RefObject<HTMLCanvasElement | null>;
  /** The current view: written on every zoom event, read by the caller's drawing. */
  readonly viewRef: RefObject<View>;
  /** The grid shown; null until it is laid out (no zoom behaviour until then). */
  readonly grid: Grid | null;
  /** The pane's size in CSS pixels; 0 until measured. */
  readonly width: number;
  readonly height: number;
  /** Called after each change of the view (to schedule a frame). Keep it stable: a new one rebuilds the behaviour. */
  readonly onZoom: () => void;
  /** When the pane is resized over the same grid, keep the current view's centre (clamped) instead of fitting again. */
  readonly keepViewOnResize?: boolean;
  /** Enter or Space: select what is at the pane's point (x, y), its centre. */
  readonly onSelectAt: (x: number, y: number) => void;
  /** Called after a change of the view made by the person (wheel, drag, keys, zoomBy, fit), not by setView. */
  readonly onUserView?: () => void;
}

interface GridZoom {
  /** Moves to a view, clamped to the zoom limits and kept in sight. */
  setView(view: View): void;
  zoomBy(factor: number): void;
  /** Shows the whole grid. */
  fit(): void;
  /** The canvas's keydown handler. */
  onKeyDown(e: KeyboardEvent<HTMLCanvasElement>): void;
}

/**
 * Attaches d3-zoom to the canvas, rebuilt whenever the grid or the pane's size changes (a new grid
 * starts fitted). Call it after any effect that sizes the canvas, so that effect runs first.
 */
export function useGridZoom(options: GridZoomOptions): GridZoom {
  const { canvasRef, viewRef, grid, width, height, onZoom, keepViewOnResize = false, onSelectAt, onUserView } = options;
  const zoomRef = useRef<ZoomBehavior<HTMLCanvasElement, unknown> | null>(null);
  // Set while a change the person asked for (a button or a key) is applied.
  const byUser = useRef(false);
  const userView = useRef(onUserView);
  useEffect(() => {
    userView.current = onUserView;
  }, [onUserView]);
  const fittedGrid = useRef<Grid | null>(null);
  const paneSize = useRef({ w: width, h: height });

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid || width === 0 || height === 0) return;
    const z = zoom<HTMLCanvasElement, unknown>()
      .extent([[0, 0], [width, height]])
      .scaleExtent(scaleExtent(grid, width, height))
      .constrain((t) => transformOf(constrainView({ k: t.k, x: t.x, y: t.y }, grid, width, height)))
      .on('zoom', (e: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        viewRef.current = { k: e.transform.k, x: e.transform.x, y: e.transform.y };
        onZoom();
        if (e.sourceEvent || byUser.current) userView.current?.();
      });
    const sel = select(canvas);
    sel.call(z);
    zoomRef.current = z;
    // A resized pane (e.g. the inspector opening below the map) keeps what was at its centre there.
    const was = paneSize.current;
    const v = viewRef.current;
    const kept = { k: v.k, x: v.x + (width - was.w) / 2, y: v.y + (height - was.h) / 2 };
    // A view that showed the whole grid (at the old size's fit) fits again: "whole file" stays whole.
    const wasFit = was.w > 0 && was.h > 0 && Math.abs(v.k - scaleExtent(grid, was.w, was.h)[0]) < 1e-6 * v.k;
    const keep = keepViewOnResize && fittedGrid.current === grid && !wasFit;
    const start = keep ? clampView(kept, grid, width, height) : fitView(grid, width, height);
    fittedGrid.current = grid;
    paneSize.current = { w: width, h: height };
    sel.call(z.transform, transformOf(start));
    return () => {
      sel.on('.zoom', null);
    };
  }, [canvasRef, viewRef, grid, width, height, onZoom, keepViewOnResize]);

  const setView = useCallback((view: View) => {
    const canvas = canvasRef.current;
    const z = zoomRef.current;
    if (!canvas || !z || !grid) return;
    select(canvas).call(z.transform, transformOf(clampView(view, grid, width, height)));
  }, [canvasRef, grid, width, height]);

  const fit = useCallback(() => {
    if (grid) asUser(byUser, () => setView(fitView(grid, width, height)));
  }, [setView, grid, width, height]);

  const zoomBy = useCallback((factor: number) => {
    const canvas = canvasRef.current;
    const z = zoomRef.current;
    if (canvas && z) asUser(byUser, () => select(canvas).call(z.scaleBy, factor));
  }, [canvasRef]);

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const canvas = canvasRef.current;
    const z = zoomRef.current;
    if (!canvas || !z) return;
    const action = zoomKeyAction(e.key, e.shiftKey, width, height);
    if (!action) return;
    const sel = select(canvas);
    if (action.kind === 'pan') {
      const k = viewRef.current.k;
      asUser(byUser, () => sel.call(z.translateBy, action.dx / k, action.dy / k));
    } else if (action.kind === 'zoom') asUser(byUser, () => sel.call(z.scaleBy, action.factor));
    else if (action.kind === 'fit') fit();
    else onSelectAt(width / 2, height / 2);
    e.preventDefault();
  };

  return { setView, zoomBy, fit, onKeyDown };
}
