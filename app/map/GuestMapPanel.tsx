// The guest map with its tools, as the map pane mounts it: a toolbar (zoom, fit, guest bytes per
// cell, what is highlighted), the map, and a legend of where the guest bytes live (exact byte counts
// from the map ranges). The caller owns the selection and what it links to on the host map.

import { useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import type { MapRange } from '../format';
import { GuestMap, type GuestMapHandle } from './GuestMap';
import { GUEST_KIND_COUNT, GUEST_KIND_LABEL, guestTotals, NOT_MAPPED, type GuestImageFlags } from './guest-layout';
import type { GuestSpan } from './guest-link';
import { guestKindCss } from './guest-raster';
import { formatBytes } from './layout';
import './map.css';

export interface GuestMapPanelProps {
  readonly ranges: readonly MapRange[];
  readonly size: number;
  readonly granule: number;
  readonly clusterSize: number;
  readonly flags: GuestImageFlags;
  readonly marked: readonly GuestSpan[] | null;
  /** What `marked` is, for the status line. */
  readonly markedLabel: string | null;
  readonly selected: GuestSpan | null;
  readonly onSelect: (span: GuestSpan) => void;
  /** A line under the toolbar: what the selection links to, or why the map is incomplete. */
  readonly note?: ReactNode;
  /** Controls placed at the end of the toolbar (e.g. the host / guest view switch). */
  readonly toolbarEnd?: ReactNode;
}

export function GuestMapPanel(props: GuestMapPanelProps) {
  const { ranges, size, granule, clusterSize, flags, marked, markedLabel, selected, onSelect, note, toolbarEnd } = props;
  const mapRef = useRef<GuestMapHandle>(null);
  const [unit, setUnit] = useState<number | null>(null);
  const onUnit = useCallback((u: number) => setUnit(u), []);
  const totals = useMemo(() => guestTotals(ranges, size, flags), [ranges, size, flags]);
  return (
    <div className="cmap-panel gmap-panel" data-testid="guest-map-panel">
      <div className="cmap-toolbar">
        <div className="cmap-zoom" role="group" aria-label="Zoom">
          <button type="button" onClick={() => mapRef.current?.zoomBy(0.5)} aria-label="Zoom out" title="Zoom out (−)">−</button>
          <button type="button" onClick={() => mapRef.current?.zoomBy(2)} aria-label="Zoom in" title="Zoom in (+)">+</button>
          <button type="button" onClick={() => mapRef.current?.reset()} title="Whole disk (0)">Fit</button>
        </div>
        <span className="cmap-status muted" aria-live="polite" data-testid="guest-map-status">
          {unit !== null ? `1 cell = ${formatBytes(unit)} of the ${formatBytes(size)} guest disk` : null}
          {markedLabel ? <span> · highlighting {markedLabel}</span> : null}
        </span>
        {toolbarEnd}
      </div>
      {note ? <div className="gmap-note">{note}</div> : null}
      <div className="cmap-body">
        <div className="cmap-main">
          <GuestMap
            ref={mapRef}
            ranges={ranges}
            size={size}
            granule={granule}
            clusterSize={clusterSize}
            flags={flags}
            marked={marked}
            selected={selected}
            onSelect={onSelect}
            onUnit={onUnit}
          />
        </div>
        <div className="cmap-legend" aria-label="Guest map legend">
          <div className="cmap-legend-head"><span>Guest bytes ({formatBytes(size)})</span></div>
          <ul>
            {Array.from({ length: GUEST_KIND_COUNT }, (_, k) => k).filter((k) => totals.bytes[k]! > 0).map((k) => (
              <li key={k}>
                <div className="cmap-legend-row extra-plain" data-testid={`guest-legend-${k}`} data-bytes={totals.bytes[k]}>
                  <span className="cmap-swatch" style={{ background: guestKindCss(k) }} aria-hidden="true" />
                  <span className="cmap-legend-label">{GUEST_KIND_LABEL[k]}</span>
                  <span className="cmap-legend-num mono">{formatBytes(totals.bytes[k]!)}</span>
                </div>
              </li>
            ))}
            {totals.unmapped > 0 ? (
              <li>
                <div className="cmap-legend-row extra-plain" data-testid="guest-legend-unmapped">
                  <span className="cmap-swatch" style={{ background: guestKindCss(NOT_MAPPED) }} aria-hidden="true" />
                  <span className="cmap-legend-label">not mapped (the map stopped early)</span>
                  <span className="cmap-legend-num mono">{formatBytes(totals.unmapped)}</span>
                </div>
              </li>
            ) : null}
          </ul>
        </div>
      </div>
    </div>
  );
}
