// Bitmap lanes on one guest-offset axis (canvas, d3-scale): one row per map of extents computed in
// the worker. Level of detail per pixel column: the column takes the most important type of any
// extent touching it (dirty over clean), so a lone dirty extent of one granule stays visible on a
// 1 TiB disk. Wheel zooms around the pointer, drag pans, double-click resets; hover names the
// extent under the pointer with its range and bytes.

import { scaleLinear } from 'd3';
import { useCallback, useEffect, useRef, useState } from 'react';
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

export function BitmapLanes({ lanes, size }: { lanes: readonly Lane[]; size: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const [view, setView] = useState<readonly [number, number]>([0, size]);
  const [hover, setHover] = useState<Hover | null>(null);
  const drag = useRef<{ x: number; view: readonly [number, number] } | null>(null);
  useEffect(() => setView([0, size]), [size]);

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
    for (const t of binaryTicks(view[0], view[1], Math.max(2, Math.floor(width / 110)))) {
      const px = Math.round(x(t)) + 0.5;
      ctx.globalAlpha = 0.35;
      ctx.beginPath();
      ctx.moveTo(px, AXIS - 4);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.globalAlpha = 1;
      const label = formatBytes(t);
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
  }, [lanes, view, width, height]);

  const onWheel = useCallback((e: React.WheelEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const f = (e.clientX - rect.left) / rect.width;
    setView(([a, b]) => {
      const span = b - a;
      const next = Math.min(size, Math.max(MIN_SPAN, span * (e.deltaY < 0 ? 0.8 : 1.25)));
      const at = a + f * span;
      const start = Math.min(size - next, Math.max(0, at - f * next));
      return [start, start + next];
    });
  }, [size]);

  const onMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const d = drag.current;
    if (d) {
      const span = d.view[1] - d.view[0];
      const shift = ((d.x - mx) / rect.width) * span;
      const start = Math.min(size - span, Math.max(0, d.view[0] + shift));
      setView([start, start + span]);
      return;
    }
    const row = Math.floor((e.clientY - rect.top - AXIS) / ROW);
    const lane = lanes[row];
    if (!lane) return setHover(null);
    const span = view[1] - view[0];
    const from = view[0] + (mx / rect.width) * span;
    const to = view[0] + ((mx + 1) / rect.width) * span;
    const hit = extentAt(lane.extents, from, to, lane.style.priority);
    if (!hit) return setHover(null);
    const what = lane.style.names[hit.type] ?? `type ${hit.type}`;
    setHover({
      x: mx, y: e.clientY - rect.top,
      text: `${lane.label}: ${what}, ${hex(hit.start)}–${hex(hit.end)} (${formatBytes(hit.end - hit.start)}, ${formatCount(hit.end - hit.start)} bytes)`,
    });
  };

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
            drag.current = { x: e.clientX - e.currentTarget.getBoundingClientRect().left, view };
            e.currentTarget.setPointerCapture(e.pointerId);
          }}
          onPointerUp={() => (drag.current = null)}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
          onDoubleClick={() => setView([0, size])}
        />
        {hover && (
          <div className="lane-tip" role="tooltip" style={{ left: Math.min(hover.x + 12, width - 260), top: hover.y + 12 }}>{hover.text}</div>
        )}
        <div className="lane-zoom">
          <button type="button" className="btn small" onClick={() => setView(([a, b]) => {
            const m = (a + b) / 2;
            const s = Math.max(MIN_SPAN, (b - a) / 2);
            const start = Math.min(size - s, Math.max(0, m - s / 2));
            return [start, start + s];
          })}>Zoom in</button>
          <button type="button" className="btn small" onClick={() => setView([0, size])}>Whole disk</button>
        </div>
      </div>
    </div>
  );
}
