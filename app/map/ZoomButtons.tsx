// The map toolbars' zoom group, shared by the cluster map and the guest map panels: −, + and Fit,
// acting on the map through its handle (the same keys work on the focused map: −, + and 0).

import type { RefObject } from 'react';

/** What the buttons need of a map's handle. */
interface Zoomable {
  zoomBy(factor: number): void;
  reset(): void;
}

export function ZoomButtons({ map, fitTitle }: { readonly map: RefObject<Zoomable | null>; readonly fitTitle: string }) {
  return (
    <div className="cmap-zoom" role="group" aria-label="Zoom">
      <button type="button" onClick={() => map.current?.zoomBy(0.5)} aria-label="Zoom out" title="Zoom out (−)">−</button>
      <button type="button" onClick={() => map.current?.zoomBy(2)} aria-label="Zoom in" title="Zoom in (+)">+</button>
      <button type="button" onClick={() => map.current?.reset()} title={fitTitle}>Fit</button>
    </div>
  );
}
