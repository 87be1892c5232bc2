/**
 * The main window's remembered size and place: a small JSON file in the data
 * folder, read back only when its numbers are sane and the window would be
 * visible on one of today's displays (a monitor may have been unplugged).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MIN_WINDOW_SIZE } from './window-options.ts';

/** A rectangle in screen coordinates (a display's work area, a window's bounds). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What is saved: the window's normal (not maximized) bounds and whether it was maximized. */
export interface WindowState {
  bounds: Rect;
  maximized: boolean;
}

/** Where the window opens: a size, a position when the saved one is visible, and maximized. */
export interface WindowPlacement {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized: boolean;
}

/** The window's size on first start. */
export const DEFAULT_PLACEMENT: Readonly<WindowPlacement> = Object.freeze({
  width: 1280,
  height: 820,
  maximized: false,
});

/** The file name of the state in the data folder. */
export const WINDOW_STATE_FILE = 'window-state.json';

/** How much of the window's top strip (its title bar) must be on a display to count as visible. */
const VISIBLE = { width: 120, height: 32 };
/** Far beyond any real desktop: larger numbers are corrupt, not a window. */
const MAX_COORD = 100_000;

const isCoord = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_COORD;

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/**
 * Turns a saved state (anything read from disk) into a placement for today's
 * displays: unreadable or absurd numbers give the default; a size larger than
 * the largest display shrinks to fit; a position whose title bar would not be
 * on any display is dropped (the window is centred instead).
 */
export function placementFrom(saved: unknown, displays: readonly Rect[]): WindowPlacement {
  const s = saved as { bounds?: Partial<Record<keyof Rect, unknown>>; maximized?: unknown } | null;
  const b = s && typeof s === 'object' ? s.bounds : undefined;
  const maximized = s?.maximized === true;
  if (
    !b ||
    !isCoord(b.x) ||
    !isCoord(b.y) ||
    !isCoord(b.width) ||
    !isCoord(b.height) ||
    b.width < MIN_WINDOW_SIZE.width ||
    b.height < MIN_WINDOW_SIZE.height
  ) {
    return { ...DEFAULT_PLACEMENT, maximized };
  }
  const maxWidth = Math.max(MIN_WINDOW_SIZE.width, ...displays.map((d) => d.width));
  const maxHeight = Math.max(MIN_WINDOW_SIZE.height, ...displays.map((d) => d.height));
  const width = Math.min(b.width, maxWidth);
  const height = Math.min(b.height, maxHeight);
  const titleBar: Rect = { x: b.x, y: b.y, width, height: VISIBLE.height };
  const visible = displays.some((d) => {
    const o = overlap(titleBar, d);
    return o.width >= Math.min(VISIBLE.width, width) && o.height >= VISIBLE.height;
  });
  return visible ? { x: b.x, y: b.y, width, height, maximized } : { width, height, maximized };
}

/** Reads the saved state; the default placement when there is none or it is unusable. */
export function loadWindowPlacement(file: string, displays: readonly Rect[]): WindowPlacement {
  let saved: unknown = null;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // No file yet, or a torn one: start from the default.
  }
  return placementFrom(saved, displays);
}

/**
 * Saves the state with a temporary file and a rename, so a crash mid-write
 * never leaves a half-written file. Failures are reported, not thrown: losing
 * the window's place must never stop a quit.
 */
export function saveWindowState(file: string, state: WindowState): Error | null {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const { x, y, width, height } = state.bounds;
    writeFileSync(
      tmp,
      JSON.stringify({ bounds: { x, y, width, height }, maximized: state.maximized }),
    );
    renameSync(tmp, file);
    return null;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
