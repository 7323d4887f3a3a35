// The early cluster map: every host cluster drawn as in use or free from the refcount blocks alone,
// shown while the L2 tables are still being read (the full map, with owners, replaces it). One
// canvas, drawn once per size; a caption and a two-row legend with exact counts. It is mounted as
// soon as the header is known, before the summary (`usage` null): the pane is laid out, the canvas
// sized, its first drawing made (a fresh canvas's first draw allocates its surface, 10–50 ms here)
// and the pixels' buffer allocated while the worker reads the refcount blocks, so that the
// summary's arrival costs only its raster and one putImageData: the legend keeps its rows before
// the summary, so the canvas keeps its size (a new size is a new surface). A later resize (the
// progress bar leaving as the roles arrive, a window resized) stretches the drawn canvas at once
// and redraws it only once the size has held for REDRAW_AFTER_MS: the owners' map, which replaces
// this one a task after the roles, usually comes first, and the 50–70 ms redraw never happens.
// While the L2 tables are read, owner summaries (`owners`, check/usage.ts) refine it: each redraws
// the map at its size with the cells whose clusters have been claimed in their owner's colour,
// and the legend's third row (there from the start: the box keeps its size) names those owners.

import { useLayoutEffect, useMemo, useRef } from 'react';
import type { ClusterUsage, OwnerSummary, RoleId } from '../format';
import { formatCount, ROLE_INFO } from '../format';
import { ROLE_COLOR } from './palette';
import { rasterUsage } from './usage-raster';
import { PRIORITY } from './lod';
import { observeClientSize } from './canvas-pane';

const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const FREE = rgb(ROLE_COLOR[0] ?? '#f7f7f7');
/** In use, owner not known yet: a neutral slate, apart from every owner's hue. */
export const IN_USE_COLOR = '#5d6b7a';
const USED = rgb(IN_USE_COLOR);
const BG = rgb('#1b1f24');
/** The background as one RGBA word (little-endian, as ImageData's bytes read through a Uint32Array). */
const BG_WORD = (0xff << 24 | BG[2]! << 16 | BG[1]! << 8 | BG[0]!) >>> 0;
/** How long a new size must hold before the map is redrawn at it (stretched by CSS meanwhile). */
const REDRAW_AFTER_MS = 150;
/** Longest slice of the pixels' first touch while readying the canvas. */
const TOUCH_SLICE_MS = 8;

/** The roles of a mask (bit r: role id r), in the order the owners' map puts them first. */
function claimedRoles(all: number): number[] {
  const roles: number[] = [];
  for (let r = 1; r < 32; r++) if (all & (1 << r)) roles.push(r);
  return roles.sort((a, b) => PRIORITY.indexOf(b as RoleId) - PRIORITY.indexOf(a as RoleId));
}

