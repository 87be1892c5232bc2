/**
 * The desktop package as far as it can be made here: this machine cannot
 * download Electron, so electron-builder packages the real build (`npm run
 * build`, in a copy of the checkout whose path has spaces) around a stand-in
 * Electron binary, with electron-builder.yml, into its unpacked Linux app
 * folder — the app.asar and app.asar.unpacked that every target (AppImage,
 * deb, dmg, NSIS) wraps. Then the render pool runs from that package on plain
 * Node, at the paths runtimeFiles() gives the packaged app. Plain Node cannot
 * read inside app.asar at all, so a render proves that the pool's host, its
 * worker and every package they load were unpacked.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPackage } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeFiles } from '../core/packaged-paths.ts';
import { rawFile } from '../../src-shared/test-support/raw-files.ts';
import { RenderPool } from '../pool/render-pool.ts';
import { copyCheckout, run } from '../test-support/checkout.ts';
import { photoJpeg } from '../test-support/fixtures.ts';

let root = '';
let resources = '';

describe.runIf(process.platform === 'linux')('the desktop package (electron-builder)', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'albumen desktop '));
    const checkout = copyCheckout(
      join(root, 'the checkout'),
      [
        'package.json',
        'tsconfig.json',
        'tsconfig.base.json',
        'tsconfig.node.json',
        'tsconfig.web.json',
        'tsconfig.e2e.json',
        'electron.vite.config.ts',
        'vite.renderer.config.ts',
        'vite.cli.config.ts',
        'electron-builder.yml',
        'resources',
        'src-main',
        'src-shared',
        'src-worker',
        'src-renderer',
        'src-preload',
      ],
      { nodeModules: 'real' },
    );
    const built = await run('npm', ['run', 'build'], { cwd: checkout, timeoutMs: 180_000 });
    expect(built.code, built.stdout + built.stderr).toBe(0);

    const electron = join(root, 'stand-in electron');
    mkdirSync(electron);
    writeFileSync(join(electron, 'electron'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(electron, 'electron'), 0o755);
    const dist = join(root, 'dist');
    const packaged = await run(
      join(checkout, 'node_modules', '.bin', 'electron-builder'),
      [
        '--linux',
        'dir',
        `--config.electronDist=${electron}`,
        `--config.directories.output=${dist}`,
      ],
      { cwd: checkout, timeoutMs: 180_000 },
    );
    expect(packaged.code, packaged.stdout + packaged.stderr).toBe(0);
    resources = join(dist, 'linux-unpacked', 'resources');
  }, 400_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('holds the desktop build and the icons in app.asar, and nothing else of the checkout', () => {
    const inAsar = listPackage(join(resources, 'app.asar'), { isPack: false }).map((p) =>
      p.replaceAll('\\', '/'),
    );
    for (const f of [
      '/package.json',
      '/out/main/index.js',
      '/out/preload/index.cjs',
      '/out/renderer/index.html',
      '/resources/icon.png',
      '/resources/tray-icon.png',
      '/node_modules/better-sqlite3/package.json',
    ]) {
      expect(inAsar).toContain(f);
    }
    expect(inAsar.filter((p) => /^\/(src-|out\/cli|bin|e2e)/.test(p))).toEqual([]);
  });

  it("unpacks the pool's files where runtimeFiles() points the packaged app", () => {
    const files = runtimeFiles(join(resources, 'app.asar', 'out', 'main', 'index.js'));
    expect(files.poolHost).toBe(
      join(resources, 'app.asar.unpacked', 'out', 'main', 'pool-host.js'),
    );
    expect(existsSync(files.poolHost)).toBe(true);
    expect(existsSync(files.worker)).toBe(true);
    // The store's native binary: loaded from the real file system too.
    const sqlite = join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3');
    expect(existsSync(join(sqlite, 'prebuilds', `linux-${process.arch}.node`))).toBe(true);
  });

  it('renders a photo with the pool run from the unpacked files alone', async () => {
    const files = runtimeFiles(join(resources, 'app.asar', 'out', 'main', 'index.js'));
    const photo = join(root, 'a photo.jpg');
    writeFileSync(photo, await photoJpeg(640, 480));
    const pool = new RenderPool({ threads: 1, hostFile: files.poolHost, workerFile: files.worker });
    await pool.start();
    const thumbnailOf = (label: string, path: string) =>
      pool.run({
        label,
        input: { kind: 'file', path },
        outputs: [
          {
            variant: 'thumbnail',
            finalPath: join(root, 'out', `${label}.jpg`),
            settings: { maxWidth: 200, maxHeight: 200, format: 'jpeg', quality: 80 },
          },
        ],
        maxPixels: 100_000_000,
        timeoutSeconds: 30,
      });
    const fixtures = join(import.meta.dirname, '../../src-worker/test-fixtures');
    try {
      const outcome = await thumbnailOf('a photo.jpg', photo);
      expect(outcome).toMatchObject({ ok: true, outputs: [{ variant: 'thumbnail', width: 200 }] });
      expect(existsSync(join(root, 'out', 'a photo.jpg.jpg'))).toBe(true);
      // A HEIC loads libheif-js (on first use) from the unpacked packages too.
      const heic = await thumbnailOf('IMG_0001.HEIC', join(fixtures, 'quadrants.heic'));
      expect(heic).toMatchObject({ ok: true, source: { format: 'heic', width: 96 } });
      // A RAW starts the unpacked ExifTool for its preview.
      const nef = join(root, 'DSC_0001.NEF');
      writeFileSync(
        nef,
        rawFile({ kind: 'nef', preview: await photoJpeg(64, 48), width: 64, height: 48 }),
      );
      const raw = await thumbnailOf('DSC_0001.NEF', nef);
      expect(raw).toMatchObject({ ok: true, source: { format: 'nef', width: 64 } });
      // A JPEG XL loads jxl-oxide's WebAssembly from the unpacked package.
      const jxl = await thumbnailOf('quadrants.jxl', join(fixtures, 'quadrants.jxl'));
      expect(jxl).toMatchObject({ ok: true, source: { format: 'jxl', width: 120 } });
    } finally {
      await pool.stop();
    }
  });
});
