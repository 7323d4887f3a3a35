import type { MouseEvent } from 'react';
import { describe, expect, it } from 'vitest';
import { observeClientSize, pointIn } from './canvas-pane';

/** A mouse event at (clientX, clientY) over an element whose box starts at (left, top). */
function eventAt(clientX: number, clientY: number, left: number, top: number): MouseEvent<Element> {
  const currentTarget = { getBoundingClientRect: () => ({ left, top, right: left + 400, bottom: top + 300, width: 400, height: 300, x: left, y: top }) };
  return { clientX, clientY, currentTarget } as unknown as MouseEvent<Element>;
}

describe('pointIn', () => {
  it('gives the event position relative to the element box, in CSS pixels', () => {
    expect(pointIn(eventAt(250, 180, 200, 100))).toEqual({ sx: 50, sy: 80 });
    expect(pointIn(eventAt(10.5, 7.25, 0, 0))).toEqual({ sx: 10.5, sy: 7.25 });
  });

  it('is negative left of or above the element (a pointer captured outside it)', () => {
    expect(pointIn(eventAt(190, 95, 200, 100))).toEqual({ sx: -10, sy: -5 });
  });
});

describe('observeClientSize', () => {
  it('reads the size only in the observer callback (after the browser laid out), never when it starts', () => {
    const observers: { cb: () => void; target: unknown; off: boolean }[] = [];
    const saved = globalThis.ResizeObserver;
    globalThis.ResizeObserver = class {
      private o: { cb: () => void; target: unknown; off: boolean };
      constructor(cb: () => void) {
        this.o = { cb, target: null, off: false };
        observers.push(this.o);
      }
      observe(t: unknown) { this.o.target = t; }
      unobserve() {}
      disconnect() { this.o.off = true; }
    } as unknown as typeof ResizeObserver;
    try {
      let reads = 0;
      let w = 640;
      const el = { get clientWidth() { reads++; return w; }, get clientHeight() { reads++; return 480; } } as unknown as HTMLElement;
      const sizes: [number, number][] = [];
      const stop = observeClientSize(el, (a, b) => sizes.push([a, b]));
      expect(reads).toBe(0);
      expect(observers[0]!.target).toBe(el);
      observers[0]!.cb();
      w = 800;
      observers[0]!.cb();
      expect(sizes).toEqual([[640, 480], [800, 480]]);
      stop();
      expect(observers[0]!.off).toBe(true);
    } finally {
      globalThis.ResizeObserver = saved;
    }
  });
});
