import { describe, expect, it } from 'vitest';
import {
  FIT,
  canPan,
  clampOffset,
  currentScale,
  fitScale,
  logicalSize,
  panBy,
  zoomBy,
  zoomLabel,
  zoomStep,
  zoomTo,
} from './zoom.ts';

const img = { width: 4000, height: 3000 };
const view = { width: 1000, height: 800 };

describe('fit', () => {
  it('fits large images and never enlarges small ones', () => {
    expect(fitScale(img, view)).toBe(0.25);
    expect(fitScale({ width: 200, height: 100 }, view)).toBe(1);
    expect(zoomLabel(FIT)).toBe('Fit');
  });
});

describe('zoom', () => {
  it('steps up from fit to the next scale and shows a percentage', () => {
    const z = zoomStep(FIT, 1, img, view);
    expect(z.mode).toBe('free');
    expect(z.scale).toBeCloseTo(0.333);
    expect(zoomLabel(z)).toBe('33%');
    expect(zoomStep(z, -1, img, view).scale).toBe(0.25);
  });

  it('1:1 is 100%', () => {
    expect(zoomLabel(zoomTo(FIT, 1, img, view))).toBe('100%');
  });

  it('keeps the point under the cursor in place', () => {
    const anchor = { x: 200, y: -100 };
    const z1 = zoomTo(FIT, 1, img, view, { x: 0, y: 0 });
    const z2 = zoomBy(z1, 2, img, view, anchor);
    // image point under the anchor before and after
    const before = { x: (anchor.x - z1.x) / z1.scale, y: (anchor.y - z1.y) / z1.scale };
    const after = { x: (anchor.x - z2.x) / z2.scale, y: (anchor.y - z2.y) / z2.scale };
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it('stays within the scale limits', () => {
    expect(zoomBy(FIT, 1e6, img, view).scale).toBe(16);
    expect(zoomBy(FIT, 1e-6, img, view).scale).toBe(0.02);
  });
});

describe('pan', () => {
  it('does nothing to an image that fits, moves a larger one up to its edges', () => {
    expect(panBy(FIT, 50, 50, img, view)).toBe(FIT);
    expect(canPan(FIT, img, view)).toBe(false);
    const z = zoomTo(FIT, 1, img, view);
    expect(canPan(z, img, view)).toBe(true);
    const moved = panBy(z, 10_000, -10_000, img, view);
    expect(moved.x).toBe((4000 - 1000) / 2);
    expect(moved.y).toBe(-(3000 - 800) / 2);
    expect(currentScale(moved, img, view)).toBe(1);
  });

  it('centres an axis where the image is smaller than the view', () => {
    expect(clampOffset(0.2, 100, 100, img, view)).toEqual({ x: 0, y: 0 });
  });
});

describe('logicalSize', () => {
  it('uses the source dimensions, turned to match the loaded picture', () => {
    expect(logicalSize({ width: 4000, height: 3000 }, { width: 1440, height: 1080 })).toEqual(img);
    expect(logicalSize({ width: 4000, height: 3000 }, { width: 810, height: 1080 })).toEqual({
      width: 3000,
      height: 4000,
    });
    expect(logicalSize({ width: null, height: null }, { width: 10, height: 20 })).toEqual({
      width: 10,
      height: 20,
    });
  });
});
