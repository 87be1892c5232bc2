import { AlbumenCore, type CoreParts } from './albumen-core.ts';
import { RenderPool } from '../pool/render-pool.ts';
import { SourceReader } from '../library/source-reader.ts';
import { walkCollection } from '../library/walk.ts';
import { probeEntry } from '../library/probe.ts';
import { detectSourceKind } from '../library/collection-source.ts';
import { crashHookFrom, type CrashHook } from '../../src-shared/crash-points.ts';
import { runtimeFiles } from './packaged-paths.ts';

/** Options of a plain-Node core (CLI, browser host, tests). */
export interface NodeCoreOptions {
  dataDir: string;
  /** Extra environment for the pool host (test triggers). */
  poolEnv?: Record<string, string>;
  /** Entry files of the pool; default: runtimeFiles(), wherever this runs from. */
  poolHostFile?: string;
  workerFile?: string;
  logFile?: string | null;
  pollMs?: number;
  eventIntervalMs?: number;
  spaceCheckMs?: number;
  minFreeBytes?: () => number;
  /** Watch folder collections while processing (the app and `serve`; not one-off CLI runs). */
  watch?: boolean;
  watchDebounceMs?: number;
  /** Called at each crash point (default: from ALBUMEN_CRASH_AT; tests act at a point instead). */
  crash?: CrashHook;
  /** Tells a network file system (tests stand in for a network drive, which cannot run here). */
  remoteFileSystem?: (path: string) => Promise<string | null>;
}

/**
 * Composition root of the core on plain Node: the crash-isolated render pool,
 * the library on the local file system, and crash points from the environment.
 */
export function openNodeCore(o: NodeCoreOptions): AlbumenCore {
  const files = runtimeFiles();
  const parts: CoreParts = {
    dataDir: o.dataDir,
    logFile: o.logFile,
    pollMs: o.pollMs,
    eventIntervalMs: o.eventIntervalMs,
    spaceCheckMs: o.spaceCheckMs,
    minFreeBytes: o.minFreeBytes,
    watch: o.watch ?? false,
    watchDebounceMs: o.watchDebounceMs,
    ...(o.remoteFileSystem ? { remoteFileSystem: o.remoteFileSystem } : {}),
    crash:
      o.crash ??
      crashHookFrom(process.env.ALBUMEN_CRASH_AT, () => process.kill(process.pid, 'SIGKILL')),
    createPool: (threads) =>
      new RenderPool({
        threads,
        env: o.poolEnv,
        hostFile: o.poolHostFile ?? files.poolHost,
        workerFile: o.workerFile ?? files.worker,
      }),
    createLibrary: () => {
      const reader = new SourceReader();
      return {
        detect: (path) => detectSourceKind(path),
        walk: (source, opts) => walkCollection(source, opts),
        probe: (source, entryPath, limits) => probeEntry(reader, source, entryPath, limits),
        toRenderInput: (source, entryPath) => reader.toRenderInput(source, entryPath),
        fingerprint: (source, entryPath) => reader.fingerprint(source, entryPath),
        contentHash: (source, entryPath) => reader.contentHash(source, entryPath),
        openStream: (source, entryPath) => reader.openStream(source, entryPath),
        close: () => reader.close(),
      };
    },
  };
  return AlbumenCore.open(parts);
}
