// The guest map with its tools, as the map pane mounts it: a toolbar (go to a guest offset, zoom,
// fit, guest bytes per cell, what is highlighted), the map, and a legend of where the guest bytes
// live (exact byte counts from the map ranges; a colour per backing layer, named by its file). The
// caller owns the selection and what it links to on the host map.

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { GuestMap, type GuestMapHandle, type GuestMapProps } from './GuestMap';
import { codeLabel, codesInOrder, guestTotals, NOT_MAPPED } from './guest-layout';
import { guestKindCss } from './guest-raster';
import { formatBytes } from '../format';
import { parseOffset } from './layout';
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
  /** False while the panel is mounted but hidden: nothing is laid out until it is first shown. */
  readonly shown?: boolean;
  /** "Go to guest offset": selects the cell there (default: as a click does). */
  readonly onGoto?: (span: { start: number; end: number }) => void;
  /** A picked span to bring into view, changed with `seq`. */
  readonly showPick?: { readonly span: { readonly start: number; readonly end: number }; readonly seq: number } | null;
}

/** Cell side the map zooms to for "go to offset". */
const GOTO_CELL_PX = 16;

export function GuestMapPanel(props: GuestMapPanelProps) {
  const { markedLabel, note, toolbarEnd, showPick = null, onGoto, shown = true, ...mapProps } = props;
  const { ranges, size, flags, onSelect, selected } = mapProps;
  const mapRef = useRef<GuestMapHandle>(null);
  const [unit, setUnit] = useState<number | null>(null);
  const [blockBytes, setBlockBytes] = useState<number | null>(null);
  const [target, setTarget] = useState('');
  const [gotoError, setGotoError] = useState<string | null>(null);
  const onUnit = useCallback((u: number) => setUnit(u), []);
  const totals = useMemo(() => guestTotals(ranges, size, flags), [ranges, size, flags]);
  useEffect(() => {
    setGotoError(null);
  }, [selected]);

  const goto = (e: FormEvent) => {
    e.preventDefault();
    const off = parseOffset(target);
    const u = mapRef.current?.unit() ?? null;
    if (off === null || u === null) {
      setGotoError('Type a guest offset: 0x30000, 196608 or 1.5G');
      return;
    }
    if (off >= size) {
      setGotoError(`Past the end of the disk (${formatBytes(size)})`);
      return;
    }
    const start = Math.floor(off / u) * u;
    const span = { start, end: Math.min(size, start + u) };
    mapRef.current?.showSpan(span, GOTO_CELL_PX);
    (onGoto ?? onSelect)(span);
    setGotoError(null);
  };

  const scale = unit === null ? '' : blockBytes !== null
    ? `1 block = ${formatBytes(blockBytes)} (${blockBytes / unit} cells of ${formatBytes(unit)}) of the ${formatBytes(size)} guest disk; zoom in for cells`
    : `1 cell = ${formatBytes(unit)} of the ${formatBytes(size)} guest disk`;
  const status = [scale, markedLabel ? `highlighting ${markedLabel}` : ''].filter(Boolean).join(' · ');
  return (
    <div className="cmap-panel gmap-panel" data-testid="guest-map-panel">
      <div className="cmap-toolbar">
        <form className="cmap-goto" onSubmit={goto}>
          <label htmlFor="gmap-goto-input">Go to guest offset</label>
          <input
            id="gmap-goto-input"
            data-testid="guest-goto"
            className="mono"
            value={target}
            placeholder="0x30000, 1G"
            size={12}
            aria-invalid={gotoError !== null}
            aria-describedby={gotoError ? 'gmap-goto-error' : undefined}
            onChange={(e) => {
              setTarget(e.target.value);
              setGotoError(null);
            }}
          />
          <button type="submit">Go</button>
        </form>
        <ZoomButtons map={mapRef} fitTitle="Whole disk (0)" />
        <span className="cmap-status muted" aria-live="polite" data-testid="guest-map-status" title={status}>
          {gotoError ? <span id="gmap-goto-error" className="warn-text">{gotoError}</span> : status}
        </span>
        {toolbarEnd}
      </div>
      {note ? <div className="gmap-note">{note}</div> : null}
      <div className="cmap-body">
        <div className="cmap-main">
          {shown || unit !== null ? <GuestMap ref={mapRef} {...mapProps} focusSpan={showPick} onUnit={onUnit} onBlockBytes={setBlockBytes} /> : null}
        </div>
        <div className="cmap-legend" aria-label="Guest map legend">
          <div className="cmap-legend-head"><span>Guest bytes ({formatBytes(size)})</span></div>
          <ul>
            {codesInOrder().filter((k) => totals.bytes[k]! > 0).map((k) => (
              <li key={k}>
                <div className="cmap-legend-row extra-plain" data-testid={`guest-legend-${k}`} data-bytes={totals.bytes[k]}>
                  <span className="cmap-swatch" style={{ background: guestKindCss(k) }} aria-hidden="true" />
                  <span className="cmap-legend-label">{codeLabel(k, flags)}</span>
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
