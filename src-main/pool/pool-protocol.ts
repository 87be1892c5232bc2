/**
 * Messages between the render pool (in the database-owning process) and its
 * host process, over the fork IPC channel with structured-clone serialization.
 */
import type { RenderRequest, RenderResult } from '../../src-shared/render-task.ts';

/** Owner → host: render this request; the reply carries the same id. */
export interface TaskMessage {
  type: 'task';
  id: number;
  request: RenderRequest;
}

/**
 * How often the host's main thread says it is alive while it has tasks. It
 * keeps beating while worker threads decode; a host that does not beat is
 * stopped (SIGSTOP, a sleeping laptop) or stuck, and its tasks' watchdogs do
 * not run meanwhile. Also the watchdogs' resolution.
 */
export const BEAT_MS = 100;

/** Host → owner. `error` is a thrown surprise (a bug), not a failed image. */
export type HostMessage =
  | { type: 'beat' }
  | { type: 'ready' }
  | { type: 'result'; id: number; result: RenderResult }
  | { type: 'error'; id: number; message: string };

/** Arguments the pool passes to the host entry, in this order. */
export interface HostArgs {
  workerFile: string;
  threads: number;
}

export function hostArgv(args: HostArgs): string[] {
  return [args.workerFile, String(args.threads)];
}

export function parseHostArgv(argv: readonly string[]): HostArgs | null {
  const [workerFile, threadsText] = argv;
  const threads = Number(threadsText);
  if (!workerFile || !Number.isInteger(threads) || threads < 1) return null;
  return { workerFile, threads };
}
