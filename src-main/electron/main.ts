/**
 * Composition root of the desktop app. It opens the plain-Node core in the
 * same data folder as the CLI, serves the AppApi over one IPC channel and
 * media over `albumen-media:`, and adds what only a desktop app has: the
 * window, the menu, the tray, notifications, and a clean quit. Everything it
 * wires is a small module with its own tests; this file only connects them.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  protocol,
  screen,
  session,
  shell,
} from 'electron';
import { join } from 'node:path';
import type { JobView } from '../../src-shared/domain.ts';
import { AppService } from '../app/app-service.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { openNodeCore } from '../core/compose-node.ts';
import { defaultDataDir } from '../core/data-dir.ts';
import { LockedError } from '../store/process-lock.ts';
import { appFiles } from './app-files.ts';
import { pathsFromArgv } from './command-line.ts';
import { forwardEvents, isTrustedSender, registerCommandHandler, senderInfo } from './ipc.ts';
import { registerMediaScheme, serveMediaProtocol } from './media-protocol.ts';
import { appMenuTemplate, chooseAndImport } from './menu.ts';
import { JobNotifier } from './notifications.ts';
import { AppTray } from './tray.ts';
import { afterLastWindowClosed, type TrayAction } from './tray-model.ts';
import { guardSession, guardWebContents } from './web-guards.ts';
import { mainWindowOptions, rendererTarget } from './window-options.ts';
import { loadWindowPlacement, saveWindowState, WINDOW_STATE_FILE } from './window-state.ts';

/** How long a quit waits for the core to stop before it exits anyway. */
const CLOSE_TIMEOUT_MS = 20_000;

const files = appFiles(import.meta.dirname);
const dataDir = defaultDataDir();
const target = rendererTarget(process.env, app.isPackaged, files.rendererHtml);
const isDev = !app.isPackaged;

// Before `ready`, as Electron requires: the app's name (menus, notifications),
// its data folder, and the media scheme's privileges.
app.setName('Albumen');
// userData is the folder the CLI and the browser host use (Electron's default
// would be ~/.config/albumen, from package.json's lower-case name). Chromium's
// own caches go to a sub-folder so they never mix with the library's files.
app.setPath('userData', dataDir);
app.setPath('sessionData', join(dataDir, 'chromium'));
if (process.platform === 'win32') app.setAppUserModelId('org.albumen.Albumen');
registerMediaScheme(protocol);

/** The running app: one core, one service, at most one window. */
interface Desktop {
  core: AlbumenCore;
  service: AppService;
  window: BrowserWindow | null;
  tray: AppTray | null;
  /** Undo functions, run in reverse order at quit. */
  disposers: (() => void)[];
  toldAboutTray: boolean;
}

let desktop: Desktop | null = null;
let quitting: 'no' | 'closing' | 'closed' = 'no';
/** Paths handed over by a second instance while this one was still starting. */
const pendingPaths: string[] = [];

function log(level: 'info' | 'warn' | 'error', message: string): void {
  if (desktop) desktop.core.log.log(level, `desktop: ${message}`);
  else console.error(`albumen: ${message}`);
}

