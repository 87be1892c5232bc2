import {
  access,
  constants,
  copyFile,
  lstat,
  mkdir,
  readdir,
  rename,
  rmdir,
  statfs,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Store } from '../store/store.ts';
import type { CacheFolderRow } from '../store/rows.ts';
import type { JobTransitions } from '../jobs/job-transitions.ts';
import type { Logger } from '../util/logger.ts';
import { CACHE_MARKER, isOwnCacheFile, outputAbsPath, outputDir } from '../util/output-layout.ts';
import { rendezvous } from './placement.ts';
import type { Variant } from '../../src-shared/domain.ts';
import type {
  CacheFolderView,
  CacheReport,
  ReconcileReportView,
  StaleView,
} from '../../src-shared/api.ts';
import { TEMP_SUFFIX } from '../../src-shared/render-task.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { noCrash, type CrashHook } from '../../src-shared/crash-points.ts';

/** A cache folder with its statistics, as `cache list` and the Cache page show it. */
export type CacheFolderStats = CacheFolderView;
/** What a cleanup (or rebalance) found in a dry run, or did. */
export type CleanupReport = CacheReport;
export type ReconcileReport = ReconcileReportView;
export type StaleReport = StaleView;

/** An error in a cache-folder request, with a code from the closed list. */
export class CacheError extends Error {
  override name = 'CacheError';
  readonly code: 'INVALID_INPUT' | 'NOT_FOUND';
  constructor(code: 'INVALID_INPUT' | 'NOT_FOUND', message: string) {
    super(message);
    this.code = code;
  }
}

/** Files younger than this are never touched: they may be being written or committed. */
export const CLEANUP_GRACE_MS = 2 * 60 * 1000;
/** Free space a disk keeps before its cache folder counts as full. */
export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
/** After a write failed for space, how much more must be free before writing again. */
export const RESUME_HEADROOM_BYTES = 1024 * 1024;

/**
 * Whether a folder takes new writes now, and if not why: DISK_FULL (its disk,
 * its limit, or the data folder's disk is out of room) or READ_ONLY.
 */
export type RoomVerdict =
  { ok: true } | { ok: false; reason: 'DISK_FULL' | 'READ_ONLY'; detail: string };

