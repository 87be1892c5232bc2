/**
 * The crash-isolated render pool, used by the database-owning process. Work
 * runs in piscina threads inside a separate host process; when a native
 * decoder crash (or a hung render) takes that process down, the tasks it was
 * running are reported as such and the host is started again. The pool only
 * reports: attempts and solo re-runs are the scheduler's business.
 *
 * Time is counted only while the host is seen alive: its main thread beats
 * (BEAT_MS), and a task's watchdog runs on the time those beats cover, so a
 * stopped process (SIGSTOP, Ctrl+Z, a sleeping laptop; this one or the host)
 * never makes a valid image slow.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../../src-shared/domain.ts';
import { isTempNameOf } from '../../src-shared/render-task.ts';
import type { RenderRequest, RenderResult } from '../../src-shared/render-task.ts';
import { BEAT_MS, hostArgv } from './pool-protocol.ts';
import type { HostMessage, TaskMessage } from './pool-protocol.ts';

/**
 * What `run()` resolves to:
 * - the worker's result: a rendered image, or a failure that is the image's;
 * - `crashed`: the image is suspect, not yet guilty. The render timed out, or
 *   the decoder crashed with it in flight (maybe because of another image).
 *   The scheduler runs it again alone and fails it with this code the second
 *   time;
 * - `interrupted`: not the image's fault (another task's timeout, a host
 *   ended from outside, a pause of a process, stop()). It goes back to
 *   pending without blame.
 */
export type PoolOutcome =
  | Extract<RenderResult, { ok: true }>
  | { ok: false; code: Exclude<ErrorCode, 'TIMEOUT' | 'DECODER_CRASH'>; message: string }
  | { ok: false; code: 'TIMEOUT' | 'DECODER_CRASH'; message: string; crashed: true }
  | { ok: false; code: 'INTERNAL'; message: string; interrupted: true };

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
  /**
   * Watchdog per task, in time the host was seen alive; default: the
   * request's timeoutSeconds + 10 s.
   */
  taskTimeoutMs?: number;
  /**
   * A host with tasks that sends no beat for this long (counted while this
   * process runs) is restarted and its tasks interrupted; default 60 s.
   */
  hostSilenceMs?: number;
}

/** Why a host process ended, for logs and the UI. */
export interface HostExit {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /**
   * crashed: a native crash (SIGSEGV, SIGABRT…); killed: ended from outside
   * (SIGKILL, SIGTERM) or exited with a code; watchdog: killed by the pool
   * for a hung task or a silent host; stopped: stop().
   */
  reason: 'crashed' | 'killed' | 'watchdog' | 'stopped';
  /** Tasks it held when it went down. */
  tasks: number;
  /** Delay before the next host starts, or null when none will. */
  restartInMs: number | null;
}

interface Task {
  id: number;
  request: RenderRequest;
  resolve: (outcome: PoolOutcome) => void;
  /** Watchdog budget, in host-alive milliseconds. */
  timeoutMs: number;
  /** Host-alive milliseconds since it was sent to the host, as beats credit them. */
  aliveMs: number;
  /** performance.now() when it was sent to the host. */
  sentAt: number;
  /** Decided when its host was killed on purpose; delivered once that host is gone. */
  verdict: PoolOutcome | null;
}

const DEFAULT_HOST_FILE = fileURLToPath(new URL('./pool-host.ts', import.meta.url));
const DEFAULT_WORKER_FILE = fileURLToPath(
  new URL('../../src-worker/render.task.ts', import.meta.url),
);
/** Host-alive time a new host has to load its threads. */
const READY_TIMEOUT_MS = 30_000;
/** This process's own clock: a ticker that notices when it was paused. */
const TICK_MS = 250;
/** A tick this much later than due means this process was paused or stalled: the gap is not counted. */
const TICK_GAP_MS = 1_000;
/**
 * The most one beat credits to a task. A beat that comes later than that
 * ends a pause of the host (or of this process), which is not counted.
 */
const BEAT_CREDIT_MS = Math.max(1_000, 4 * BEAT_MS);
/**
 * A timeout the worker reports is the image's (a suspect) when the host was
 * seen alive for at least this share of the limit, and a pause otherwise.
 * Generous to "the image's": a suspect only costs a run alone, while a pause
 * taken for one would retry a truly slow image without end.
 */
