/**
 * Entry of the render pool's host: a child process that owns the piscina
 * worker threads, so that a native crash in a decoder kills this process and
 * not the one holding the database. It relays task messages from its parent
 * to piscina and the results back, and exits as soon as its parent is gone.
 *
 * Launched by RenderPool with `fork(hostFile, [workerFile, threads])`. The
 * worker file's default export renders a request; its `warmUp` export is a
 * no-op called once per thread before the host reports ready.
 */
import { Piscina } from 'piscina';
import { CRASH_POINTS } from '../../src-shared/crash-points.ts';
import type { RenderRequest, RenderResult } from '../../src-shared/render-task.ts';
import { BEAT_MS, parseHostArgv } from './pool-protocol.ts';
import type { HostMessage, TaskMessage } from './pool-protocol.ts';

const send = process.send?.bind(process);
const args = parseHostArgv(process.argv.slice(2));
if (!send || !args) {
  process.stderr.write(
    'pool-host: must be forked with an IPC channel and <workerFile> <threads>\n',
  );
  process.exit(2);
}

// The owner may die without a word (SIGKILL): the closed channel is the only
// sign, and this process must never outlive it.
process.on('disconnect', () => leave());

/**
 * Exits, and takes along what the decoders started (ExifTool): this process
 * leads a process group of its own where there are groups, so a helper busy
 * in a file does not run on without it.
 */
function leave(): never {
  if (process.platform !== 'win32') {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      // Not a group leader (started by hand): only this process goes.
    }
  }
  process.exit(0);
}

function reply(message: HostMessage): void {
  if (!process.connected) return;
  send?.(message, undefined, {}, (err) => {
    if (err) leave(); // the owner is gone
  });
}

// The owner's watchdogs count only the time these beats show the process
// alive, so that a stopped process (SIGSTOP, Ctrl+Z, a sleeping laptop) is not
// taken for a slow image. From the main thread, which only relays messages;
// only while there are tasks, so an idle host does not wake up.
let tasksInFlight = 0;
let beat: NodeJS.Timeout | null = null;
function taskStarted(): void {
  if (tasksInFlight++ === 0) beat = setInterval(() => reply({ type: 'beat' }), BEAT_MS);
}
function taskEnded(): void {
  if (--tasksInFlight === 0 && beat) clearInterval(beat);
}

const pool = new Piscina<RenderRequest | null, RenderResult>({
  filename: args.workerFile,
  // Why min = max (so no idleTimeout): threads stay warm (each loads sharp
  // once) and the owner sizes the pool by restarting the host.
  minThreads: args.threads,
  maxThreads: args.threads,
  // Slack only: the owner dispatches at most `threads` tasks, so a queue here
  // would mean a bug, and a small bound makes it fail loudly.
  maxQueue: args.threads,
  // Counts crash-point passes across threads, so ALBUMEN_CRASH_AT=name:N
  // means the N-th pass in this process.
  workerData: { crashCounts: new Int32Array(new SharedArrayBuffer(4 * CRASH_POINTS.length)) },
});

// A worker that fails outside a task (e.g. its file does not load): give up
// and let the owner restart this process with a backoff.
pool.on('error', (err: unknown) => {
  process.stderr.write(`pool-host: worker error: ${describe(err)}\n`);
  process.exit(70);
});

process.on('message', (message: TaskMessage) => {
  if (message.type !== 'task') return;
  const { id, request } = message;
  const transferList: ArrayBuffer[] = [];
  if (request.input.kind === 'buffer') {
    // Move the bytes to the worker instead of cloning them. The IPC decoder
    // may hand us a view into a larger buffer (a Buffer, even, whose slice()
    // would not copy): then move a copy of just the view.
    let data = request.input.data;
    if (!(data.buffer instanceof ArrayBuffer) || data.byteLength !== data.buffer.byteLength) {
      data = new Uint8Array(data);
    }
    request.input = { kind: 'buffer', data };
    transferList.push(data.buffer as ArrayBuffer);
  }
  taskStarted();
  pool
    .run(request, { transferList })
    .then(
      (result) => reply({ type: 'result', id, result }),
      (err: unknown) => reply({ type: 'error', id, message: describe(err) }),
    )
    .finally(taskEnded);
});

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

// Ready means every thread has loaded the task file (sharp included): a file
// that does not load fails here, at start, and the first tasks' watchdogs
// time rendering only. The task file exports a no-op `warmUp` for this.
try {
  await Promise.all(Array.from({ length: args.threads }, () => pool.run(null, { name: 'warmUp' })));
} catch (err) {
  process.stderr.write(`pool-host: cannot load ${args.workerFile}: ${describe(err)}\n`);
  // Not 3: on Windows that is how abort() ends a process, a native crash.
  process.exit(78);
}
reply({ type: 'ready' });
