/**
 * The crash-isolated render pool, used by the database-owning process. Work
 * runs in piscina threads inside a separate host process; when a native
 * decoder crash (or a hung render) takes that process down, the tasks it was
 * running are reported as such and the host is started again. The pool only
 * reports: attempts and solo re-runs are the scheduler's business.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { RenderRequest, RenderResult } from '../../src-shared/render-task.ts';
import { hostArgv } from './pool-protocol.ts';
import type { HostMessage, TaskMessage } from './pool-protocol.ts';

/**
 * What `run()` resolves to: the worker's own result, or what happened to the
 * host while it held the task. `interrupted` tasks were not at fault (another
 * task's timeout, or stop()) and can go back to pending without blame.
 */
export type PoolOutcome =
  | RenderResult
  | { ok: false; code: 'DECODER_CRASH'; message: string; crashed: true }
  | { ok: false; code: 'TIMEOUT' | 'INTERNAL'; message: string; interrupted?: boolean };

export type PoolLogLevel = 'info' | 'warn' | 'error';

export interface RenderPoolOptions {
  /** Worker threads in the host process. */
  threads: number;
  /** Entry of the host process; defaults to ./pool-host.ts beside this file. */
  hostFile?: string;
  /** The piscina task file; defaults to src-worker/render.task.ts. */
  workerFile?: string;
  /** Merged over process.env for the host (crash-test variables, for example). */
  env?: Record<string, string>;
  log?: (level: PoolLogLevel, message: string) => void;
  /** Watchdog per task; default: the request's timeoutSeconds + 10 s. */
  taskTimeoutMs?: number;
}

/** Why a host process ended, for logs and the UI. */
export interface HostExit {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** crashed: died on its own; watchdog: killed for a hung task; stopped: stop(). */
  reason: 'crashed' | 'watchdog' | 'stopped';
  /** Tasks it held when it went down. */
  tasks: number;
  /** Delay before the next host starts, or null when none will. */
  restartInMs: number | null;
}

interface Task {
  id: number;
  request: RenderRequest;
  resolve: (outcome: PoolOutcome) => void;
  timer: NodeJS.Timeout | null;
  /** Decided when its host was killed on purpose; delivered once that host is gone. */
  verdict: PoolOutcome | null;
}

const DEFAULT_HOST_FILE = fileURLToPath(new URL('./pool-host.ts', import.meta.url));
const DEFAULT_WORKER_FILE = fileURLToPath(
  new URL('../../src-worker/render.task.ts', import.meta.url),
);
const READY_TIMEOUT_MS = 30_000;
/** How long stop() lets the host exit on its own before SIGKILL. */
const STOP_GRACE_MS = 3_000;
/** How long a SIGKILLed host may take to die (stuck in I/O) before it is abandoned. */
const ABANDON_MS = 5_000;
/** A host that dies this soon without doing any work is "dying at once". */
const QUICK_DEATH_MS = 5_000;
const MAX_BACKOFF_MS = 10_000;
/** After this many hosts in a row die at once, waiting tasks are failed instead of held. */
const GIVE_UP_AFTER = 5;

const stopped = (): PoolOutcome => ({
  ok: false,
  code: 'INTERNAL',
  message: 'pool stopped',
  interrupted: true,
});
const interrupted = (): PoolOutcome => ({
  ok: false,
  code: 'INTERNAL',
  message: 'interrupted by a restart of the decoder',
  interrupted: true,
});

/**
 * A pool of render workers in a child process. `run()` never rejects: every
 * task resolves to a PoolOutcome, whatever happens to the host, and only once
 * no worker can touch that task's files any more.
 */
export class RenderPool {
  readonly #threads: number;
  readonly #hostFile: string;
  readonly #workerFile: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: (level: PoolLogLevel, message: string) => void;
  readonly #taskTimeoutMs: number | undefined;

  #started = false;
  #host: ChildProcess | null = null;
  #hostReady = false;
  #hostStartedAt = 0;
  #hostDidWork = false;
  /** Resolves when the current host is gone (exited, or abandoned). */
  #hostGone: Promise<void> = Promise.resolve();
  #markHostGone: () => void = () => {};
  /** Hosts killed on purpose, whose end is not a crash. */
  readonly #killed = new WeakMap<ChildProcess, 'watchdog' | 'stopped'>();
  #readyTimer: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #abandonTimer: NodeJS.Timeout | null = null;
  #quickDeaths = 0;

  #nextId = 1;
  readonly #waiting: Task[] = [];
  readonly #running = new Map<number, Task>();
  readonly #exitListeners = new Set<(exit: HostExit) => void>();

