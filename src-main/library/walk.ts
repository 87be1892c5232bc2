import { lstat as lstatCallback, type BigIntStats, type Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Failure } from '../../src-shared/domain.ts';
import type { InputLimits } from '../../src-shared/settings.ts';
import {
  archiveFingerprint,
  archiveItems,
  entryLimitFailure,
  entryMtimeMs,
  openZip,
} from './archive-index.ts';
import {
  SYSTEM_ROOTS,
  isWithin,
  realOrResolved,
  type CollectionSource,
} from './collection-source.ts';
import {
  LibraryError,
  errnoCode,
  failureFromFsError,
  fileTooLarge,
  notRegularFile,
  describeFileKind,
} from './library-error.ts';
import {
  SNIFF_BYTES,
  hasImageExtension,
  imageFormatFromMagic,
  isSkippedName,
  sortNaturally,
  uniqueLabel,
} from './names.ts';
import { openRegularFile, readAt } from './safe-open.ts';

/**
 * One image candidate found by a walk. `failure` is set when the entry is
 * already known to be unusable (a FIFO, a symlink loop, too large…); the scan
 * records it as a failed item with that reason. `size` and `mtimeMs` describe
 * the file (or the archive entry) for change detection.
 */
export interface WalkEntry {
  entryPath: string;
  size: number;
  mtimeMs: number;
  failure: Failure | null;
  /**
   * What identifies the content, when the walk knows it at no cost: an archive
   * entry's size and CRC-32 (see `archiveFingerprint`). Absent for a file,
   * whose fingerprint means reading it.
   */
  fingerprint?: string;
}

export interface WalkOptions {
  /** Largest number of entries per yielded batch (at least 1). */
  batchSize: number;
  limits: InputLimits;
  /** Aborting makes the walk throw the signal's reason at its next step. */
  signal?: AbortSignal;
  /**
   * Folders never walked, with everything below them (Albumen's data folder
   * and cache folders): skipped silently wherever they turn up, by identity,
   * so no path or link reaches them. A root inside one is refused
   * (INVALID_INPUT). /proc, /sys and /dev are always excluded.
   */
  excluded?: readonly string[];
  /**
   * Follow symbolic links whose real target lies outside the root. Off (the
   * only setting so far): such a link is listed as failed, LINK_OUTSIDE_ROOT.
   */
  followLinksOutsideRoot?: boolean;
  /**
   * Told of each folder on another device than the folder holding it (a
   * drive mounted inside the collection), by its path in the collection.
   */
  onMount?: (entryPath: string, dev: number) => void;
}

/**
 * Walks a collection in natural order (depth-first for folders) and yields
 * its image candidates in batches of at most `batchSize`. Per-entry problems
 * become entries with a failure; only an unusable root (missing or unreadable
 * folder, corrupt archive) throws a LibraryError, which fails the whole job.
 * Never opens anything that could block (FIFOs, devices) and never follows a
 * folder loop.
 *
 * Symbolic links (to files or folders) are followed only while their real
 * target stays inside the root's real path; a link leading out is not
 * followed and is listed as failed (LINK_OUTSIDE_ROOT), unless
 * `followLinksOutsideRoot` is set.
 */