export function UsageMap({ usage, owners = null, onDrawn }: { usage: ClusterUsage | null; owners?: OwnerSummary | null; onDrawn?: () => void }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  /** The canvas's pixels (kept per size, reused by the next draw). */
  const imgRef = useRef<ImageData | null>(null);
  /** What the pixels hold: the owner summary drawn (its `done`; -1 for none) at a size. */
  const heldRef = useRef<{ done: number; size: string } | null>(null);
  // Drawn in a layout effect, as the summary arrives (the size read there, one layout in the usage
  // message's task, which the next frame would make anyway), so the map is in the frame that follows
  // the message rather than one after the size observer's first callback; the observer then redraws
  // on a resize (once per size), not through state: no second render.
  useLayoutEffect(() => {
    const box = boxRef.current;
    const canvas = canvasRef.current;
    if (!box || !canvas) return;
    let drawnAt = '';
    const draw = (cw: number, ch: number) => {
      const w = Math.max(1, Math.floor(cw));
      const h = Math.max(1, Math.floor(ch));
      if (`${w}x${h}` === drawnAt) return;
      drawnAt = `${w}x${h}`;
      // Setting a canvas's size clears it (and drops its surface) even when unchanged.
      if (canvas.width !== w) canvas.width = w;
      if (canvas.height !== h) canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      let img = imgRef.current;
      if (!img || img.width !== w || img.height !== h) img = imgRef.current = ctx.createImageData(w, h);
      const pixels = new Uint32Array(img.data.buffer, img.data.byteOffset, w * h);
      if (!usage) return;
      // An owner summary whose predecessor these pixels hold repaints only the cells it changed.
      const held = heldRef.current;
      const only = owners && held && held.done === owners.after && held.size === drawnAt ? { from: owners.from, to: owners.to } : null;
      const r = rasterUsage(usage, pixels, w, h, FREE, USED, BG, owners?.masks ?? null, only);
      if (only) ctx.putImageData(img, 0, 0, 0, r.rows.from, w, r.rows.to - r.rows.from);
      else ctx.putImageData(img, 0, 0);
      heldRef.current = { done: owners?.done ?? -1, size: drawnAt };
      if (!only) canvas.dataset.clustersDrawn = String(r.clustersDrawn);
      // Cells painted by this draw, and how many L2 tables had been read (e2e/early-map.spec.ts).
      canvas.dataset.cellsPainted = String(r.cellsPainted);
      if (owners) canvas.dataset.ownersDone = String(owners.done);
      // How many times the summary was rastered (bounded work, read by e2e/early-map.spec.ts).
      canvas.dataset.draws = String(Number(canvas.dataset.draws ?? 0) + 1);
      onDrawn?.();
    };
    const measured = () => {
      // A box not laid out yet (hidden, or no size): the observer draws once it has one.
      if (box.clientWidth > 0 && box.clientHeight > 0) draw(box.clientWidth, box.clientHeight);
    };
    if (usage) {
      // The summary is drawn in this task (see above); an owner summary refining it in the next
      // frame, apart from the render its message caused: two tasks of 10–25 ms, not one near 50.
      const frame = owners ? requestAnimationFrame(measured) : 0;
      if (!owners) measured();
      let timer = 0;
      const stop = observeClientSize(box, (w, h) => {
        clearTimeout(timer);
        // The observer's first call reports the size just drawn; a box that had no size then is drawn now.
        if (w <= 0 || h <= 0 || `${Math.floor(w)}x${Math.floor(h)}` === drawnAt) return;
        if (drawnAt === '') draw(w, h);
        else timer = window.setTimeout(() => draw(w, h), REDRAW_AFTER_MS);
      });
      return () => {
        cancelAnimationFrame(frame);
        clearTimeout(timer);
        stop();
      };
    }
    // Before the summary the canvas is readied once the page is idle, not in the header's task
    // (the header on screen first), and not on resizes (the summary's draw sizes it again), in a few
    // idle tasks of at most 10–25 ms each rather than one over 50 ms: the canvas sized and its surface made by
    // filling it with the background, and the pixels' buffer made; then its pages touched in bands
    // (a fresh 2–3 MB buffer's first fill costs 10–20 ms of page faults here, more when slow).
    const idle = typeof requestIdleCallback === 'function';
    let id = 0;
    const later = (f: (d?: IdleDeadline) => void) => (id = idle ? requestIdleCallback(f, { timeout: 200 }) : window.setTimeout(f, 50));
    later(() => {
      const w = Math.floor(box.clientWidth);
      const h = Math.floor(box.clientHeight);
      const ctx = w > 0 && h > 0 ? canvas.getContext('2d') : null;
      if (!ctx) return;
      canvas.width = w;
      canvas.height = h;
      ctx.fillStyle = `rgb(${BG.join(',')})`;
      ctx.fillRect(0, 0, w, h);
      // The pixels' pages touched a band of rows at a time, within the idle time given (a slow
      // moment of this VM made one whole fill a 77 ms task).
      const img = (imgRef.current = ctx.createImageData(w, h));
      const pixels = new Uint32Array(img.data.buffer, img.data.byteOffset, w * h);
      let row = 0;
      const touch = (d?: IdleDeadline) => {
        const until = performance.now() + TOUCH_SLICE_MS;
        do {
          pixels.fill(BG_WORD, row * w, Math.min(h, row + 32) * w);
          row += 32;
        } while (row < h && performance.now() < until && (!d || d.timeRemaining() > 1));
        if (row < h) later(touch);
      };
      later(touch);
    });
    return () => (idle ? cancelIdleCallback(id) : clearTimeout(id));
  }, [usage, owners, onDrawn]);
  // Counted by the worker's tally as it counted the buckets: no pass over them here.
  const inUse = usage?.inUse ?? 0;
  const known = useMemo(() => (owners ? claimedRoles(owners.roles) : []), [owners]);
  return (
    <div className="usage-map" data-testid="usage-map">
      <div className="usage-map-caption" role="status">
        {usage ? 'In use or free, from the refcount blocks; owners are drawn in as the L2 tables are read…' : 'Reading the refcount blocks: which clusters are in use…'}
      </div>
      <div className="usage-map-box" ref={boxRef}>
        <canvas ref={canvasRef} data-testid="usage-canvas" {...(usage ? { 'aria-label': `Early cluster map: ${formatCount(inUse)} of ${formatCount(usage.clusters)} clusters in use` } : {})} />
      </div>
      {/* Its rows are there before the summary too (counts to come): the box keeps its size. */}
      <ul className="usage-map-legend">
        <li><span className="swatch" style={{ background: IN_USE_COLOR }} />in use (owner being read): {usage ? formatCount(inUse) : '…'}</li>
        <li><span className="swatch" style={{ background: ROLE_COLOR[0] }} />free (refcount 0): {usage ? formatCount(usage.clusters - inUse) : '…'}</li>
      </ul>
      {/* One line from the start (owners or not), so the box keeps its size as they come. */}
      <p className="usage-map-owners" data-testid="usage-owners">
        {owners && known.length > 0 ? (
          <>
            {formatCount(owners.done)} of {formatCount(owners.total)} L2 tables read:
            {known.map((r) => (
              <span key={r} className="usage-owner"><span className="swatch" style={{ background: ROLE_COLOR[r] }} />{ROLE_INFO.find((x) => x.id === r)?.label ?? `role ${r}`}</span>
            ))}
          </>
        ) : 'Owners: drawn in as the L2 tables are read.'}
      </p>
    </div>
  );
}