  constructor(options: RenderPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    }
    this.#threads = options.threads;
    this.#hostFile = options.hostFile ?? DEFAULT_HOST_FILE;
    this.#workerFile = options.workerFile ?? DEFAULT_WORKER_FILE;
    this.#log = options.log ?? (() => {});
    this.#taskTimeoutMs = options.taskTimeoutMs;
    this.#env = {
      ...process.env,
      // Why: sharp runs on libuv's thread pool, one per process and shared by
      // every worker thread (4 by default): each thread needs one, plus file I/O.
      UV_THREADPOOL_SIZE: String(Math.max(4, options.threads + 2)),
      ALBUMEN_OWNER_PID: String(process.pid),
      ...options.env,
    };
  }

  get threads(): number {
    return this.#threads;
  }

  /** Tasks not yet resolved: running in the host or waiting for a free thread. */
  get inFlight(): number {
    return this.#running.size + this.#waiting.length;
  }

  /** Pid of the current host process, if one is running. */
  get hostPid(): number | undefined {
    return this.#host?.pid;
  }

  /** Starts the host and resolves once it accepts tasks; rejects if it dies first. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      await this.#spawn();
    } catch (err) {
      this.#started = false;
      this.#clearRestart();
      throw err;
    }
  }

  /**
   * Stops the host and resolves once it is gone. Unfinished tasks resolve as
   * interrupted ('pool stopped'); a temporary file a killed worker was
   * writing is a dead write for the cache cleanup.
   */
  async stop(): Promise<void> {
    this.#started = false;
    this.#clearRestart();
    for (const task of this.#waiting.splice(0)) this.#settle(task, stopped());
    const host = this.#host;
    if (!host) return;
    const gone = this.#hostGone;
    this.#stopUsing(host, 'stopped', stopped());
    if (host.connected) host.disconnect(); // the host exits on disconnect
    const timer = setTimeout(() => this.#kill(host), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }

  /** Renders one request. Never rejects. */
  run(request: RenderRequest): Promise<PoolOutcome> {
    if (!this.#started) return Promise.resolve(stopped());
    return new Promise((resolve) => {
      this.#waiting.push({ id: this.#nextId++, request, resolve, timer: null, verdict: null });
      this.#dispatch();
    });
  }

  /** Called whenever a host process ends; returns the unsubscribe function. */
  onHostExit(listener: (exit: HostExit) => void): () => void {
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  #spawn(): Promise<void> {
    const child = fork(
      this.#hostFile,
      hostArgv({ workerFile: this.#workerFile, threads: this.#threads }),
      {
        // The same Node (or Electron run as Node) as the owner; none of the
        // owner's flags (inspector ports, test-runner loaders).
        execPath: process.execPath,
        execArgv: [],
        env: this.#env,
        // Why 'advanced': structured clone carries Uint8Array inputs as binary
        // instead of JSON arrays of numbers.
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    this.#host = child;
    this.#hostReady = false;
    this.#hostDidWork = false;
    this.#hostStartedAt = Date.now();
    this.#hostGone = new Promise<void>((resolve) => (this.#markHostGone = resolve));

    // The pool must not keep its process alive by itself: task watchdogs and
    // restart timers do that while there is work.
    child.unref();
    child.channel?.unref();
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      (stream as Socket).unref(); // a pipe to a child is a net.Socket
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n')) {
          if (line.trim()) this.#log('warn', `render host ${child.pid}: ${line}`);
        }
      });
    }

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      this.#readyTimer = setTimeout(() => {
        this.#log('error', `render host ${child.pid} not ready after ${READY_TIMEOUT_MS} ms`);
        this.#kill(child);
      }, READY_TIMEOUT_MS);
      child.on('message', (message: HostMessage) => {
        if (message.type === 'ready') settle();
        this.#onMessage(child, message);
      });
      child.on('error', (err) => {
        this.#log('error', `render host: ${err.message}`);
        if (child.pid === undefined) {
          settle(err); // a failed spawn emits no 'exit'
          this.#onGone(child, null, null);
        }
      });
      // The host is gone once it has exited AND its channel has delivered
      // everything it sent before dying ('close' would say so too, but never
      // comes after our own disconnect()).
      let exit: [number | null, NodeJS.Signals | null] | null = null;
      const finish = () => {
        if (!exit || child.connected) return;
        settle(new Error(`render host exited before it was ready (${describeExit(...exit)})`));
        this.#onGone(child, ...exit);
      };
      child.once('exit', (code, signal) => {
        exit = [code, signal];
        finish();
      });
      child.once('disconnect', finish);
    });
  }

  #onMessage(child: ChildProcess, message: HostMessage): void {
    if (child !== this.#host) return;
    switch (message.type) {
      case 'ready':
        this.#clearReadyTimer();
        this.#hostReady = true;
        this.#log('info', `render host ${child.pid} ready with ${this.#threads} threads`);
        this.#dispatch();
        return;
      case 'result':
      case 'error': {
        const task = this.#running.get(message.id);
        if (!task) return;
        this.#hostDidWork = true;
        this.#quickDeaths = 0;
        // A real answer beats a verdict: the task did finish.
        this.#settle(
          task,
          message.type === 'result'
            ? message.result
            : {
                ok: false,
                code: 'INTERNAL',
                message: `render failed unexpectedly: ${message.message}`,
              },
        );
        this.#dispatch();
        return;
      }
    }
  }

  #dispatch(): void {
    const host = this.#host;
    if (!host || !this.#hostReady) return;
    while (this.#running.size < this.#threads) {
      const task = this.#waiting.shift();
      if (!task) return;
      this.#running.set(task.id, task);
      const timeoutMs = this.#taskTimeoutMs ?? task.request.timeoutSeconds * 1000 + 10_000;
      task.timer = setTimeout(() => this.#onTimeout(task, timeoutMs), timeoutMs);
      const message: TaskMessage = { type: 'task', id: task.id, request: task.request };
      host.send(message, (err) => {
        // The host is dying; its end settles the task.
        if (err) this.#log('warn', `could not send a task to the render host: ${err.message}`);
      });
    }
  }

  #onTimeout(task: Task, timeoutMs: number): void {
    const host = this.#host;
    if (!host || !this.#running.has(task.id) || this.#killed.has(host)) return;
    this.#log(
      'warn',
      `render of ${task.request.label} exceeded ${timeoutMs} ms: restarting the render host`,
    );
    task.verdict = {
      ok: false,
      code: 'TIMEOUT',
      message: `rendering took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`,
    };
    this.#stopUsing(host, 'watchdog', interrupted());
    this.#kill(host);
  }

  /**
   * Sends nothing more to this host and decides what its running tasks will
   * resolve to once it is gone (unless they finish first).
   */
  #stopUsing(host: ChildProcess, why: 'watchdog' | 'stopped', verdict: PoolOutcome): void {
    this.#killed.set(host, why);
    this.#hostReady = false;
    for (const task of this.#running.values()) {
      task.verdict ??= { ...verdict };
      if (task.timer) clearTimeout(task.timer);
      task.timer = null;
    }
  }

  /** SIGKILL, and if the process does not die (stuck in I/O), give up on it. */
  #kill(host: ChildProcess): void {
    host.kill('SIGKILL');
    if (this.#abandonTimer) return;
    // Ref'd on purpose: tasks wait for this host's end, so the process must too.
    this.#abandonTimer = setTimeout(() => {
      this.#abandonTimer = null;
      if (host !== this.#host) return;
      this.#log('error', `render host ${host.pid} did not die after SIGKILL: abandoning it`);
      this.#onGone(host, null, 'SIGKILL');
    }, ABANDON_MS);
  }

  /** The host has exited (or was abandoned): settle what it held and maybe restart. */
  #onGone(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#host) return;
    const wasReady = this.#hostReady;
    this.#host = null;
    this.#hostReady = false;
    this.#clearReadyTimer();
    if (this.#abandonTimer) clearTimeout(this.#abandonTimer);
    this.#abandonTimer = null;

    const reason = this.#killed.get(child) ?? 'crashed';
    const how = describeExit(code, signal);
    const held = [...this.#running.values()];
    for (const task of held) {
      this.#settle(
        task,
        task.verdict ?? {
          ok: false,
          code: 'DECODER_CRASH',
          crashed: true,
          message: `the image decoder crashed (${how}) while this image was being processed`,
        },
      );
    }

    let restartInMs: number | null = null;
    if (this.#started) {
      const diedAtOnce =
        reason === 'crashed' &&
        (!wasReady || (!this.#hostDidWork && held.length === 0)) &&
        Date.now() - this.#hostStartedAt < QUICK_DEATH_MS;
      this.#quickDeaths = diedAtOnce ? this.#quickDeaths + 1 : 0;
      restartInMs =
        this.#quickDeaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.#quickDeaths - 2));
      if (this.#quickDeaths >= GIVE_UP_AFTER) this.#failWaiting(how);
    }

    this.#log(
      reason === 'crashed' ? 'error' : 'info',
      `render host ${child.pid} ended (${reason}, ${how}, ${held.length} tasks)` +
        (restartInMs === null ? '' : `; restarting in ${restartInMs} ms`),
    );
    const exit: HostExit = {
      pid: child.pid,
      code,
      signal,
      reason,
      tasks: held.length,
      restartInMs,
    };
    for (const listener of this.#exitListeners) {
      try {
        listener(exit);
      } catch (err) {
        this.#log('error', `host-exit listener failed: ${String(err)}`);
      }
    }
    this.#markHostGone();
    if (restartInMs !== null) this.#scheduleRestart(restartInMs);
  }

  #scheduleRestart(delayMs: number): void {
    this.#clearRestart();
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (!this.#started || this.#host) return;
      // A failed start ends in #onGone, which schedules the next attempt.
      this.#spawn().catch(() => {});
    }, delayMs);
  }

  #failWaiting(how: string): void {
    for (const task of this.#waiting.splice(0)) {
      this.#settle(task, {
        ok: false,
        code: 'INTERNAL',
        message: `the render host keeps failing to start (${how})`,
      });
    }
  }

  #settle(task: Task, outcome: PoolOutcome): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = null;
    this.#running.delete(task.id);
    task.resolve(outcome);
  }

  #clearReadyTimer(): void {
    if (this.#readyTimer) clearTimeout(this.#readyTimer);
    this.#readyTimer = null;
  }

  #clearRestart(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  return code === null ? 'no exit status' : `exit code ${code}`;
}
