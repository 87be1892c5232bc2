import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../test-support/temp-dir.ts';
import {
  DEFAULT_PLACEMENT,
  loadWindowPlacement,
  placementFrom,
  saveWindowState,
  type Rect,
} from './window-state.ts';

const tempDir = useTempDir('albumen-window-');
const laptop: Rect = { x: 0, y: 0, width: 1920, height: 1050 };
const rightMonitor: Rect = { x: 1920, y: 0, width: 2560, height: 1400 };
const saved = (x: number, y: number, width = 1200, height = 800, maximized = false) => ({
  bounds: { x, y, width, height },
  maximized,
});

describe('window placement', () => {
  it('restores a window that is on a display', () => {
    expect(placementFrom(saved(100, 50), [laptop])).toEqual({
      x: 100,
      y: 50,
      width: 1200,
      height: 800,
      maximized: false,
    });
  });

  it('restores a window on a second display', () => {
    expect(placementFrom(saved(2000, 100), [laptop, rightMonitor]).x).toBe(2000);
  });

  it('centres a window whose display is gone, keeping its size', () => {
    expect(placementFrom(saved(2000, 100), [laptop])).toEqual({
      width: 1200,
      height: 800,
      maximized: false,
    });
  });

  it('centres a window whose title bar is off screen', () => {
    expect(placementFrom(saved(100, -700), [laptop]).x).toBeUndefined();
    expect(placementFrom(saved(1900, 100), [laptop]).x).toBeUndefined();
  });

  it('shrinks a window larger than every display', () => {
    const p = placementFrom(saved(0, 0, 5000, 3000), [laptop]);
    expect(p.width).toBe(1920);
    expect(p.height).toBe(1050);
  });

  it('keeps maximized', () => {
    expect(placementFrom(saved(0, 0, 1200, 800, true), [laptop]).maximized).toBe(true);
  });

  it.each([
    ['nothing', null],
    ['a string', 'hello'],
    ['no bounds', { maximized: false }],
    ['text numbers', { bounds: { x: '1', y: '1', width: '900', height: '700' } }],
    ['NaN', saved(Number.NaN, 0)],
    ['Infinity', saved(0, 0, Number.POSITIVE_INFINITY, 800)],
    ['fractions', saved(0.5, 0)],
    ['absurd coordinates', saved(1e12, 0)],
    ['a tiny window', saved(0, 0, 10, 10)],
    ['a negative size', saved(0, 0, -1200, 800)],
  ])('falls back to the default for %s', (_name, value) => {
    expect(placementFrom(value, [laptop])).toEqual({ ...DEFAULT_PLACEMENT });
  });
});

describe('window state file', () => {
  it('saves and loads back', () => {
    const file = join(tempDir(), 'window-state.json');
    expect(saveWindowState(file, saved(10, 20, 1000, 700, true))).toBeNull();
    expect(loadWindowPlacement(file, [laptop])).toEqual({
      x: 10,
      y: 20,
      width: 1000,
      height: 700,
      maximized: true,
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(saved(10, 20, 1000, 700, true));
  });

  it('uses the default for a missing or torn file', () => {
    const dir = tempDir();
    expect(loadWindowPlacement(join(dir, 'none.json'), [laptop])).toEqual({ ...DEFAULT_PLACEMENT });
    writeFileSync(join(dir, 'torn.json'), '{"bounds": {"x": 1');
    expect(loadWindowPlacement(join(dir, 'torn.json'), [laptop])).toEqual({
      ...DEFAULT_PLACEMENT,
    });
  });

  it('reports a failed save instead of throwing', () => {
    const err = saveWindowState(join(tempDir(), 'missing-dir', 'w.json'), saved(0, 0));
    expect(err).toBeInstanceOf(Error);
  });
});
