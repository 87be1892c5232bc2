/**
 * The main window's lockdown as plain values: its BrowserWindow options, the
 * Content-Security-Policy of the renderer, and the test that tells our
 * renderer's URL from anything else. No Electron at run time, so every
 * security-relevant choice here has a unit test.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { pathToFileURL } from 'node:url';
import { MEDIA_SCHEME } from '../../src-shared/api.ts';
import type { WindowPlacement } from './window-state.ts';

/** Where the renderer comes from: the built page, or Vite's dev server in development. */
export type RendererTarget = { kind: 'file'; file: string } | { kind: 'url'; url: string };

/**
 * The renderer to load. The dev server is used only in an unpackaged run that
 * electron-vite started with `ELECTRON_RENDERER_URL`, so a packaged app can
 * never be pointed at a remote page through the environment.
 */
export function rendererTarget(
  env: { ELECTRON_RENDERER_URL?: string | undefined },
  isPackaged: boolean,
  rendererHtml: string,
): RendererTarget {
  const url = env.ELECTRON_RENDERER_URL;
  if (!isPackaged && url && /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\/?/.test(url)) {
    return { kind: 'url', url };
  }
  return { kind: 'file', file: rendererHtml };
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True when `url` is our renderer: the built index.html itself (any query or
 * hash), or a page of the dev server's origin. Used for navigation, for the
 * IPC sender check and to pick the responses that get the CSP header.
 */
export function isRendererUrl(url: string, target: RendererTarget): boolean {
  const u = parse(url);
  if (!u) return false;
  if (target.kind === 'url') {
    const dev = parse(target.url);
    return dev !== null && u.origin === dev.origin;
  }
  const page = pathToFileURL(target.file);
  return u.protocol === 'file:' && u.host === page.host && u.pathname === page.pathname;
}

/**
 * The renderer's Content-Security-Policy. Applied as a response header to the
 * renderer's documents, and repeated by the page in a `<meta>` (a file://
 * page has no response headers to add it to).
 */
export function contentSecurityPolicy(target: RendererTarget): string {
  const dev = target.kind === 'url' ? parse(target.url) : null;
  const directives: [string, ...string[]][] = [
    ['default-src', "'self'"],
    // Thumbnails, cache images and originals come only through our media
    // scheme, by id; data: and blob: are for generated placeholders.
    ['img-src', "'self'", `${MEDIA_SCHEME}:`, 'data:', 'blob:'],
    // React sets inline style attributes; that is not a script vector.
    ['style-src', "'self'", "'unsafe-inline'"],
    // In development Vite's React refresh preamble is an inline script.
    ['script-src', "'self'", ...(dev ? ["'unsafe-inline'"] : [])],
    // The UI talks to the core over IPC, never the network; only the dev
    // server's hot-reload socket is allowed in development.
    ['connect-src', "'self'", ...(dev ? [`ws://${dev.host}`] : [])],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    ['frame-ancestors', "'none'"],
  ];
  return directives.map((d) => d.join(' ')).join('; ');
}

/** What the main window is given besides its lockdown. */
export interface MainWindowInput {
  /** The bundled (single CommonJS file) preload script. */
  preload: string;
  placement: WindowPlacement;
  icon?: string;
}

/** The smallest window the UI is laid out for. */
export const MIN_WINDOW_SIZE = { width: 720, height: 480 } as const;

/** The main window's options: size and place remembered, the renderer locked down. */
export function mainWindowOptions(input: MainWindowInput): BrowserWindowConstructorOptions {
  const { placement } = input;
  return {
    width: placement.width,
    height: placement.height,
    ...(placement.x !== undefined && placement.y !== undefined
      ? { x: placement.x, y: placement.y }
      : { center: true }),
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    title: 'Albumen',
    // Shown on 'ready-to-show', so the user never sees an unpainted frame.
    show: false,
    backgroundColor: '#1e1e1e',
    ...(input.icon ? { icon: input.icon } : {}),
    webPreferences: {
      preload: input.preload,
      // The preload's world and the page's are separate JavaScript worlds: the
      // page sees only what contextBridge hands it, never ipcRenderer itself.
      contextIsolation: true,
      // The renderer runs in Chromium's OS sandbox with no Node: a bug in an
      // image decoder or the UI cannot reach the file system. The preload
      // therefore only gets `electron`'s renderer modules (and must be one file).
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      // Same-origin policy stays on: the page cannot read file:// or other origins.
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      // A file dropped on the window is imported by the UI, never opened as a page.
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}
