/**
 * Where the built app's files are, relative to the main bundle's folder
 * (`out/main`, inside app.asar when packaged): the preload, the renderer and
 * the icons. The render pool's files are core/packaged-paths.ts's business.
 */
import { join } from 'node:path';

/** The files the shell loads at run time. */
export interface AppFiles {
  /** The sandboxed preload: one CommonJS file. */
  preload: string;
  rendererHtml: string;
  appIcon: string;
  trayIcon: string;
}

/** The app's files, given the folder of the built main entry. */
export function appFiles(mainDir: string): AppFiles {
  const resources = join(mainDir, '..', '..', 'resources');
  return {
    preload: join(mainDir, '..', 'preload', 'index.cjs'),
    rendererHtml: join(mainDir, '..', 'renderer', 'index.html'),
    appIcon: join(resources, 'icon.png'),
    trayIcon: join(resources, 'tray-icon.png'),
  };
}
