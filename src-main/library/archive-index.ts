import { close, fstat, open, read } from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import {
  RandomAccessReader,
  fromRandomAccessReader,
  getFileNameLowLevel,
  validateFileName,
} from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import type { Failure } from '../../src-shared/domain.ts';
import type { InputLimits } from '../../src-shared/settings.ts';
import {
  LibraryError,
  errnoCode,
  failureFromFsError,
  fileTooLarge,
  notRegularFile,
} from './library-error.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { OPEN_READ_NONBLOCK } from './safe-open.ts';
import {
  escapeInvalidName,
  hasImageExtension,
  isNestedArchiveName,
  isSkippedName,
  sortNaturally,
  uniqueLabel,
} from './names.ts';

/**
 * One entry of an archive as the library sees it: its entry path (or, for a
 * name that cannot be one, a unique escaped label), the yauzl entry, and the
 * reason it cannot be read whatever the limits are, if any.
 */
export interface ArchiveItem {
  entryPath: string;
  entry: Entry;
  failure: Failure | null;
}

/** Entries expanding more than this many times… */
const BOMB_RATIO = 100;
/** …and to more than this many bytes are refused as decompression bombs. */
const BOMB_MIN_BYTES = 10 * 1024 * 1024;

/** An open archive and the identity of the file it reads (see `fileIdentity`). */
export interface OpenedZip {
  zip: ZipFile;
  identity: string;
}

/**
 * Identifies one version of a file: a replaced or rewritten archive gets a new
 * identity, so a cached handle on the old one is not trusted.
 */
