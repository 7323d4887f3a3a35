// Bitmap lanes on one guest-offset axis (canvas, d3-scale): one row per map of extents computed in
// the worker. Level of detail per pixel column: the column takes the most important type of any
// extent touching it (dirty over clean), so a lone dirty extent of one granule stays visible on a
// 1 TiB disk. Wheel zooms around the pointer, drag pans, buttons zoom in, out and to the whole disk,
// double-click resets; hover names the extent under the pointer with its range and bytes. With
// `link`, the range in view follows and leads the guest map's (guest-view.ts), a click on an extent
// picks its guest range (shown on the guest map, its host clusters on the host map) and the picked
// range is outlined.

import { scaleLinear } from 'd3';
import { useCallback, useEffect, useRef, useState } from 'react';
import { setGuestRange, useGuestView } from '../state/guest-view';
import type { CompactExtents } from '../worker/bitmap-maps';
import { formatBytes, formatCount, hex } from './format';
import { laneColumns, extentAt, type LaneStyle } from './bitmap-lanes-draw';

export interface Lane {
  readonly key: string;
  readonly label: string;
  readonly extents: CompactExtents;
  readonly style: LaneStyle;
}

const ROW = 22;
const AXIS = 18;
const MIN_SPAN = 4096;
/** The lane itself (clean ranges): faint on both themes. */
const LANE_BG = 'rgba(127, 127, 127, 0.16)';

/** Ticks at multiples of a power of two (offsets people recognise: 4 MiB, not 4.77 MiB). */
function binaryTicks(from: number, to: number, count: number): number[] {
  const step = 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(1, (to - from) / count))));
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to && out.length <= count; t += step) out.push(t);
  return out;
}

interface Hover {
  readonly x: number;
  readonly y: number;
  readonly text: string;
}

/** Ties the lanes to the guest map of one file: its scope (guest-view.ts) and what a click picks. */
export interface LaneLink {
  readonly scope: string;
  readonly onPick: (span: { start: number; end: number }) => void;
}

type Span = readonly [number, number];

/** A view of `span` bytes around `at` (kept at `f` of the width), clamped to [0, size]. */
function around(at: number, f: number, span: number, size: number): Span {
  const next = Math.min(size, Math.max(MIN_SPAN, span));
  const start = Math.min(size - next, Math.max(0, at - f * next));
  return [start, start + next];
}

/** Pointer travel (px) under which a press and release is a click, not a drag. */
const CLICK_SLOP = 3;

