/**
 * The plain-Node build: the CLI and the browser host, with the render pool's
 * host process and worker as entries of their own beside them, like the
 * desktop main in electron.vite.config.ts. Output: out/cli (albumen.js is
 * the package's `bin`, which checks Node and loads main.js, the CLI; serve.js
 * is the browser host on its own, what `npm run serve` runs). The host serves out/renderer, which
 * `npm run build:renderer` (or `npm run build`) writes.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { FLAT_CHUNKS, poolSources } from './src-main/core/packaged-paths.ts';

const root = import.meta.dirname;

/**
 * Every package in `dependencies` stays external, as in the desktop build:
 * better-sqlite3 and sharp load native binaries, and piscina starts worker
 * threads from its own files, so none of them can live inside a bundle. The
 * installed package gets them from its own node_modules.
 */
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const deps = Object.keys(pkg.dependencies ?? {});
const external = [
  ...builtinModules,
  /^node:/,
  ...deps,
  ...(deps.length ? [new RegExp(`^(${deps.join('|')})/.+`)] : []),
];

export default defineConfig({
  // Nothing from public/ or index.html: this is a Node build.
  publicDir: false,
  build: {
    // A server-side build: Node's module resolution, import.meta kept as is.
    ssr: true,
    outDir: resolve(root, 'out/cli'),
    emptyOutDir: true,
    target: 'node24',
    minify: false,
    rolldownOptions: {
      input: {
        // The `bin`: checks Node, then loads main.js.
        albumen: resolve(root, 'src-main/cli/albumen.ts'),
        main: resolve(root, 'src-main/cli/main.ts'),
        serve: resolve(root, 'src-main/host/serve.ts'),
        // Forked by the render pool as a child process, and loaded by piscina
        // in worker threads: each needs a file of its own, found at run time
        // by runtimeFiles() in src-main/core/packaged-paths.ts.
        ...poolSources(root),
      },
      external,
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: FLAT_CHUNKS },
    },
  },
});
