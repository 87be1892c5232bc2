import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
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
 * Decides what a path chosen by the user is: a folder, or a ZIP/CBZ archive
 * (by its extension, or by the ZIP signature for a misnamed one). Throws a
 * LibraryError (NOT_FOUND, PERMISSION_DENIED, UNSUPPORTED…) otherwise.
 */
export async function detectSourceKind(path: string): Promise<CollectionSource> {
  const root = resolve(path);
  const st = await stat(root).catch((err: unknown) => {
    throw LibraryError.from(failureFromFsError(err, root), err);
  });
  if (st.isDirectory()) return { kind: 'folder', root };
  if (st.isFile()) {
    if (ARCHIVE_EXTENSIONS.has(extname(root).toLowerCase())) return { kind: 'archive', root };
    if (await startsWithZipMagic(root)) return { kind: 'archive', root };
  }
  throw new LibraryError('UNSUPPORTED', `${root}: not a folder or a ZIP/CBZ archive`);
}

async function startsWithZipMagic(path: string): Promise<boolean> {
  const { handle } = await openRegularFile(path, path);
  try {
    return hasZipMagic(await readAt(handle, 0, 4));
  } finally {
    await handle.close();
  }
}
