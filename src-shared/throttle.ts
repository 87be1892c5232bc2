/** A function that runs at most once per `ms`, always once more after the last call (trailing). */
export interface Throttled {
  (): void;
  /** Runs now if a call is waiting, and cancels the timer. */
  flush(): void;
  cancel(): void;
}

/**
 * Throttles `fn`: the first call runs it at once, later calls within `ms`
 * collapse into one trailing run. Used to turn bursts of events into a few
 * refreshes.
 */
export function throttle(
  fn: () => void,
  ms: number,
  timers: {
    setTimeout: (f: () => void, ms: number) => unknown;
    clearTimeout: (h: unknown) => void;
    now: () => number;
  } = {
    setTimeout: (f, t) => globalThis.setTimeout(f, t),
    clearTimeout: (h) => globalThis.clearTimeout(h as number),
    now: () => Date.now(),
  },
): Throttled {
  let last = -Infinity;
  let timer: unknown = null;
  let waiting = false;
  const run = () => {
    timer = null;
    waiting = false;
    last = timers.now();
    fn();
  };
  const throttled = (() => {
    const wait = last + ms - timers.now();
    if (wait <= 0 && timer === null) return run();
    waiting = true;
    if (timer === null) timer = timers.setTimeout(run, Math.max(0, wait));
  }) as Throttled;
  throttled.flush = () => {
    if (!waiting) return;
    if (timer !== null) timers.clearTimeout(timer);
    run();
  };
  throttled.cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    waiting = false;
  };
  return throttled;
}
