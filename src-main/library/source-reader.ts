import { createHash } from 'node:crypto';
import { realpathSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Entry, ZipFile } from 'yauzl';
import { CONTENT_HASH, type RenderInput } from '../../src-shared/render-task.ts';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import type { InputLimits } from '../../src-shared/settings.ts';
import type { ArchiveItem } from './archive-index.ts';
import {
  archiveFingerprint,
  archiveItems,
  entryLimitFailure,
  fileIdentity,
  openZip,
} from './archive-index.ts';
import { isWithin, type CollectionSource } from './collection-source.ts';
import {
  LibraryError,
  errnoCode,
  failureFromFsError,
  fileTooLarge,
  notRegularFile,
} from './library-error.ts';
import { entryPathProblem } from './names.ts';
import { openFailure, openRegularFile, readAt } from './safe-open.ts';

/** Bytes hashed at each of the three places a fingerprint samples. */
const FINGERPRINT_BLOCK = 16 * 1024;

export interface SourceReaderOptions {
  /** Limits applied when reading a whole source (default: DEFAULT_SETTINGS.limits). */
  limits?: InputLimits;
  /** Archives kept open at once; the least recently used is closed beyond this (default 8). */
  maxOpenArchives?: number;
}

/** An open archive in the cache, with its entries by entry path. */
interface CachedArchive {
  zip: ZipFile;
  identity: string;
  items: Map<string, ArchiveItem>;
  /** Calls using the handle right now; a retired handle closes when this drops to 0. */
  users: number;
  retired: boolean;
}

/** Attempts at getting a live handle before giving up (each loses a race to an eviction). */
const ACQUIRE_ATTEMPTS = 4;

/**
 * The one resolver from (collection, entry path) to something to read. For a
 * folder that is a file under its root; for an archive, an entry read in
 * place through a small cache of open archives, each listed once. Every
 * method throws LibraryError for an expected problem with the entry.
 */
export class SourceReader {
  #limits: InputLimits;
  readonly #maxOpenArchives: number;
  /** Insertion order is recency order: the first key is the least recently used. */
  readonly #archives = new Map<string, Promise<CachedArchive>>();

  constructor(options: SourceReaderOptions = {}) {
    this.#limits = options.limits ?? DEFAULT_SETTINGS.limits;
    this.#maxOpenArchives = Math.max(1, options.maxOpenArchives ?? 8);
  }

  /** Changes the limits used by toRenderInput (settings are live). */
  setLimits(limits: InputLimits): void {
    this.#limits = limits;
  }

