/**
 * Where the files Albumen loads at run time are — the render pool's host
 * process and piscina worker, and the built renderer — however it runs:
 *
 * - from the TypeScript sources in a checkout (tests, `npx albumen`,
 *   `npm run serve`): src-main/pool/pool-host.ts, src-worker/render.task.ts;
 * - built, in out/main (the desktop app) or out/cli (the CLI and the browser
 *   host, also in the installed npm package): the entries beside the bundle;
 * - packaged by electron-builder, with out/main inside resources/app.asar: the
 *   pool's files are unpacked to resources/app.asar.unpacked/out/main, since a
 *   forked process and piscina's worker threads load them from the real file
 *   system (electron-builder.yml's asarUnpack puts them there).
 *
 * Every build puts its chunks flat beside its entries (see the configs), so a
 * built copy of this module is always in the folder of the entries.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Name of the pool host's entry in each build (`<outDir>/pool-host.js`). */
export const POOL_HOST_ENTRY = 'pool-host';
/** Name of the render worker's entry in each build (`<outDir>/render.task.js`). */
export const WORKER_ENTRY = 'render.task';
/** Chunk names for every Node build: flat, beside the entries (see above). */
export const FLAT_CHUNKS = '[name]-[hash].js';

/** The run-time files. */
export interface RuntimeFiles {
  /** Entry of the render pool's child process. */
  poolHost: string;
  /** The piscina task file. */
  worker: string;
  /** The built renderer (index.html and its assets) that the browser host serves. */
  rendererDir: string;
}

/** The sources' entries of the two pool processes, relative to the project root. */
export function poolSources(root: string): Record<string, string> {
  return {
    [POOL_HOST_ENTRY]: join(root, 'src-main', 'pool', 'pool-host.ts'),
    [WORKER_ENTRY]: join(root, 'src-worker', 'render.task.ts'),
  };
}

/** A path segment `app.asar` (not `app.asar.unpacked`, not `my-app.asar`). */
const ASAR_SEGMENT = /(^|[\\/])app\.asar(?=[\\/]|$)/;

/**
 * The run-time files, given the path of this module as it runs (its default):
 * a `.ts` file in src-main/core of a checkout, or a built file in out/main or
 * out/cli, possibly inside app.asar.
 */
export function runtimeFiles(modulePath: string = fileURLToPath(import.meta.url)): RuntimeFiles {
  const dir = dirname(modulePath);
  if (modulePath.endsWith('.ts')) {
    const root = join(dir, '..', '..');
    const sources = poolSources(root);
    return {
      poolHost: sources[POOL_HOST_ENTRY]!,
      worker: sources[WORKER_ENTRY]!,
      rendererDir: join(root, 'out', 'renderer'),
    };
  }
  const onDisk = dir.replace(ASAR_SEGMENT, '$1app.asar.unpacked');
  return {
    poolHost: join(onDisk, `${POOL_HOST_ENTRY}.js`),
    worker: join(onDisk, `${WORKER_ENTRY}.js`),
    rendererDir: join(dir, '..', 'renderer'),
  };
}
