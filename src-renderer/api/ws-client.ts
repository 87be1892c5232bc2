/**
 * The browser host's transport: AppApi calls and pushed events over one
 * WebSocket (ws-protocol.ts), with reconnection. Free of DOM globals so it
 * runs under unit tests with a fake socket and fake timers.
 */
import type { ApiError, ApiResult, AppEvent } from '../../src-shared/api.ts';
import type { WsCall, WsServerMessage } from '../../src-shared/ws-protocol.ts';

/** The part of a WebSocket the client uses (a browser WebSocket is one). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

/** Where the connection stands, as the banner shows it. */
export interface ConnectionStatus {
  state: 'connecting' | 'open' | 'closed';
  /** True once a connection has ever been open (a later close is a lost connection). */
  everOpened: boolean;
  /** Reconnection attempts since the last open connection. */
  attempt: number;
  /** When the next attempt starts (ms since epoch), while closed. */
  retryAt: number | null;
}

export interface WsClientOptions {
  url: string;
  createSocket: (url: string) => SocketLike;
  /** Delays before reconnection attempts, in ms; the last one repeats. */
  backoffMs?: readonly number[];
  /** How long a call made while disconnected waits for a connection. */
  queueTimeoutMs?: number;
  timers?: {
    setTimeout: (f: () => void, ms: number) => unknown;
    clearTimeout: (h: unknown) => void;
    now: () => number;
  };
}

const OPEN = 1;

/** The error of a call that could not reach the core. */
export function lostConnection(detail?: string): ApiError {
  return {
    code: 'IO_ERROR',
    message: detail ? `lost connection to Albumen (${detail})` : 'lost connection to Albumen',
  };
}

interface Waiting {
  msg: WsCall;
  resolve: (r: ApiResult<unknown>) => void;
  timer: unknown;
}

/**
 * A reconnecting WebSocket client. Calls made while disconnected wait up to
 * `queueTimeoutMs` for the connection; calls in flight when it drops fail
 * with IO_ERROR (the core may or may not have run them, so nothing is resent).
 */
export class WsClient {
  private readonly o: Required<Omit<WsClientOptions, 'timers'>> & {
    timers: NonNullable<WsClientOptions['timers']>;
  };
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly inFlight = new Map<number, Waiting>();
  private queue: Waiting[] = [];
  private readonly eventListeners = new Set<(e: AppEvent) => void>();
  private readonly statusListeners = new Set<(s: ConnectionStatus) => void>();
  private retryTimer: unknown = null;
  private stopped = false;
  private currentStatus: ConnectionStatus = {
    state: 'connecting',
    everOpened: false,
    attempt: 0,
    retryAt: null,
  };

  constructor(options: WsClientOptions) {
    this.o = {
      backoffMs: [500, 1000, 2000, 4000, 8000],
      queueTimeoutMs: 15_000,
      timers: {
        setTimeout: (f, ms) => globalThis.setTimeout(f, ms),
        clearTimeout: (h) => globalThis.clearTimeout(h as number),
        now: () => Date.now(),
      },
      ...options,
    };
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** Opens the first connection. */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes for good: every waiting call fails. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) this.o.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const s = this.socket;
    this.socket = null;
    s?.close();
    this.failAll('the client was stopped');
  }

  call(command: string, params: unknown): Promise<ApiResult<unknown>> {
    return new Promise((resolve) => {
      const msg: WsCall = { type: 'call', id: this.nextId++, command, params };
      const waiting: Waiting = { msg, resolve, timer: null };
      if (this.socket && this.socket.readyState === OPEN) {
        this.send(waiting);
        return;
      }
      if (this.stopped) {
        resolve({ ok: false, error: lostConnection() });
        return;
      }
      waiting.timer = this.o.timers.setTimeout(() => {
        this.queue = this.queue.filter((w) => w !== waiting);
        resolve({ ok: false, error: lostConnection(`${command} could not be sent`) });
      }, this.o.queueTimeoutMs);
      this.queue.push(waiting);
    });
  }

  onEvent(listener: (e: AppEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onStatus(listener: (s: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Tries to reconnect now instead of waiting for the backoff timer. */
  retryNow(): void {
    if (this.stopped || this.currentStatus.state !== 'closed') return;
    if (this.retryTimer !== null) this.o.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  private setStatus(patch: Partial<ConnectionStatus>): void {
    this.currentStatus = { ...this.currentStatus, ...patch };
    for (const l of this.statusListeners) l(this.currentStatus);
  }

  private send(w: Waiting): void {
    this.inFlight.set(w.msg.id, w);
    try {
      this.socket!.send(JSON.stringify(w.msg));
    } catch (err) {
      this.inFlight.delete(w.msg.id);
      w.resolve({ ok: false, error: lostConnection(String(err)) });
    }
  }

  private connect(): void {
    this.retryTimer = null;
    this.setStatus({ state: 'connecting', retryAt: null });
    let socket: SocketLike;
    try {
      socket = this.o.createSocket(this.o.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.setStatus({ state: 'open', everOpened: true, attempt: 0, retryAt: null });
      const queued = this.queue;
      this.queue = [];
      for (const w of queued) {
        this.o.timers.clearTimeout(w.timer);
        this.send(w);
      }
    });
    socket.addEventListener('message', (ev) => {
      if (this.socket === socket) this.receive(ev.data);
    });
    // An error is always followed by a close; the close does the work.
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const w of this.inFlight.values()) {
        w.resolve({
          ok: false,
          error: lostConnection(`${w.msg.command} may not have finished`),
        });
      }
      this.inFlight.clear();
      if (!this.stopped) this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    const attempt = this.currentStatus.attempt;
    const steps = this.o.backoffMs;
    const base = steps[Math.min(attempt, steps.length - 1)] ?? 1000;
    this.setStatus({ state: 'closed', attempt: attempt + 1, retryAt: this.o.timers.now() + base });
    this.retryTimer = this.o.timers.setTimeout(() => this.connect(), base);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: WsServerMessage;
    try {
      msg = JSON.parse(data) as WsServerMessage;
    } catch {
      return;
    }
    if (msg.type === 'result') {
      const w = this.inFlight.get(msg.id);
      if (!w) return;
      this.inFlight.delete(msg.id);
      w.resolve(msg.result);
    } else if (msg.type === 'event') {
      for (const l of this.eventListeners) {
        try {
          l(msg.event);
        } catch (err) {
          console.error('albumen: event listener failed', err);
        }
      }
    }
  }

  private failAll(detail: string): void {
    for (const w of [...this.inFlight.values(), ...this.queue]) {
      if (w.timer !== null) this.o.timers.clearTimeout(w.timer);
      w.resolve({ ok: false, error: lostConnection(detail) });
    }
    this.inFlight.clear();
    this.queue = [];
  }
}
