// The early cluster map: every host cluster drawn as in use or free from the refcount blocks alone,
// shown while the L2 tables are still being read (the full map, with owners, replaces it). One
// canvas, drawn once per size; a caption and a two-row legend with exact counts.

import { useEffect, useMemo, useRef } from 'react';
import type { ClusterUsage } from '../format';
import { formatCount } from '../format';
import { ROLE_COLOR } from './palette';
import { rasterUsage } from './usage-raster';
import { observeClientSize } from './canvas-pane';

const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const FREE = rgb(ROLE_COLOR[0] ?? '#f7f7f7');
/** In use, owner not known yet: a neutral slate, apart from every owner's hue. */
export const IN_USE_COLOR = '#5d6b7a';
const USED = rgb(IN_USE_COLOR);
const BG = rgb('#1b1f24');

export function UsageMap({ usage, onDrawn }: { usage: ClusterUsage; onDrawn?: () => void }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const inUse = useMemo(() => {
    // A plain loop: reduce's callback per bucket (up to 2^18) showed in the early map's task.
    let n = 0;
    for (let i = 0; i < usage.used.length; i++) n += usage.used[i]!;
    return n;
  }, [usage]);
  // The canvas is drawn in the size observer's callback itself (again on resize, once per size),
  // not through state: no second render before the first draw.
  useEffect(() => {
    const box = boxRef.current;
    const canvas = canvasRef.current;
    if (!box || !canvas) return;
    let drawnAt = '';
    // Sized only inside the ResizeObserver callback (after layout): reading clientWidth here, at
    // mount, would force a synchronous layout in the usage message's task.
    return observeClientSize(box, (cw, ch) => {
      const w = Math.max(1, Math.floor(cw));
      const h = Math.max(1, Math.floor(ch));
      if (`${w}x${h}` === drawnAt) return;
      drawnAt = `${w}x${h}`;
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      const img = ctx.createImageData(w, h);
      const pixels = new Uint32Array(img.data.buffer, img.data.byteOffset, w * h);
      const { clustersDrawn } = rasterUsage(usage, pixels, w, h, FREE, USED, BG);
      ctx.putImageData(img, 0, 0);
      canvas.dataset.clustersDrawn = String(clustersDrawn);
      onDrawn?.();
    });
  }, [usage, onDrawn]);
  return (
    <div className="usage-map" data-testid="usage-map">
      <div className="usage-map-caption" role="status">
        In use or free, from the refcount blocks; owners follow once every L2 table has been read…
      </div>
      <div className="usage-map-box" ref={boxRef}>
        <canvas ref={canvasRef} data-testid="usage-canvas" aria-label={`Early cluster map: ${formatCount(inUse)} of ${formatCount(usage.clusters)} clusters in use`} />
      </div>
      <ul className="usage-map-legend">
        <li><span className="swatch" style={{ background: IN_USE_COLOR }} />in use (owner being read): {formatCount(inUse)}</li>
        <li><span className="swatch" style={{ background: ROLE_COLOR[0] }} />free (refcount 0): {formatCount(usage.clusters - inUse)}</li>
      </ul>
    </div>
  );
}
