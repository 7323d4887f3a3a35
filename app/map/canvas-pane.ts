// What each map canvas (host cluster map, guest map) needs from React besides pan and zoom: the size
// of the pane it fills, followed with a ResizeObserver, and drawing at most once per animation frame.

import { useCallback, useEffect, useLayoutEffect, useRef, useState, type MouseEvent, type RefObject } from 'react';

interface PaneSize {
  readonly w: number;
  readonly h: number;
}

/**
 * The element's client size in CSS pixels, { w: 0, h: 0 } until it is measured after mounting.
 * With `atMount` it is also read once as the element mounts (a layout forced in the mounting task,
 * which the browser's next frame then need not do): for a pane mounted in a task of its own, whose
 * size is wanted before anything can be drawn; otherwise only the observer reads it (a frame later).
 */
export function usePaneSize(boxRef: RefObject<HTMLElement | null>, atMount = false): PaneSize {
  const [size, setSize] = useState<PaneSize>({ w: 0, h: 0 });
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (!atMount || !box) return;
    const w = box.clientWidth;
    const h = box.clientHeight;
    setSize((s) => (s.w === w && s.h === h ? s : { w, h }));
  }, [boxRef, atMount]);
  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    return observeClientSize(box, (w, h) => setSize((s) => (s.w === w && s.h === h ? s : { w, h })));
  }, [boxRef]);
  return size;
}

/**
 * Calls `onSize` with `el`'s client size when it is first laid out and whenever it changes; returns
 * the function that stops. The size is read only inside the ResizeObserver's callback, which the
 * browser runs after its own layout of the frame: reading it while the element mounts (in an
 * effect) would force a synchronous layout of the whole page inside that task.
 */
export function observeClientSize(el: HTMLElement, onSize: (w: number, h: number) => void): () => void {
  const ro = new ResizeObserver(() => onSize(el.clientWidth, el.clientHeight));
  ro.observe(el);
  return () => ro.disconnect();
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
