/**
 * The desktop app's build: main (with the render pool's host process and
 * worker as entries of their own, beside it), the sandboxed preload, and the
 * renderer (from vite.renderer.config.ts). Output: out/main, out/preload,
 * out/renderer.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import renderer from './vite.renderer.config.ts';
import { FLAT_CHUNKS, poolSources } from './src-main/core/packaged-paths.ts';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // Every package in `dependencies` stays external (electron-vite's
      // default, stated here because it matters): better-sqlite3 and sharp
      // load native binaries, and piscina starts worker threads from its own
      // files, so none of them can live inside a bundle.
      externalizeDeps: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'src-main/electron/main.ts'),
          // Forked by the render pool as a child process, and loaded by piscina
          // in worker threads: each needs a file of its own (out/main/pool-host.js,
          // render.task.js), found at run time by runtimeFiles() in
          // src-main/core/packaged-paths.ts, which also knows where they are
          // when packaged (unpacked from app.asar).
          ...poolSources(root),
        },
        // Chunks flat beside the entries: a built module finds the entries in
        // its own folder, and electron-builder.yml unpacks them all from app.asar.
        output: { entryFileNames: '[name].js', chunkFileNames: FLAT_CHUNKS },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // A sandboxed preload can require nothing but `electron`: bundle
      // everything it imports into it.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(root, 'src-preload/index.ts') },
        // Sandboxed preloads are run as classic scripts: CommonJS, one file.
        // `.cjs` because package.json says "type": "module".
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  // The renderer's own config (root, base, plugins, output), shared with the
  // browser host's build; only the entry is named here, since electron-vite
  // would otherwise look for src/renderer/index.html.
  renderer: {
    ...renderer,
    build: {
      ...renderer.build,
      rolldownOptions: {
        ...renderer.build?.rolldownOptions,
        input: resolve(root, 'src-renderer/index.html'),
      },
    },
  },
});
