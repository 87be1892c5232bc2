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

/** Host → owner. `error` is a thrown surprise (a bug), not a failed image. */
export type HostMessage =
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