const TIMEOUT_ALIVE_SHARE = 0.75;
const DEFAULT_SILENCE_MS = 60_000;
/**
 * A task in flight this many times when its host was ended from outside
 * (killed, not crashed) is reported as crashed: an image that makes the
 * system kill the host (the out-of-memory killer, say) must not loop forever.
 */
const OUTSIDE_KILLS_BEFORE_SUSPECT = 3;
const MAX_TRACKED_IMAGES = 1_000;
/** How long the sweep of a dead host's temporary files may hold its tasks' outcomes. */
const SWEEP_TIMEOUT_MS = 5_000;
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

/** Signals by which a process dies of a native crash (as opposed to being ended). */
const CRASH_SIGNALS: ReadonlySet<string> = new Set([
  'SIGSEGV',
  'SIGBUS',
  'SIGABRT',
  'SIGILL',
  'SIGFPE',
  // Chromium's (and so Electron's) immediate crash is a trap instruction.
  'SIGTRAP',
]);

/**
 * True when a process that ended with this code or signal crashed in native
 * code. On Windows a crash is an exit status: an NTSTATUS error (0xC…, access
 * violation, stack overflow, fail-fast), a breakpoint, or abort()'s 3 (134
 * from Node's own abort).
 */
export function isNativeCrash(
  code: number | null,
  signal: NodeJS.Signals | null,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (signal) return CRASH_SIGNALS.has(signal);
  if (platform !== 'win32' || code === null) return false;
  const status = code >>> 0;
  return status >= 0xc000_0000 || status === 0x8000_0003 || code === 3 || code === 134;
}

