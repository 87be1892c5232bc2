import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { stat } from 'node:fs/promises';
import { Store, StoreFullError } from '../store/store.ts';
import { storeInvariantProblems } from '../store/invariants.ts';
import type { CacheFolderRow, CollectionRow, ImageRow, JobRow } from '../store/rows.ts';
import type { ImageWithOutputs } from '../store/images.repo.ts';
import { GONE_GRACE_MS, JobTransitions, WALK_SLACK_MS } from '../jobs/job-transitions.ts';
import {
  Scheduler,
  rootUnreachable,
  type LibraryPort,
  type RenderPoolPort,
} from '../jobs/scheduler.ts';
import { ProgressTracker } from '../jobs/progress.ts';
import { FileLogger, type LogEntry, type Logger } from '../util/logger.ts';
import { acquireProcessLock, processLockState, type LockHolder } from '../store/process-lock.ts';
import { CACHE_MARKER, outputAbsPath } from '../util/output-layout.ts';
import { SettingsStore, type SettingsPatch } from './settings-store.ts';
import { LibraryError } from '../library/library-error.ts';
import { CollectionWatcher } from '../library/watcher.ts';
import { CacheService } from '../cache/cache.service.ts';
import { PYRAMID_SUFFIX, Renditions, renditionSize, type RenditionFile } from './renditions.ts';
import { isWithin, realOrResolved, refuseOwnFolder } from '../library/collection-source.ts';
import {
  STAGES,
  type FailedItemView,
  type JobView,
  type ImageOrder,
  type StageName,
  type StageView,
  type Variant,
  type WatchState,
} from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { settingsHash, type CoreSettings } from '../../src-shared/settings.ts';
import { noCrash, type CrashHook } from '../../src-shared/crash-points.ts';
import { hasTile, tileRelPath, TILE_SIZE, type PyramidInfo } from '../../src-shared/deep-zoom.ts';
import type { RenderRequest } from '../../src-shared/render-task.ts';

/** An output file that has just been written. */
export interface OutputReady {
  jobId: number;
  collectionId: number;
  imageId: number;
  variant: Variant;
}

/** The parts a core is made of; tests and entry points pass their own. */
export interface CoreParts {
  dataDir: string;
  /** Makes the render pool once processing starts (crash-isolated in production). */
  createPool: (
    threads: number,
  ) => RenderPoolPort & { start(): Promise<void>; stop(): Promise<void> };
  /** Collection walking, probing and source reading. */
  createLibrary: () => LibraryPort & {
    detect(path: string): Promise<{ kind: 'folder' | 'archive'; root: string }>;
    /** Opens an image's original bytes (a file, or an entry inside an archive). */
    openStream(
      source: { kind: 'folder' | 'archive'; root: string },
      entryPath: string,
    ): Promise<{ stream: NodeJS.ReadableStream; size: number }>;
    close(): Promise<void>;
  };
  clock?: () => number;
  crash?: CrashHook;
  /** Where log lines go besides listeners; defaults to `<dataDir>/albumen.log`. */
  logFile?: string | null;
  /** Minimum time between two change events of the same job. */
  eventIntervalMs?: number;
  pollMs?: number;
  /** How often jobs paused for a full folder look for room again. */
  spaceCheckMs?: number;
  /** Watch folder collections for changes while processing (default true). */
  watch?: boolean;
  /** Tells a network file system, which cannot be watched (default: by statfs). */
  remoteFileSystem?: (path: string) => Promise<string | null>;
  /** Quiet time after a change on disk before the rescan (default 400 ms). */
  watchDebounceMs?: number;
  /** Free space a disk keeps before its cache folder counts as full. */
  minFreeBytes?: () => number;
  /** Bound of the full-size renditions folder (default 2 GiB). */
  renditionsMaxBytes?: number;
}

/** Default number of render threads: one per core, leaving the database process its share. */
function defaultThreads(cores: number): number {
  return Math.max(1, cores);
}

/**
 * The application core: the store, the library, the scheduler and the pool,
 * with start and stop. Everything the UI, the browser host and the CLI do goes
 * through it; it never touches Electron.
 */
export class AlbumenCore {
  readonly dataDir: string;
  readonly settingsStore: SettingsStore;
  readonly cache: CacheService;
  /** Full-size renditions for the viewer's "100 %" of formats a browser cannot show. */
  readonly renditions: Renditions;
  /** Reads of the store; changes go through `jobs` (or a service's own transition). */
  private readonly store: Store;
  private readonly transitions: JobTransitions;
  private readonly parts: CoreParts;
  private readonly logger: FileLogger;
  private readonly progress: ProgressTracker;
  private readonly clock: () => number;
  private readonly library: ReturnType<CoreParts['createLibrary']>;
  private pool: ReturnType<CoreParts['createPool']> | null = null;
  private scheduler: Scheduler | null = null;
  private releaseLock: (() => void) | null = null;
  private readonly jobListeners = new Set<(job: JobView) => void>();
  private readonly outputListeners = new Set<(o: OutputReady) => void>();
  private readonly dirty = new Map<number, number>();
  private readonly lastSent = new Map<number, number>();
  private flushTimer: NodeJS.Timeout | null = null;
  private spaceTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The running start-up check of output files, once processing started. */
  private outputCheck: Promise<void> = Promise.resolve();