export function BitmapLanes({ lanes, size, link }: { lanes: readonly Lane[]; size: number; link?: LaneLink }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const scope = link?.scope ?? null;
  // The linked guest range (set by the guest map or by these lanes), when it is this file's.
  const linked = useGuestView((s) => (scope !== null && s.range?.scope === scope ? s.range : null));
  const picked = useGuestView((s) => (scope !== null && s.picked?.scope === scope ? s.picked.span : null));
  const clamp = useCallback((v: Span): Span => {
    const a = Math.max(0, Math.min(size - MIN_SPAN, v[0]));
    return [a, Math.min(size, Math.max(a + Math.min(size, MIN_SPAN), v[1]))];
  }, [size]);
  const [view, setViewState] = useState<Span>(() => (linked ? clamp([linked.span.start, linked.span.end]) : [0, size]));
  const [hover, setHover] = useState<Hover | null>(null);
  const drag = useRef<{ x: number; moved: boolean; view: Span } | null>(null);
  // A change the person made: shown here and told to the guest map.
  const setView = useCallback((next: Span | ((v: Span) => Span)) => {
    setViewState((v) => {
      const n = clamp(typeof next === 'function' ? next(v) : next);
      if (scope !== null) queueMicrotask(() => setGuestRange(scope, { start: n[0], end: n[1] }, 'lanes'));
      return n;
    });
  }, [clamp, scope]);
  const seenSize = useRef(size);
  useEffect(() => {
    if (seenSize.current === size) return;
    seenSize.current = size;
    setViewState([0, size]);
  }, [size]);
  // Follow the guest map.
  useEffect(() => {
    if (linked && linked.source !== 'lanes') setViewState(clamp([linked.span.start, linked.span.end]));
  }, [linked, clamp]);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(100, Math.floor(c.clientWidth))));
    ro.observe(c);
    return () => ro.disconnect();
  }, []);

  const height = AXIS + lanes.length * ROW;
  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const muted = getComputedStyle(c).getPropertyValue('--muted').trim() || '#888';
    const x = scaleLinear().domain(view).range([0, width]);
    ctx.fillStyle = muted;
    ctx.strokeStyle = muted;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    const ticks = binaryTicks(view[0], view[1], Math.max(2, Math.floor(width / 110)));
    // Zoomed far in, sizes round to the same words ("2 GiB" twice): offsets are shown in hex then.
    const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : view[1] - view[0];
    for (const t of ticks) {
      const px = Math.round(x(t)) + 0.5;
      ctx.globalAlpha = 0.35;
      ctx.beginPath();
      ctx.moveTo(px, AXIS - 4);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.globalAlpha = 1;
      const label = step * 64 < t ? hex(t) : formatBytes(t);
      ctx.fillText(label, Math.min(Math.max(0, px - ctx.measureText(label).width / 2), width - ctx.measureText(label).width), 2);
    }
    lanes.forEach((lane, row) => {
      const cols = laneColumns(lane.extents, view[0], view[1], width, lane.style.priority);
      const y = AXIS + row * ROW + 3;
      ctx.fillStyle = LANE_BG;
      ctx.fillRect(0, y, width, ROW - 6);
      for (let p = 0; p < width;) {
        const t = cols[p]!;
        let q = p + 1;
        while (q < width && cols[q] === t) q++;
        const color = t >= 0 ? lane.style.colors[t] ?? '#888' : '';
        if (color) {
          ctx.fillStyle = color;
          ctx.fillRect(p, y, q - p, ROW - 6);
        }
        p = q;
      }
    });
    if (picked && picked.end > view[0] && picked.start < view[1]) {
      const x0 = Math.max(0, x(picked.start));
      const x1 = Math.min(width, Math.max(x0 + 2, x(picked.end)));
      ctx.strokeStyle = getComputedStyle(c).getPropertyValue('--text').trim() || '#000';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(x0 + 0.75, AXIS - 1, x1 - x0 - 1.5, height - AXIS);
    }
  }, [lanes, view, width, height, picked]);

  const onWheel = useCallback((e: React.WheelEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const f = (e.clientX - rect.left) / rect.width;
    setView(([a, b]) => around(a + f * (b - a), f, (b - a) * (e.deltaY < 0 ? 0.8 : 1.25), size));
  }, [size, setView]);

  const onMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const d = drag.current;
    if (d && (d.moved || Math.abs(d.x - mx) >= CLICK_SLOP)) {
      d.moved = true;
      const span = d.view[1] - d.view[0];
      const shift = ((d.x - mx) / rect.width) * span;
      const start = Math.min(size - span, Math.max(0, d.view[0] + shift));
      setView([start, start + span]);
      return;
    }
    const found = hitAt(e);
    if (!found) return setHover(null);
    const { lane, hit } = found;
    const what = lane.style.names[hit.type] ?? `type ${hit.type}`;
    setHover({
      x: mx, y: e.clientY - rect.top,
      text: `${lane.label}: ${what}, ${hex(hit.start)}–${hex(hit.end)} (${formatBytes(hit.end - hit.start)}, ${formatCount(hit.end - hit.start)} bytes)`,
    });
  };

  /** The lane and the extent under the pointer (the most important one in its pixel column). */
  const hitAt = (e: React.PointerEvent<HTMLCanvasElement>) => {
    // Pixel columns of the drawing, inside the canvas's border.
    const c = e.currentTarget;
    const rect = c.getBoundingClientRect();
    const mx = Math.max(0, Math.min(c.clientWidth - 1, e.clientX - rect.left - c.clientLeft));
    const lane = lanes[Math.floor((e.clientY - rect.top - c.clientTop - AXIS) / ROW)];
    if (!lane) return null;
    const span = view[1] - view[0];
    const from = view[0] + (Math.floor(mx) / c.clientWidth) * span;
    const to = view[0] + ((Math.floor(mx) + 1) / c.clientWidth) * span;
    const hit = extentAt(lane.extents, from, to, lane.style.priority);
    return hit ? { lane, hit } : null;
  };
  const onUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.moved || !link) return;
    const found = hitAt(e);
    // Only what the lane draws is picked (a clean stretch is the lane's background).
    if (found && found.lane.style.colors[found.hit.type]) link.onPick({ start: found.hit.start, end: Math.min(size, found.hit.end) });
  };
  const zoomAtCentre = (factor: number) => setView(([a, b]) => around((a + b) / 2, 0.5, (b - a) * factor, size));

  return (
    <div className="bitmap-lanes">
      <div className="lane-labels" style={{ paddingTop: AXIS }}>
        {lanes.map((l) => (
          <div key={l.key} className="lane-label" style={{ height: ROW }} title={l.label}>{l.label}</div>
        ))}
      </div>
      <div className="lane-canvas">
        <canvas
          ref={canvas}
          style={{ height }}
          role="img"
          aria-label={`${lanes.length} lanes over guest offsets ${formatBytes(view[0])} to ${formatBytes(view[1])}`}
          data-view={`${view[0]},${view[1]}`}
          onWheel={onWheel}
          onPointerDown={(e) => {
            drag.current = { x: e.clientX - e.currentTarget.getBoundingClientRect().left, moved: false, view };
            e.currentTarget.setPointerCapture(e.pointerId);
          }}
          onPointerUp={onUp}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
          onDoubleClick={() => setView([0, size])}
        />
        {hover && (
          <div className="lane-tip" role="tooltip" style={{ left: Math.min(hover.x + 12, width - 260), top: hover.y + 12 }}>{hover.text}</div>
        )}
        <div className="lane-zoom">
          <button type="button" className="btn small" onClick={() => zoomAtCentre(0.5)}>Zoom in</button>
          <button type="button" className="btn small" onClick={() => zoomAtCentre(2)}>Zoom out</button>
          <button type="button" className="btn small" onClick={() => setView([0, size])}>Whole disk</button>
          <span className="muted lane-range" data-testid="lane-range">{hex(view[0])} – {hex(view[1])} ({formatBytes(view[1] - view[0])}){link ? ' · click an extent to select it on the guest disk' : ''}</span>
        </div>
      </div>
    </div>
  );
}
