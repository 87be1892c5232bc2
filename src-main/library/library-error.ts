import { formatBytes } from '../../src-shared/format-bytes.ts';
import type { Stats } from 'node:fs';
import type { ErrorCode, Failure } from '../../src-shared/domain.ts';

/**
 * An expected problem with a collection or one of its entries, carrying a code
 * from the closed list. Thrown by the library layer; a caller turns it into a
 * failed item (per entry) or a failed job (when the collection root is unusable).
 */
export class LibraryError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibraryError';
    this.code = code;
  }

  static from(failure: Failure, cause?: unknown): LibraryError {
    return new LibraryError(failure.code, failure.message, { cause });
  }

  toFailure(): Failure {
    return { code: this.code, message: this.message };
  }
}

/**
 * The one mapping from a Node fs error to a Failure. `what` names the thing
 * that was being read ("file", "archive entry", or a root path) in messages.
 */
export function failureFromFsError(err: unknown, what: string): Failure {
  switch (errnoCode(err) ?? '') {
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: 'NOT_FOUND', message: `${what} not found` };
    case 'EACCES':
    case 'EPERM':
      return { code: 'PERMISSION_DENIED', message: `permission denied: ${what}` };
    case 'EISDIR':
      return { code: 'NOT_REGULAR_FILE', message: `${what} is a folder, not a regular file` };
    case 'ELOOP':
      return { code: 'SYMLINK_LOOP', message: `${what} is a symbolic link loop` };
    case 'ENXIO':
    case 'ENODEV':
      return { code: 'NOT_REGULAR_FILE', message: `${what} is a device, not a regular file` };
    case 'ENOSPC':
      return { code: 'DISK_FULL', message: `no space left on the device (${what})` };
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return { code: 'IO_ERROR', message: `${what}: ${detail}` };
    }
  }
}

/** The `code` of a Node system error (ENOENT, EACCES…), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns any error met while reading one entry into a Failure, or null for a surprise. */
export function toEntryFailure(err: unknown, what: string): Failure | null {
  if (err instanceof LibraryError) return err.toFailure();
  if (errnoCode(err)?.startsWith('E')) return failureFromFsError(err, what);
  return null;
}

/** What kind of non-regular file `st` describes, for messages. */
export function describeFileKind(st: Stats): string {
  if (st.isFIFO()) return 'named pipe (FIFO)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isDirectory()) return 'folder';
  if (st.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

/** The failure for something that exists but is not a regular file. */
export function notRegularFile(st: Stats): Failure {
  return { code: 'NOT_REGULAR_FILE', message: `${describeFileKind(st)}, not a regular file` };
}

/** The failure for a source over the size limit. */
export function fileTooLarge(size: number, maxFileBytes: number): Failure {
  return {
    code: 'FILE_TOO_LARGE',
    message: `${formatBytes(size)} is over the limit of ${formatBytes(maxFileBytes)}`,
  };
}
