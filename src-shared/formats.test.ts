import { describe, expect, it } from 'vitest';
import { isAnimation, isPlayable, PLAY_MAX_PIXELS } from './formats.ts';

describe('animations', () => {
  it('are GIFs and WebPs of more than one frame', () => {
    expect(isAnimation('gif', 2)).toBe(true);
    expect(isAnimation('webp', 40)).toBe(true);
    expect(isAnimation('gif', 1)).toBe(false);
    expect(isAnimation('gif', null)).toBe(false);
    expect(isAnimation('tiff', 3)).toBe(false);
    expect(isAnimation(null, 3)).toBe(false);
  });

  it('play up to a bound on all their frames together, and not past it', () => {
    expect(isPlayable(500, 500, 400)).toBe(true);
    expect(isPlayable(1000, 1000, PLAY_MAX_PIXELS / 1_000_000)).toBe(true);
    expect(isPlayable(1000, 1000, PLAY_MAX_PIXELS / 1_000_000 + 1)).toBe(false);
    expect(isPlayable(16_000, 16_000, 5)).toBe(false);
    expect(isPlayable(null, null, 5000)).toBe(true); // size unknown: the browser's own limits hold
  });
});
