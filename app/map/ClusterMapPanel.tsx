// The cluster map with its tools, as the app mounts it: a toolbar (go to offset, zoom, fit, export
// PNG), the map, a minimap of the whole file (when the file is too big to show at full zoom), and the
// legend that filters the map by role. Holds only the legend filter and the visible window; the
// arrays and the selection come from the caller. A new legend filter or highlight brings what it
// shows into view (zoomed to fit). The toolbar is one line: its status slot has a fixed place and
// cuts long text; the go-to error clears on the next unrelated change.

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ClusterMap, type ClusterMapHandle, type MapViewState } from './ClusterMap';
import { Legend, shortLastCluster, type LegendExtra } from './Legend';
import { Minimap } from './Minimap';
import { ZoomButtons } from './ZoomButtons';
import { formatBytes } from '../format';
import { levelFor, parseOffset, scaleExtent } from './layout';
import { countRoles, countRolesOnce, type ClusterRange } from './lod';
import { freedFormerRoles } from './freed-view';
import { FreedLegend } from './FreedLegend';
import './map.css';

interface ClusterMapPanelProps {
  /** Role of every host cluster (app/format/roles.ts). */
  readonly roles: Uint8Array;
  readonly clusterSize: number;
  /** Stored refcount of every host cluster, for the tooltip. */
  readonly refcounts?: Uint16Array | Uint32Array | null;
  readonly selected: number | null;
  readonly onSelect: (cluster: number) => void;
  /** Owner line of the tooltip for one cluster. */
  readonly describe?: (cluster: number) => string;
  /** Clusters to highlight (e.g. a selected bitmap's); pass a stable (memoised) array. */
  readonly highlightRanges?: readonly ClusterRange[] | null;
  readonly highlightLabel?: string;
  /** Legend rows for things that own no cluster. */
  readonly extras?: readonly LegendExtra[];
  /** Base name for the exported PNG, and its caption. */
  readonly fileName?: string;
  /** The file's size in bytes, for the exported PNG's caption. */
  readonly fileSize?: number;
  /** Controls placed at the end of the toolbar (e.g. the host / guest view switch). */
  readonly toolbarEnd?: ReactNode;
  /** A view to move to once the map has drawn (e.g. from the URL); a new `seq` asks again. */
  readonly viewRequest?: { readonly zoom: number | null; readonly cluster: number | null; readonly seq: number } | null;
  /** Told the zoom (CSS px per cluster cell) whenever the view changes. */
  readonly onZoomChange?: (k: number, byUser: boolean) => void;
  /**
   * The "what freed clusters held" toggle (shown when given): while `on`, the map draws `roles`
   * (FREED_BASE + former role on free clusters, lod.ts) instead of the panel's roles.
   */
  readonly freedView?: { readonly on: boolean; readonly onChange: (on: boolean) => void; readonly roles: Uint8Array | null };
  /** Called after every draw of the complete map (its size known, its pyramid built). */
  readonly onDrawn?: () => void;
}

