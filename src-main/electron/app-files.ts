/**
 * Where the built app's files are, relative to the main bundle's folder
 * (`out/main`, inside app.asar when packaged): the preload, the renderer, the
 * pool host and render worker entries built beside main, and the icons.
 */
import { join } from 'node:path';

/** The files the shell loads at run time. */
export interface AppFiles {
  /** The sandboxed preload: one CommonJS file. */
  preload: string;
  rendererHtml: string;
  /** Entry of the render pool's child process (built beside main). */
  poolHost: string;
  /** The piscina task file (built beside main). */
  worker: string;
  appIcon: string;
  trayIcon: string;
}

/** The app's files, given the folder of the built main entry. */
export function appFiles(mainDir: string): AppFiles {
  const resources = join(mainDir, '..', '..', 'resources');
  return {
    preload: join(mainDir, '..', 'preload', 'index.cjs'),
    rendererHtml: join(mainDir, '..', 'renderer', 'index.html'),
    poolHost: join(mainDir, 'pool-host.js'),
    worker: join(mainDir, 'render.task.js'),
    appIcon: join(resources, 'icon.png'),
    trayIcon: join(resources, 'tray-icon.png'),
  };
}
