// What each map canvas (host cluster map, guest map) needs from React besides pan and zoom: the size
// of the pane it fills, followed with a ResizeObserver, and drawing at most once per animation frame.

import { useCallback, useEffect, useRef, useState, type MouseEvent, type RefObject } from 'react';

interface PaneSize {
  readonly w: number;
  readonly h: number;
}

/** The element's client size in CSS pixels, { w: 0, h: 0 } until it is measured after mounting. */
export function usePaneSize(boxRef: RefObject<HTMLElement | null>): PaneSize {
  const [size, setSize] = useState<PaneSize>({ w: 0, h: 0 });
  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const measure = () => setSize({ w: box.clientWidth, h: box.clientHeight });
    const ro = new ResizeObserver(measure);
    ro.observe(box);
    measure();
    return () => ro.disconnect();
  }, [boxRef]);
  return size;
}

/** Where a mouse or pointer event is in its element (the canvas), in CSS pixels from its top left. */
export function pointIn(e: MouseEvent<Element>): { sx: number; sy: number } {
  const rect = e.currentTarget.getBoundingClientRect();
  return { sx: e.clientX - rect.left, sy: e.clientY - rect.top };
}

/**
 * A stable function that runs `onFrame` in the next animation frame, once however often it is
 * called before then; a frame still pending at unmount is cancelled. `onFrame` should be stable.
 */
export function useFrameRequest(onFrame: () => void): () => void {
  const frame = useRef(0);
  useEffect(() => () => {
    cancelAnimationFrame(frame.current);
    frame.current = 0;
  }, []);
  return useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      onFrame();
    });
  }, [onFrame]);
}
