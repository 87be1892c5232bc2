/**
 * Smoke test of the composition root on plain Node: Electron is replaced by
 * tiny fakes at its boundary, everything else is real (the core, the render
 * pool's child process, sharp, SQLite). It follows a folder given on the
 * command line through IPC, events, the media protocol, the tray, the
 * notification, staying in the tray while a job is unfinished, and a clean quit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ApiResult, AppEvent, CollectionView, ImagePage } from '../../src-shared/api.ts';
import { writePhotos } from '../test-support/fixtures.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

type Listener = (...args: unknown[]) => void;

const fake = vi.hoisted(() => {
  class Emitter {
    private readonly listeners = new Map<string, Listener[]>();
    on(event: string, l: Listener): this {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), l]);
      return this;
    }
    once(event: string, l: Listener): this {
      const once: Listener = (...args) => {
        this.listeners.set(
          event,
          (this.listeners.get(event) ?? []).filter((x) => x !== once),
        );
        l(...args);
      };
      return this.on(event, once);
    }
    emit(event: string, ...args: unknown[]): void {
      for (const l of this.listeners.get(event) ?? []) l(...args);
    }
  }

  const sent: AppEvent[] = [];
  const windows: BrowserWindow[] = [];
  const trays: Tray[] = [];
  const notifications: { title: string; body: string }[] = [];
  const ipcHandlers = new Map<string, (...args: unknown[]) => unknown>();
  const protocolHandlers = new Map<
    string,
    (r: { url: string; method: string }) => Promise<Response>
  >();

  class App extends Emitter {
    isPackaged = false;
    quitted = false;
    setName = vi.fn();
    setPath = vi.fn();
    setAppUserModelId = vi.fn();
    exit = vi.fn();
    requestSingleInstanceLock = () => true;
    whenReady = () => Promise.resolve();
    /** Like Electron: before-quit may prevent the quit; otherwise the app is gone. */
    quit = vi.fn(() => {
      let prevented = false;
      this.emit('before-quit', { preventDefault: () => (prevented = true) });
      if (!prevented) this.quitted = true;
    });
  }
  const app = new App();

  class WebContents extends Emitter {
    id: number;
    constructor(id: number) {
      super();
      this.id = id;
    }
    send = (_channel: string, e: AppEvent) => sent.push(e);
    isDestroyed = () => false;
    setWindowOpenHandler = vi.fn();
  }

  class BrowserWindow extends Emitter {
    readonly options: { webPreferences: Record<string, unknown> };
    readonly webContents = new WebContents(windows.length + 1);
    loadFile = vi.fn(() => Promise.resolve());
    loadURL = vi.fn(() => Promise.resolve());
    isMinimized = () => false;
    isVisible = () => true;
    isMaximized = () => false;
    focus = vi.fn();
    restore = vi.fn();
    show = vi.fn();
    maximize = vi.fn();
    getNormalBounds = () => ({ x: 10, y: 20, width: 1100, height: 700 });
    constructor(options: { webPreferences: Record<string, unknown> }) {
      super();
      this.options = options;
      windows.push(this);
    }
  }

  class Tray extends Emitter {
    tooltip = '';
    destroyed = false;
    constructor() {
      super();
      trays.push(this);
    }
    setToolTip = (t: string) => (this.tooltip = t);
    setContextMenu = vi.fn((_menu: unknown) => undefined);
    isDestroyed = () => this.destroyed;
    destroy = () => (this.destroyed = true);
  }

  class Notification extends Emitter {
    static isSupported = () => true;
    private readonly o: { title: string; body: string };
    constructor(o: { title: string; body: string }) {
      super();
      this.o = o;
    }
    show = () => notifications.push({ title: this.o.title, body: this.o.body });
  }

  const electron = {
    app,
    BrowserWindow,
    Tray,
    Notification,
    ipcMain: {
      handle: (channel: string, h: (...args: unknown[]) => unknown) => ipcHandlers.set(channel, h),
      removeHandler: (channel: string) => ipcHandlers.delete(channel),
    },
    protocol: {
      registerSchemesAsPrivileged: vi.fn(),
      handle: (scheme: string, h: (r: { url: string; method: string }) => Promise<Response>) =>
        protocolHandlers.set(scheme, h),
      unhandle: (scheme: string) => protocolHandlers.delete(scheme),
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        webRequest: { onHeadersReceived: vi.fn() },
      },
    },
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: vi.fn() },
    nativeImage: { createFromPath: (p: string) => p },
    dialog: {
      showMessageBox: vi.fn(() => Promise.resolve({ response: 0 })),
      showErrorBox: vi.fn(),
      showOpenDialog: vi.fn(),
    },
    shell: { openExternal: vi.fn() },
  };
  return { electron, sent, windows, trays, notifications, ipcHandlers, protocolHandlers };
});

vi.mock('electron', () => fake.electron);

const tempDir = useTempDir('albumen-shell-');