function within(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Removes the folders above `file` up to (not including) `root` while they are
 * empty (rmdir refuses a folder that is not empty).
 */
async function removeEmptyParents(file: string, root: string): Promise<void> {
  for (let dir = dirname(file); dir !== root && within(root, dir); dir = dirname(dir)) {
    const ok = await rmdir(dir).then(
      () => true,
      () => false,
    );
    if (!ok) return;
  }
}

/**
 * Cache folders as records: placement of collections by rendezvous hashing,
 * room checks (limit and real free space), statistics, reconcile, orphan
 * cleanup, stale outputs and rebalancing. It only ever deletes regular files
 * inside registered folders, never follows a symbolic link, and never touches
 * the database's own files.
 */
export class CacheService {
  private readonly store: Store;
  private readonly jobs: JobTransitions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly protectedFiles: string[];
  private readonly minFreeBytes: () => number;
  private readonly crash: CrashHook;
  private readonly roomCache = new Map<number, { at: number; verdict: RoomVerdict }>();
  private readonly dataDir: string;
  /** Free bytes seen when a write failed for space: no room until clearly more is free. */
  private readonly fullAt = new Map<number, number>();

  constructor(deps: {
    store: Store;
    jobs: JobTransitions;
    log: Logger;
    dataDir: string;
    clock?: () => number;
    minFreeBytes?: () => number;
    crash?: CrashHook;
  }) {
    this.crash = deps.crash ?? noCrash;
    this.store = deps.store;
    this.jobs = deps.jobs;
    this.log = deps.log;
    this.now = deps.clock ?? Date.now;
    this.minFreeBytes = deps.minFreeBytes ?? (() => DEFAULT_MIN_FREE_BYTES);
    // Compared with real paths: the walk starts from each folder's real path.
    const dataDir = realpathSync(resolve(deps.dataDir));
    this.dataDir = dataDir;
    this.protectedFiles = [
      'library.db',
      'library.db-wal',
      'library.db-shm',
      'albumen.lock',
      'albumen.lock.db',
      'albumen.log',
    ].map((f) => join(dataDir, f));
  }

  /** True when the folder is reachable now (its marker is there). */
  online(path: string): boolean {
    return existsSync(join(path, CACHE_MARKER));
  }

  private rows(): CacheFolderRow[] {
    return this.store.cacheFolders.list();
  }

  private row(id: number): CacheFolderRow {
    const r = this.store.cacheFolders.get(id);
    if (!r) throw new CacheError('NOT_FOUND', `no cache folder ${id}`);
    return r;
  }

  // ---- statistics ---------------------------------------------------------------------

  async list(): Promise<CacheFolderStats[]> {
    const out: CacheFolderStats[] = [];
    for (const r of this.rows()) {
      const disk = await statfs(r.path).catch(() => null);
      const freeBytes = disk ? disk.bavail * disk.bsize : null;
      const collections = this.store.cacheFolders.collectionCount(r.id);
      const full = this.isFull(r, freeBytes);
      out.push({
        ...r,
        collections,
        freeBytes,
        diskBytes: disk ? disk.blocks * disk.bsize : null,
        state:
          !disk || !this.online(r.path)
            ? 'missing'
            : !r.enabled
              ? 'disabled'
              : full
                ? 'full'
                : 'ok',
      });
    }
    return out;
  }

  private isFull(r: CacheFolderRow, freeBytes: number | null): boolean {
    // The Cache page's state; `room` is the scheduler's fuller answer.
    if (r.limitBytes !== null && r.bytes >= r.limitBytes) return true;
    return freeBytes !== null && freeBytes < this.minFreeBytes();
  }

  /**
   * Whether new outputs may be written to the folder: reachable and writable,
   * under its limit, its disk above the free-space reserve, and the data
   * folder's disk too (the database must be able to grow with the outputs).
   * Cached for a second (it is asked per image).
   */
  async room(folderId: number): Promise<RoomVerdict> {
    const cached = this.roomCache.get(folderId);
    const t = this.now();
    if (cached && t - cached.at < 1000) return cached.verdict;
    const verdict = await this.checkRoom(folderId);
    this.roomCache.set(folderId, { at: t, verdict });
    return verdict;
  }

  /** `room(...).ok`, for callers that only need yes or no. */
  async hasRoom(folderId: number): Promise<boolean> {
    return (await this.room(folderId)).ok;
  }

  private async checkRoom(folderId: number): Promise<RoomVerdict> {
    const r = this.store.cacheFolders.get(folderId);
    if (!r) return { ok: false, reason: 'DISK_FULL', detail: `cache folder ${folderId} is gone` };
    const disk = await statfs(r.path).catch(() => null);
    if (!disk || !this.online(r.path)) {
      return {
        ok: false,
        reason: 'DISK_FULL',
        detail: `the cache folder ${r.path} is not reachable`,
      };
    }
    const writable = await this.writable(r.path, false);
    if (!writable.ok) return writable;
    const free = disk.bavail * disk.bsize;
    if (r.limitBytes !== null && r.bytes >= r.limitBytes) {
      return {
        ok: false,
        reason: 'DISK_FULL',
        detail: `the cache folder ${r.path} is at its limit (${formatBytes(r.bytes)} used of its ${formatBytes(r.limitBytes)} limit, ${formatBytes(free)} free on its disk)`,
      };
    }
    const reserve = this.minFreeBytes();
    const failedAt = this.fullAt.get(folderId);
    // After a write failed for space, a quota or reserve statfs does not show may be
    // the cause: wait until space was really freed.
    const needed =
      failedAt !== undefined ? Math.max(reserve, failedAt + RESUME_HEADROOM_BYTES) : reserve;
    if (free < needed) {
      return {
        ok: false,
        reason: 'DISK_FULL',
        detail: `the disk of the cache folder ${r.path} is full (${formatBytes(free)} free, Albumen keeps ${formatBytes(needed)})`,
      };
    }
    if (failedAt !== undefined) this.fullAt.delete(folderId);
    return this.dataRoom();
  }

  /** Whether the data folder's disk keeps its reserve (the database can grow). */
  async dataRoom(): Promise<RoomVerdict> {
    const reserve = this.minFreeBytes();
    const data = await statfs(this.dataDir).catch(() => null);
    const free = data ? data.bavail * data.bsize : 0;
    if (free >= reserve) return { ok: true };
    return {
      ok: false,
      reason: 'DISK_FULL',
      detail: `the data folder ${this.dataDir} is full (${formatBytes(free)} free, its database needs ${formatBytes(reserve)})`,
    };
  }

  /**
   * Whether the folder takes writes: `access` is cheap and sees a read-only
   * mount or missing permission; with `probe`, a real file is written and
   * removed (after a failed write, to tell the folder's fault from the image's).
   */
  private async writable(path: string, probe: boolean): Promise<RoomVerdict> {
    const marker = join(path, CACHE_MARKER);
    try {
      await access(marker, constants.W_OK);
      if (probe) {
        const f = join(marker, `write-probe-${process.pid}`);
        await writeFile(f, 'albumen');
        await unlink(f);
      }
      return { ok: true };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        return {
          ok: false,
          reason: 'DISK_FULL',
          detail: `the disk of the cache folder ${path} is full`,
        };
      }
      const why = code === 'EROFS' ? 'is read-only' : `cannot be written (${code ?? String(err)})`;
      return { ok: false, reason: 'READ_ONLY', detail: `the cache folder ${path} ${why}` };
    }
  }

  /**
   * After a write to the folder failed: asks the folder itself, with a real
   * write, whether it is at fault (full or read-only), so an image is never
   * blamed for its disk.
   */
  async probeFolder(folderId: number): Promise<RoomVerdict> {
    const r = this.store.cacheFolders.get(folderId);
    if (!r) return { ok: true };
    this.roomCache.delete(folderId);
    return this.writable(r.path, true);
  }

  /** A write to the folder failed for lack of space. */
  async noteFull(folderId: number): Promise<void> {
    const r = this.store.cacheFolders.get(folderId);
    const disk = r ? await statfs(r.path).catch(() => null) : null;
    this.fullAt.set(folderId, disk ? disk.bavail * disk.bsize : 0);
    this.roomCache.delete(folderId);
  }

  /** Forgets cached room answers (after a cleanup, a limit change or a resume). */
  forgetRoom(): void {
    this.roomCache.clear();
  }

  // ---- folders as records -------------------------------------------------------------

  /**
   * Registers a folder (created if missing). It may not be inside or contain
   * another cache folder, nor hold the library's own files.
   */
  async add(path: string, limitBytes: number | null = null): Promise<CacheFolderStats> {
    if (!path || !isAbsolute(resolve(path)))
      throw new CacheError('INVALID_INPUT', 'a folder path is needed');
    const abs = resolve(path);
    mkdirSync(abs, { recursive: true });
    const real = realpathSync(abs);
    if (!statSync(real).isDirectory())
      throw new CacheError('INVALID_INPUT', `${abs} is not a folder`);
    for (const r of this.rows()) {
      const other = (() => {
        try {
          return realpathSync(r.path);
        } catch {
          return r.path;
        }
      })();
      if (within(other, real) || within(real, other)) {
        throw new CacheError('INVALID_INPUT', `${abs} overlaps the cache folder ${r.path}`);
      }
    }
    for (const f of this.protectedFiles) {
      if (within(real, dirname(f))) {
        throw new CacheError(
          'INVALID_INPUT',
          `${abs} holds the library database; choose another folder`,
        );
      }
    }
    if (limitBytes !== null && !(Number.isSafeInteger(limitBytes) && limitBytes > 0)) {
      throw new CacheError('INVALID_INPUT', 'the limit must be a positive number of bytes');
    }
    mkdirSync(join(real, CACHE_MARKER), { recursive: true });
    const id = this.store.transition((tx) => tx.cacheFolders.insert(real, limitBytes, tx.now));
    const moved = this.placeAll();
    this.log.log(
      'info',
      `cache folder ${real} added; ${moved} collections now place new outputs there`,
    );
    return this.stats(id);
  }

  private async stats(id: number): Promise<CacheFolderStats> {
    const s = (await this.list()).find((f) => f.id === id);
    if (!s) throw new CacheError('NOT_FOUND', `no cache folder ${id}`);
    return s;
  }

  async setLimit(id: number, limitBytes: number | null): Promise<CacheFolderStats> {
    this.row(id);
    this.fullAt.delete(id);
    if (limitBytes !== null && !(Number.isSafeInteger(limitBytes) && limitBytes > 0)) {
      throw new CacheError(
        'INVALID_INPUT',
        'the limit must be a positive number of bytes, or none',
      );
    }
    this.store.transition((tx) => tx.cacheFolders.setLimit(id, limitBytes));
    this.forgetRoom();
    this.placeAll();
    return this.stats(id);
  }

  /** A disabled folder gets no new outputs; what it holds is still served. */
  async setEnabled(id: number, enabled: boolean): Promise<CacheFolderStats> {
    this.row(id);
    if (!enabled && this.rows().filter((r) => r.enabled && r.id !== id).length === 0) {
      throw new CacheError('INVALID_INPUT', 'at least one cache folder must stay enabled');
    }
    this.store.transition((tx) => tx.cacheFolders.setEnabled(id, enabled));
    this.forgetRoom();
    this.placeAll();
    return this.stats(id);
  }

  /**
   * Removes a folder: its files move to `moveTo`, or (without it) are deleted
   * and their items requeued so a job makes them again elsewhere.
   */
  async remove(id: number, moveTo: number | null): Promise<{ moved: number; requeued: number }> {
    const r = this.row(id);
    if (moveTo === id) throw new CacheError('INVALID_INPUT', 'cannot move a folder into itself');
    if (moveTo !== null) this.row(moveTo);
    const others = this.rows().filter((x) => x.id !== id && x.enabled);
    if (!others.length)
      throw new CacheError('INVALID_INPUT', 'the last enabled cache folder cannot be removed');
    this.store.transition((tx) => tx.cacheFolders.setEnabled(id, false));
    this.placeAll();
    let moved = 0;
    let requeued = 0;
    for (;;) {
      const page = this.store.outputs.inFolder(id, 0, 200);
      if (!page.length) break;
      for (const o of page) {
        if (moveTo !== null) {
          await this.moveFile(o, r.path, moveTo);
          moved++;
        } else {
          if (this.jobs.dropAndRequeue(o.id) !== null) requeued++;
          await unlink(outputAbsPath(r.path, o.relPath)).catch(() => {});
        }
      }
    }
    this.store.transition((tx) => tx.cacheFolders.delete(id));
    this.log.log(
      'info',
      `cache folder ${r.path} removed (${moved} files moved, ${requeued} outputs to remake)`,
    );
    return { moved, requeued };
  }

  /** Moves one output's file to another folder: copy or rename, then the row, then the old file. */
  private async moveFile(
    o: { id: number; relPath: string },
    fromRoot: string,
    toFolderId: number,
  ): Promise<void> {
    const to = this.row(toFolderId);
    const src = outputAbsPath(fromRoot, o.relPath);
    const dst = outputAbsPath(to.path, o.relPath);
    await mkdir(dirname(dst), { recursive: true });
    const temp = `${dst}.move${TEMP_SUFFIX}`;
    try {
      await rename(src, temp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(src, temp);
    }
    await rename(temp, dst);
    this.store.transition((tx) => tx.outputs.move(o.id, toFolderId));
    await unlink(src).catch(() => {});
  }

  // ---- placement ----------------------------------------------------------------------

  /** The folder new outputs of a collection go to: rendezvous over enabled folders with room. */
  placementFor(collectionId: number): number {
    const enabled = this.rows().filter((r) => r.enabled);
    const withRoom = enabled.filter((r) => !(r.limitBytes !== null && r.bytes >= r.limitBytes));
    const pick = rendezvous(
      collectionId,
      (withRoom.length ? withRoom : enabled).map((r) => r.id),
    );
    if (pick === null) throw new CacheError('NOT_FOUND', 'no enabled cache folder');
    return pick;
  }

  /** Re-places every collection after the folder set changed; returns how many moved. */
  placeAll(): number {
    return this.store.transition((tx) => {
      let changed = 0;
      for (const c of tx.collections.list()) {
        const f = this.placementFor(c.id);
        if (f !== c.cacheFolderId) {
          tx.collections.setCacheFolder(c.id, f);
          changed++;
        }
      }
      return changed;
    });
  }

  /** Moves files of outputs that sit outside their collection's folder into it. */
  async rebalance(dryRun: boolean): Promise<CleanupReport> {
    const report: CleanupReport = { dryRun, files: 0, bytes: 0, paths: [] };
    const folders = new Map(this.rows().map((r) => [r.id, r]));
    for (const c of this.store.collections.list()) {
      for (const o of this.store.outputs.elsewhere(c.id, c.cacheFolderId)) {
        const from = folders.get(o.cacheFolderId);
        if (!from) continue;
        report.files++;
        report.bytes += o.bytes;
        report.paths.push(outputAbsPath(from.path, o.relPath));
        if (!dryRun) await this.moveFile(o, from.path, c.cacheFolderId);
      }
    }
    return report;
  }

  // ---- reconcile and cleanup ----------------------------------------------------------

  /**
   * Every regular file below a folder, never following links; the library's
   * own files are left out whatever happens.
   */
  private async *walk(
    root: string,
  ): AsyncGenerator<{ abs: string; rel: string; size: number; mtimeMs: number }> {
    const stack = [root];
    while (stack.length) {
      const dir = stack.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        const abs = join(dir, e.name);
        if (e.isDirectory()) stack.push(abs);
        else if (e.isFile()) {
          if (this.protectedFiles.includes(abs)) continue;
          const st = await lstat(abs).catch(() => null);
          if (!st?.isFile()) continue;
          yield {
            abs,
            rel: relative(root, abs).split(sep).join('/'),
            size: st.size,
            mtimeMs: st.mtimeMs,
          };
        }
        // Symbolic links and special files are never followed nor deleted.
      }
    }
  }

  /** Unreferenced files of a folder older than `minAgeMs` (temporary files of dead runs included). */
  private async orphans(
    folderId: number,
    minAgeMs: number,
  ): Promise<{ abs: string; size: number }[]> {
    const r = this.row(folderId);
    const t = this.now();
    const found: { abs: string; size: number }[] = [];
    for await (const f of this.walk(r.path)) {
      if (!isOwnCacheFile(f.rel)) continue;
      if (t - f.mtimeMs < Math.max(minAgeMs, CLEANUP_GRACE_MS)) continue;
      if (!f.rel.endsWith(TEMP_SUFFIX) && this.store.outputs.refersTo(folderId, f.rel)) continue;
      found.push({ abs: f.abs, size: f.size });
    }
    return found;
  }

  /**
   * Deletes the queued files (see FileDeletionsRepo) and takes them off the
   * queue; a file whose folder is offline stays queued. A path that an output
   * row refers to again is never deleted. Returns how many files went.
   */
  async drainDeletions(keepGoing: () => boolean = () => true): Promise<number> {
    let removed = 0;
    let after = 0;
    for (;;) {
      const page = this.store.fileDeletions.page(after, 500);
      if (!page.length) break;
      const settled: number[] = [];
      for (const d of page) {
        after = d.id;
        if (!keepGoing()) break;
        const folder = this.store.cacheFolders.get(d.cacheFolderId);
        if (folder && !this.online(folder.path)) continue;
        if (folder && !this.store.outputs.refersTo(folder.id, d.relPath)) {
          const abs = outputAbsPath(folder.path, d.relPath);
          // A file written since it was queued is a new render of the same path
          // whose row is about to be recorded: not the file let go of.
          const newer = await lstat(abs).then(
            (st) => st.mtimeMs > d.queuedAt,
            () => false,
          );
          if (newer) {
            settled.push(d.id);
            continue;
          }
          const gone = await unlink(abs).then(
            () => true,
            (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR',
          );
          if (!gone) continue; // kept queued: tried again at the next drain
          removed++;
          // A removed collection leaves no empty folders. Only then: a live
          // collection's render may be about to write into an empty shard folder.
          const collectionId = Number(d.relPath.split('/')[0]);
          if (!this.store.collections.get(collectionId)) await removeEmptyParents(abs, folder.path);
          this.crash('mid-file-deletion');
        }
        settled.push(d.id);
      }
      if (settled.length) {
        this.store.transition((tx) => {
          for (const id of settled) tx.fileDeletions.done(id);
        });
      }
      if (!keepGoing()) break;
    }
    if (removed) this.forgetRoom();
    return removed;
  }

  /**
   * Deletes what a dead run's writes of these images left: temporary files,
   * and outputs renamed into place whose row was never recorded. Looks in every
   * reachable folder, not just the collection's own: a folder added or removed
   * since then re-placed the collection. Runs at start-up with the library
   * lock held, before anything renders, so no write of this library is under
   * way. Synchronous, like the rest of start-up recovery. Returns how many.
   */
  removeLeftovers(
    renders: readonly { collectionId: number; imageId: number; variant: Variant }[],
  ): number {
    let removed = 0;
    for (const r of this.rows()) {
      if (!this.online(r.path)) continue;
      for (const it of renders) {
        const dir = outputDir(r.path, it.collectionId, it.imageId, it.variant);
        let names: string[];
        try {
          names = readdirSync(dir);
        } catch {
          continue; // no folder: nothing was written here for this image
        }
        for (const name of names) {
          const rel = relative(r.path, join(dir, name)).split(sep).join('/');
          if (!name.startsWith(`${it.imageId}-`) || !isOwnCacheFile(rel)) continue;
          if (!name.endsWith(TEMP_SUFFIX) && this.store.outputs.refersTo(r.id, rel)) continue;
          try {
            unlinkSync(join(dir, name));
            removed++;
          } catch (err) {
            this.log.log('warn', `could not remove ${join(dir, name)}: ${String(err)}`);
          }
        }
      }
    }
    return removed;
  }

  /**
   * Deletes temporary files of writes that died (a killed decoder process)
   * older than the grace period, in every reachable folder. Returns how many.
   */
  async sweepTemps(keepGoing: () => boolean = () => true): Promise<number> {
    let removed = 0;
    const t = this.now();
    for (const r of this.rows()) {
      if (!this.online(r.path)) continue;
      for await (const f of this.walk(r.path)) {
        if (!keepGoing()) return removed;
        if (!f.rel.endsWith(TEMP_SUFFIX) || !isOwnCacheFile(f.rel)) continue;
        if (t - f.mtimeMs < CLEANUP_GRACE_MS) continue;
        await unlink(f.abs).then(
          () => removed++,
          () => {},
        );
      }
    }
    return removed;
  }

  /**
   * Deletes files no output row refers to: older than `olderThanDays` (or any
   * age past the grace period with `all`), temporary files of dead runs included.
   */
  async cleanup(opts: {
    dryRun: boolean;
    olderThanDays?: number;
    all?: boolean;
    folderId?: number;
  }): Promise<CleanupReport> {
    const minAge = opts.all ? 0 : (opts.olderThanDays ?? 7) * 86_400_000;
    const report: CleanupReport = { dryRun: opts.dryRun, files: 0, bytes: 0, paths: [] };
    for (const r of this.rows()) {
      if (opts.folderId !== undefined && r.id !== opts.folderId) continue;
      if (!this.online(r.path)) {
        this.log.log('warn', `cache folder ${r.path} is not reachable; not cleaned`);
        continue;
      }
      for (const f of await this.orphans(r.id, minAge)) {
        if (!opts.dryRun) {
          try {
            await unlink(f.abs);
          } catch (err) {
            this.log.log('warn', `cleanup could not delete ${f.abs}: ${String(err)}`);
            continue;
          }
        }
        report.files++;
        report.bytes += f.size;
        report.paths.push(f.abs);
      }
      if (!opts.dryRun) this.store.transition((tx) => tx.cacheFolders.setCleanedAt(r.id, tx.now));
    }
    if (!opts.dryRun) this.forgetRoom();
    return report;
  }

  /**
   * Compares the folders with the store: outputs whose file is gone (their items
   * go back to pending so a job remakes them) and files with no row (deleted).
   */
  async reconcile(dryRun: boolean): Promise<ReconcileReport> {
    const report: ReconcileReport = { dryRun, files: 0, bytes: 0, paths: [], missing: [] };
    for (const r of this.rows()) {
      if (!this.online(r.path)) {
        this.log.log(
          'warn',
          `cache folder ${r.path} is not reachable; its outputs are left as they are`,
        );
        continue;
      }
      let after = 0;
      for (;;) {
        const page = this.store.outputs.inFolder(r.id, after, 500);
        if (!page.length) break;
        for (const o of page) {
          after = o.id;
          const abs = outputAbsPath(r.path, o.relPath);
          const st = await lstat(abs).catch(() => null);
          if (st?.isFile() && st.size === o.bytes) continue;
          report.missing.push(abs);
          if (!dryRun) {
            // Row and item in one transition: a crash here never leaves a done item
            // without its output and nothing to remake it.
            this.jobs.dropAndRequeue(o.id);
            if (st?.isFile()) await unlink(abs).catch(() => {});
          }
        }
      }
    }
    const orphans = await this.cleanup({ dryRun, all: true });
    report.files = orphans.files;
    report.bytes = orphans.bytes;
    report.paths = orphans.paths;
    return report;
  }

  // ---- stale outputs ------------------------------------------------------------------

  /** Outputs made with other settings than `current` (per variant). */
  stale(current: Record<Variant, string>): StaleReport {
    const rows = this.store.outputs.staleByCollection(current);
    return {
      files: rows.reduce((n, r) => n + r.files, 0),
      bytes: rows.reduce((n, r) => n + r.bytes, 0),
      byCollection: rows,
    };
  }
}
