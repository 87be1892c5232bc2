import { realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { CollectionKind } from '../../src-shared/domain.ts';
import { LibraryError, failureFromFsError } from './library-error.ts';
import { hasZipMagic } from './names.ts';
import { openRegularFile, readAt } from './safe-open.ts';

/**
 * Where a collection's images live: a folder walked recursively, or a ZIP/CBZ
 * archive read in place. `root` is the absolute path of the folder or of the
 * archive file; every image is then addressed by (collection, entry path).
 */
export interface CollectionSource {
  kind: CollectionKind;
  root: string;
}

const ARCHIVE_EXTENSIONS = new Set(['.zip', '.cbz']);

/**
 * The kernel's and the devices' trees: never a collection root (whatever link
 * leads there), and never walked into from one (a collection of `/`).
 */
export const SYSTEM_ROOTS: readonly string[] =
  process.platform === 'win32' ? [] : ['/proc', '/sys', '/dev'];

/** True when `path` is `folder` or lies below it (both absolute and normalised). */
export function isWithin(path: string, folder: string): boolean {
  if (path === folder) return true;
  return path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** The path with every symbolic link resolved, or the absolute path when it cannot be. */
export async function realOrResolved(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

function refuseSystemRoot(path: string, shown: string): void {
  const system = SYSTEM_ROOTS.find((r) => isWithin(path, r));
  if (system) {
    throw new LibraryError(
      'INVALID_INPUT',
      `${shown}: ${system} holds the system's own files, not images; it cannot be imported`,
    );
  }
}

/**
 * Decides what a path chosen by the user is: a folder, or a ZIP/CBZ archive
 * (by its extension, or by the ZIP signature for a misnamed one). Throws a
 * LibraryError (NOT_FOUND, PERMISSION_DENIED, UNSUPPORTED…) otherwise, and
 * INVALID_INPUT for anything in /proc, /sys or /dev, by its path or through
 * a link.
 */
export async function detectSourceKind(path: string): Promise<CollectionSource> {
  const root = resolve(path);
  refuseSystemRoot(root, root);
  const st = await stat(root).catch((err: unknown) => {
    throw LibraryError.from(failureFromFsError(err, root), err);
  });
  // The real path is the collection's root: a folder reached through a link is
  // the same collection as the folder itself (never the same file twice).
  const real = await realOrResolved(root);
  refuseSystemRoot(real, root);
  if (st.isDirectory()) return { kind: 'folder', root: real };
  if (st.isFile()) {
    if (ARCHIVE_EXTENSIONS.has(extname(root).toLowerCase())) return { kind: 'archive', root: real };
    if (await startsWithZipMagic(root)) return { kind: 'archive', root: real };
  }
  throw new LibraryError('UNSUPPORTED', `${root}: not a folder or a ZIP/CBZ archive`);
}

/**
 * Refuses (INVALID_INPUT) a collection root that is one of Albumen's own
 * folders (the data folder, a cache folder) or lies inside one: its images
 * would be Albumen's outputs, and their outputs outputs of outputs. Compared
 * by real paths, so no link gets around it.
 */
export async function refuseOwnFolder(root: string, ownFolders: readonly string[]): Promise<void> {
  const real = await realOrResolved(root);
  for (const folder of ownFolders) {
    const own = await realOrResolved(folder);
    if (isWithin(real, own)) {
      throw new LibraryError(
        'INVALID_INPUT',
        `${root} is inside Albumen's own data or cache folder (${folder}); it cannot be imported`,
      );
    }
  }
}

async function startsWithZipMagic(path: string): Promise<boolean> {
  const { handle } = await openRegularFile(path, path);
  try {
    return hasZipMagic(await readAt(handle, 0, 4));
  } finally {
    await handle.close();
  }
}
