import { describe, expect, it, vi } from 'vitest';
import { COMMANDS, type AppEvent } from '../src-shared/api.ts';
import { CALL_CHANNEL, EVENT_CHANNEL, createPreloadApi } from './preload-api.ts';

function fakeIpc() {
  const listeners = new Map<string, Set<(e: unknown, ...args: unknown[]) => void>>();
  return {
    invoke: vi.fn((..._args: unknown[]): Promise<unknown> =>
      Promise.resolve({ ok: true, value: null }),
    ),
    on: vi.fn((channel: string, l: (e: unknown, ...args: unknown[]) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
    }),
    removeListener: vi.fn((channel: string, l: (e: unknown, ...args: unknown[]) => void) => {
      listeners.get(channel)?.delete(l);
    }),
    emit(channel: string, ...args: unknown[]) {
      for (const l of listeners.get(channel) ?? []) l({ sender: 'ipc internals' }, ...args);
    },
  };
}

const webUtils = { getPathForFile: vi.fn(() => '/home/u/photo.jpg') };
type Ipc = Parameters<typeof createPreloadApi>[0];

describe('preload api', () => {
  it('uses the channels the main process handles', () => {
    expect(CALL_CHANNEL).toBe('albumen:call');
    expect(EVENT_CHANNEL).toBe('albumen:event');
  });

  it('has one function per command, plus onEvent and pathForFile', () => {
    const api = createPreloadApi(fakeIpc() as unknown as Ipc, webUtils);
    expect(Object.keys(api).sort()).toEqual([...COMMANDS, 'onEvent', 'pathForFile'].sort());
    for (const name of Object.keys(api)) {
      expect(typeof api[name as keyof typeof api]).toBe('function');
    }
  });

  it('invokes the call channel with the command name and its parameters', async () => {
    const ipc = fakeIpc();
    const api = createPreloadApi(ipc as unknown as Ipc, webUtils);
    await api.pauseJob({ jobId: 4 });
    await api.listCollections({});
    expect(ipc.invoke).toHaveBeenNthCalledWith(1, 'albumen:call', 'pauseJob', { jobId: 4 });
    expect(ipc.invoke).toHaveBeenNthCalledWith(2, 'albumen:call', 'listCollections', {});
  });

  it("gives the page the main process's answer as it came, errors included", async () => {
    const ipc = fakeIpc();
    const api = createPreloadApi(ipc as unknown as Ipc, webUtils);
    const refused = {
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'x is not a known field' },
    };
    ipc.invoke.mockResolvedValueOnce(refused);
    expect(await api.getSettings({})).toEqual(refused);
    expect(ipc.invoke).toHaveBeenCalledWith('albumen:call', 'getSettings', {});
  });

  it('delivers events without the IPC event object, until unsubscribed', () => {
    const ipc = fakeIpc();
    const api = createPreloadApi(ipc as unknown as Ipc, webUtils);
    const seen: unknown[][] = [];
    const off = api.onEvent((...args: unknown[]) => seen.push(args));
    const e: AppEvent = { type: 'collections' };
    ipc.emit('albumen:event', e);
    off();
    ipc.emit('albumen:event', e);
    expect(seen).toEqual([[e]]);
  });

  it("gives a dropped file's path, or '' when it has none", () => {
    const api = createPreloadApi(fakeIpc() as unknown as Ipc, webUtils);
    expect(api.pathForFile(new File([], 'photo.jpg'))).toBe('/home/u/photo.jpg');
    webUtils.getPathForFile.mockImplementationOnce(() => {
      throw new Error('not a File');
    });
    expect(api.pathForFile({} as File)).toBe('');
  });
});