export function ClusterMapPanel(props: ClusterMapPanelProps) {
  const { roles, clusterSize, refcounts = null, selected, onSelect, describe, highlightRanges = null, highlightLabel, extras, fileName, fileSize, toolbarEnd, viewRequest = null, onZoomChange, freedView, onDrawn } = props;
  const drawn = freedView?.on && freedView.roles ? freedView.roles : roles;
  const former = useMemo(() => (drawn !== roles ? freedFormerRoles(drawn) : null), [drawn, roles]);
  const drawnCounts = useMemo(() => (drawn !== roles ? countRoles(drawn) : null), [drawn, roles]);
  const mapRef = useRef<ClusterMapHandle>(null);
  const [filter, setFilter] = useState<ReadonlySet<number>>(new Set());
  const [viewState, setViewState] = useState<MapViewState | null>(null);
  const [target, setTarget] = useState('');
  const [gotoError, setGotoError] = useState<string | null>(null);
  const counts = useMemo(() => countRolesOnce(roles), [roles]);
  const highlight = useMemo(
    () => ({ roles: [...filter], ...(highlightRanges ? { ranges: highlightRanges } : {}) }),
    [filter, highlightRanges],
  );
  const zoomChange = useRef(onZoomChange);
  const drawnRef = useRef(onDrawn);
  useEffect(() => {
    zoomChange.current = onZoomChange;
    drawnRef.current = onDrawn;
  }, [onZoomChange, onDrawn]);
  // The map reports its view after each draw of a complete scene.
  const onViewChange = useCallback((v: MapViewState) => {
    setViewState(v);
    zoomChange.current?.(v.view.k, v.byUser);
    drawnRef.current?.();
  }, []);
  // The requested view, applied once per request after the map has reported its first view.
  const applied = useRef<number | null>(null);
  const mapReady = viewState !== null;
  useEffect(() => {
    const m = mapRef.current;
    if (!viewRequest || !mapReady || !m || applied.current === viewRequest.seq) return;
    applied.current = viewRequest.seq;
    const { zoom, cluster } = viewRequest;
    // A zoom asked for is the zoom shown (Back/Forward restore it); a cluster alone is zoomed to.
    if (zoom !== null) m.zoomTo(zoom);
    if (cluster !== null && cluster < roles.length) m.centerOn(cluster, zoom ?? undefined);
  }, [viewRequest, mapReady, roles.length]);

  // What a new filter or highlight shows is brought into view; clearing either leaves the view.
  const fitShown = useRef({ filter, highlightRanges });
  useEffect(() => {
    const m = mapRef.current;
    const prev = fitShown.current;
    fitShown.current = { filter, highlightRanges };
    if (!m || !mapReady) return;
    let span: { first: number; last: number } | null = null;
    if (highlightRanges !== prev.highlightRanges && highlightRanges && highlightRanges.length > 0) span = rangesSpan(highlightRanges);
    else if (filter !== prev.filter && filter.size > 0) span = rolesSpan(roles, filter);
    if (span) m.fitClusters(span.first, span.last);
  }, [filter, highlightRanges, roles, mapReady]);

  // The go-to error belongs to what was typed: another selection, filter or highlight clears it.
  useEffect(() => {
    setGotoError(null);
  }, [selected, filter, highlightRanges]);

  const goto = (e: FormEvent) => {
    e.preventDefault();
    const off = parseOffset(target);
    if (off === null) {
      setGotoError('Type an offset: 0x30000, 196608 or 1.5G');
      return;
    }
    const cluster = Math.floor(off / clusterSize);
    if (cluster >= roles.length) {
      setGotoError(`Past the end of the file (${formatBytes(roles.length * clusterSize)})`);
      return;
    }
    mapRef.current?.centerOn(cluster);
    onSelect(cluster);
    setGotoError(null);
  };

  const exportPng = () => {
    const base = (fileName ?? 'qcow2').replace(/\.[^.]*$/, '');
    void mapRef.current?.exportPng(`${base}-cluster-map.png`, { fileName: fileName ?? 'qcow2 image', fileSize: fileSize ?? roles.length * clusterSize, clusterSize, counts });
  };

  const scene = viewState ? mapRef.current?.scene() ?? null : null;
  const perPixel = viewState ? 4 ** levelFor(viewState.view.k * (window.devicePixelRatio || 1)) : 1;
  const statusText = [perPixel > 1 ? `1 px ≈ ${perPixel} clusters` : '', highlightRanges && highlightLabel ? `highlighting ${highlightLabel}` : ''].filter(Boolean).join(' · ');
  // The minimap helps only when part of the file is out of view.
  const zoomedIn = scene && viewState ? viewState.view.k > scaleExtent(scene.grid, viewState.width, viewState.height)[0] * 1.05 : false;

  return (
    <div className="cmap-panel">
      <div className="cmap-toolbar">
        <form className="cmap-goto" onSubmit={goto}>
          <label htmlFor="cmap-goto-input">Go to offset</label>
          <input
            id="cmap-goto-input"
            data-testid="goto-offset"
            className="mono"
            value={target}
            placeholder="offset: 0x30000"
            size={12}
            aria-invalid={gotoError !== null}
            aria-describedby={gotoError ? 'cmap-goto-error' : undefined}
            onChange={(e) => {
              setTarget(e.target.value);
              setGotoError(null);
            }}
          />
          <button type="submit">Go</button>
        </form>
        <ZoomButtons map={mapRef} fitTitle="Whole file (0)" />
        <button type="button" onClick={exportPng} data-testid="export-png">Export PNG</button>
        {freedView ? (
          <label className="cmap-freed" title="What freed clusters held: each free cluster hatched in the colour of what it held before it was freed, at every zoom">
            <input type="checkbox" data-testid="freed-toggle" aria-label="what freed clusters held" checked={freedView.on} onChange={(e) => freedView.onChange(e.target.checked)} /> what freed held
          </label>
        ) : null}
        <span className="cmap-status muted" aria-live="polite" data-testid="map-status" title={statusText}>
          {gotoError ? <span id="cmap-goto-error" className="warn-text">{gotoError}</span> : statusText}
        </span>
        {toolbarEnd}
      </div>
      <div className="cmap-body">
        <div className="cmap-main">
          <ClusterMap
            ref={mapRef}
            roles={drawn}
            clusterSize={clusterSize}
            refcounts={refcounts}
            highlight={highlight}
            selected={selected}
            onSelect={onSelect}
            {...(describe ? { describe } : {})}
            onViewChange={onViewChange}
            freedFormer={former}
          />
          {scene && viewState && zoomedIn ? (
            <div className="cmap-minimap-box">
              <Minimap scene={scene} state={viewState} onNavigate={(c, r) => mapRef.current?.panTo(c, r)} />
            </div>
          ) : null}
        </div>
        <Legend counts={counts} clusterSize={clusterSize} active={filter} onChange={setFilter} {...(extras ? { extras } : {})} shortLast={fileSize === undefined ? null : shortLastCluster(roles, clusterSize, fileSize)} after={drawnCounts ? <FreedLegend counts={drawnCounts} clusterSize={clusterSize} /> : null} />
      </div>
    </div>
  );
}

/** First and last cluster of a set of ranges [start, end). */
function rangesSpan(ranges: readonly ClusterRange[]): { first: number; last: number } | null {
  let first = Infinity;
  let last = -1;
  for (const r of ranges) {
    if (r.end <= r.start) continue;
    first = Math.min(first, r.start);
    last = Math.max(last, r.end - 1);
  }
  return last >= 0 ? { first, last } : null;
}

/** First and last cluster whose role is in `set`. */
function rolesSpan(roles: Uint8Array, set: ReadonlySet<number>): { first: number; last: number } | null {
  const on = new Uint8Array(256);
  for (const r of set) on[r] = 1;
  let first = 0;
  while (first < roles.length && !on[roles[first]!]) first++;
  if (first === roles.length) return null;
  let last = roles.length - 1;
  while (last > first && !on[roles[last]!]) last--;
  return { first, last };
}
