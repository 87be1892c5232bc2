import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../../electron.vite.config.ts';
import { appFiles } from './app-files.ts';

/** The build's options for one process, as written in electron.vite.config.ts. */
type Section = {
  build?: {
    outDir?: string;
    rolldownOptions?: {
      output?: { format?: string; entryFileNames?: string };
    };
  };
};
const section = (name: 'main' | 'preload') =>
  (config as unknown as Record<string, Section>)[name]!.build!;

describe('app files', () => {
  const root = join(import.meta.dirname, '..', '..');
  const files = appFiles(join(root, 'out', 'main'));

  it('finds the preload the build writes as one CommonJS file', () => {
    const preload = section('preload');
    expect(join(preload.outDir!, 'index.cjs')).toBe(files.preload);
    expect(preload.rolldownOptions!.output).toMatchObject({
      format: 'cjs',
      entryFileNames: '[name].cjs',
    });
  });

  it('finds the renderer and the icons', () => {
    expect(files.rendererHtml).toBe(join(root, 'out', 'renderer', 'index.html'));
    expect(files.trayIcon).toBe(join(root, 'resources', 'tray-icon.png'));
    expect(files.appIcon).toBe(join(root, 'resources', 'icon.png'));
  });
});
