// The cluster map with its tools, as the app mounts it: a toolbar (go to offset, zoom, fit, export
// PNG), the map, a minimap of the whole file (when the file is too big to show at full zoom), and the
// legend that filters the map by role. Holds only the legend filter and the visible window; the
// arrays and the selection come from the caller.

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ClusterMap, type ClusterMapHandle, type MapViewState } from './ClusterMap';
import { Legend, type LegendExtra } from './Legend';
import { Minimap } from './Minimap';
import { ZoomButtons } from './ZoomButtons';
import { formatBytes } from '../format';
import { MAX_CELL_PX, levelFor, parseOffset, scaleExtent } from './layout';
import { countRoles, type ClusterRange } from './lod';
import './map.css';

export interface ClusterMapPanelProps {
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
  /** Base name for the exported PNG. */
  readonly fileName?: string;
  /** Controls placed at the end of the toolbar (e.g. the host / guest view switch). */
  readonly toolbarEnd?: ReactNode;
  /** A view to move to once the map has drawn (e.g. from the URL); a new `seq` asks again. */
  readonly viewRequest?: { readonly zoom: number | null; readonly cluster: number | null; readonly seq: number } | null;
  /** Told the zoom (CSS px per cluster cell) whenever the view changes. */
  readonly onZoomChange?: (k: number) => void;
}

export function ClusterMapPanel(props: ClusterMapPanelProps) {
  const { roles, clusterSize, refcounts = null, selected, onSelect, describe, highlightRanges = null, highlightLabel, extras, fileName, toolbarEnd, viewRequest = null, onZoomChange } = props;
  const mapRef = useRef<ClusterMapHandle>(null);
  const [filter, setFilter] = useState<ReadonlySet<number>>(new Set());
  const [viewState, setViewState] = useState<MapViewState | null>(null);
  const [target, setTarget] = useState('');
  const [gotoError, setGotoError] = useState<string | null>(null);
  const counts = useMemo(() => countRoles(roles), [roles]);
  const highlight = useMemo(
    () => ({ roles: [...filter], ...(highlightRanges ? { ranges: highlightRanges } : {}) }),
    [filter, highlightRanges],
  );
  const zoomChange = useRef(onZoomChange);
  useEffect(() => {
    zoomChange.current = onZoomChange;
  }, [onZoomChange]);
  const onViewChange = useCallback((v: MapViewState) => {
    setViewState(v);
    zoomChange.current?.(v.view.k);
  }, []);
  // The requested view, applied once per request after the map has reported its first view.
  const applied = useRef<number | null>(null);
  const mapReady = viewState !== null;
  useEffect(() => {
    const m = mapRef.current;
    if (!viewRequest || !mapReady || !m || applied.current === viewRequest.seq) return;
    applied.current = viewRequest.seq;
    const { zoom, cluster } = viewRequest;
    if (cluster !== null && cluster < roles.length) m.centerOn(cluster, zoom ?? undefined);
    else if (zoom !== null && viewState) m.zoomBy(zoom / viewState.view.k);
  }, [viewRequest, mapReady, viewState, roles.length]);

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
    setGotoError(null);
    mapRef.current?.centerOn(cluster);
    onSelect(cluster);
  };

  const exportPng = () => {
    const base = (fileName ?? 'qcow2').replace(/\.[^.]*$/, '');
    void mapRef.current?.exportPng(`${base}-cluster-map.png`);
  };

  const scene = viewState ? mapRef.current?.scene() ?? null : null;
  const perPixel = viewState ? 4 ** levelFor(viewState.view.k * (window.devicePixelRatio || 1)) : 1;

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
            placeholder="0x30000"
            size={12}
            aria-invalid={gotoError !== null}
            aria-describedby={gotoError ? 'cmap-goto-error' : undefined}
            onChange={(e) => setTarget(e.target.value)}
          />
          <button type="submit">Go</button>
        </form>
        <ZoomButtons map={mapRef} fitTitle="Whole file (0)" />
        <button type="button" onClick={exportPng} data-testid="export-png">Export PNG</button>
        <span className="cmap-status muted" aria-live="polite">
          {gotoError ? <span id="cmap-goto-error" className="warn-text">{gotoError}</span> : perPixel > 1 ? `1 px ≈ ${perPixel} clusters` : null}
          {highlightRanges && highlightLabel ? <span> · highlighting {highlightLabel}</span> : null}
        </span>
        {toolbarEnd}
      </div>
      <div className="cmap-body">
        <div className="cmap-main">
          <ClusterMap
            ref={mapRef}
            roles={roles}
            clusterSize={clusterSize}
            refcounts={refcounts}
            highlight={highlight}
            selected={selected}
            onSelect={onSelect}
            {...(describe ? { describe } : {})}
            onViewChange={onViewChange}
          />
          {scene && viewState && scaleExtent(scene.grid, viewState.width, viewState.height)[0] < MAX_CELL_PX ? (
            <div className="cmap-minimap-box">
              <Minimap scene={scene} state={viewState} onNavigate={(c, r) => mapRef.current?.panTo(c, r)} />
            </div>
          ) : null}
        </div>
        <Legend counts={counts} clusterSize={clusterSize} active={filter} onChange={setFilter} {...(extras ? { extras } : {})} />
      </div>
    </div>
  );
}