  /**
   * The absolute path of an entry of a folder collection. Refuses entry paths
   * that are absolute, contain '..' or NUL, are not normalized, or would land
   * outside the root (INVALID_ENTRY_NAME).
   */
  resolveFile(source: CollectionSource, entryPath: string): string {
    if (source.kind !== 'folder') {
      throw new LibraryError('INVALID_INPUT', `${source.root} is an archive, not a folder`);
    }
    const problem = entryPathProblem(entryPath);
    if (problem) {
      throw new LibraryError('INVALID_ENTRY_NAME', `${JSON.stringify(entryPath)}: ${problem}`);
    }
    const root = resolve(source.root);
    const path = resolve(root, ...entryPath.split('/'));
    const rel = relative(root, path);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new LibraryError(
        'INVALID_ENTRY_NAME',
        `${JSON.stringify(entryPath)}: outside the collection`,
      );
    }
    // Links are followed only inside the root, at read time too: a link changed to
    // point elsewhere after the scan is refused, not read.
    const real = realOrSelf(path);
    if (real !== path && !isWithin(real, realOrSelf(root))) {
      throw new LibraryError(
        'LINK_OUTSIDE_ROOT',
        `${JSON.stringify(entryPath)}: a symbolic link leads outside the collection's folder (not followed)`,
      );
    }
    return path;
  }

  /**
   * What a render worker reads: a folder entry's path (checked to be a
   * regular file within the size limit), or an archive entry's whole bytes.
   */
  async toRenderInput(source: CollectionSource, entryPath: string): Promise<RenderInput> {
    const limits = this.#limits;
    if (source.kind === 'folder') {
      const path = this.resolveFile(source, entryPath);
      const st = await statEntry(path);
      if (!st.isFile()) throw LibraryError.from(notRegularFile(st));
      if (st.size > limits.maxFileBytes) {
        throw LibraryError.from(fileTooLarge(st.size, limits.maxFileBytes));
      }
      return { kind: 'file', path };
    }
    return this.#withEntry(source, entryPath, async (zip, item) => {
      const failure = item.failure ?? entryLimitFailure(item.entry, limits);
      if (failure) throw LibraryError.from(failure);
      const size = item.entry.uncompressedSize;
      const data = await readEntry(zip, item.entry, 0, size);
      if (data.length !== size) {
        throw new LibraryError(
          'CORRUPT',
          `archive entry ends after ${data.length} of ${size} bytes`,
        );
      }
      return { kind: 'buffer', data };
    });
  }

  /**
   * At most the first `maxBytes` bytes of an entry (fewer if it is shorter).
   * An archive entry is inflated only that far.
   */
  readHead(source: CollectionSource, entryPath: string, maxBytes: number): Promise<Uint8Array> {
    return this.readRange(source, entryPath, 0, maxBytes);
  }

  /**
   * At most `maxBytes` bytes of an entry from offset `start` (used to reach a
   * TIFF directory stored at the end of the file). The result owns its
   * ArrayBuffer exactly.
   */
  async readRange(
    source: CollectionSource,
    entryPath: string,
    start: number,
    maxBytes: number,
  ): Promise<Uint8Array> {
    if (source.kind === 'folder') {
      const { handle, stats } = await openRegularFile(this.resolveFile(source, entryPath), 'file');
      try {
        return await readAt(handle, start, Math.min(maxBytes, stats.size - start));
      } catch (err) {
        throw LibraryError.from(failureFromFsError(err, 'file'), err);
      } finally {
        await handle.close();
      }
    }
    return this.#withEntry(source, entryPath, (zip, item) => {
      if (item.failure) throw LibraryError.from(item.failure);
      const end = Math.min(item.entry.uncompressedSize, start + maxBytes);
      return readEntry(zip, item.entry, start, end - start);
    });
  }

  /**
   * What identifies an entry's content, cheaply: for a file, its size and a
   * SHA-1 of three sampled blocks (start, middle, end); for an archive entry,
   * its size and the CRC-32 the archive records (nothing is inflated). Two
   * files with the same fingerprint are taken to be the same photo (a move or
   * a rename); photos differ within their first bytes already (EXIF, dates).
   */
  async fingerprint(source: CollectionSource, entryPath: string): Promise<string> {
    if (source.kind === 'archive') {
      return this.#withEntry(source, entryPath, (_zip, item) =>
        Promise.resolve(archiveFingerprint(item.entry)),
      );
    }
    const { handle, stats } = await openRegularFile(this.resolveFile(source, entryPath), 'file');
    try {
      const size = stats.size;
      const hash = createHash('sha1');
      hash.update(String(size));
      const starts = new Set([
        0,
        Math.max(0, Math.floor(size / 2) - FINGERPRINT_BLOCK / 2),
        Math.max(0, size - FINGERPRINT_BLOCK),
      ]);
      for (const start of starts) {
        hash.update(await readAt(handle, start, Math.min(FINGERPRINT_BLOCK, size - start)));
      }
      return `f${size.toString(36)}:${hash.digest('hex').slice(0, 24)}`;
    } catch (err) {
      throw LibraryError.from(failureFromFsError(err, 'file'), err);
    } finally {
      await handle.close();
    }
  }

  /**
   * The CONTENT_HASH of all of an entry's bytes, hex: what tells apart files
   * whose fingerprints are alike (the same hash as the worker's of a render).
   */
  async contentHash(source: CollectionSource, entryPath: string): Promise<string> {
    const { stream } = await this.openStream(source, entryPath);
    const hash = createHash(CONTENT_HASH);
    try {
      for await (const chunk of stream) hash.update(chunk as Buffer);
    } catch (err) {
      throw LibraryError.from(failureFromFsError(err, 'file'), err);
    }
    return hash.digest('hex');
  }

  /** A stream of an entry's bytes and its size, for serving the original. */
  async openStream(
    source: CollectionSource,
    entryPath: string,
  ): Promise<{ stream: Readable; size: number }> {
    if (source.kind === 'folder') {
      const { handle, stats } = await openRegularFile(this.resolveFile(source, entryPath), 'file');
      // The stream closes the handle when it ends or is destroyed.
      return { stream: handle.createReadStream(), size: stats.size };
    }
    return this.#withEntry(source, entryPath, async (zip, item) => {
      if (item.failure) throw LibraryError.from(item.failure);
      const stream = await zip.openReadStreamPromise(item.entry).catch((err: unknown) => {
        throw entryReadError(err);
      });
      return { stream, size: item.entry.uncompressedSize };
    });
  }

  /**
   * Closes every cached archive (a handle in use closes when its call ends;
   * streams already opened keep reading). The reader stays usable and
   * reopens archives on demand.
   */
  async close(): Promise<void> {
    const pending = [...this.#archives.values()];
    this.#archives.clear();
    await Promise.all(
      pending.map((p) =>
        p.then(
          (a) => retire(a),
          () => {},
        ),
      ),
    );
  }

  async #withEntry<T>(
    source: CollectionSource,
    entryPath: string,
    use: (zip: ZipFile, item: ArchiveItem) => Promise<T>,
  ): Promise<T> {
    const archive = await this.#acquire(source.root);
    try {
      const item = archive.items.get(entryPath);
      if (!item) {
        throw new LibraryError(
          'NOT_FOUND',
          `no entry ${JSON.stringify(entryPath)} in ${source.root}`,
        );
      }
      return await use(archive.zip, item);
    } finally {
      archive.users--;
      if (archive.retired && archive.users === 0) archive.zip.close();
    }
  }

  /**
   * A live handle on the archive, opened and listed once and reused while the
   * file keeps its identity (a rewritten archive is reopened). The caller
   * holds it (users + 1) until it releases it.
   */
  async #acquire(root: string): Promise<CachedArchive> {
    const current = await stat(root).then(fileIdentity, (err: unknown) => {
      throw LibraryError.from(failureFromFsError(err, root), err);
    });
    for (let attempt = 1; ; attempt++) {
      let pending = this.#archives.get(root);
      const mine = pending === undefined;
      if (pending === undefined) {
        pending = openArchive(root);
        this.#archives.set(root, pending);
        this.#trim();
      }
      let archive: CachedArchive;
      try {
        archive = await pending;
      } catch (err) {
        if (this.#archives.get(root) === pending) this.#archives.delete(root);
        if (mine || attempt >= ACQUIRE_ATTEMPTS) throw err;
        continue;
      }
      const stale = !mine && archive.identity !== current;
      if (stale && this.#archives.get(root) === pending) {
        this.#archives.delete(root);
        retire(archive);
      }
      if (!archive.retired && !stale) {
        if (this.#archives.get(root) === pending) {
          this.#archives.delete(root);
          this.#archives.set(root, pending);
        }
        archive.users++;
        return archive;
      }
      if (attempt >= ACQUIRE_ATTEMPTS) {
        throw new LibraryError('IO_ERROR', `${root}: too many archives in use at once`);
      }
    }
  }

  #trim(): void {
    for (const [root, pending] of this.#archives) {
      if (this.#archives.size <= this.#maxOpenArchives) return;
      this.#archives.delete(root);
      pending.then(retire, () => {});
    }
  }
}