  private constructor(parts: CoreParts) {
    this.parts = parts;
    this.dataDir = parts.dataDir;
    this.clock = parts.clock ?? Date.now;
    mkdirSync(parts.dataDir, { recursive: true });
    this.logger = new FileLogger(
      parts.logFile === undefined ? join(parts.dataDir, 'albumen.log') : parts.logFile,
      this.clock,
    );
    this.store = Store.open(join(parts.dataDir, 'library.db'), { clock: this.clock });
    this.transitions = new JobTransitions(this.store, { crash: parts.crash ?? noCrash });
    this.settingsStore = new SettingsStore(this.store);
    this.progress = new ProgressTracker(this.clock);
    this.library = parts.createLibrary();
    const cacheDir = join(parts.dataDir, 'cache');
    mkdirSync(join(cacheDir, CACHE_MARKER), { recursive: true });
    this.store.transition((tx) => tx.cacheFolders.ensure(cacheDir, tx.now));
    this.renditions = new Renditions(
      join(parts.dataDir, 'renditions'),
      parts.renditionsMaxBytes ?? RENDITIONS_MAX_BYTES,
    );
    this.cache = new CacheService({
      store: this.store,
      jobs: this.transitions,
      log: this.logger,
      dataDir: parts.dataDir,
      clock: this.clock,
      minFreeBytes: parts.minFreeBytes,
      crash: parts.crash ?? noCrash,
    });
  }

  /** Opens the library in `dataDir` (the store only: no processing until `start`). */
  static open(parts: CoreParts): AlbumenCore {
    return new AlbumenCore(parts);
  }

  get log(): Logger {
    return this.logger;
  }

  get processing(): boolean {
    return this.scheduler !== null;
  }

  settings(): CoreSettings {
    return this.settingsStore.get();
  }

  /**
   * Starts processing: takes the library lock, recovers what a dead run left,
   * checks the invariants, starts the pool and the scheduler.
   */
  async start(): Promise<void> {
    if (this.scheduler) return;
    this.releaseLock = acquireProcessLock(this.dataDir);
    try {
      this.recover();
      // The owner of the data folder only: a CLI reading it leaves it alone.
      this.renditions.trim();
      const threads = this.settings().workers || defaultThreads(availableCores());
      this.pool = this.parts.createPool(threads);
      await this.pool.start();
      this.scheduler = new Scheduler({
        store: this.store,
        jobs: this.transitions,
        space: this.cache,
        pool: this.pool,
        library: this.library,
        settings: () => this.settings(),
        log: this.logger,
        pollMs: this.parts.pollMs,
        excludedRoots: () => this.ownFolders(),
        events: {
          jobChanged: (id) => this.markDirty(id),
          itemStarted: (id, stage, path) => this.progress.started(id, stage, path),
          outputReady: (o) => {
            for (const l of this.outputListeners) l(o);
          },
          filesQueued: () => void this.drainDeletions(),
        },
      });
      this.flushTimer = setInterval(() => this.flush(), this.parts.eventIntervalMs ?? 100);
      this.spaceTimer = setInterval(
        () => void this.resumeWhereRoom(),
        this.parts.spaceCheckMs ?? 2000,
      );
      // An offline collection whose root is back goes on now, not at the first
      // space check: a short `albumen run` would otherwise end with it waiting.
      await this.bringBackOnline().catch((err: unknown) => {
        this.logger.log('error', `bringing collections back online failed: ${String(err)}`);
      });
      this.scheduler.start();
      this.startWatching();
      this.logger.log('info', `processing started with ${threads} render threads`);
      this.outputCheck = this.checkOutputFiles();
      void this.drainDeletions();
    } catch (err) {
      this.releaseLock?.();
      this.releaseLock = null;
      throw err;
    }
  }

  /**
   * Stops processing cleanly: no new work, in-flight items back to pending (the
   * pool stops), last events sent, lock released. The store stays open.
   */
  async stop(): Promise<void> {
    const scheduler = this.scheduler;
    if (!scheduler) return;
    scheduler.halt();
    await this.stopWatching();
    await this.pool?.stop();
    await scheduler.settled();
    // Queued deletions are quick (unlinks): finish them, so a clean stop leaves
    // no file without its row. A kill leaves them queued for the next start.
    await this.draining;
    this.scheduler = null;
    this.pool = null;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (this.spaceTimer) clearInterval(this.spaceTimer);
    this.spaceTimer = null;
    this.flush(true);
    this.releaseLock?.();
    this.releaseLock = null;
    this.logger.log('info', 'processing stopped');
  }

  /**
   * Whether anything processes this library's jobs now: this core, or another
   * live process holding the data folder's lock (then its record, if written).
   */
  processedBy(): { self: true } | { self: false; holder: LockHolder | null } | null {
    if (this.scheduler) return { self: true };
    const state = processLockState(this.dataDir);
    return state.held ? { self: false, holder: state.holder } : null;
  }

  /** Stops and starts processing again (after a change of the worker count). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops processing and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    await this.library.close();
    this.store.close();
    this.closed = true;
  }

  /**
   * Resumes jobs paused for a full or read-only folder once it takes writes
   * again, and work stopped by a full database once its disk has room.
   */
  private async resumeWhereRoom(): Promise<void> {
    try {
      const scheduler = this.scheduler;
      if (scheduler?.storeFull && (await this.cache.dataRoom()).ok) {
        if (scheduler.recoverFromStoreFull()) this.wake();
      }
      await this.bringBackOnline();
      await this.noticeOffline();
      this.syncWatches();
      this.purgeHeldImages();
      const waiting = this.store.jobs.pausedForSpace();
      if (!waiting.length) return;
      this.cache.forgetRoom();
      for (const j of waiting) {
        const c = this.store.collections.get(j.collectionId);
        if (!c || !j.pauseReason) continue;
        const room = await this.cache.room(c.cacheFolderId);
        // Checked again inside resume: a user pause made meanwhile is not undone.
        if (room.ok && this.transitions.resume(j.id, j.pauseReason)) {
          this.logger.log(
            'info',
            `job ${j.id}: ${j.pauseDetail ?? 'its folder'} takes writes again; resuming`,
          );
          this.changed(j.id);
        } else if (!room.ok && room.detail !== j.pauseDetail) {
          // Still waiting, for another reason now: say so.
          if (this.transitions.pause(j.id, room.reason, room.detail)) this.changed(j.id);
        }
      }
    } catch (err) {
      if (err instanceof StoreFullError) return;
      this.logger.log('error', `space check failed: ${String(err)}`);
    }
  }

