// The guest map with its tools, as the map pane mounts it: a toolbar (zoom, fit, guest bytes per
// cell, what is highlighted), the map, and a legend of where the guest bytes live (exact byte counts
// from the map ranges). The caller owns the selection and what it links to on the host map.

import { useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import { GuestMap, type GuestMapHandle, type GuestMapProps } from './GuestMap';
import { GUEST_KIND_COUNT, GUEST_KIND_LABEL, guestTotals, NOT_MAPPED } from './guest-layout';
import { guestKindCss } from './guest-raster';
import { formatBytes } from '../format';
import { ZoomButtons } from './ZoomButtons';
import './map.css';

/** The map's own props (the panel passes them on), plus what the toolbar and note show. */
interface GuestMapPanelProps extends Omit<GuestMapProps, 'onUnit' | 'ref'> {
  /** What `marked` is, for the status line. */
  readonly markedLabel: string | null;
  /** A line under the toolbar: what the selection links to, or why the map is incomplete. */
  readonly note?: ReactNode;
  /** Controls placed at the end of the toolbar (e.g. the host / guest view switch). */
  readonly toolbarEnd?: ReactNode;
}

export function GuestMapPanel(props: GuestMapPanelProps) {
  const { markedLabel, note, toolbarEnd, ...mapProps } = props;
  const { ranges, size, flags } = mapProps;
  const mapRef = useRef<GuestMapHandle>(null);
  const [unit, setUnit] = useState<number | null>(null);
  const onUnit = useCallback((u: number) => setUnit(u), []);
  const totals = useMemo(() => guestTotals(ranges, size, flags), [ranges, size, flags]);
  return (
    <div className="cmap-panel gmap-panel" data-testid="guest-map-panel">
      <div className="cmap-toolbar">
        <ZoomButtons map={mapRef} fitTitle="Whole disk (0)" />
        <span className="cmap-status muted" aria-live="polite" data-testid="guest-map-status">
          {unit !== null ? `1 cell = ${formatBytes(unit)} of the ${formatBytes(size)} guest disk` : null}
          {markedLabel ? <span> · highlighting {markedLabel}</span> : null}
        </span>
        {toolbarEnd}
      </div>
      {note ? <div className="gmap-note">{note}</div> : null}
      <div className="cmap-body">
        <div className="cmap-main">
          <GuestMap ref={mapRef} {...mapProps} onUnit={onUnit} />
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