async function openArchive(root: string): Promise<CachedArchive> {
  const { zip, identity } = await openZip(root);
  try {
    const items = await archiveItems(zip, root);
    return {
      zip,
      identity,
      items: new Map(items.map((item) => [item.entryPath, item])),
      users: 0,
      retired: false,
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}

/** Marks an archive as out of the cache; it closes now, or when its last user is done. */
function retire(archive: CachedArchive): void {
  archive.retired = true;
  if (archive.users === 0) archive.zip.close();
}

/** stat() that tells a dangling link and a link loop from a missing file. */
async function statEntry(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    throw await openFailure(err, path, 'file');
  }
}

function entryReadError(err: unknown): LibraryError {
  if (err instanceof LibraryError) return err;
  if (errnoCode(err)?.startsWith('E')) {
    return LibraryError.from(failureFromFsError(err, 'archive entry'), err);
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new LibraryError('CORRUPT', `archive entry could not be read (${detail})`, { cause: err });
}

/**
 * Reads `length` bytes of an entry's content from offset `start`. A stored
 * entry is read as a byte range of the archive; a deflated one is inflated
 * from its start and the stream is destroyed once enough bytes have come.
 */
async function readEntry(
  zip: ZipFile,
  entry: Entry,
  start: number,
  length: number,
): Promise<Uint8Array> {
  if (length <= 0) return new Uint8Array(0);
  try {
    if (entry.compressionMethod === 0 && !entry.isEncrypted()) {
      // Raw mode is the only one yauzl allows a range in; stored data is the content itself.
      const stream = await zip.openReadStreamPromise(entry, {
        decodeFileData: false,
        start,
        end: start + length,
      });
      return await collect(stream, 0, length);
    }
    return await collect(await zip.openReadStreamPromise(entry), start, length);
  } catch (err) {
    throw entryReadError(err);
  }
}

/** Collects `length` bytes after skipping `skip`, then stops the stream. */
function collect(stream: Readable, skip: number, length: number): Promise<Uint8Array> {
  return new Promise((resolvePromise, reject) => {
    const out = new Uint8Array(length);
    let skipped = 0;
    let filled = 0;
    let settled = false;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      // Errors after we stopped listening (a destroyed inflater) must not go unhandled.
      stream.on('error', () => {});
      stream.destroy();
      if (err) reject(err instanceof Error ? err : new Error('stream failed', { cause: err }));
      else resolvePromise(filled === length ? out : out.slice(0, filled));
    };
    const onData = (chunk: Buffer): void => {
      let data: Uint8Array = chunk;
      if (skipped < skip) {
        const n = Math.min(skip - skipped, data.length);
        skipped += n;
        data = data.subarray(n);
      }
      const n = Math.min(length - filled, data.length);
      out.set(data.subarray(0, n), filled);
      filled += n;
      if (filled >= length) settle();
    };
    stream.on('data', onData);
    stream.once('end', () => settle());
    stream.once('error', settle);
  });
}

/** The path with its links resolved, or the path itself when it cannot be (missing). */
function realOrSelf(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}
