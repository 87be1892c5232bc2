import { existsSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
// electron-builder's own loader and schema check (its app-builder-lib), the
// ones `electron-builder` runs before it packages anything.
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import type { Configuration } from 'app-builder-lib';
import { DebugLogger } from 'builder-util';
import { describe, expect, it } from 'vitest';
import desktop from '../../electron.vite.config.ts';
import cli from '../../vite.cli.config.ts';
import renderer from '../../vite.renderer.config.ts';
import { POOL_HOST_ENTRY, WORKER_ENTRY, poolSources, runtimeFiles } from './packaged-paths.ts';

const root = join(import.meta.dirname, '..', '..');

/** A Node build's options, as written in its config. */
interface NodeBuild {
  outDir?: string;
  rolldownOptions?: {
    input?: Record<string, string>;
    output?: { entryFileNames?: string; chunkFileNames?: string };
  };
}
const builds: [string, NodeBuild][] = [
  ['desktop main', (desktop as unknown as { main: { build: NodeBuild } }).main.build],
  ['CLI and browser host', (cli as { build: NodeBuild }).build],
];

describe('runtimeFiles', () => {
  it('from the sources: the TypeScript entries of the pool, and out/renderer', () => {
    const files = runtimeFiles();
    expect(files.poolHost).toBe(join(root, 'src-main', 'pool', 'pool-host.ts'));
    expect(files.worker).toBe(join(root, 'src-worker', 'render.task.ts'));
    expect(existsSync(files.poolHost) && existsSync(files.worker)).toBe(true);
    expect(files.rendererDir).toBe(join(root, 'out', 'renderer'));
    expect(renderer.build?.outDir).toBe(files.rendererDir);
  });

  for (const [name, build] of builds) {
    it(`built (${name}): the entries the build writes beside the bundle and its chunks`, () => {
      const outDir = build.outDir!;
      const input = build.rolldownOptions!.input!;
      expect(input[POOL_HOST_ENTRY]).toBe(poolSources(root)[POOL_HOST_ENTRY]);
      expect(input[WORKER_ENTRY]).toBe(poolSources(root)[WORKER_ENTRY]);
      const { entryFileNames, chunkFileNames } = build.rolldownOptions!.output!;
      expect(entryFileNames).toBe('[name].js');
      // Flat: a chunk holding this module is in the entries' folder too.
      expect(chunkFileNames).not.toMatch(/[\\/]/);
      for (const module of ['index.js', 'main.js', 'compose-node-atLPHrz9.js']) {
        expect(runtimeFiles(join(outDir, module))).toEqual({
          poolHost: join(outDir, 'pool-host.js'),
          worker: join(outDir, 'render.task.js'),
          rendererDir: join(root, 'out', 'renderer'),
        });
      }
    });
  }

  it("packaged: the pool's files unpacked from app.asar, the renderer read inside it", () => {
    const resources = '/opt/Albumen/resources';
    expect(runtimeFiles(`${resources}/app.asar/out/main/index.js`)).toEqual({
      poolHost: `${resources}/app.asar.unpacked/out/main/pool-host.js`,
      worker: `${resources}/app.asar.unpacked/out/main/render.task.js`,
      rendererDir: `${resources}/app.asar/out/renderer`,
    });
  });

  it('leaves folders that only look like app.asar alone', () => {
    for (const dir of [
      '/opt/Albumen/resources/app.asar.unpacked/out/main',
      '/home/me/my-app.asar/out/main',
      '/home/me/app.asar.d/out/main',
    ]) {
      expect(runtimeFiles(`${dir}/index.js`).poolHost).toBe(`${dir}/pool-host.js`);
    }
  });
});

describe('electron-builder.yml', () => {
  const load = () => getConfig(root, null, null);

  it("passes electron-builder's own schema, and a wrong key would not", async () => {
    const config = await load();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    const wrong = { ...config, linux: { ...config.linux, targets: ['deb'] } } as Configuration;
    await expect(validateConfiguration(wrong, new DebugLogger(false))).rejects.toThrow(
      /configuration/i,
    );
  });

  it('builds AppImage and deb, dmg, and an NSIS installer', async () => {
    const config = await load();
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toBe('dmg');
    expect(config.win?.target).toBe('nsis');
    // Windows ties notifications to the app id that main.ts sets.
    expect(config.appId).toBe('org.albumen.Albumen');
  });

  it("unpacks what runtimeFiles() points the pool at, and the native and pool's packages", async () => {
    const patterns = (await load()).asarUnpack as string[];
    const unpacked = (path: string) => patterns.some((p) => matchesGlob(path, p));
    const resources = '/opt/Albumen/resources';
    const files = runtimeFiles(`${resources}/app.asar/out/main/index.js`);
    const inUnpacked = (file: string) => relative(`${resources}/app.asar.unpacked`, file);
    // The pool's two entries and the chunks they import (flat beside them).
    for (const file of [
      inUnpacked(files.poolHost),
      inUnpacked(files.worker),
      'out/main/pool-protocol-1a2b3c.js',
    ]) {
      expect(file).toMatch(/^out\/main\/[^/]+$/);
      expect(unpacked(file), file).toBe(true);
    }
    for (const pkg of [
      'sharp',
      '@img/sharp-linux-x64',
      '@img/sharp-libvips-linux-x64',
      '@img/colour',
      'detect-libc',
      'semver',
      'piscina',
      'better-sqlite3',
      'exifr',
      'libheif-js',
      'jxl-oxide-wasm',
      'exiftool-vendored',
      'exiftool-vendored.pl',
      'batch-cluster',
      '@photostructure/tz-lookup',
      'luxon',
      'he',
    ]) {
      expect(unpacked(`node_modules/${pkg}/package.json`), pkg).toBe(true);
    }
    expect(unpacked('out/renderer/index.html')).toBe(false);
  });
});