  /** Deletes queued files in the background, one drain at a time. */
  private draining: Promise<void> | null = null;
  private drainAgain = false;
  private drainDeletions(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.drainAgain = false;
        try {
          await this.cache.drainDeletions(() => !this.closed);
        } catch (err) {
          if (!(err instanceof StoreFullError)) {
            this.logger.log('error', `deleting files failed: ${String(err)}`);
          }
        }
      } while (this.drainAgain && !this.closed);
    })().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  // ---- watched folders ------------------------------------------------------------------

  private watcher: CollectionWatcher | null = null;
  /** Collections whose watcher is set up (no change is missed from then on). */
  private readonly watchReady = new Set<number>();
  /** Collections whose watcher failed: rescanned every WATCH_FALLBACK_MS instead. */
  private readonly polled = new Map<number, { since: number; reason: string }>();

  private startWatching(): void {
    if (this.parts.watch === false) return;
    this.watcher = new CollectionWatcher(
      {
        changed: (id) => {
          if (!this.scheduler || !this.store.collections.get(id)) return;
          this.rescan([id]);
        },
        // A walk under way when the watcher became ready may have passed a change
        // it made no event for: that job walks once more (no new job is made).
        // At start, a collection is walked once its watcher is ready (so that no
        // change falls between the walk and the watch).
        ready: (id) => {
          this.watchReady.add(id);
          this.collectionsChanged();
          const atStart = this.walkAtStart.delete(id);
          if (!this.scheduler || !this.store.collections.get(id)) return;
          if (atStart || this.store.jobs.unfinishedOf(id).length) this.rescan([id]);
        },
        failed: (id, reason) => {
          const c = this.store.collections.get(id);
          this.watchReady.delete(id);
          this.polled.set(id, { since: Date.now(), reason });
          this.collectionsChanged();
          // Changes may have been missed: walked now, then every WATCH_FALLBACK_MS.
          this.walkAtStart.delete(id);
          if (this.scheduler && c) this.rescan([id]);
          this.logger.log(
            'warn',
            `cannot watch ${c?.root ?? `collection ${id}`} (${reason}); it is rescanned every ` +
              `${WATCH_FALLBACK_MS / 60_000} minutes instead`,
          );
        },
      },
      {
        excluded: this.ownFolders(),
        debounceMs: this.parts.watchDebounceMs,
        ...(this.parts.remoteFileSystem ? { remoteFileSystem: this.parts.remoteFileSystem } : {}),
      },
    );
    // What changed while nothing watched: every watched collection is walked
    // again once its watcher is ready (cheap when nothing changed: unchanged
    // files are not read). An offline one is walked when it comes back.
    for (const c of this.store.collections.list()) {
      if (c.offlineSince === null && this.watches(c)) this.walkAtStart.add(c.id);
    }
    this.syncWatches();
  }

  /** Collections to walk once their watcher is ready, for what changed while none ran. */
  private readonly walkAtStart = new Set<number>();

  private async stopWatching(): Promise<void> {
    const w = this.watcher;
    this.watcher = null;
    this.watchReady.clear();
    this.walkAtStart.clear();
    await w?.close();
  }

  /** Whether a collection follows the disk: its own setting, else the library's. */
  watches(c: CollectionRow): boolean {
    return c.watch ?? this.settings().watchFolders;
  }

  /**
   * Watches every collection that is online, wants watching and has not failed
   * over to rescans; stops watching the rest. Run at start, with the space
   * check, and when a watch setting changes.
   */
  private syncWatches(): void {
    const w = this.watcher;
    if (!w) return;
    const want = new Map<number, string>();
    for (const c of this.store.collections.list()) {
      if (c.offlineSince !== null || !this.watches(c)) continue;
      const polled = this.polled.get(c.id);
      if (polled !== undefined) {
        if (Date.now() - polled.since >= WATCH_FALLBACK_MS) {
          polled.since = Date.now();
          this.rescan([c.id]);
        }
        continue;
      }
      want.set(c.id, c.root);
    }
    for (const id of w.ids()) {
      if (want.has(id)) continue;
      this.watchReady.delete(id);
      void w.unwatch(id);
    }
    for (const [id, root] of want) w.watch(id, root);
  }

  /**
   * How a collection follows the disk now, for the sidebar: watched, being set
   * up, rescanned periodically because its watcher failed (with why), not
   * watched by choice, offline, or not watched by this process at all (the CLI).
   */
  watchState(id: number): { state: WatchState; detail: string | null } {
    const c = this.store.collections.get(id);
    if (!c || c.offlineSince !== null) return { state: 'offline', detail: null };
    if (!this.watches(c)) return { state: 'off', detail: null };
    if (!this.watcher) return { state: 'inactive', detail: null };
    const polled = this.polled.get(id);
    if (polled) {
      return {
        state: 'polling',
        detail: `${polled.reason}; rescanned every ${WATCH_FALLBACK_MS / 60_000} minutes`,
      };
    }
    return { state: this.watchReady.has(id) ? 'watching' : 'starting', detail: null };
  }

  /**
   * Sets whether a collection follows the disk: true or false, or null to
   * follow the library's setting. Turned on, it is walked at once (for what
   * changed while it was not watched) and its watcher gets a fresh try.
   */
  setCollectionWatch(id: number, watch: boolean | null): void {
    const c = this.store.collections.get(id);
    if (!c || c.removing) throw new LibraryError('NOT_FOUND', `no collection ${id}`);
    const before = this.watches(c);
    this.transitions.setWatch(id, watch);
    this.watchSettingChanged(before ? [] : [id]);
  }

  /**
   * Saves a change of the core's settings: a new worker count restarts
   * processing; watching turned on walks the collections it now covers.
   */
  async updateSettings(patch: SettingsPatch): Promise<CoreSettings> {
    const before = this.settings();
    const unwatched = this.store.collections.list().filter((c) => !this.watches(c));
    const next = this.settingsStore.update(patch);
    if (next.workers !== before.workers && this.processing) await this.restart();
    if (next.watchFolders !== before.watchFolders) {
      this.watchSettingChanged(unwatched.map((c) => c.id));
    }
    return next;
  }

  private watchSettingChanged(wereUnwatched: readonly number[]): void {
    for (const id of wereUnwatched) this.polled.delete(id);
    this.syncWatches();
    if (this.watcher) {
      const now = wereUnwatched.filter((id) => {
        const c = this.store.collections.get(id);
        return c !== undefined && c.offlineSince === null && this.watches(c);
      });
      if (now.length) this.rescan(now);
    }
    this.collectionsChanged();
  }

  /** Listeners told that collection views changed (watch state). */
  private readonly collectionListeners = new Set<() => void>();

  onCollectionsChanged(listener: () => void): () => void {
    this.collectionListeners.add(listener);
    return () => this.collectionListeners.delete(listener);
  }

  private collectionsChanged(): void {
    for (const l of this.collectionListeners) l();
  }

  /** The device of each collection's root at the last look (-1: not there). */
  private readonly rootDevice = new Map<number, number>();

  /**
   * Notices a collection whose root went away (renamed, an unplugged drive) with
   * no job of it running: one stat per collection each space check, and the
   * full check (an empty mount point) only when the root's device changed — an
   * unmounted drive leaves its mount point on the parent's device.
   */
  private async noticeOffline(): Promise<void> {
    const scheduler = this.scheduler;
    if (!scheduler) return;
    for (const c of this.store.collections.list()) {
      if (c.offlineSince !== null) {
        this.rootDevice.delete(c.id);
        continue;
      }
      const dev = await stat(c.root).then(
        (st) => st.dev,
        () => -1,
      );
      if (this.rootDevice.get(c.id) === dev) continue;
      this.rootDevice.set(c.id, dev);
      if (this.scheduler !== scheduler || !this.store.collections.get(c.id)) return;
      if (await scheduler.wentOffline(c)) {
        this.rootDevice.delete(c.id);
        this.logger.log('warn', `${c.root} cannot be reached: the collection is offline`);
        this.collectionsChanged();
      }
    }
  }

  /**
   * Gone images kept for another collection's walk (see purgeGone) are
   * deleted once their time is up; a read alone when there is nothing to do.
   */
  private purgeHeldImages(): void {
    if (!this.store.images.purgeable(1, Date.now() - GONE_GRACE_MS, WALK_SLACK_MS).length) return;
    if (this.transitions.purgeGone()) void this.drainDeletions();
  }

  /** Offline collections whose root is reachable again come back and are walked again. */
  private async bringBackOnline(): Promise<void> {
    for (const c of this.store.collections.offline()) {
      if (await rootUnreachable(c, (n) => this.store.images.samplePaths(c.id, n))) continue;
      const job = this.transitions.backOnline(c.id);
      this.logger.log('info', `${c.root} is reachable again: rescanning it as job ${job.id}`);
      this.changed(job.id);
      this.collectionsChanged();
    }
  }

  // ---- recovery -----------------------------------------------------------------------

  private recover(): void {
    const interrupted = this.transitions.recoverInterrupted();
    if (interrupted.length) {
      this.logger.log(
        'warn',
        `recovered ${interrupted.length} items left running by a previous run`,
      );
    }
    const removed = this.cache.removeLeftovers(
      interrupted.flatMap((it) => (it.stage === 'scan' ? [] : [{ ...it, variant: it.stage }])),
    );
    if (removed)
      this.logger.log('info', `removed ${removed} files a previous run left half-written`);
    // Removals a dead run began, and images it found gone (waiting for its walks).
    this.finishRemovals();
    this.transitions.purgeGone();
    const drift = this.transitions.repairCounters();
    for (const d of drift) {
      this.logger.log(
        'error',
        `invariant: job ${d.jobId} ${d.stage} counters ${JSON.stringify(d.stored)} differed from its items ${JSON.stringify(d.actual)}; repaired`,
      );
    }
  }

  /**
   * Resolves once the start-up check of output files (started by `start`) has
   * looked at every output, so what it requeued is in the store; at once when
   * processing has not started.
   */
  whenOutputsChecked(): Promise<void> {
    return this.outputCheck;
  }

  /**
   * Background half of the start-up check: every recorded output's file exists.
   * A missing one loses its row (and is made again when next needed).
   */
  private async checkOutputFiles(): Promise<void> {
    let after = 0;
    let missing = 0;
    try {
      for (;;) {
        if (!this.scheduler) return;
        const page = this.store.outputs.after(after, 500);
        if (!page.length) break;
        for (const o of page) {
          after = o.id;
          const folder = this.store.cacheFolders.get(o.cacheFolderId);
          // An unreachable folder (unplugged drive) keeps its rows: offline is not missing.
          if (!folder || !this.cache.online(folder.path)) continue;
          const ok = await stat(outputAbsPath(folder.path, o.relPath)).then(
            (s) => s.isFile() && s.size === o.bytes,
            () => false,
          );
          if (!ok && this.scheduler && this.transitions.dropAndRequeue(o.id, o) !== null) {
            missing++;
            this.scheduler.wake();
          }
        }
      }
      if (missing) {
        this.logger.log(
          'warn',
          `invariant: ${missing} outputs had no file on disk; they will be made again`,
        );
      }
      if (missing) void this.drainDeletions();
      const temps = await this.cache.sweepTemps(() => this.scheduler !== null);
      if (temps) this.logger.log('info', `removed ${temps} temporary files of interrupted writes`);
    } catch (err) {
      this.logger.log('error', `output check failed: ${String(err)}`);
    }
  }

  // ---- commands -----------------------------------------------------------------------

  /**
   * Imports a folder or ZIP/CBZ archive: its collection (created on first
   * import) gets a job, or joins the job it already has running.
   */
  async importPath(path: string): Promise<JobView> {
    return (await this.importWithNote(path)).job;
  }

  /**
   * Imports like `importPath`, and says what it did when that was not simply a
   * new collection. No file is ever in two collections:
   * - a folder already in the library is rescanned;
   * - a folder inside a folder collection rescans that collection instead;
   * - a folder containing folder collections takes them in: their images move
   *   into the new collection with their ids and previews (nothing is made
   *   again) and the inner collections go.
   */
  async importWithNote(path: string): Promise<{ job: JobView; note: string | null }> {
    const source = await this.library.detect(path);
    await refuseOwnFolder(source.root, this.ownFolders());
    const folder = this.store.cacheFolders.list()[0];
    if (!folder) throw new Error('no cache folder');
    let known = this.store.collections.byRoot(source.root);
    if (known?.removing) {
      // A removal a dead process began: finished now (its files are deleted by
      // the queue), and the folder comes in anew.
      this.transitions.finishRemoval(known.id);
      if (this.scheduler) void this.drainDeletions();
      known = undefined;
    }
    // Compared by real paths: a root reached through a link is where it really is.
    const folders =
      known || source.kind !== 'folder'
        ? []
        : await Promise.all(
            this.store.collections
              .list()
              .filter((c) => c.kind === 'folder')
              .map(async (c) => ({ ...c, real: await realOrResolved(c.root) })),
          );
    const outer = folders.find((c) => isWithin(source.root, c.real));
    if (outer) {
      const job = this.rescan([outer.id])[0]!;
      const note =
        `${source.root} is inside the collection “${outer.name}” (${outer.root}); ` +
        `rescanning that collection instead`;
      this.logger.log('info', `${note} as job ${job.id}`);
      return { job, note };
    }
    const inner = folders.filter((c) => isWithin(c.real, source.root));
    const away = inner.filter((c) => c.offlineSince !== null);
    if (away.length) {
      // Its files cannot be seen now: taken in, they would look deleted.
      throw new LibraryError(
        'INVALID_INPUT',
        `${source.root} contains the offline collection${away.length === 1 ? '' : 's'} ` +
          `${away.map((c) => `“${c.name}” (${c.root})`).join(', ')}; bring ` +
          `${away.length === 1 ? 'it' : 'them'} back online or remove ${away.length === 1 ? 'it' : 'them'} first`,
      );
    }
    let absorbed = 0;
    const job = this.store.transition((tx) => {
      const collection = tx.collections.upsert(
        {
          kind: source.kind,
          root: source.root,
          name: basename(source.root),
          cacheFolderId: folder.id,
        },
        tx.now,
      );
      for (const c of inner) {
        const prefix = relative(source.root, c.real).split(sep).join('/');
        absorbed += this.transitions.absorbCollection(tx, c.id, collection.id, prefix);
      }
      const placed = this.cache.placementFor(collection.id);
      if (placed !== collection.cacheFolderId) tx.collections.setCacheFolder(collection.id, placed);
      return this.transitions.openOrCreateJob(collection.id, known ? 'rescan' : 'import');
    });
    this.syncWatches(); // watched from now on, not at the next space check
    let note: string | null = null;
    if (known) note = `${source.root} is already in the library; rescanning it`;
    else if (inner.length) {
      note =
        `${source.root} contains ${inner.length === 1 ? 'the collection' : 'the collections'} ` +
        `${inner.map((c) => `“${c.name}”`).join(', ')}: ${inner.length === 1 ? 'it is' : 'they are'} ` +
        `now part of this one, with ${absorbed} images and their previews`;
    }
    this.logger.log(
      'info',
      note ? `${note} (job ${job.id})` : `import ${source.root} as job ${job.id}`,
    );
    this.changed(job.id);
    if (inner.length) this.collectionsChanged();
    return { job: this.mustView(job.id), note };
  }

  /**
   * Rescans collections (every one when `ids` is empty): each gets a job that
   * walks it again — or its open job walks again — and classifies every file
   * as new, unchanged, changed, moved or gone.
   */
  rescan(ids: readonly number[] = []): JobView[] {
    const all = this.store.collections.list();
    const wanted = ids.length ? ids : all.map((c) => c.id);
    const jobs: JobView[] = [];
    for (const id of wanted) {
      if (!all.some((c) => c.id === id)) {
        throw new LibraryError('NOT_FOUND', `no collection ${id}`);
      }
    }
    for (const id of wanted) {
      const job = this.transitions.openOrCreateJob(id, 'rescan');
      this.changed(job.id);
      jobs.push(this.mustView(job.id));
    }
    return jobs;
  }

  /**
   * Removes a collection from the library: hidden and its jobs cancelled at
   * once, then its images, items, jobs and outputs in one transition, then its
   * output files (unless `keepFiles`) through the deletion queue. The user's
   * own files are never touched. A crash at any point is finished by the next
   * start. Returns what went.
   */
  async removeCollection(
    id: number,
    opts: { keepFiles?: boolean } = {},
  ): Promise<{ name: string; root: string; images: number; files: number }> {
    const c = this.store.collections.get(id);
    if (!c || c.removing) throw new LibraryError('NOT_FOUND', `no collection ${id}`);
    const keepFiles = opts.keepFiles ?? false;
    this.transitions.beginRemoval(id, keepFiles);
    const gone = this.transitions.finishRemoval(id, keepFiles);
    this.logger.log(
      'info',
      `removed collection ${id} (${c.root}): ${gone.images} images, ${gone.files} output files` +
        (opts.keepFiles ? ' kept on disk' : ''),
    );
    await this.drainDeletions();
    return { name: c.name, root: c.root, ...gone };
  }

  /** Removals a dead process began: their rows and files go now. */
  private finishRemovals(): void {
    for (const c of this.store.collections.beingRemoved()) {
      const gone = this.transitions.finishRemoval(c.id);
      this.logger.log(
        'info',
        `finished removing collection ${c.id} (${c.root}): ${gone.images} images`,
      );
    }
  }

  /**
   * Albumen's own folders: the data folder and every cache folder. A root
   * inside one is refused; a scan never walks into one.
   */
  private ownFolders(): string[] {
    return [this.dataDir, ...this.store.cacheFolders.list().map((f) => f.path)];
  }

  jobs(limit = 100, offset = 0): JobView[] {
    return this.store.jobs.page(limit, offset).map((j) => this.view(j));
  }

  job(id: number): JobView | undefined {
    const j = this.store.jobs.get(id);
    return j ? this.view(j) : undefined;
  }

  failedItems(jobId: number, limit = 200, offset = 0): FailedItemView[] {
    return this.store.failures.failedPage(jobId, limit, offset);
  }

  pause(id: number): boolean {
    return this.afterCommand(id, this.transitions.pause(id));
  }

  resume(id: number): boolean {
    return this.afterCommand(id, this.transitions.resume(id));
  }

  cancel(id: number): boolean {
    return this.afterCommand(id, this.transitions.cancel(id));
  }

  /** Retries failed items; returns how many were reset. */
  retry(id: number): number {
    const n = this.transitions.retryFailed(id);
    this.afterCommand(id, true);
    return n;
  }

  /** Pauses every unfinished job; returns how many were paused. */
  pauseAll(): number {
    return this.store.jobs.unfinished().filter((j) => this.pause(j.id)).length;
  }

  /** Resumes every paused job; returns how many were resumed. */
  resumeAll(): number {
    return this.store.jobs.unfinished().filter((j) => this.resume(j.id)).length;
  }

  /** Ids of the jobs that are not terminal, paused ones included, oldest first. */
  unfinishedJobIds(): number[] {
    return this.store.jobs.unfinished().map((j) => j.id);
  }

  /**
   * Starts (or joins) a job for every collection with outputs made with older
   * settings, or only for `collectionId`; the job remakes them.
   */
  async regenerate(collectionId?: number): Promise<JobView[]> {
    const jobs: JobView[] = [];
    for (const c of this.cache.stale(this.currentHashes()).byCollection) {
      if (collectionId !== undefined && c.collectionId !== collectionId) continue;
      const col = this.store.collections.get(c.collectionId);
      if (col) jobs.push(await this.importPath(col.root));
    }
    return jobs;
  }

  /** Asks the scheduler to look for work now (after requeued items). */
  wake(): void {
    this.scheduler?.wake();
    for (const j of this.store.jobs.unfinished()) this.markDirty(j.id);
  }

  private afterCommand(id: number, changed: boolean): boolean {
    if (changed) this.changed(id);
    return changed;
  }

  private changed(id: number): void {
    this.markDirty(id);
    this.scheduler?.wake();
  }

  /**
   * Resolves with the jobs' views once every one of them is terminal (also when
   * another process finished them: the store is polled as well).
   */
  whenDone(ids: number[]): Promise<JobView[]> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.closed) return;
        const views = ids.map((id) => this.job(id));
        if (views.every((v) => v && isTerminal(v.status))) {
          unsubscribe();
          clearInterval(poll);
          // The poll may see the end before the coalesced event went out: send it
          // first, so every listener has the final view when this resolves.
          for (const id of ids) this.markDirty(id);
          this.flush(true);
          resolve(views as JobView[]);
        }
      };
      const unsubscribe = this.onJobChanged(check);
      const poll = setInterval(check, 500);
      check();
    });
  }

  // ---- library views and media -------------------------------------------------------

  collection(id: number): CollectionRow | undefined {
    return this.store.collections.get(id);
  }

  image(id: number): ImageRow | undefined {
    return this.store.images.get(id);
  }

  /** A page of a collection's usable images in an order (natural by name), with which outputs exist. */
  images(
    collectionId: number,
    limit: number,
    offset: number,
    order: ImageOrder = 'name',
    dir: 'asc' | 'desc' = 'asc',
  ): ImageWithOutputs[] {
    return this.store.images.pageWithOutputs(collectionId, limit, offset, order, dir);
  }

  /** Every image of a collection a page at a time, usable or not (tests, diagnostics). */
  allImages(collectionId: number, limit = 1000, offset = 0): ImageRow[] {
    return this.store.images.page(collectionId, limit, offset);
  }

  /** True when the decoder rendered the image's current file (an output was made from it). */
  decoderAccepted(imageId: number): boolean {
    const image = this.store.images.get(imageId);
    if (!image || image.goneAt !== null) return false;
    return this.store.outputs.ofImage(imageId).some((o) => o.sourceVersion === image.version);
  }

  /** The recorded outputs of an image with the absolute path of each file. */
  outputsOf(imageId: number): { variant: Variant; settingsHash: string; path: string }[] {
    return this.store.outputs.ofImage(imageId).flatMap((o) => {
      const folder = this.store.cacheFolders.get(o.cacheFolderId);
      return folder
        ? [
            {
              variant: o.variant,
              settingsHash: o.settingsHash,
              path: outputAbsPath(folder.path, o.relPath),
            },
          ]
        : [];
    });
  }

  imageCount(collectionId: number): number {
    return this.store.images.count(collectionId);
  }

  cacheFolders(): CacheFolderRow[] {
    return this.store.cacheFolders.list();
  }

  /** UI preferences kept beside the core's settings. */
  uiSettings(): { keepRunningInTray: boolean } {
    const v = this.store.settings.get('ui') as { keepRunningInTray?: unknown } | undefined;
    return { keepRunningInTray: v?.keepRunningInTray !== false };
  }

  updateUiSettings(v: { keepRunningInTray: boolean }): void {
    this.store.transition((tx) => tx.settings.set('ui', v));
  }

  /** The store's invariants (see storeInvariantProblems); empty when all hold. */
  checkInvariants(): string[] {
    return storeInvariantProblems(this.store);
  }

  /** Every output row, a page at a time (to compare with the files on disk). */
  outputsAfter(afterId: number, limit: number): { id: number; path: string; bytes: number }[] {
    const folders = new Map(this.store.cacheFolders.list().map((f) => [f.id, f.path]));
    return this.store.outputs.after(afterId, limit).map((o) => ({
      id: o.id,
      path: outputAbsPath(folders.get(o.cacheFolderId) ?? '', o.relPath),
      bytes: o.bytes,
    }));
  }

  /** Collections with their usable image count and newest job. */
  collections(): {
    collection: CollectionRow;
    imageCount: number;
    job: JobView | undefined;
  }[] {
    return this.store.collections.list().map((c) => {
      const j = this.store.jobs.latestOfCollection(c.id);
      return {
        collection: c,
        imageCount: this.store.images.count(c.id),
        job: j ? this.view(j) : undefined,
      };
    });
  }

  /** Settings hashes of the current settings, per variant. */
  currentHashes(): Record<Variant, string> {
    const s = this.settings().render;
    return {
      thumbnail: settingsHash('thumbnail', s.thumbnail),
      cache: settingsHash('cache', s.cache),
    };
  }

  /**
   * The file of an image's output: made with the current settings if there is
   * one, else the newest older one (better than nothing while it is remade).
   */
  outputFile(imageId: number, variant: Variant): { path: string; bytes: number } | null {
    const o = this.store.outputs.best(imageId, variant, this.currentHashes()[variant]);
    const folder = o && this.store.cacheFolders.get(o.cacheFolderId);
    return o && folder ? { path: outputAbsPath(folder.path, o.relPath), bytes: o.bytes } : null;
  }

  /**
   * The image's own pixels as a JPEG (its full size, up to FULL_SIZE_MAX_PIXELS),
   * rendered on demand in the pool from its current version; null when the
   * pool is not running, the image is gone or its decoder refused it.
   */
  async fullSize(imageId: number): Promise<RenditionFile | null> {
    const r = this.renditionOf(imageId);
    if (!r) return null;
    const { width, height } = renditionSize(r.image.width, r.image.height, FULL_SIZE_MAX_PIXELS);
    return this.renditions.get(`${r.name}-${width}x${height}.jpg`, async (path) => {
      const failed = await r.render('full-size view', {
        outputs: [
          {
            variant: 'cache',
            finalPath: path,
            settings: { maxWidth: width, maxHeight: height, format: 'jpeg', quality: 92 },
          },
        ],
      });
      return failed === null;
    });
  }

  /**
   * The image's deep-zoom tile pyramid (see deep-zoom.ts), rendered on demand
   * in the pool from its current version, with the key its tiles are asked
   * for by; null as for fullSize.
   */
  async deepZoom(imageId: number): Promise<(PyramidInfo & { key: string }) | { problem: string }> {
    const r = this.renditionOf(imageId);
    if (!r) return { problem: NO_RENDITION_NOW };
    let problem = 'its tiles could not be made';
    const made = await this.renditions.getPyramid(`${r.name}${PYRAMID_SUFFIX}`, async (dir) => {
      const failed = await r.render('tiles', {
        outputs: [],
        pyramid: { dir, tileSize: TILE_SIZE, quality: TILE_QUALITY },
      });
      if (failed) problem = `its tiles could not be made: ${failed}`;
      return failed === null;
    });
    if (!made) return { problem };
    const { width, height, tileSize, maxLevel, format } = made.pyramid;
    return { width, height, tileSize, maxLevel, format, key: r.key };
  }

  /**
   * One tile of the image's pyramid of `key` (as deepZoom gave it; by default
   * the image's current one), when that pyramid exists: never made here, and
   * never another version's tile under this key.
   */
  tileFile(
    imageId: number,
    tile: { level: number; col: number; row: number },
    key?: string,
  ): { path: string; bytes: number; format: PyramidInfo['format'] } | null {
    let k = key;
    if (k === undefined) {
      const image = this.store.images.get(imageId);
      const c = image && this.store.collections.get(image.collectionId);
      if (!image || !c) return null;
      k = renditionKey(c, image);
    } else if (!RENDITION_KEY.test(k) || !this.store.images.get(imageId)) {
      return null;
    }
    const name = `${imageId}-${k}${PYRAMID_SUFFIX}`;
    let format: PyramidInfo['format'] = 'jpeg';
    const file = this.renditions.pyramidFile(name, (p) => {
      format = p.format;
      return hasTile(p, tile) ? tileRelPath(tile.level, tile.col, tile.row, p.format) : null;
    });
    return file && { ...file, format };
  }

  /**
   * What a rendition of an image is named by, and a render of it in the pool
   * (null when it worked, else why not, also said in the log); null when
   * there can be none now.
   */
  private renditionOf(imageId: number): {
    image: ImageRow & { width: number; height: number };
    name: string;
    key: string;
    render: (
      what: string,
      task: Pick<RenderRequest, 'outputs' | 'pyramid'>,
    ) => Promise<string | null>;
  } | null {
    const image = this.store.images.get(imageId);
    const c = image && this.store.collections.get(image.collectionId);
    const pool = this.pool;
    if (!image || !c || !pool || !image.width || !image.height) return null;
    if (!this.decoderAccepted(imageId)) return null;
    // A suspect's retry alone owns the pool: a crash then must be its own.
    if (this.scheduler?.runningAlone) return null;
    const key = renditionKey(c, image);
    const limits = this.settings().limits;
    const render = async (
      what: string,
      task: Pick<RenderRequest, 'outputs' | 'pyramid'>,
    ): Promise<string | null> => {
      try {
        const input = await this.library.toRenderInput(
          { kind: c.kind, root: c.root },
          image.entryPath,
        );
        const result = await pool.run({
          label: image.entryPath,
          input,
          ...task,
          maxPixels: limits.maxPixels,
          timeoutSeconds: limits.timeoutSeconds,
        });
        if (result.ok) return null;
        const problem = `${result.code}: ${result.message}`;
        this.logger.log('warn', `${what} of ${image.entryPath}: ${problem}`);
        return problem;
      } catch (err) {
        this.logger.log('warn', `${what} of ${image.entryPath}: ${String(err)}`);
        return String(err);
      }
    };
    return {
      image: { ...image, width: image.width, height: image.height },
      name: `${imageId}-${key}`,
      key,
      render,
    };
  }

  /** The original bytes of an image, resolved through the one path model. */
  async openSource(
    imageId: number,
  ): Promise<{ stream: NodeJS.ReadableStream; size: number; entryPath: string } | null> {
    const image = this.store.images.get(imageId);
    const c = image && this.store.collections.get(image.collectionId);
    if (!image || !c) return null;
    const opened = await this.library.openStream({ kind: c.kind, root: c.root }, image.entryPath);
    return { ...opened, entryPath: image.entryPath };
  }

  // ---- events -------------------------------------------------------------------------

  /** Job changes, coalesced to about ten per second per job. */
  onJobChanged(listener: (job: JobView) => void): () => void {
    this.jobListeners.add(listener);
    return () => this.jobListeners.delete(listener);
  }

  onOutputReady(listener: (o: OutputReady) => void): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  onLog(listener: (e: LogEntry) => void): () => void {
    return this.logger.onLog(listener);
  }

  private markDirty(jobId: number): void {
    if (!this.dirty.has(jobId)) this.dirty.set(jobId, this.clock());
  }

  private flush(all = false): void {
    const interval = this.parts.eventIntervalMs ?? 100;
    const t = this.clock();
    for (const id of [...this.dirty.keys()]) {
      const last = this.lastSent.get(id) ?? 0;
      const j = this.store.jobs.get(id);
      const terminal = j ? isTerminal(j.status) : true;
      if (!all && !terminal && t - last < interval) continue;
      this.dirty.delete(id);
      this.lastSent.set(id, t);
      if (!j) continue;
      const v = this.view(j);
      for (const l of this.jobListeners) l(v);
      if (terminal) this.progress.forget(id);
    }
  }

  // ---- views --------------------------------------------------------------------------

  private mustView(id: number): JobView {
    const v = this.job(id);
    if (!v) throw new Error(`job ${id} does not exist`);
    return v;
  }

  /** What keeps an open job from progressing through no choice of the user, in words. */
  private waitingFor(j: JobRow): string | null {
    if (isTerminal(j.status)) return null;
    if (j.paused && j.pauseReason !== 'user') return j.pauseDetail ?? 'a folder to take writes';
    const full = this.scheduler?.storeFull;
    return full && !j.paused ? full : null;
  }

  private view(j: JobRow): JobView {
    const c = this.store.collections.get(j.collectionId);
    const stages = this.store.jobs.stages(j.id);
    const out = {} as Record<StageName, StageView>;
    for (const s of STAGES) {
      const st = stages[s];
      const live = this.progress.observe(j.id, s, st);
      out[s] = { ...st, ...live };
    }
    return {
      id: j.id,
      kind: j.kind,
      collectionId: j.collectionId,
      collectionName: c?.name ?? '',
      collectionKind: c?.kind ?? 'folder',
      root: c?.root ?? '',
      status: j.status,
      scanFinished: j.scanFinished,
      paused: j.paused,
      pauseReason: j.pauseReason,
      waitingFor: this.waitingFor(j),
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
      finishedAt: j.finishedAt,
      error: j.error,
      stages: out,
    };
  }
}

