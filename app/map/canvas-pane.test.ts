import type { MouseEvent } from 'react';
import { describe, expect, it } from 'vitest';
import { pointIn } from './canvas-pane';

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
