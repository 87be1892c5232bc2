import { join } from 'node:path';
import type { Variant } from '../../src-shared/domain.ts';
import { extensionFor, type OutputFormat } from '../../src-shared/settings.ts';

/** Images per shard folder, so no folder grows past a few thousand files. */
const SHARD_SIZE = 1000;

/**
 * Where an output lives inside its cache folder: a pure function of its key, so a
 * re-run after a crash overwrites the same file instead of leaving a second one.
 * `<collection>/<variant>/<shard>/<image>-<settings hash>.<ext>`
 */
export function outputRelPath(
  collectionId: number,
  imageId: number,
  variant: Variant,
  settingsHash: string,
  format: OutputFormat,
): string {
  const shard = String(Math.floor(imageId / SHARD_SIZE));
  return [
    String(collectionId),
    variant,
    shard,
    `${imageId}-${settingsHash}.${extensionFor(format)}`,
  ].join('/');
}

/** The folder holding every output of an image for one variant. */
export function outputDir(
  cacheRoot: string,
  collectionId: number,
  imageId: number,
  variant: Variant,
): string {
  return join(cacheRoot, String(collectionId), variant, String(Math.floor(imageId / SHARD_SIZE)));
}

/**
 * True for a path (relative to a cache folder) that Albumen itself could have
 * written: an output, or a temporary file of one. Cleanup never considers any
 * other file, so a user's own files in a cache folder are never deleted.
 */
export function isOwnCacheFile(relPath: string): boolean {
  return /^\d+\/(thumbnail|cache)\/\d+\/\d+-[0-9a-f]{16}\.(jpg|webp)(\.[0-9a-f]+\.tmp|\.move\.tmp)?$/.test(
    relPath,
  );
}

/**
 * A folder Albumen creates at the root of each cache folder it registers. Its
 * absence means the folder is not reachable now (an unplugged drive shows an
 * empty mount point): its outputs are then offline, never "missing".
 */
export const CACHE_MARKER = '.albumen-cache';

/** Absolute path of an output. */
export function outputAbsPath(cacheRoot: string, relPath: string): string {
  return join(cacheRoot, ...relPath.split('/'));
}