/**
 * What a rendition of an image is named by besides its id: its version, and
 * what its file is (collection root, entry, size, mtime, fingerprint), since
 * ids are given out again in a new or restored library while the renditions
 * folder stays.
 */
function renditionKey(c: { root: string }, image: ImageRow): string {
  const source = createHash('sha256')
    .update(JSON.stringify([c.root, image.entryPath, image.size, image.mtimeMs, image.fingerprint]))
    .digest('hex')
    .slice(0, 16);
  return `v${image.version}-${source}`;
}

/** The shape of what renditionKey gives. */
const RENDITION_KEY = /^v[0-9]{1,15}-[0-9a-f]{16}$/;

/** Why an image has no rendition now, whatever it is. */
const NO_RENDITION_NOW =
  'its own pixels cannot be shown now: the image has not been decoded yet, its decoder refused it, or the render pool is stopped or busy retrying a suspect file';

/** JPEG quality of deep-zoom tiles: looked at closely, at 1:1. */
const TILE_QUALITY = 88;

/** How often a collection whose watcher failed is rescanned instead. */
const WATCH_FALLBACK_MS = 5 * 60_000;

/**
 * Most pixels of a full-size rendition: past it (a 100-megapixel panorama)
 * the viewer gets one this large, which its browser still decodes quickly.
 */
export const FULL_SIZE_MAX_PIXELS = 64_000_000;
/** What the renditions folder may hold before the least recently shown go. */
const RENDITIONS_MAX_BYTES = 2 * 1024 ** 3;

function availableCores(): number {
  // os.availableParallelism honours CPU affinity and container limits.
  return Math.max(1, Number(process.env.ALBUMEN_CORES) || os.availableParallelism());
}