function createWindow(s: Desktop): BrowserWindow {
  const stateFile = join(dataDir, WINDOW_STATE_FILE);
  const placement = loadWindowPlacement(
    stateFile,
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow(
    mainWindowOptions({ preload: files.preload, placement, icon: files.appIcon }),
  );
  guardWebContents(win.webContents, target, (url) => void shell.openExternal(url));
  win.once('ready-to-show', () => {
    // Maximizing a hidden window shows it on some platforms: do it at show time.
    if (placement.maximized) win.maximize();
    win.show();
  });
  win.on('close', () => {
    const err = saveWindowState(stateFile, {
      bounds: win.getNormalBounds(),
      maximized: win.isMaximized(),
    });
    if (err) log('warn', `could not save the window's place: ${err.message}`);
  });
  win.on('closed', () => {
    if (s.window === win) s.window = null;
  });
  win.webContents.on('render-process-gone', (_e, details) =>
    log('error', `renderer ${details.reason} (exit code ${details.exitCode})`),
  );
  const loaded = target.kind === 'url' ? win.loadURL(target.url) : win.loadFile(target.file);
  loaded.catch((err: unknown) => log('error', `could not load the UI: ${String(err)}`));
  s.window = win;
  return win;
}

function showWindow(s: Desktop): void {
  const win = s.window ?? createWindow(s);
  if (win.isMinimized()) win.restore();
  if (win.isVisible()) win.focus();
  else win.once('ready-to-show', () => win.focus());
}

async function importPaths(s: Desktop, paths: string[]): Promise<void> {
  if (!paths.length) return;
  const result = await s.service.call('importPaths', { paths });
  if (!result.ok) report(s, result.error.message);
  else if (result.value.failed.length) {
    report(s, result.value.failed.map((f) => `${f.path}: ${f.error.message}`).join('\n'));
  }
}

function report(s: Desktop, message: string): void {
  const options = {
    type: 'warning' as const,
    message: 'Albumen could not add that',
    detail: message,
  };
  void (s.window ? dialog.showMessageBox(s.window, options) : dialog.showMessageBox(options));
}

function notify(title: string, body: string, s: Desktop): void {
  if (!Notification.isSupported()) return;
  const n = new Notification({ title, body, icon: files.appIcon });
  n.on('click', () => showWindow(s));
  n.show();
}

function trayAction(s: Desktop, action: TrayAction): void {
  switch (action) {
    case 'pauseAll':
      void s.service.call('pauseAll', {});
      return;
    case 'resumeAll':
      void s.service.call('resumeAll', {});
      return;
    case 'show':
      showWindow(s);
      return;
    case 'quit':
      app.quit();
      return;
  }
}

/** The newest jobs, to seed the tray and the notifier (events carry every later change). */
async function recentJobs(s: Desktop): Promise<JobView[]> {
  const r = await s.service.call('listJobs', { offset: 0, limit: 1000 });
  return r.ok ? r.value : [];
}

/** Opens the core and everything around it; the window shows before processing starts. */
async function start(): Promise<void> {
  await app.whenReady();
  // The pool's host and worker files: openNodeCore finds them with
  // runtimeFiles() (core/packaged-paths.ts), beside this bundle in out/main,
  // unpacked from app.asar when packaged, the sources when run from them.
  const core = openNodeCore({
    dataDir,
    // The pool host is forked with Electron's binary; this makes it plain Node
    // (Electron's fork sets it too, stated here so it never depends on that).
    poolEnv: { ELECTRON_RUN_AS_NODE: '1' },
    // The app watches its folder collections: changes on disk show up by themselves.
    watch: true,
  });
  const service = new AppService(core);
  const s: Desktop = {
    core,
    service,
    window: null,
    tray: null,
    disposers: [],
    toldAboutTray: false,
  };
  desktop = s;

  guardSession(session.defaultSession, target);
  s.disposers.push(
    () => service.dispose(),
    serveMediaProtocol(protocol, service),
    registerCommandHandler(
      ipcMain,
      service,
      (e) =>
        isTrustedSender(senderInfo(e), {
          webContentsId: () => s.window?.webContents.id ?? null,
          target,
        }),
      (m) => log('warn', m),
    ),
    forwardEvents(service, () => s.window?.webContents ?? null),
  );

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate({
        platform: process.platform,
        isDev,
        actions: {
          addFolder: () => void pick(s, 'folder'),
          addArchive: () => void pick(s, 'archive'),
        },
      }),
    ),
  );
  createWindow(s);

  const jobs = await recentJobs(s);
  const tray = new AppTray(files.trayIcon, (a) => trayAction(s, a));
  s.tray = tray;
  tray.seed(jobs);
  const notifier = new JobNotifier((n) => notify(n.title, n.body, s), Date.now());
  notifier.seed(jobs);
  s.disposers.push(
    service.onEvent((e) => {
      tray.onEvent(e);
      notifier.onEvent(e);
    }),
    () => tray.dispose(),
  );

  try {
    await core.start();
  } catch (err) {
    if (!(err instanceof LockedError)) throw err;
    // The library stays browsable; its jobs run in the other process.
    log('warn', err.message);
    void dialog.showMessageBox({ type: 'info', message: 'Albumen', detail: err.message });
  }

  await importPaths(s, [...pathsFromArgv(process.argv, argvContext()), ...pendingPaths.splice(0)]);
}

function argvContext(cwd = process.cwd()): { defaultApp: boolean; cwd: string } {
  return { defaultApp: process.defaultApp === true, cwd };
}

async function pick(s: Desktop, kind: 'folder' | 'archive'): Promise<void> {
  await chooseAndImport(kind, {
    dialog,
    window: s.window,
    service: s.service,
    report: (m) => report(s, m),
  });
}

/** Stops everything in order; in-flight items go back to pending inside `core.close()`. */
async function shutdown(s: Desktop): Promise<void> {
  for (const dispose of s.disposers.splice(0).reverse()) {
    try {
      dispose();
    } catch (err) {
      log('warn', `shutdown: ${String(err)}`);
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS);
  });
  const outcome = await Promise.race([s.core.close().then(() => 'closed' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') log('error', 'the core did not stop in time; quitting anyway');
}

if (!app.requestSingleInstanceLock()) {
  // Another instance has the library: it receives our argv and shows itself.
  app.quit();
} else {
  app.on('second-instance', (_e, argv, workingDirectory) => {
    const paths = pathsFromArgv(argv, argvContext(workingDirectory));
    const s = desktop;
    if (!s) {
      pendingPaths.push(...paths);
      return;
    }
    showWindow(s);
    void importPaths(s, paths);
  });

  app.on('activate', () => {
    if (desktop) showWindow(desktop);
  });

  app.on('window-all-closed', () => {
    const s = desktop;
    if (quitting !== 'no' || !s) return;
    void s.service.call('getSettings', {}).then((r) => {
      const keep = r.ok ? r.value.keepRunningInTray : true;
      const jobs = s.tray?.activeJobs() ?? [];
      if (afterLastWindowClosed(keep, jobs, process.platform) === 'quit') {
        app.quit();
      } else if (!s.toldAboutTray && process.platform !== 'darwin') {
        s.toldAboutTray = true;
        notify('Albumen keeps working', 'Jobs continue in the background; see the tray icon.', s);
      }
    });
  });

  app.on('before-quit', (event) => {
    if (quitting === 'closed') return;
    event.preventDefault();
    if (quitting === 'closing') return;
    quitting = 'closing';
    const s = desktop;
    void (s ? shutdown(s) : Promise.resolve())
      .catch((err: unknown) => log('error', `shutdown failed: ${String(err)}`))
      .finally(() => {
        quitting = 'closed';
        app.quit();
      });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  start().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    log('error', `could not start: ${message}`);
    dialog.showErrorBox('Albumen could not start', message);
    app.exit(1);
  });
}