export function fileIdentity(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** Bytes fetched at once for yauzl's small reads. */
const READ_BLOCK = 16 * 1024;
/** Bytes per read of an entry's data. */
const STREAM_CHUNK = 64 * 1024;

/**
 * yauzl's reader over a file descriptor, with one read-ahead block: a
 * listing makes two small reads per central-directory record, which would
 * otherwise be two thread-pool round trips per entry. Closes the descriptor
 * when yauzl drops its last reference (zip closed, no stream left).
 */
class BlockReader extends RandomAccessReader {
  readonly #fd: number;
  #block = Buffer.alloc(0);
  #blockStart = 0;

  constructor(fd: number) {
    super();
    this.#fd = fd;
  }

  /**
   * Positional reads on the shared descriptor, so concurrent streams do not
   * disturb each other; unlike fs.ReadStream, destroying one never closes it.
   */
  override _readStreamForRange(start: number, end: number): Readable {
    const fd = this.#fd;
    let position = start;
    return new Readable({
      highWaterMark: STREAM_CHUNK,
      read(size) {
        const length = Math.min(size, end - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        const chunk = Buffer.allocUnsafe(length);
        read(fd, chunk, 0, length, position, (err, bytesRead) => {
          if (err) {
            this.destroy(err);
          } else if (bytesRead === 0) {
            // A short file ends the stream early; yauzl then reports the missing bytes.
            this.push(null);
          } else {
            position += bytesRead;
            this.push(chunk.subarray(0, bytesRead));
          }
        });
      },
    });
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    const cached = position - this.#blockStart;
    if (cached >= 0 && cached + length <= this.#block.length) {
      this.#block.copy(buffer, offset, cached, cached + length);
      process.nextTick(callback, null);
      return;
    }
    const block = Buffer.allocUnsafe(Math.max(length, READ_BLOCK));
    read(this.#fd, block, 0, block.length, position, (err, bytesRead) => {
      if (err) {
        callback(err);
        return;
      }
      this.#block = block.subarray(0, bytesRead);
      this.#blockStart = position;
      if (bytesRead < length) {
        callback(new Error('unexpected end of file'));
        return;
      }
      block.copy(buffer, offset, 0, length);
      callback(null);
    });
  }

  override close(callback: (err: Error | null) => void): void {
    close(this.#fd, callback);
  }
}

/**
 * Opens a ZIP file for reading entries on demand. Throws LibraryError:
 * NOT_FOUND / PERMISSION_DENIED / NOT_REGULAR_FILE from the file system,
 * ARCHIVE_CORRUPT when it is not a readable ZIP.
 */
export async function openZip(root: string): Promise<OpenedZip> {
  const fd = await new Promise<number>((resolve, reject) => {
    open(root, OPEN_READ_NONBLOCK, (err, fd) => (err ? reject(err) : resolve(fd)));
  }).catch((err: unknown) => {
    throw LibraryError.from(failureFromFsError(err, root), err);
  });
  try {
    const st = await new Promise<Stats>((resolve, reject) => {
      fstat(fd, (err, st) => (err ? reject(err) : resolve(st)));
    });
    if (!st.isFile()) throw LibraryError.from(notRegularFile(st));
    const zip = await new Promise<ZipFile>((resolve, reject) => {
      fromRandomAccessReader(
        new BlockReader(fd),
        st.size,
        {
          // Entries are listed one by one as asked, so a listing can stop mid-way.
          lazyEntries: true,
          // Handles live in the SourceReader's cache; it closes them, not the end of a listing.
          autoClose: false,
          // Names are decoded and checked per entry (archiveItems), so that one
          // bad name fails its entry instead of aborting the whole listing.
          decodeStrings: false,
          // Streams fail if an entry inflates to more or fewer bytes than it declares.
          validateEntrySizes: true,
        },
        (err, zip) => (err ? reject(err) : resolve(zip)),
      );
    });
    // From here on the zip owns the descriptor: zip.close() closes it once no stream uses it.
    return { zip, identity: fileIdentity(st) };
  } catch (err) {
    close(fd, () => {});
    if (err instanceof LibraryError) throw err;
    throw archiveError(err, root);
  }
}

function archiveError(err: unknown, root: string): LibraryError {
  if (errnoCode(err)?.startsWith('E')) return LibraryError.from(failureFromFsError(err, root), err);
  const detail = err instanceof Error ? err.message : String(err);
  return new LibraryError('ARCHIVE_CORRUPT', `${root}: not a readable ZIP archive (${detail})`, {
    cause: err,
  });
}

type NameVerdict =
  | { kind: 'skip' }
  | { kind: 'invalid'; message: string }
  | { kind: 'valid'; path: string; nested: boolean };

/** What the walk does with an entry of this (decoded) name. */
function judgeName(name: string): NameVerdict {
  if (name.endsWith('/') || name.endsWith('\\')) return { kind: 'skip' };
  const segments = name.split(/[/\\]/);
  if (segments.some((s) => s !== '.' && s !== '..' && isSkippedName(s))) return { kind: 'skip' };
  const base = segments[segments.length - 1] ?? '';
  const nested = isNestedArchiveName(base);
  if (!nested && !hasImageExtension(base)) return { kind: 'skip' };
  const problem = nameProblem(name);
  if (problem) return { kind: 'invalid', message: `entry name ${JSON.stringify(name)} ${problem}` };
  // "./a.jpg" and "a//b.jpg" are harmless spellings of "a.jpg" and "a/b.jpg".
  return { kind: 'valid', path: posix.normalize(name), nested };
}

function nameProblem(name: string): string | null {
  if (/\p{Cc}/u.test(name)) return 'contains control characters';
  if (validateFileName(name) === null) return null;
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[a-zA-Z]:/.test(name)) return 'starts with a drive letter';
  return "climbs out of the archive with '..'";
}

/** Unix file type bits of an entry made on Unix (versionMadeBy's high byte is 3). */
function unixFileType(entry: Entry): number | null {
  return entry.versionMadeBy >> 8 === 3 ? (entry.externalFileAttributes >>> 16) & 0o170000 : null;
}

/**
 * Why an entry cannot be read whatever the limits are: a stored symbolic
 * link (its content is a path, not an image), encryption, or a compression
 * method yauzl cannot inflate.
 */
function contentFailure(entry: Entry): Failure | null {
  const type = unixFileType(entry);
  if (type !== null && type !== 0 && type !== 0o100000) {
    const kind = type === 0o120000 ? 'symbolic link' : 'special file';
    return {
      code: 'NOT_REGULAR_FILE',
      message: `${kind} stored in the archive, not a regular file`,
    };
  }
  if (entry.isEncrypted()) {
    return { code: 'UNSUPPORTED', message: 'encrypted (password-protected) entry' };
  }
  if (!entry.canDecodeFileData()) {
    return {
      code: 'UNSUPPORTED',
      message: `compression method ${entry.compressionMethod} is not supported`,
    };
  }
  return null;
}

/**
 * Lists an archive's image entries (and the reported oddities: invalid names,
 * nested archives, duplicates, encrypted entries) in natural order. Hidden
 * entries, `__MACOSX/`, folders and non-image files are left out. Throws
 * LibraryError ARCHIVE_CORRUPT when the central directory cannot be read.
 */
export async function archiveItems(
  zip: ZipFile,
  root: string,
  signal?: AbortSignal,
): Promise<ArchiveItem[]> {
  const firsts: ArchiveItem[] = [];
  const others: { label: string; entry: Entry; failure: Failure }[] = [];
  const taken = new Set<string>();
  try {
    for await (const entry of zip.eachEntry()) {
      signal?.throwIfAborted();
      const raw = getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      // Old Windows tools wrote `\` as the folder separator; read it as one. The
      // checks below run on the result, so `..\x.jpg` is refused like `../x.jpg`.
      const name = raw.replace(/\\/g, '/');
      const verdict = judgeName(name);
      switch (verdict.kind) {
        case 'skip':
          break;
        case 'invalid':
          others.push({
            label: escapeInvalidName(raw),
            entry,
            failure: { code: 'INVALID_ENTRY_NAME', message: verdict.message },
          });
          break;
        case 'valid': {
          if (taken.has(verdict.path)) {
            others.push({
              label: verdict.path,
              entry,
              failure: { code: 'CORRUPT', message: 'duplicate entry name' },
            });
            break;
          }
          taken.add(verdict.path);
          const failure: Failure | null = verdict.nested
            ? { code: 'NESTED_ARCHIVE', message: 'archive inside the archive (not opened)' }
            : contentFailure(entry);
          firsts.push({ entryPath: verdict.path, entry, failure });
          break;
        }
      }
    }
  } catch (err) {
    if (err instanceof LibraryError || signal?.aborted) throw err;
    throw archiveError(err, root);
  }
  // Labels are given once every real name is known, so none can shadow a later real entry.
  const labelled = others.map(({ label, entry, failure }) => ({
    entryPath: uniqueLabel(label, taken),
    entry,
    failure,
  }));
  return sortNaturally([...firsts, ...labelled], (item) => item.entryPath);
}

/** Why an entry is refused under `limits`: too large, or a decompression bomb. */
export function entryLimitFailure(entry: Entry, limits: InputLimits): Failure | null {
  const size = entry.uncompressedSize;
  if (size > limits.maxFileBytes) return fileTooLarge(size, limits.maxFileBytes);
  if (size > BOMB_MIN_BYTES && size > BOMB_RATIO * entry.compressedSize) {
    const ratio = entry.compressedSize > 0 ? Math.round(size / entry.compressedSize) : Infinity;
    return {
      code: 'COMPRESSION_BOMB',
      message:
        `expands ${ratio}:1 (${formatBytes(entry.compressedSize)} to ${formatBytes(size)}), ` +
        `over the ${BOMB_RATIO}:1 limit`,
    };
  }
  return null;
}

/**
 * What identifies an entry's content: its size and the CRC-32 the archive
 * records for it, read from the central directory (nothing is inflated). The
 * walk has it for every entry at no cost, so an archive entry is compared by
 * it rather than by its DOS time (which tools rewrite freely).
 */
export function archiveFingerprint(entry: Entry): string {
  return `z${entry.uncompressedSize.toString(36)}:${entry.crc32.toString(16)}`;
}

/** The entry's modification time in ms (extended timestamp if present, else its DOS date). */
export function entryMtimeMs(entry: Entry): number {
  const ms = entry.getLastModDate().getTime();
  return Number.isFinite(ms) ? ms : 0;
}
