import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from './throttle.ts';

describe('throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs the first call at once and collapses a burst into one trailing run', () => {
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    t();
    expect(fn).toHaveBeenCalledTimes(1);
    t();
    t();
    t();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('flush runs a waiting call now; cancel drops it', () => {
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    t();
    t();
    t.flush();
    expect(fn).toHaveBeenCalledTimes(2);
    t();
    t.cancel();
    vi.advanceTimersByTime(2000);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('runs at once again after a quiet interval', () => {
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    t();
    vi.advanceTimersByTime(1500);
    t();
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
