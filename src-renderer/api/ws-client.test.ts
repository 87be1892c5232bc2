import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppEvent } from '../../src-shared/api.ts';
import { WsClient, type ConnectionStatus, type SocketLike } from './ws-client.ts';

/** A socket the test drives by hand. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: { id: number; command: string; params: unknown }[] = [];
  private listeners = new Map<string, ((ev: { data: unknown }) => void)[]>();
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as { id: number; command: string; params: unknown });
  }
  close(): void {
    this.drop();
  }
  addEventListener(type: string, listener: (ev: { data: unknown }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  private fire(type: string, data?: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l({ data });
  }
  open(): void {
    this.readyState = 1;
    this.fire('open');
  }
  drop(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.fire('close');
  }
  reply(id: number, value: unknown): void {
    this.fire('message', JSON.stringify({ type: 'result', id, result: { ok: true, value } }));
  }
  push(event: AppEvent): void {
    this.fire('message', JSON.stringify({ type: 'event', event }));
  }
}

describe('WsClient', () => {
  let sockets: FakeSocket[];
  let client: WsClient;
  let statuses: ConnectionStatus['state'][];
  const last = () => sockets[sockets.length - 1]!;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    statuses = [];
    client = new WsClient({
      url: 'ws://127.0.0.1:1/api',
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      backoffMs: [100, 1000],
      queueTimeoutMs: 5000,
    });
    client.onStatus((s) => statuses.push(s.state));
    client.start();
  });
  afterEach(() => {
    client.stop();
    vi.useRealTimers();
  });

  it('queues calls until the socket opens, then matches answers by id', async () => {
    const p1 = client.call('listJobs', { offset: 0, limit: 10 });
    const p2 = client.call('getSettings', {});
    expect(last().sent).toEqual([]);
    last().open();
    expect(last().sent.map((m) => m.command)).toEqual(['listJobs', 'getSettings']);
    const [a, b] = last().sent;
    last().reply(b!.id, 'settings');
    last().reply(a!.id, ['job']);
    expect(await p1).toEqual({ ok: true, value: ['job'] });
    expect(await p2).toEqual({ ok: true, value: 'settings' });
  });

  it('passes events to every listener', () => {
    const seen: AppEvent[] = [];
    client.onEvent((e) => seen.push(e));
    last().open();
    last().push({ type: 'collections' });
    expect(seen).toEqual([{ type: 'collections' }]);
  });

  it('fails calls in flight with IO_ERROR when the connection drops, and reconnects with backoff', async () => {
    last().open();
    const p = client.call('pauseJob', { jobId: 1 });
    last().drop();
    const r = await p;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('IO_ERROR');
    expect(!r.ok && r.error.message).toMatch(/lost connection to Albumen/);
    expect(client.status.state).toBe('closed');
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(sockets).toHaveLength(2);
    last().drop();
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);
    last().open();
    expect(client.status).toMatchObject({ state: 'open', everOpened: true, attempt: 0 });
    expect(statuses).toContain('closed');
  });

  it('sends a call made while disconnected once reconnected, or fails it after the wait', async () => {
    last().open();
    last().drop();
    const waiting = client.call('listCollections', {});
    vi.advanceTimersByTime(100);
    last().open();
    expect(last().sent.map((m) => m.command)).toEqual(['listCollections']);
    last().reply(last().sent[0]!.id, []);
    expect(await waiting).toEqual({ ok: true, value: [] });

    last().drop();
    const late = client.call('listCollections', {});
    // Every reconnection attempt fails.
    for (let i = 0; i < 6; i++) {
      vi.advanceTimersByTime(1000);
      last().drop();
    }
    const r = await late;
    expect(!r.ok && r.error.code).toBe('IO_ERROR');
  });

  it('ignores malformed messages and answers nobody waits for', () => {
    last().open();
    const s = last();
    expect(() => {
      (s as unknown as { fire: (t: string, d: unknown) => void }).fire('message', 'not json');
      s.reply(999, 'nobody');
    }).not.toThrow();
  });
});
