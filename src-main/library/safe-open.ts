import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { LibraryError, errnoCode, failureFromFsError, notRegularFile } from './library-error.ts';

/**
 * Flags for opening anything found on disk. On a FIFO a plain open() waits
 * for a writer forever; O_NONBLOCK returns at once and changes nothing for
 * regular files. Windows has neither the flag nor FIFOs open() could block on.
 */
export const OPEN_READ_NONBLOCK = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** An open regular file and its stats, taken from the descriptor itself. */
export interface OpenedFile {
  handle: FileHandle;
  stats: Stats;
}

/**
 * Opens `path` for reading without ever blocking, and checks through the
 * descriptor that it is a regular file (so a file swapped for a FIFO or a
 * folder after an earlier stat is still refused). Throws LibraryError; `what`
 * names the file in messages ("file", or a path).
 */
export async function openRegularFile(path: string, what: string): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_READ_NONBLOCK);
  } catch (err) {
    throw await openFailure(err, path, what);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw LibraryError.from(notRegularFile(stats));
    }
    return { handle, stats };
  } catch (err) {
    await handle.close();
    if (err instanceof LibraryError) throw err;
    throw LibraryError.from(failureFromFsError(err, what), err);
  }
}

/** Reads up to `length` bytes at `position` into a new array sized to what was read. */
export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(Math.max(0, length));
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(
      buffer,
      filled,
      buffer.length - filled,
      position + filled,
    );
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === buffer.length ? buffer : buffer.slice(0, filled);
}

/**
 * The LibraryError for a failed open() or stat() of `path`: failureFromFsError,
 * except that a missing target behind a symbolic link is a DANGLING_LINK.
 */
export async function openFailure(err: unknown, path: string, what: string): Promise<LibraryError> {
  if (errnoCode(err) === 'ENOENT') {
    const link = await lstat(path).catch(() => null);
    if (link?.isSymbolicLink()) {
      return new LibraryError('DANGLING_LINK', `${what} is a dangling symbolic link`, {
        cause: err,
      });
    }
  }
  return LibraryError.from(failureFromFsError(err, what), err);
}
