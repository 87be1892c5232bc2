import { beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../src-shared/api.ts';

// Electron faked at the boundary: the preload only touches these three.
const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: {
    invoke: vi.fn(() => Promise.resolve({ ok: true, value: [] })),
    on: vi.fn(),
    removeListener: vi.fn(),
  },
  webUtils: { getPathForFile: vi.fn(() => '') },
}));
vi.mock('electron', () => electron);

describe('preload', () => {
  beforeEach(() => {
    vi.resetModules();
    electron.contextBridge.exposeInMainWorld.mockClear();
  });

  it('exposes window.albumen with exactly one function per command, onEvent and pathForFile', async () => {
    await import('./index.ts');
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [name, api] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as unknown as [
      string,
      Record<string, unknown>,
    ];
    expect(name).toBe('albumen');
    expect(Object.keys(api).sort()).toEqual([...COMMANDS, 'onEvent', 'pathForFile'].sort());
  });

  it("calls invoke 'albumen:call' with the command name", async () => {
    await import('./index.ts');
    const api = electron.contextBridge.exposeInMainWorld.mock.calls[0]![1] as Record<
      string,
      (p: unknown) => Promise<unknown>
    >;
    await api.listJobs!({ offset: 0, limit: 10 });
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith('albumen:call', 'listJobs', {
      offset: 0,
      limit: 10,
    });
  });
});
