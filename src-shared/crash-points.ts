/**
 * Named points where fault tests kill the process. Off unless the environment
 * variable ALBUMEN_CRASH_AT names a point, as `name` or `name:N` (crash at the
 * N-th time this process passes it); several are separated by commas.
 */
export const CRASH_POINTS = [
  'after-temp-write',
  'after-rename',
  'in-transaction',
  'mid-scan-batch',
  'between-drop-and-requeue',
  'in-removal',
  'mid-file-deletion',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type CrashHook = (point: CrashPoint) => void;

/** A hook that does nothing: the default, costing one call per point. */
export const noCrash: CrashHook = () => {};

/**
 * Builds the hook from the variable's value. `kill` must not return (it sends
 * SIGKILL); it is injected so the parsing is testable without dying.
 */
export function crashHookFrom(
  spec: string | undefined,
  kill: (point: CrashPoint) => void,
): CrashHook {
  if (!spec) return noCrash;
  const targets = new Map<string, number>();
  for (const part of spec.split(',')) {
    const [name, count] = part.trim().split(':');
    if (!name) continue;
    const n = count === undefined ? 1 : Number(count);
    if ((CRASH_POINTS as readonly string[]).includes(name) && Number.isInteger(n) && n >= 1) {
      targets.set(name, n);
    }
  }
  if (targets.size === 0) return noCrash;
  const seen = new Map<string, number>();
  return (point) => {
    const target = targets.get(point);
    if (target === undefined) return;
    const n = (seen.get(point) ?? 0) + 1;
    seen.set(point, n);
    if (n === target) kill(point);
  };
}