describe('desktop shell on plain Node', () => {
  const argv = process.argv;
  const signals = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  afterAll(() => {
    process.argv = argv;
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      for (const l of process.listeners(s)) if (!signals[s].includes(l)) process.off(s, l);
    }
    vi.unstubAllEnvs();
  });

  it('imports a folder from the command line, serves it over IPC and media, stays in the tray, quits cleanly', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const photos = join(dir, 'photos');
    await writePhotos(photos, 4, { width: 800, height: 600 });
    vi.stubEnv('ALBUMEN_DATA_DIR', dataDir);
    vi.stubEnv('ELECTRON_RENDERER_URL', '');
    process.argv = [process.execPath, photos];

    await import('./main.ts');

    expect(fake.electron.app.setPath).toHaveBeenCalledWith('userData', dataDir);
    expect(fake.electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalled();
    await vi.waitFor(() => expect(fake.windows).toHaveLength(1));
    const win = fake.windows[0]!;
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true });
    expect(win.loadFile).toHaveBeenCalled();

    // The folder named on the command line runs to the end; its events reach the window.
    await vi.waitFor(
      () =>
        expect(fake.sent.some((e) => e.type === 'job' && e.job.status === 'completed')).toBe(true),
      { timeout: 60_000, interval: 100 },
    );
    expect(fake.sent.some((e) => e.type === 'output')).toBe(true);
    expect(fake.notifications).toContainEqual({
      title: 'Import finished',
      body: 'photos — completed: 4 images',
    });

    // Commands from our renderer are served; from anything else, refused.
    const call = fake.ipcHandlers.get('albumen:call')!;
    const rendererUrl = pathToFileURL(
      join(import.meta.dirname, '..', 'renderer', 'index.html'),
    ).href;
    const ours = {
      sender: { id: win.webContents.id },
      senderFrame: { url: rendererUrl, parent: null },
    };
    const collections = (await call(ours, 'listCollections', {})) as ApiResult<CollectionView[]>;
    expect(collections.ok && collections.value.map((c) => [c.name, c.imageCount])).toEqual([
      ['photos', 4],
    ]);
    const foreign = { sender: { id: 99 }, senderFrame: { url: rendererUrl, parent: null } };
    expect(await call(foreign, 'listCollections', {})).toMatchObject({ ok: false });

    // Media by id through the protocol handler.
    const collectionId = collections.ok ? collections.value[0]!.id : 0;
    const page = (await call(ours, 'listImages', {
      collectionId,
      offset: 0,
      limit: 10,
    })) as ApiResult<ImagePage>;
    const imageId = page.ok ? page.value.items[0]!.id : 0;
    const media = fake.protocolHandlers.get('albumen-media')!;
    const thumb = await media({ url: `albumen-media://thumbnail/${imageId}`, method: 'GET' });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toMatch(/^image\//);
    expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(100);
    const hostile = await media({
      url: 'albumen-media://thumbnail/../../etc/passwd',
      method: 'GET',
    });
    expect(hostile.status).toBe(400);

    // The tray follows the jobs.
    await vi.waitFor(() => expect(fake.trays[0]!.tooltip).toBe('Albumen — no jobs running'), {
      timeout: 5_000,
    });

    // Closing the window while a job is unfinished keeps the app in the tray.
    const more = join(dir, 'more');
    await writePhotos(more, 12, { width: 1200, height: 900 });
    const imported = (await call(ours, 'importPaths', { paths: [more] })) as ApiResult<{
      jobs: { id: number }[];
    }>;
    const jobId = imported.ok ? imported.value.jobs[0]!.id : 0;
    expect(await call(ours, 'pauseJob', { jobId })).toEqual({ ok: true, value: true });
    const tray = fake.trays[0]!;
    await vi.waitFor(() => expect(tray.tooltip).toMatch(/^Albumen — 1 job paused/), {
      timeout: 5_000,
    });
    win.emit('close');
    win.emit('closed');
    fake.electron.app.emit('window-all-closed');
    await vi.waitFor(() =>
      expect(fake.notifications.map((n) => n.title)).toContain('Albumen keeps working'),
    );
    expect(fake.electron.app.quit).not.toHaveBeenCalled();
    expect(existsSync(join(dataDir, 'window-state.json'))).toBe(true);

    // The tray menu brings the window back, and quits cleanly (the paused job stays for next time).
    type Item = { label?: string; click?: () => void };
    const menu = () => tray.setContextMenu.mock.lastCall![0] as Item[];
    menu().find((i) => i.label === 'Show window')!.click!();
    expect(fake.windows).toHaveLength(2);
    menu().find((i) => i.label === 'Quit Albumen')!.click!();
    await vi.waitFor(() => expect(fake.electron.app.quitted).toBe(true), { timeout: 30_000 });
    expect(existsSync(join(dataDir, 'albumen.lock'))).toBe(false);
    expect(fake.ipcHandlers.size).toBe(0);
    expect(fake.protocolHandlers.size).toBe(0);
    expect(tray.destroyed).toBe(true);
  });
});
