// Where a bitmap is dirty over the guest disk: one canvas column per strip bucket (Bitmap.strip),
// its height growing with the share of set bits in the bucket; any set bit shows.

import { useEffect, useRef } from 'react';

const DIRTY = '#d55e00';
const CLEAN = 'rgba(127, 127, 127, 0.18)';

export function BitmapStrip({ strip, bitCount, label }: { strip: Uint32Array; bitCount: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 320;
    const h = canvas.clientHeight || 24;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = CLEAN;
    ctx.fillRect(0, 0, w, h);
    const n = strip.length;
    if (n === 0) return;
    const perBucket = Math.max(1, bitCount / n);
    // With fewer bits than buckets, bit k lands in bucket ⌊k·n/bitCount⌋ but covers n/bitCount buckets.
    const span = Math.max(1, n / Math.max(1, bitCount));
    ctx.fillStyle = DIRTY;
    for (let i = 0; i < n; i++) {
      const bits = strip[i]!;
      if (bits === 0) continue;
      const share = Math.min(1, bits / perBucket);
      // Any dirt at all shows at 40 % height, so sparse bitmaps stay visible.
      const bh = h * (0.4 + 0.6 * share);
      const x0 = (i / n) * w;
      const x1 = (Math.min(n, i + span) / n) * w;
      ctx.fillRect(x0, h - bh, Math.max(1, x1 - x0), bh);
    }
  }, [strip, bitCount]);
  let dirtyBuckets = 0;
  for (const v of strip) if (v > 0) dirtyBuckets++;
  return (
    <canvas
      ref={ref}
      className="bitmap-strip"
      role="img"
      aria-label={`${label}: dirty in ${dirtyBuckets} of ${strip.length} stretches of the guest disk`}
    />
  );
}
