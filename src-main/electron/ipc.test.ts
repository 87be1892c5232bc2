import type { IpcMainInvokeEvent } from 'electron';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { resultProblem } from '../../src-shared/api-validate.ts';
import { AppService } from '../app/app-service.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { openNodeCore } from '../core/compose-node.ts';
import {
  CALL_CHANNEL,
  EVENT_CHANNEL,
  forwardEvents,
  isTrustedSender,
  registerCommandHandler,
  senderInfo,
  type TrustedRenderer,
} from './ipc.ts';

const PAGE = 'file:///opt/Albumen/out/renderer/index.html';
const trusted: TrustedRenderer = {
  webContentsId: () => 7,
  target: { kind: 'file', file: '/opt/Albumen/out/renderer/index.html' },
};

/** An invoke event as Electron builds it, reduced to what the check reads. */
function invokeEvent(
  o: { id?: number; url?: string | null; parent?: object | null } = {},
): IpcMainInvokeEvent {
  const url = o.url === undefined ? PAGE : o.url;
  return {
    sender: { id: o.id ?? 7 },
    senderFrame: url === null ? null : { url, parent: o.parent ?? null },
  } as unknown as IpcMainInvokeEvent;
}

describe('IPC sender check', () => {
  it('accepts our window showing our renderer', () => {
    expect(isTrustedSender(senderInfo(invokeEvent()), trusted)).toBe(true);
    expect(isTrustedSender(senderInfo(invokeEvent({ url: `${PAGE}#/viewer/3` })), trusted)).toBe(
      true,
    );
  });

  it.each([
    ['another webContents', invokeEvent({ id: 8 })],
    ['a sub-frame', invokeEvent({ parent: {} })],
    ['a frame that is gone', invokeEvent({ url: null })],
    ['a page navigated to', invokeEvent({ url: 'https://evil.example/' })],
    ['another local file', invokeEvent({ url: 'file:///tmp/evil.html' })],
  ])('refuses %s', (_name, e) => {
    expect(isTrustedSender(senderInfo(e), trusted)).toBe(false);
  });

  it('refuses everyone while there is no window', () => {
    expect(
      isTrustedSender(senderInfo(invokeEvent()), { ...trusted, webContentsId: () => null }),
    ).toBe(false);
  });
});

describe('command handler', () => {
  function setup(trust: boolean) {
    const handlers = new Map<string, (e: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
    const ipc = {
      handle: vi.fn((channel: string, h: (e: IpcMainInvokeEvent, ...args: unknown[]) => unknown) =>
        handlers.set(channel, h),
      ),
      removeHandler: vi.fn((channel: string) => handlers.delete(channel)),
    };
    const service = { handle: vi.fn(() => Promise.resolve({ ok: true as const, value: 3 })) };
    const log = vi.fn();
    const dispose = registerCommandHandler(ipc, service, () => trust, log);
    return { handlers, ipc, service, log, dispose };
  }

  it('uses the channel the preload invokes', () => {
    expect(CALL_CHANNEL).toBe('albumen:call');
    expect(EVENT_CHANNEL).toBe('albumen:event');
  });

  it('passes a trusted call to the service as it came', async () => {
    const { handlers, service } = setup(true);
    const result = await handlers.get(CALL_CHANNEL)!(invokeEvent(), 'pauseJob', { jobId: 2 });
    expect(service.handle).toHaveBeenCalledWith('pauseJob', { jobId: 2 });
    expect(result).toEqual({ ok: true, value: 3 });
  });

  it('answers an untrusted call with an error result, logs it, and never reaches the service', async () => {
    const { handlers, service, log } = setup(false);
    const result = await handlers.get(CALL_CHANNEL)!(
      invokeEvent({ url: 'https://evil.example/' }),
      'importPaths',
      { paths: ['/'] },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(service.handle).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('https://evil.example/'));
  });

  it('removes its handler on dispose', () => {
    const { handlers, dispose } = setup(true);
    dispose();
    expect(handlers.has(CALL_CHANNEL)).toBe(false);
  });
});

describe('command handler over a real AppService', () => {
  let root: string;
  let core: AlbumenCore;
  let service: AppService;
  let handler: (e: IpcMainInvokeEvent, ...args: unknown[]) => unknown;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'albumen-ipc-'));
    core = openNodeCore({ dataDir: root, logFile: null });
    service = new AppService(core);
    const ipc = {
      handle: (_c: string, h: typeof handler) => void (handler = h),
      removeHandler: () => {},
    };
    registerCommandHandler(
      ipc,
      service,
      () => true,
      () => {},
    );
  });

  afterAll(async () => {
    service.dispose();
    await core.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("answers a trusted call with the contract's result", async () => {
    const r = await handler(invokeEvent(), 'listJobs', { offset: 0, limit: 5 });
    expect(r).toEqual({ ok: true, value: [] });
    expect(resultProblem('listJobs', r)).toBeNull();
  });

  it.each([
    ['an unknown command', 'rmrf', {}, 'unknown command "rmrf"'],
    ['a prototype key', 'getSettings', JSON.parse('{"__proto__":{"x":1}}'), '__proto__ is not'],
    ['an id as text', 'retryJob', { jobId: '1' }, 'retryJob: jobId must be a positive'],
    ['a list as parameters', 'listCollections', [1], 'listCollections: must be an object'],
    ['a nested typo', 'updateSettings', { limits: { timeout: 5 } }, 'limits.timeout is not'],
  ])('refuses %s from a trusted window, naming the field', async (_w, command, params, msg) => {
    const r = await handler(invokeEvent(), command, params);
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(resultProblem('listJobs', r)).toBeNull();
    expect(JSON.stringify(r)).toContain(JSON.stringify(msg).slice(1, -1));
  });
});

describe('event forwarding', () => {
  it('sends every event to the live window, and nothing without one', () => {
    let listener: ((e: AppEvent) => void) | undefined;
    const service = {
      onEvent: (l: (e: AppEvent) => void) => {
        listener = l;
        return () => (listener = undefined);
      },
    };
    const sink = { isDestroyed: vi.fn(() => false), send: vi.fn() };
    let current: typeof sink | null = sink;
    const unsubscribe = forwardEvents(service, () => current);
    listener!({ type: 'collections' });
    expect(sink.send).toHaveBeenCalledWith(EVENT_CHANNEL, { type: 'collections' });
    current = null;
    listener!({ type: 'collections' });
    sink.isDestroyed.mockReturnValue(true);
    current = sink;
    listener!({ type: 'collections' });
    expect(sink.send).toHaveBeenCalledTimes(1);
    unsubscribe();
    expect(listener).toBeUndefined();
  });
});
