import { describe, expect, it } from 'vitest';
import { clampView, transformOf, zoomKeyAction } from './grid-zoom';
import { MAX_CELL_PX, constrainView, fitView, gridFor, scaleExtent } from './layout';

describe('zoomKeyAction', () => {
  it('pans by 15% of the shorter side, the content moving against the arrow', () => {
    // 800 × 600: the step is 0.15 × 600 = 90 px.
    expect(zoomKeyAction('ArrowLeft', false, 800, 600)).toEqual({ kind: 'pan', dx: 90, dy: 0 });
    expect(zoomKeyAction('ArrowRight', false, 800, 600)).toEqual({ kind: 'pan', dx: -90, dy: 0 });
    expect(zoomKeyAction('ArrowUp', false, 800, 600)).toEqual({ kind: 'pan', dx: 0, dy: 90 });
    expect(zoomKeyAction('ArrowDown', false, 800, 600)).toEqual({ kind: 'pan', dx: 0, dy: -90 });
  });

  it('pans by 80% of the shorter side with Shift', () => {
    expect(zoomKeyAction('ArrowRight', true, 500, 1000)).toEqual({ kind: 'pan', dx: -400, dy: 0 });
    expect(zoomKeyAction('ArrowDown', true, 500, 1000)).toEqual({ kind: 'pan', dx: 0, dy: -400 });
  });

  it('zooms in with + or = and out with − or _, by a factor of two', () => {
    for (const key of ['+', '=']) expect(zoomKeyAction(key, false, 800, 600)).toEqual({ kind: 'zoom', factor: 2 });
    for (const key of ['-', '_']) expect(zoomKeyAction(key, true, 800, 600)).toEqual({ kind: 'zoom', factor: 0.5 });
  });

  it('fits on 0 and selects the centre on Enter or Space', () => {
    expect(zoomKeyAction('0', false, 800, 600)).toEqual({ kind: 'fit' });
    expect(zoomKeyAction('Enter', false, 800, 600)).toEqual({ kind: 'select' });
    expect(zoomKeyAction(' ', false, 800, 600)).toEqual({ kind: 'select' });
  });

  it('leaves every other key to the page', () => {
    for (const key of ['Tab', 'Escape', 'a', '1', 'Home', 'PageDown', 'Shift']) expect(zoomKeyAction(key, false, 800, 600)).toBeNull();
  });
});

describe('clampView', () => {
  const g = gridFor(2 ** 20, 800, 600);
  const [lo, hi] = scaleExtent(g, 800, 600);

  it('raises a scale below "the whole grid fits" to the fit, which is the fitted view', () => {
    expect(lo).toBeLessThan(1);
    expect(clampView({ k: lo / 10, x: 123, y: -45 }, g, 800, 600)).toEqual(fitView(g, 800, 600));
  });

  it('caps the scale at the largest cell', () => {
    expect(hi).toBe(MAX_CELL_PX);
    expect(clampView({ k: 1000, x: 0, y: 0 }, g, 800, 600).k).toBe(MAX_CELL_PX);
  });

  it('keeps a view inside the limits where it is, but pulls one panned far off back into sight', () => {
    const inside = constrainView({ k: 4, x: -1000, y: -2000 }, g, 800, 600);
    expect(clampView(inside, g, 800, 600)).toEqual(inside);
    const off = clampView({ k: 4, x: 1e9, y: -1e9 }, g, 800, 600);
    // At most a quarter of the viewport past either end of the grid.
    expect(off.x).toBe(800 / 4);
    expect(off.y).toBe(600 - g.rows * 4 - 600 / 4);
  });

  it('is idempotent', () => {
    for (const v of [{ k: 0.01, x: 5, y: 5 }, { k: 7, x: -3e4, y: 40 }, { k: 99, x: 1e6, y: -1e6 }]) {
      const once = clampView(v, g, 800, 600);
      expect(clampView(once, g, 800, 600)).toEqual(once);
    }
  });
});

describe('transformOf', () => {
  it('maps a grid point to the screen as the view does', () => {
    const t = transformOf({ k: 8, x: -20, y: 30 });
    expect([t.k, t.x, t.y]).toEqual([8, -20, 30]);
    expect(t.apply([3, 2])).toEqual([-20 + 3 * 8, 30 + 2 * 8]);
  });
});