export async function* walkCollection(
  source: CollectionSource,
  opts: WalkOptions,
): AsyncGenerator<WalkEntry[]> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new RangeError(`batchSize must be a whole number ≥ 1, got ${opts.batchSize}`);
  }
  if (source.kind === 'folder') {
    yield* walkFolder(source.root, opts);
    return;
  }
  let batch: WalkEntry[] = [];
  for await (const entry of walkArchive(source.root, opts)) {
    batch.push(entry);
    if (batch.length >= opts.batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function* walkArchive(root: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const { zip } = await openZip(root);
  try {
    const items = await archiveItems(zip, root, opts.signal);
    for (const item of items) {
      opts.signal?.throwIfAborted();
      yield {
        entryPath: item.entryPath,
        size: item.entry.uncompressedSize,
        mtimeMs: entryMtimeMs(item.entry),
        failure: item.failure ?? entryLimitFailure(item.entry, opts.limits),
        fingerprint: archiveFingerprint(item.entry),
      };
    }
  } finally {
    zip.close();
  }
}

/** A folder member: its name, and its raw bytes when they are not valid UTF-8. */
interface Child {
  name: string;
  raw: Buffer | null;
  /**
   * The listing says it is a folder. Only a hint (it may change before its
   * lstat): a chunk of lstats ends there, so a descent wastes none.
   */
  folder: boolean;
}

/** A folder being walked: its sorted members and how far the walk has got. */
interface Frame {
  abs: string;
  /** `abs` and a separator: a member's path is this and its name. */
  prefix: string;
  rel: string;
  key: string;
  /** The device it is on. */
  dev: number;
  children: Child[];
  next: number;
  /**
   * lstat results of children[chunkStart…], fetched together to overlap the
   * calls; `stats` holds them once they are in, so most members cost no await.
   */
  chunk: Promise<(Stats | Error)[]> | null;
  stats: (Stats | Error)[] | null;
  chunkStart: number;
  chunkEnd: number;
}

/** What every step of a folder walk checks besides its options. */
interface Fence {
  /** The root with every link resolved: links may not lead out of it. */
  realRoot: string;
  /** (dev, ino) of the folders never walked (the excluded ones and the system's). */
  excludedKeys: Set<string>;
}

/**
 * Most children whose lstat runs at once. Many calls in flight are far cheaper
 * each than a few (libuv's threads and the loop wake once for several), and
 * 256 still take about a millisecond, so the results are fresh. A chunk never
 * reaches past a folder: stats fetched before a descent are dropped.
 */
const LSTAT_CHUNK = 256;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8');

type Found =
  | { kind: 'none' }
  | { kind: 'entry'; entry: WalkEntry }
  | { kind: 'folder'; abs: string; rel: string; stats: Stats };

/**
 * Depth-first over an explicit stack (a deep tree costs no recursion). Every
 * folder is identified by (dev, ino): one already on the current path is a
 * loop and is reported once; one already walked elsewhere is not walked again.
 * Yields batches of at most `opts.batchSize` entries. A regular file with an
 * image's extension (nearly every member of a photo folder) is decided from
 * its lstat alone, without an await; links, other files and odd names take
 * the slower path through `inspect`.
 */
async function* walkFolder(root: string, opts: WalkOptions): AsyncGenerator<WalkEntry[]> {
  const { signal, batchSize } = opts;
  let rootKey: string;
  let rootDev: number;
  let rootChildren: Child[];
  let fence: Fence;
  try {
    const st = await stat(root, { bigint: true });
    if (!st.isDirectory()) throw new LibraryError('NOT_FOUND', `${root} is not a folder`);
    rootKey = folderKey(st);
    rootDev = Number(st.dev);
    fence = await makeFence(root, opts);
    rootChildren = await listChildren(root);
  } catch (err) {
    if (err instanceof LibraryError) throw err;
    throw LibraryError.from(failureFromFsError(err, root), err);
  }
  const visited = new Set([rootKey]);
  const onPath = new Set([rootKey]);
  const stack: Frame[] = [frame(root, '', rootKey, rootDev, rootChildren)];
  let batch: WalkEntry[] = [];

  for (let top = stack.at(-1); top; top = stack.at(-1)) {
    if (top.next >= top.children.length) {
      stack.pop();
      onPath.delete(top.key);
      continue;
    }
    signal?.throwIfAborted();
    const index = top.next++;
    const child = top.children[index];
    if (!child) continue;
    const rel = top.rel ? `${top.rel}/${child.name}` : child.name;
    let found: Found;
    if (child.raw) {
      found = await invalidName(top.abs, child, rel);
    } else {
      const lst = statsAt(top, index) ?? (await lstatChunk(top, index));
      found =
        !(lst instanceof Error) && lst.isFile() && hasImageExtension(child.name)
          ? entry(rel, lst, sizeFailure(lst, opts))
          : await inspect(top.prefix + child.name, rel, child.name, lst, opts, fence);
    }
    let next: WalkEntry | null = null;
    if (found.kind === 'entry') {
      next = found.entry;
    } else if (found.kind === 'folder') {
      const entered = await enterFolder(found, top.dev, visited, onPath, fence, opts);
      if ('entry' in entered) {
        next = entered.entry;
      } else {
        // Stats fetched before a long descent would be stale on return.
        top.chunk = null;
        top.stats = null;
        stack.push(entered.frame);
        onPath.add(entered.frame.key);
      }
    }
    if (next) {
      batch.push(next);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The walk's fence: the root's real path, and the identities of the folders
 * never walked. A root inside one of them is refused.
 */
async function makeFence(root: string, opts: WalkOptions): Promise<Fence> {
  const realRoot = await realpath(root);
  const never = await Promise.all(
    [...(opts.excluded ?? []), ...SYSTEM_ROOTS].map((p) => realOrResolved(p)),
  );
  const around = never.find((p) => isWithin(realRoot, p));
  if (around !== undefined) {
    throw new LibraryError(
      'INVALID_INPUT',
      `${root} is inside ${around}, which is never scanned (Albumen's own data or cache, or the system's files)`,
    );
  }
  const keys = await Promise.all(
    never.map((p) => stat(p, { bigint: true }).then(folderKey, () => null)),
  );
  return { realRoot, excludedKeys: new Set(keys.filter((k) => k !== null)) };
}

function frame(abs: string, rel: string, key: string, dev: number, children: Child[]): Frame {
  const prefix = abs.endsWith(sep) ? abs : abs + sep;
  return {
    abs,
    prefix,
    rel,
    key,
    dev,
    children,
    next: 0,
    chunk: null,
    stats: null,
    chunkStart: 0,
    chunkEnd: 0,
  };
}

/** The member's lstat result when its chunk is in already, else undefined. */
function statsAt(f: Frame, index: number): Stats | Error | undefined {
  if (!f.stats || index < f.chunkStart) return undefined;
  return f.stats[index - f.chunkStart];
}

/** Fetches the lstat results of the chunk starting at `index` (unless under way) and waits. */
async function lstatChunk(f: Frame, index: number): Promise<Stats | Error> {
  if (!f.chunk || index < f.chunkStart || index >= f.chunkEnd) {
    // Up to the limit, or up to and with the next folder.
    const limit = Math.min(f.children.length, index + LSTAT_CHUNK);
    let end = index + 1;
    while (end < limit && !f.children[end - 1]?.folder) end++;
    f.chunkStart = index;
    f.chunkEnd = end;
    f.stats = null;
    const chunk = lstatAll(f.children.slice(index, end).map((c) => f.prefix + c.name));
    f.chunk = chunk;
    void chunk.then((stats) => {
      if (f.chunk === chunk) f.stats = stats;
    });
  }
  const results = await f.chunk;
  return results[index - f.chunkStart] ?? new Error('lstat result missing');
}

/**
 * lstat of every path at once (the calls overlap in libuv's pool); each
 * result is the stats or the error. Callbacks rather than one promise per
 * call: a chunk costs one promise.
 */
function lstatAll(paths: readonly string[]): Promise<(Stats | Error)[]> {
  return new Promise((resolve) => {
    const out = new Array<Stats | Error>(paths.length);
    let left = paths.length;
    if (left === 0) resolve(out);
    const done = (i: number, result: Stats | Error): void => {
      out[i] = result;
      if (--left === 0) resolve(out);
    };
    paths.forEach((p, i) => {
      try {
        lstatCallback(p, (err, st) => done(i, err ? toError(err) : st));
      } catch (err) {
        done(i, toError(err)); // a path fs refuses outright
      }
    });
  });
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A folder's members without the hidden and junk ones, in natural order. */
async function listChildren(abs: string): Promise<Child[]> {
  const listed = await readdir(abs, { encoding: 'buffer', withFileTypes: true });
  const children: Child[] = [];
  const valid = new Set<string>();
  const invalid: Buffer[] = [];
  for (const dirent of listed) {
    const raw = dirent.name;
    let name: string;
    try {
      name = strictUtf8.decode(raw);
    } catch {
      // Only Linux allows names that are not UTF-8; a lossy string could not be opened again.
      if (raw[0] !== 0x2e) invalid.push(raw);
      continue;
    }
    if (isSkippedName(name)) continue;
    valid.add(name);
    children.push({ name, raw: null, folder: dirent.isDirectory() });
  }
  for (const raw of invalid) {
    children.push({ name: uniqueLabel(lossyUtf8.decode(raw), valid), raw, folder: false });
  }
  return sortNaturally(children, (c) => c.name);
}

/** A member whose name is not valid UTF-8: reported if it is a folder or looks like an image. */
async function invalidName(parent: string, child: Child, rel: string): Promise<Found> {
  const raw = child.raw ?? Buffer.alloc(0);
  const st = await lstat(Buffer.concat([Buffer.from(parent + sep), raw])).catch(() => null);
  if (!st || !(st.isDirectory() || hasImageExtension(child.name))) return { kind: 'none' };
  const what = st.isDirectory() ? 'folder' : 'file';
  return entry(rel, st, {
    code: 'INVALID_ENTRY_NAME',
    message: `${what} name is not valid UTF-8 (not read)`,
  });
}

function entry(entryPath: string, st: Stats | null, failure: Failure | null): Found {
  return {
    kind: 'entry',
    entry: { entryPath, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0, failure },
  };
}

/** Decides what one folder member is, following a symbolic link one step. */
async function inspect(
  abs: string,
  rel: string,
  name: string,
  lst: Stats | Error,
  opts: WalkOptions,
  fence: Fence,
): Promise<Found> {
  if (lst instanceof Error) {
    // Gone since the listing, or unknowable (a folder without search permission):
    // only what looks like an image by name is worth a report.
    if (errnoCode(lst) === 'ENOENT' || !hasImageExtension(name)) return { kind: 'none' };
    return entry(rel, null, failureFromFsError(lst, 'file'));
  }
  if (lst.isDirectory()) return { kind: 'folder', abs, rel, stats: lst };
  if (lst.isFile()) return candidate(abs, rel, name, lst, opts);
  if (!lst.isSymbolicLink()) return entry(rel, lst, notRegularFile(lst));

  let target: Stats;
  try {
    target = await stat(abs);
  } catch (err) {
    return entry(rel, lst, await linkFailure(abs, err));
  }
  if (!opts.followLinksOutsideRoot) {
    let real: string;
    try {
      real = await realpath(abs);
    } catch (err) {
      return entry(rel, lst, await linkFailure(abs, err));
    }
    if (!isWithin(real, fence.realRoot)) {
      const to = await readlink(abs).catch(() => real);
      return entry(rel, lst, {
        code: 'LINK_OUTSIDE_ROOT',
        message: `symbolic link to ${to} leads outside the collection's folder (not followed)`,
      });
    }
  }
  if (target.isDirectory()) return { kind: 'folder', abs, rel, stats: target };
  if (target.isFile()) return candidate(abs, rel, name, target, opts);
  return entry(rel, target, {
    code: 'NOT_REGULAR_FILE',
    message: `symbolic link to a ${describeFileKind(target)}, not a regular file`,
  });
}

async function linkFailure(abs: string, err: unknown): Promise<Failure> {
  const target = await readlink(abs).catch(() => '?');
  switch (errnoCode(err) ?? '') {
    case 'ELOOP':
      return { code: 'SYMLINK_LOOP', message: `symbolic link loop (points to ${target})` };
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: 'DANGLING_LINK', message: `dangling symbolic link to ${target}` };
    default:
      return failureFromFsError(err, `symbolic link target ${target}`);
  }
}

/**
 * A regular file (or a link to one): an image by its extension, or by its
 * first bytes when the extension says otherwise; anything else is ignored.
 */
async function candidate(
  abs: string,
  rel: string,
  name: string,
  st: Stats,
  opts: WalkOptions,
): Promise<Found> {
  if (!hasImageExtension(name)) {
    const sniffed = await sniff(abs);
    if (sniffed === false) return { kind: 'none' };
    if (sniffed !== true) return entry(rel, st, sniffed);
  }
  return entry(rel, st, sizeFailure(st, opts));
}

/** FILE_TOO_LARGE for a file over the limit, else null. */
function sizeFailure(st: Stats, opts: WalkOptions): Failure | null {
  return st.size > opts.limits.maxFileBytes
    ? fileTooLarge(st.size, opts.limits.maxFileBytes)
    : null;
}

/** Whether the file starts like an image; a Failure if it turned out not to be a regular file. */
async function sniff(abs: string): Promise<boolean | Failure> {
  let opened;
  try {
    opened = await openRegularFile(abs, 'file');
  } catch (err) {
    // Unreadable files of other types are not reported: most are not images at all.
    if (err instanceof LibraryError && err.code === 'NOT_REGULAR_FILE') return err.toFailure();
    return false;
  }
  try {
    return imageFormatFromMagic(await readAt(opened.handle, 0, SNIFF_BYTES)) !== null;
  } catch {
    return false;
  } finally {
    await opened.handle.close();
  }
}

/** A folder's identity, (dev, ino), from bigint stats: inode numbers can exceed 2^53. */
function folderKey(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * Starts walking a folder, unless it is a loop (reported once), was
 * already walked under another path or is excluded (skipped). An unreadable folder is
 * reported as an entry and the walk goes on.
 */
async function enterFolder(
  found: { abs: string; rel: string; stats: Stats },
  parentDev: number,
  visited: Set<string>,
  onPath: Set<string>,
  fence: Fence,
  opts: WalkOptions,
): Promise<{ frame: Frame } | { entry: WalkEntry | null }> {
  const { abs, rel, stats } = found;
  const failed = (failure: Failure): { entry: WalkEntry } => ({
    entry: { entryPath: rel, size: 0, mtimeMs: stats.mtimeMs, failure },
  });
  let key: string;
  let dev: number;
  try {
    const st = await stat(abs, { bigint: true });
    key = folderKey(st);
    dev = Number(st.dev);
  } catch (err) {
    return errnoCode(err) === 'ENOENT'
      ? { entry: null }
      : failed(failureFromFsError(err, 'folder'));
  }
  if (onPath.has(key)) {
    return failed({
      code: 'SYMLINK_LOOP',
      message: 'folder loop: leads back to a folder that contains it (not followed)',
    });
  }
  // Albumen's own folders (and the system's): not part of any collection.
  if (fence.excludedKeys.has(key) || visited.has(key)) return { entry: null };
  visited.add(key);
  if (dev !== parentDev) opts.onMount?.(rel, dev);
  try {
    return { frame: frame(abs, rel, key, dev, await listChildren(abs)) };
  } catch (err) {
    return errnoCode(err) === 'ENOENT'
      ? { entry: null }
      : failed(failureFromFsError(err, 'folder'));
  }
}