/** Which image a request renders, across attempts (a file, or an archive entry). */
function imageKey(request: RenderRequest): string {
  const input =
    request.input.kind === 'file'
      ? request.input.path
      : `${request.label} (${request.input.data.byteLength} bytes)`;
  return `${input}\n${request.outputs[0]?.finalPath ?? request.pyramid?.dir ?? ''}`;
}

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
  readonly #silenceMs: number;

  #started = false;
  #host: ChildProcess | null = null;
  #hostReady = false;
  #hostStartedAt = 0;
  #hostDidWork = false;
  /** Resolves when the current host is gone (exited, or abandoned) and its tasks are settled. */
  #hostGone: Promise<void> = Promise.resolve();
  #markHostGone: () => void = () => {};
  /** Hosts killed on purpose, whose end is not a crash. */
  readonly #killed = new WeakMap<ChildProcess, 'watchdog' | 'stopped'>();
  #restartTimer: NodeJS.Timeout | null = null;
  #abandonTimer: NodeJS.Timeout | null = null;
  #quickDeaths = 0;

  /** This process's clock, which skips its own pauses; see #tick. */
  #ticker: NodeJS.Timeout | null = null;
  #lastTickAt = 0;
  /** Counted time the current host has been loading. */
  #startingMs = 0;
  /** Counted time since the current host's last beat, while it has tasks. */
  #silentMs = 0;
  /** performance.now() of the current host's last beat (or its spawn). */
  #lastBeatAt = 0;
  /** Per image: how many times in a row a host was ended from outside with it in flight. */
  readonly #outsideKills = new Map<string, number>();

  #nextId = 1;
  readonly #waiting: Task[] = [];
  readonly #running = new Map<number, Task>();
  /** Tasks of a dead host whose temporary files are being swept. */
  #settling = 0;
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
    this.#silenceMs = options.hostSilenceMs ?? DEFAULT_SILENCE_MS;
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
    return this.#running.size + this.#waiting.length + this.#settling;
  }

  /** Pid of the current host process, if one is running. */
  get hostPid(): number | undefined {
    return this.#host?.pid;
  }

  /** Starts the host and resolves once it accepts tasks; rejects if it dies first. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#startTicker();
    try {
      await this.#spawn();
    } catch (err) {
      this.#started = false;
      this.#clearRestart();
      await this.#hostGone;
      this.#stopTicker();
      throw err;
    }
  }

  /**
   * Stops the host and resolves once it is gone. Unfinished tasks resolve as
   * interrupted ('pool stopped'), after the temporary files of their outputs
   * are removed.
   */
  async stop(): Promise<void> {
    this.#started = false;
    this.#clearRestart();
    for (const task of this.#waiting.splice(0)) task.resolve(stopped());
    const host = this.#host;
    const gone = this.#hostGone;
    let timer: NodeJS.Timeout | undefined;
    if (host) {
      this.#stopUsing(host, 'stopped', stopped());
      if (host.connected) host.disconnect(); // the host exits on disconnect
      timer = setTimeout(() => this.#kill(host), STOP_GRACE_MS);
    }
    await gone;
    clearTimeout(timer);
    if (!this.#started) this.#stopTicker();
  }

  /** Renders one request. Never rejects. */
  run(request: RenderRequest): Promise<PoolOutcome> {
    if (!this.#started) return Promise.resolve(stopped());
    return new Promise((resolve) => {
      this.#waiting.push({
        id: this.#nextId++,
        request,
        resolve,
        timeoutMs: 0,
        aliveMs: 0,
        sentAt: 0,
        verdict: null,
      });
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
        // A process group of its own (POSIX): a decoder's helper process
        // (ExifTool, for RAW previews) is killed with the host, never left
        // running without it. It still exits when this process goes.
        detached: GROUPS,
      },
    );
    this.#host = child;
    this.#hostReady = false;
    this.#hostDidWork = false;
    this.#hostStartedAt = Date.now();
    this.#startingMs = 0;
    this.#silentMs = 0;
    this.#lastBeatAt = performance.now();
    this.#hostGone = new Promise<void>((resolve) => (this.#markHostGone = resolve));
    this.#syncTickerRef();

    // The pool must not keep its process alive by itself: the ticker does
    // that while there is work (or a host is starting).
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
      case 'beat':
        this.#onBeat(child);
        return;
      case 'ready':
        this.#hostReady = true;
        this.#syncTickerRef();
        this.#log('info', `render host ${child.pid} ready with ${this.#threads} threads`);
        this.#dispatch();
        return;
      case 'result':
      case 'error': {
        const task = this.#running.get(message.id);
        if (!task) return;
        this.#hostDidWork = true;
        this.#quickDeaths = 0;
        this.#outsideKills.delete(imageKey(task.request));
        // A real answer beats a verdict: the task did finish.
        this.#settle(
          task,
          message.type === 'result'
            ? this.#judge(task, message.result)
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

  /**
   * The host is alive: credit its running tasks with the time since the last
   * beat (at most BEAT_CREDIT_MS: a longer gap was a pause, of the host or of
   * this process), and stop a task that has used up its budget.
   */
  #onBeat(host: ChildProcess): void {
    if (this.#killed.has(host)) return;
    const now = performance.now();
    for (const task of this.#running.values()) this.#credit(task, now);
    this.#lastBeatAt = now;
    this.#silentMs = 0;
    for (const task of this.#running.values()) {
      if (task.aliveMs >= task.timeoutMs) {
        this.#onTimeout(task);
        return;
      }
    }
  }

  #credit(task: Task, now: number): void {
    const since = Math.max(this.#lastBeatAt, task.sentAt);
    task.aliveMs += Math.min(Math.max(0, now - since), BEAT_CREDIT_MS);
  }

  /**
   * The pool's view of a worker result. A timeout the worker reports is
   * libvips' own, on the wall clock: it is a suspect only when the host was
   * alive for (about) the whole budget, and otherwise a pause to try again.
   */
  #judge(task: Task, result: RenderResult): PoolOutcome {
    if (result.ok) return result;
    if (result.code === 'DECODER_CRASH') return { ...result, code: result.code, crashed: true };
    if (result.code !== 'TIMEOUT') return { ok: false, code: result.code, message: result.message };
    this.#credit(task, performance.now());
    const budgetMs = task.request.timeoutSeconds * 1000;
    if (task.aliveMs >= budgetMs * TIMEOUT_ALIVE_SHARE) {
      return { ok: false, code: 'TIMEOUT', message: result.message, crashed: true };
    }
    const alive = (task.aliveMs / 1000).toFixed(1);
    this.#log(
      'info',
      `${task.request.label}: the decoder's ${task.request.timeoutSeconds} s ran out while ` +
        `the render host was seen alive for ${alive} s: a pause, not a slow image`,
    );
    return {
      ok: false,
      code: 'INTERNAL',
      message: `the render was paused past its time limit (${result.message}); it will be tried again`,
      interrupted: true,
    };
  }

  #dispatch(): void {
    const host = this.#host;
    if (!host || !this.#hostReady) return;
    while (this.#running.size < this.#threads) {
      const task = this.#waiting.shift();
      if (!task) break;
      this.#running.set(task.id, task);
      task.timeoutMs = this.#taskTimeoutMs ?? task.request.timeoutSeconds * 1000 + 10_000;
      task.aliveMs = 0;
      task.sentAt = performance.now();
      const message: TaskMessage = { type: 'task', id: task.id, request: task.request };
      host.send(message, (err) => {
        // The host is dying; its end settles the task.
        if (err) this.#log('warn', `could not send a task to the render host: ${err.message}`);
      });
    }
    this.#syncTickerRef();
  }

  #onTimeout(task: Task): void {
    const host = this.#host;
    if (!host || !this.#running.has(task.id) || this.#killed.has(host)) return;
    this.#log(
      'warn',
      `render of ${task.request.label} exceeded ${task.timeoutMs} ms: restarting the render host`,
    );
    task.verdict = {
      ok: false,
      code: 'TIMEOUT',
      message: `rendering took longer than ${Math.round(task.timeoutMs / 1000)} s and was stopped`,
      crashed: true,
    };
    this.#stopUsing(host, 'watchdog', interrupted());
    this.#kill(host);
  }

  /**
   * Ticks this process's own clock. A tick far later than due means this
   * process was paused (or stalled); that gap counts as one tick, so that a
   * laptop's sleep neither restarts a host that was asleep too nor fails its
   * start. Restarts a host that does not start, or stops beating with work.
   */
  #tick(): void {
    const now = performance.now();
    const elapsed = now - this.#lastTickAt;
    this.#lastTickAt = now;
    let counted = elapsed;
    if (elapsed > TICK_MS + TICK_GAP_MS) {
      counted = TICK_MS;
      if (this.#running.size > 0) {
        this.#log(
          'info',
          `this process was paused or stalled for ${Math.round(elapsed - TICK_MS)} ms; ` +
            'the render host is not blamed for it',
        );
      }
    }
    const host = this.#host;
    if (!host || this.#killed.has(host)) return;
    if (!this.#hostReady) {
      this.#startingMs += counted;
      if (this.#startingMs < READY_TIMEOUT_MS) return;
      this.#log('error', `render host ${host.pid} not ready after ${READY_TIMEOUT_MS} ms`);
      this.#killed.set(host, 'watchdog');
      this.#kill(host);
      return;
    }
    if (this.#running.size === 0) {
      this.#silentMs = 0;
      return;
    }
    this.#silentMs += counted;
    if (this.#silentMs < this.#silenceMs) return;
    const seconds = Math.round(this.#silentMs / 1000);
    this.#log('warn', `render host ${host.pid} silent for ${seconds} s: restarting it`);
    this.#stopUsing(host, 'watchdog', {
      ok: false,
      code: 'INTERNAL',
      message: `the render host stopped answering for ${seconds} s and was restarted`,
      interrupted: true,
    });
    this.#kill(host);
  }

  #startTicker(): void {
    if (this.#ticker) return;
    this.#lastTickAt = performance.now();
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    this.#syncTickerRef();
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = null;
  }

  /** The ticker keeps this process alive while tasks run or a host is starting or dying. */
  #syncTickerRef(): void {
    if (!this.#ticker) return;
    const busy = this.#running.size > 0 || (this.#host !== null && !this.#hostReady);
    if (busy) this.#ticker.ref();
    else this.#ticker.unref();
  }

  /**
   * Sends nothing more to this host and decides what its running tasks will
   * resolve to once it is gone (unless they finish first).
   */
  #stopUsing(host: ChildProcess, why: 'watchdog' | 'stopped', verdict: PoolOutcome): void {
    this.#killed.set(host, why);
    this.#hostReady = false;
    for (const task of this.#running.values()) task.verdict ??= { ...verdict };
    this.#syncTickerRef();
  }

  /** SIGKILL, and if the process does not die (stuck in I/O), give up on it. */
  #kill(host: ChildProcess): void {
    killGroup(host);
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

  /**
   * The host has exited (or was abandoned): remove the temporary files of the
   * outputs it held, then settle its tasks and maybe restart.
   */
  #onGone(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    // Whatever the host started and left behind goes with it.
    killGroup(child);
    if (child !== this.#host) return;
    const wasReady = this.#hostReady;
    this.#host = null;
    this.#hostReady = false;
    if (this.#abandonTimer) clearTimeout(this.#abandonTimer);
    this.#abandonTimer = null;

    const reason: HostExit['reason'] =
      this.#killed.get(child) ?? (isNativeCrash(code, signal) ? 'crashed' : 'killed');
    const how = describeExit(code, signal);
    const held = [...this.#running.values()];
    this.#running.clear();
    this.#syncTickerRef();
    this.#settling += held.length;
    const outcomes = held.map((task) => task.verdict ?? this.#deathOutcome(task, reason, how));

    void this.#sweepTemps(held).then(() => {
      this.#settling -= held.length;
      held.forEach((task, i) => task.resolve(outcomes[i] ?? interrupted()));

      let restartInMs: number | null = null;
      if (this.#started) {
        const diedAtOnce =
          (reason === 'crashed' || reason === 'killed') &&
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
    });
  }

  /**
   * What a task resolves to when its host died without a verdict: a native
   * crash makes it a suspect; a host ended from outside interrupts it, unless
   * that keeps happening with this image in flight.
   */
  #deathOutcome(task: Task, reason: HostExit['reason'], how: string): PoolOutcome {
    if (reason === 'crashed') {
      return {
        ok: false,
        code: 'DECODER_CRASH',
        crashed: true,
        message: `the image decoder crashed (${how}) while this image was being processed`,
      };
    }
    if (reason !== 'killed') return interrupted();
    const key = imageKey(task.request);
    const kills = (this.#outsideKills.get(key) ?? 0) + 1;
    this.#outsideKills.delete(key); // re-inserted last: the map drops the oldest first
    this.#outsideKills.set(key, kills);
    for (const old of this.#outsideKills.keys()) {
      if (this.#outsideKills.size <= MAX_TRACKED_IMAGES) break;
      this.#outsideKills.delete(old);
    }
    if (kills >= OUTSIDE_KILLS_BEFORE_SUSPECT) {
      return {
        ok: false,
        code: 'DECODER_CRASH',
        crashed: true,
        message:
          `the render host was ended (${how}) ${kills} times in a row while this image was ` +
          'being processed (out of memory?)',
      };
    }
    return {
      ok: false,
      code: 'INTERNAL',
      message: `the render host was ended from outside (${how}); the image will be tried again`,
      interrupted: true,
    };
  }

  /**
   * Removes the temporary files a dead host may have left for these tasks'
   * outputs (see tempPathFor), at most for SWEEP_TIMEOUT_MS; whatever is left
   * is a dead write for the cache cleanup.
   */
  async #sweepTemps(tasks: readonly Task[]): Promise<void> {
    const finals = new Map<string, Set<string>>();
    for (const task of tasks) {
      // A pyramid's temporary folder too (removed whole).
      const pyramid = task.request.pyramid?.dir;
      for (const path of [
        ...task.request.outputs.map((o) => o.finalPath),
        ...(pyramid ? [pyramid] : []),
      ]) {
        const folder = dirname(path);
        const names = finals.get(folder) ?? new Set<string>();
        names.add(basename(path));
        finals.set(folder, names);
      }
    }
    if (finals.size === 0) return;
    const sweep = Promise.all(
      [...finals].map(async ([folder, names]) => {
        const entries = await readdir(folder).catch(() => [] as string[]);
        const temps = entries.filter((e) => [...names].some((name) => isTempNameOf(name, e)));
        await Promise.all(
          temps.map((t) => rm(join(folder, t), { recursive: true, force: true }).catch(() => {})),
        );
        return temps.length;
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), SWEEP_TIMEOUT_MS);
    });
    const removed = await Promise.race([sweep, late]);
    clearTimeout(timer);
    if (removed === null) {
      this.#log('warn', 'removing the temporary files of a dead render host is taking too long');
    } else {
      const count = removed.reduce((a, b) => a + b, 0);
      if (count) this.#log('info', `removed ${count} temporary files of a dead render host`);
    }
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
      task.resolve({
        ok: false,
        code: 'INTERNAL',
        message: `the render host keeps failing to start (${how})`,
      });
    }
  }

  #settle(task: Task, outcome: PoolOutcome): void {
    this.#running.delete(task.id);
    this.#syncTickerRef();
    task.resolve(outcome);
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

/** Hosts lead a process group of their own where there are groups (not Windows). */
const GROUPS = process.platform !== 'win32';

/** SIGKILL to every process left in a host's group (none, or its helpers). */
function killGroup(host: ChildProcess): void {
  if (!GROUPS || host.pid === undefined) return;
  try {
    process.kill(-host.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is empty.
  }
}
