import { lstat, opendir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CollectionSource } from '../library/collection-source.ts';
import type { WalkEntry } from '../library/walk.ts';
import type { Logger } from '../util/logger.ts';
import { outputAbsPath, outputRelPath } from '../util/output-layout.ts';
import {
  isErrorCode,
  type Failure,
  type StageName,
  type Variant,
} from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { settingsHash, type CoreSettings, type InputLimits } from '../../src-shared/settings.ts';
import type { RenderInput, RenderRequest, RenderResult } from '../../src-shared/render-task.ts';
import { StoreFullError, type Store } from '../store/store.ts';
import type {
  CollectionRow,
  ImageRow,
  JobRow,
  MountPoint,
  OutputRecord,
  RenderUnit,
  ScannedEntry,
  ScanWork,
  Unreferenced,
} from '../store/rows.ts';
import {
  isUnchanged,
  type JobTransitions,
  type RenderOutcome,
  type ScanOutcome,
} from './job-transitions.ts';

/** What a render pool gives back: a worker's result, or why the task never finished. */
export type PoolOutcomeLike =
  | RenderResult
  | {
      ok: false;
      code: Failure['code'];
      message: string;
      crashed?: boolean;
      interrupted?: boolean;
    };

/** The render pool as the scheduler uses it. */
export interface RenderPoolPort {
  readonly threads: number;
  run(request: RenderRequest): Promise<PoolOutcomeLike>;
}

/** Reading and scanning collections, as the scheduler uses them. */
export interface LibraryPort {
  walk(
    source: CollectionSource,
    opts: {
      batchSize: number;
      limits: InputLimits;
      signal: AbortSignal;
      /** Folders never walked (Albumen's data and cache folders). */
      excluded?: readonly string[];
      /** Told of each drive mounted inside the root (see WalkOptions.onMount). */
      onMount?: (entryPath: string, dev: number) => void;
    },
  ): AsyncIterable<WalkEntry[]>;
  probe(source: CollectionSource, entryPath: string, limits: InputLimits): Promise<ScanOutcome>;
  toRenderInput(source: CollectionSource, entryPath: string): Promise<RenderInput>;
  /** Identifies an entry's content for finding moved files (see SourceReader.fingerprint). */
  fingerprint(source: CollectionSource, entryPath: string): Promise<string>;
  /** Hashes all of an entry's bytes (see SourceReader.contentHash): ties only. */
  contentHash(source: CollectionSource, entryPath: string): Promise<string>;
}

/** What the scheduler tells the rest of the core as work moves. */
export interface SchedulerEvents {
  jobChanged(jobId: number): void;
  itemStarted(jobId: number, stage: StageName, entryPath: string): void;
  outputReady(o: { jobId: number; collectionId: number; imageId: number; variant: Variant }): void;
  /** A transition queued files for deletion (see FileDeletionsRepo). */
  filesQueued?(): void;
}

/** Whether a folder takes writes now, and if not why (see CacheService.room). */
export type RoomVerdict =
  { ok: true } | { ok: false; reason: 'DISK_FULL' | 'READ_ONLY'; detail: string };

/** Whether a cache folder may take new files (writable, its limit, its and the data disk's space). */
export interface SpacePort {
  room(folderId: number): Promise<RoomVerdict>;
  /** After a failed write: asks the folder with a real write whether it is at fault. */
  probeFolder(folderId: number): Promise<RoomVerdict>;
  /** A write there failed for lack of space: no room until the disk has more free. */
  noteFull(folderId: number): Promise<void>;
  /** False while the folder is unreachable (an unplugged drive). */
  online(path: string): boolean;
}

export interface SchedulerDeps {
  /** Reads of the store; every change goes through `jobs`. */
  store: Store;
  jobs: JobTransitions;
  space?: SpacePort;
  pool: RenderPoolPort;
  library: LibraryPort;
  settings: () => CoreSettings;
  events: SchedulerEvents;
  log: Logger;
  /** How often to look for work written by another process (a CLI command). */
  pollMs?: number;
  /** Albumen's own folders (data, caches): no scan walks into them. */
  excludedRoots?: () => string[];
}

/** Entries recorded per scan transaction. */
const SCAN_BATCH = 256;
/** Scan items probed per transaction, and how many header reads run at once. */
const PROBE_BATCH = 32;
const PROBE_CONCURRENCY = 4;
/** Jobs scanned at the same time. */
const MAX_SCANS = 2;
/** Render units looked at per pick (skips are settled in bulk, claims up to capacity). */
const PICK_SIZE = 64;
/** Failures of a render that may be its cache folder's fault rather than the image's. */
const WRITE_FAULTS: ReadonlySet<string> = new Set([
  'DISK_FULL',
  'IO_ERROR',
  'PERMISSION_DENIED',
  // mkdir of an output folder on a read-only volume may say ENOENT.
  'NOT_FOUND',
]);

/** The settings hash of each variant under the current settings. */
export function currentHashes(s: CoreSettings): Record<Variant, string> {
  return {
    thumbnail: settingsHash('thumbnail', s.render.thumbnail),
    cache: settingsHash('cache', s.render.cache),
  };
}

/** Failures the decoder itself decides (from libvips' message): confirmed alone. */
const DECODER_VERDICTS: ReadonlySet<string> = new Set([
  'CORRUPT',
  'TRUNCATED',
  'UNSUPPORTED',
  'TOO_MANY_PIXELS',
]);

/** The thrown error's code when it is one of ours (e.g. a LibraryError), else null. */
export function failureOf(err: unknown): Failure | null {
  if (!(err instanceof Error)) return null;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return isErrorCode(code) ? { code, message: err.message } : null;
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * Feeds the pool from the store. The store is the queue: the scheduler claims
 * only what free slots can take (so the pool's own queue stays short), settles
 * already-made outputs as skipped without decoding, scans collections, and
 * records every result through one JobStore transaction.
 */
export class Scheduler {
  private readonly d: SchedulerDeps;
  private running = false;
  private pumping: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private abort = new AbortController();
  /** Render units in flight, by image id. */
  private readonly inFlight = new Map<number, Promise<void>>();
  /** True while an image suspected of crashing the decoder runs alone. */
  private solo = false;

  /**
   * True while a suspect image is retried alone, so that a crash is its own:
   * nothing else may use the pool meanwhile (the viewer is refused full-size renders).
   */
  get runningAlone(): boolean {
    return this.solo;
  }
  private readonly scans = new Map<number, Promise<void>>();
  /** Items of the units in flight, by image id (kept when the store cannot record them). */
  private readonly inFlightItems = new Map<number, number[]>();
  /** Set while the database's disk is full: nothing is handed out until space returns. */
  private full: string | null = null;

  constructor(deps: SchedulerDeps) {
    this.d = deps;
  }

  get active(): boolean {
    return this.inFlight.size > 0 || this.scans.size > 0;
  }

  /** Why nothing can be recorded now (the database's disk is full), or null. */
  get storeFull(): string | null {
    return this.full;
  }

  /** Notes a full database: work stops being handed out; true when `err` was one. */
  private noteStoreFull(err: unknown): boolean {
    if (!(err instanceof StoreFullError)) return false;
    if (!this.full) this.d.log.log('warn', `${err.message}; waiting for space`);
    this.full = err.message;
    return true;
  }

  /**
   * Space is back: items this process could not record while the database was
   * full (left running, with no render in flight) go back to pending without
   * blame, and work resumes. False when not done (scans still settling, or the
   * store still full).
   */
  recoverFromStoreFull(): boolean {
    if (!this.full || this.scans.size > 0) return false;
    const keep = new Set([...this.inFlightItems.values()].flat());
    try {
      this.d.jobs.requeueStranded(keep);
    } catch (err) {
      if (this.noteStoreFull(err)) return false;
      throw err;
    }
    this.d.log.log('info', 'the database can grow again; work resumes');
    this.full = null;
    this.wake();
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.timer = setInterval(() => this.wake(), this.d.pollMs ?? 1000);
    this.wake();
  }

  /** Stops handing out work and scanning. In-flight renders end when the pool stops. */
  halt(): void {
    this.running = false;
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves once every in-flight render and scan has recorded its end. */
  async settled(): Promise<void> {
    while (this.pumping || this.inFlight.size || this.scans.size) {
      await Promise.allSettled([
        this.pumping ?? Promise.resolve(),
        ...this.inFlight.values(),
        ...this.scans.values(),
      ]);
    }
  }

  /** Asks for a look at the store: new jobs, freed slots, resumed jobs. */
  wake(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => {
        if (!this.noteStoreFull(err)) this.d.log.log('error', `scheduler: ${describe(err)}`);
      })
      .finally(() => {
        this.pumping = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      if (this.full) return;
      const jobs = this.d.store.jobs.runnable();
      for (const job of jobs) {
        if (!this.running) return;
        if (!job.started) {
          this.d.jobs.markStarted(job.id);
          this.d.events.jobChanged(job.id);
        }
        if (
          !this.scans.has(job.id) &&
          this.scans.size < MAX_SCANS &&
          (!job.scanFinished || this.d.store.items.hasPendingScan(job.id))
        ) {
          this.startScan(job);
        }
      }
      await this.fillPool();
    } while (this.again && this.running);
  }

  // ---- rendering ----------------------------------------------------------------------

  private async fillPool(): Promise<void> {
    const capacity = Math.max(1, this.d.pool.threads * 2);
    while (this.running && !this.solo && !this.full && this.inFlight.size < capacity) {
      // Read again each pass: a job paused (by the user, or for a full folder) or
      // cancelled meanwhile must not be picked again.
      const jobs = this.d.store.jobs.runnable();
      const free = capacity - this.inFlight.size;
      const exclude = new Set(this.inFlight.keys());
      let found = false;
      for (const job of jobs) {
        const units = this.d.jobs.pendingRenderUnits(job.id, PICK_SIZE, exclude);
        if (!units.length) continue;
        found = true;
        const suspects = units.filter((u) => u.crashes > 0 || u.solo);
        if (suspects.length) {
          // A suspect runs alone, so a second crash proves it guilty and spares the others.
          if (this.inFlight.size > 0) return;
          await this.claimAndDispatch(job.id, [suspects[0]!], 1, true);
          return;
        }
        await this.claimAndDispatch(job.id, units, free, false);
        break;
      }
      if (!found) return;
    }
  }

  private async claimAndDispatch(
    jobId: number,
    units: RenderUnit[],
    free: number,
    solo: boolean,
  ): Promise<void> {
    const s = this.d.settings();
    /** Item → the output that makes it a skip (checked again when claiming). */
    const skip = new Map<number, number>();
    for (const u of units) {
      for (const it of u.items) {
        const hash = settingsHash(it.variant, s.render[it.variant]);
        const out = this.d.store.outputs.byKey(u.imageId, it.variant, hash);
        // None, or made from an older version of the file: it is (re)made.
        if (!out || out.sourceVersion !== u.version) continue;
        const folder = this.d.store.cacheFolders.get(out.cacheFolderId);
        if (folder && this.d.space && !this.d.space.online(folder.path)) {
          // Offline is not missing: the output is there, on a drive that is away.
          skip.set(it.id, out.id);
        } else if (
          folder &&
          (await fileHasSize(outputAbsPath(folder.path, out.relPath), out.bytes))
        ) {
          skip.set(it.id, out.id);
        } else {
          this.d.log.log(
            'warn',
            `output ${out.relPath} of ${u.entryPath} is missing on disk; making it again`,
          );
          this.d.jobs.dropAndRequeue(out.id);
        }
      }
    }
    if (!this.running) return;
    const stillSkippable = (itemId: number) =>
      this.d.store.outputs.get(skip.get(itemId) ?? 0) !== undefined;
    const mustWrite = units.some((u) => u.items.some((it) => !skip.has(it.id)));
    const collection = units[0] && this.d.store.collections.get(units[0].collectionId);
    const room =
      mustWrite && collection && this.d.space
        ? await this.d.space.room(collection.cacheFolderId)
        : ({ ok: true } as const);
    if (!room.ok) {
      // Writing would fail or overfill the folder: skips still count, the job waits
      // for the folder, and no item fails.
      this.d.jobs.skipAndClaim(jobId, units, new Set(skip.keys()), 0, stillSkippable);
      if (this.d.jobs.pause(jobId, room.reason, room.detail)) {
        this.d.log.log('warn', `job ${jobId} waits: ${room.detail}`);
      }
      this.d.events.jobChanged(jobId);
      return;
    }
    // Between the checks above and this transaction a reconcile may have dropped an
    // output: the skip is confirmed inside the transaction, else the item is claimed.
    const claimed = this.d.jobs.skipAndClaim(
      jobId,
      units,
      new Set(skip.keys()),
      free,
      stillSkippable,
    );
    this.d.events.jobChanged(jobId);
    for (const u of claimed) this.dispatch(u, s, solo);
  }

  private dispatch(unit: RenderUnit, s: CoreSettings, solo: boolean): void {
    if (solo) this.solo = true;
    this.inFlightItems.set(
      unit.imageId,
      unit.items.map((i) => i.id),
    );
    const task = this.render(unit, s, solo)
      .catch((err: unknown) =>
        this.d.log.log('error', `render ${unit.entryPath}: ${describe(err)}`),
      )
      .finally(() => {
        this.inFlight.delete(unit.imageId);
        this.inFlightItems.delete(unit.imageId);
        if (solo) this.solo = false;
        this.wake();
      });
    this.inFlight.set(unit.imageId, task);
  }

  private async render(unit: RenderUnit, s: CoreSettings, solo: boolean): Promise<void> {
    const { store, jobs } = this.d;
    const collection = store.collections.get(unit.collectionId);
    const folder = collection && store.cacheFolders.get(collection.cacheFolderId);
    if (!collection || !folder) throw new Error(`collection ${unit.collectionId} is gone`);
    const specs = unit.items.map((it) => {
      const settings = s.render[it.variant];
      const hash = settingsHash(it.variant, settings);
      const relPath = outputRelPath(
        unit.collectionId,
        unit.imageId,
        it.variant,
        hash,
        settings.format,
      );
      this.d.events.itemStarted(unit.jobId, it.variant, unit.entryPath);
      return {
        variant: it.variant,
        settings,
        hash,
        relPath,
        finalPath: outputAbsPath(folder.path, relPath),
      };
    });
    let outcome: RenderOutcome;
    try {
      const input = await this.d.library.toRenderInput(
        { kind: collection.kind, root: collection.root },
        unit.entryPath,
      );
      const result = await this.d.pool.run({
        label: unit.entryPath,
        input,
        outputs: specs.map((x) => ({
          variant: x.variant,
          finalPath: x.finalPath,
          settings: x.settings,
        })),
        maxPixels: s.limits.maxPixels,
        timeoutSeconds: s.limits.timeoutSeconds,
      });
      outcome = toOutcome(result, (variant) => specs.find((x) => x.variant === variant), folder.id);
    } catch (err) {
      const failure = failureOf(err);
      if (!failure) this.d.log.log('error', `render ${unit.entryPath}: ${describe(err)}`);
      outcome = {
        kind: 'failed',
        failure: failure ?? { code: 'INTERNAL', message: `unexpected error: ${String(err)}` },
      };
    }
    if (
      outcome.kind === 'failed' &&
      SOURCE_GONE.has(outcome.failure.code) &&
      (await this.wentOffline(collection))
    ) {
      // Its drive went away mid-render: not the image's fault; it waits with its job.
      outcome = { kind: 'interrupted' };
    }
    if (outcome.kind === 'failed' && this.d.space && WRITE_FAULTS.has(outcome.failure.code)) {
      // A full or read-only folder is not the image's fault: ask the folder itself
      // with a real write; if it is at fault the job waits and no item fails.
      if (outcome.failure.code === 'DISK_FULL') await this.d.space.noteFull(folder.id);
      const verdict = await this.d.space.probeFolder(folder.id);
      const blame: RoomVerdict =
        !verdict.ok || outcome.failure.code !== 'DISK_FULL'
          ? verdict
          : {
              ok: false,
              reason: 'DISK_FULL',
              detail: `the disk of the cache folder ${folder.path} is full`,
            };
      if (!blame.ok) {
        try {
          if (jobs.pause(unit.jobId, blame.reason, blame.detail)) {
            this.d.log.log('warn', `job ${unit.jobId} waits: ${blame.detail}`);
          }
        } catch (err) {
          if (!this.noteStoreFull(err)) throw err;
        }
        outcome = { kind: 'interrupted' };
      }
    }
    if (
      outcome.kind === 'failed' &&
      !solo &&
      this.d.pool.threads > 1 &&
      DECODER_VERDICTS.has(outcome.failure.code)
    ) {
      // The decoder's message may be another image's (one libvips error buffer per
      // process): the verdict is taken again with this image alone.
      outcome = { kind: 'confirm' };
    }
    if (outcome.kind === 'crashed') {
      this.d.log.log(
        'warn',
        `decoder crashed with ${unit.entryPath} in flight: ${outcome.message}`,
      );
    }
    let unreferenced: Unreferenced[];
    try {
      unreferenced = jobs.completeRender(unit, outcome);
    } catch (err) {
      // The items stay running; recoverFromStoreFull gives them back once space returns.
      if (this.noteStoreFull(err)) return;
      // Never leave the items running in a live process: hand them back for a retry.
      this.d.log.log('error', `recording ${unit.entryPath} failed: ${describe(err)}`);
      jobs.completeRender(unit, { kind: 'interrupted' });
      throw err;
    }
    this.d.events.jobChanged(unit.jobId);
    if (outcome.kind === 'done') {
      for (const o of outcome.outputs) {
        this.d.events.outputReady({
          jobId: unit.jobId,
          collectionId: unit.collectionId,
          imageId: unit.imageId,
          variant: o.variant,
        });
      }
    }
    if (unreferenced.length) this.d.events.filesQueued?.();
  }

  // ---- scanning -----------------------------------------------------------------------

  private startScan(job: JobRow): void {
    const task = this.scan(job)
      .catch((err: unknown) => {
        // A full database stops the scan without failing the job; it goes on later.
        if (this.noteStoreFull(err)) return;
        this.d.log.log('error', `scan of job ${job.id}: ${describe(err)}`);
        if (this.running) this.d.jobs.failJob(job.id, { code: 'INTERNAL', message: String(err) });
      })
      .finally(() => {
        this.scans.delete(job.id);
        this.d.events.jobChanged(job.id);
        this.wake();
      });
    this.scans.set(job.id, task);
  }

  private stillWanted(jobId: number): boolean {
    const j = this.d.store.jobs.get(jobId);
    return this.running && !this.full && !!j && !j.paused && !isTerminal(j.status);
  }

  private async scan(job: JobRow): Promise<void> {
    const { store, jobs } = this.d;
    const collection = store.collections.get(job.collectionId);
    if (!collection) throw new Error(`collection ${job.collectionId} is gone`);
    const source: CollectionSource = { kind: collection.kind, root: collection.root };
    const limits = this.d.settings().limits;
    if (await this.wentOffline(collection)) return;
    if (!job.scanFinished) {
      const current = currentHashes(this.d.settings());
      // Every image this walk found (or moved here): the rest of the collection is gone.
      let seen = new Set<number>();
      // The drives mounted inside the root, found by this walk or kept (unmounted).
      let mounts: MountPoint[] = [];
      // When the last pass began: what it did not see is gone since then.
      let startedAt = store.now();
      // A walk that leaves images unseen is made once more before any of them
      // counts as gone: a folder moved behind the walk (to a place it had
      // passed) is found where it went, with its previews.
      for (let pass = 1; pass <= 2; pass++) {
        seen = new Set<number>();
        startedAt = store.now();
        const found = new Map<string, number>();
        try {
          const walk = this.d.library.walk(source, {
            batchSize: SCAN_BATCH,
            limits,
            signal: this.abort.signal,
            // Read at each scan: a cache folder added meanwhile is excluded too.
            excluded: this.d.excludedRoots?.() ?? [],
            onMount: (path, dev) => found.set(path, dev),
          });
          // An archive is listed whole before its first entry comes anyway: taken whole
          // here, its listing tells an entry renamed inside it from a copy (see identify).
          const listing = source.kind === 'archive' ? await collect(walk) : null;
          const listed = listing && new Set(listing.flatMap((b) => b.map((e) => e.entryPath)));
          for await (const batch of listing ?? walk) {
            if (!this.running) return;
            const entries = await this.identify(collection, source, batch, seen, listed);
            if (!this.running) return;
            for (const id of jobs.recordScanBatch(job.id, collection.id, entries, current)) {
              seen.add(id);
            }
            this.d.events.jobChanged(job.id);
            this.wake();
            await this.probePending(job.id, source, limits);
            if (!this.stillWanted(job.id)) return;
          }
        } catch (err) {
          const failure = failureOf(err);
          if (!failure || !this.running || err instanceof StoreFullError) throw err;
          // A root that went away under the walk is offline, not a failed job.
          if (await this.wentOffline(collection)) return;
          this.d.log.log('warn', `job ${job.id}: ${collection.root}: ${failure.message}`);
          jobs.failJob(job.id, failure);
          return;
        }
        mounts = await this.keepUnmounted(collection, found, seen);
        if (store.images.idsOf(collection.id).every((id) => seen.has(id))) break;
      }
      await this.probePending(job.id, source, limits);
      if (!this.stillWanted(job.id)) return;
      // The root may have gone away under the walk (an unplugged drive: the walk
      // then finds nothing): offline, and nothing of it is declared gone.
      if (await this.wentOffline(collection)) return;
      const rootDev =
        source.kind === 'folder'
          ? ((await stat(collection.root).catch(() => null))?.dev ?? null)
          : null;
      jobs.finishScan(job.id, seen, job.walkRequests, { rootDev, mounts, startedAt });
      this.d.events.filesQueued?.();
    } else {
      await this.probePending(job.id, source, limits);
    }
  }

  /**
   * The drives mounted inside a folder collection (`found` by this walk), and
   * those recorded by the last walk that are not mounted now: their folder is
   * missing or on its parent's device (an unplugged drive's mount point). The
   * images below those are offline, not gone: they are added to `seen`.
   */
  private async keepUnmounted(
    collection: CollectionRow,
    found: ReadonlyMap<string, number>,
    seen: Set<number>,
  ): Promise<MountPoint[]> {
    const mounts = [...found].map(([path, dev]) => ({ path, dev }));
    for (const m of collection.mounts) {
      if (found.has(m.path)) continue;
      const dir = join(collection.root, ...m.path.split('/'));
      const [st, parent] = await Promise.all([
        stat(dir).catch(() => null),
        stat(dirname(dir)).catch(() => null),
      ]);
      if (st && !st.isDirectory()) continue; // a file now: not a mount point any more
      if (st && parent && st.dev !== parent.dev) continue; // another drive there, walked
      const held = this.d.store.images.idsUnder(collection.id, m.path);
      for (const id of held) seen.add(id);
      mounts.push(m);
      if (held.length) {
        this.d.log.log(
          'warn',
          `collection ${collection.id}: ${dir} is not mounted; its ${held.length} images are kept`,
        );
      }
    }
    return mounts;
  }

  /**
   * Reads what the store needs to classify a batch without a transaction open:
   * a fingerprint for each new or changed file (unchanged ones are not read;
   * an archive entry's comes with the walk), and for a new path, the image
   * whose content it has and whose own file is gone (a move or a rename, maybe
   * from another collection). `listed` holds every entry path of the archive
   * being walked (null for a folder).
   */
  private async identify(
    collection: CollectionRow,
    source: CollectionSource,
    batch: readonly WalkEntry[],
    seen: ReadonlySet<number>,
    listed: ReadonlySet<string> | null,
  ): Promise<ScannedEntry[]> {
    const claimed = new Set<number>();
    const out: ScannedEntry[] = [];
    const found = this.d.store.images.filesByPaths(
      collection.id,
      batch.filter((e) => !e.failure).map((e) => e.entryPath),
    );
    for (const e of batch) {
      if (e.failure) {
        out.push(e);
        continue;
      }
      const known = found.get(e.entryPath);
      if (known && isUnchanged(collection.kind, known, e)) {
        out.push(e);
        continue;
      }
      const fingerprint =
        e.fingerprint ?? (await this.d.library.fingerprint(source, e.entryPath).catch(() => null));
      let movedFrom: number | undefined;
      if (!known && fingerprint) {
        const candidates: ImageRow[] = [];
        for (const c of this.d.store.images.sameContent(e.size, fingerprint)) {
          if (seen.has(c.id) || claimed.has(c.id)) continue;
          // A move or a rename keeps the file's time; a retouched copy of the same
          // size (sampled blocks alike) does not, and must not take its previews.
          // (An archive entry's CRC covers its whole content.)
          if (source.kind === 'folder' && c.mtimeMs !== Math.round(e.mtimeMs)) continue;
          if (c.goneAt !== null || (await this.sourceGone(c, collection, listed))) {
            candidates.push(c);
          }
        }
        const from = await this.breakTie(source, e.entryPath, candidates);
        if (from) {
          movedFrom = from.id;
          claimed.add(from.id);
        }
      }
      out.push({ ...e, fingerprint, ...(movedFrom === undefined ? {} : { movedFrom }) });
    }
    return out;
  }

  /**
   * Which of the gone images a new file is, when several have its fingerprint
   * (and time): the one whose whole content hashes alike (see CONTENT_HASH),
   * else one never hashed; none when every one hashed differently. One
   * candidate is taken as it is: the whole file is read only to break a tie.
   */
  private async breakTie(
    source: CollectionSource,
    entryPath: string,
    candidates: readonly ImageRow[],
  ): Promise<ImageRow | undefined> {
    if (candidates.length <= 1) return candidates[0];
    const hash = await this.d.library.contentHash(source, entryPath).catch(() => null);
    if (hash === null) return candidates[0];
    return (
      candidates.find((c) => c.contentHash === hash) ??
      candidates.find((c) => c.contentHash === null)
    );
  }

  /**
   * True when an image's file is no longer where the library has it (its root
   * still is). For an entry of the archive being walked, decided from the
   * listing this walk read (`listed`): an entry whose name is still in it is
   * copied, not moved. An entry of another archive is taken to be there.
   */
  private async sourceGone(
    image: ImageRow,
    walking: CollectionRow,
    listed: ReadonlySet<string> | null,
  ): Promise<boolean> {
    if (image.collectionId === walking.id && listed) return !listed.has(image.entryPath);
    const c = this.d.store.collections.get(image.collectionId);
    if (!c || c.kind !== 'folder') return false;
    const rootThere = await stat(c.root).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!rootThere) return false; // offline is not gone
    return stat(join(c.root, ...image.entryPath.split('/'))).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR',
    );
  }

  private async probePending(
    jobId: number,
    source: CollectionSource,
    limits: InputLimits,
  ): Promise<void> {
    while (this.running && !this.full) {
      const work = this.d.jobs.claimScanItems(jobId, PROBE_BATCH);
      if (!work.length) return;
      const results = await mapLimit(work, PROBE_CONCURRENCY, async (w: ScanWork) => {
        this.d.events.itemStarted(jobId, 'scan', w.entryPath);
        let outcome: ScanOutcome;
        try {
          outcome = await this.d.library.probe(source, w.entryPath, limits);
        } catch (err) {
          outcome = {
            ok: false,
            ...(failureOf(err) ?? {
              code: 'INTERNAL',
              message: `unexpected error: ${String(err)}`,
            }),
          };
        }
        return { work: w, outcome };
      });
      if (results.some((r) => !r.outcome.ok && SOURCE_GONE.has(r.outcome.code))) {
        const c = this.d.store.jobs.get(jobId);
        const collection = c && this.d.store.collections.get(c.collectionId);
        if (collection && (await this.wentOffline(collection))) {
          this.d.jobs.releaseScanItems(work);
          return;
        }
      }
      this.d.jobs.completeScanItems(jobId, results);
      this.d.events.jobChanged(jobId);
      this.wake();
    }
  }

  /**
   * Whether a collection's root cannot be reached now: a folder or archive that
   * is not there, or a folder left empty while the library knows images in it
   * (the mount point of an unplugged drive). If so the collection goes offline
   * and its jobs wait; nothing of it is removed. Returns true when offline.
   */
  async wentOffline(collection: CollectionRow): Promise<boolean> {
    const why = await rootUnreachable(collection, (n) =>
      this.d.store.images.samplePaths(collection.id, n),
    );
    if (!why) return false;
    const paused = this.d.jobs.goOffline(collection.id, why);
    if (paused.length) this.d.log.log('warn', `collection ${collection.id}: ${why}; its jobs wait`);
    for (const id of paused) this.d.events.jobChanged(id);
    return true;
  }
}

/** Failures that may mean the collection's root went away rather than the file. */
const SOURCE_GONE: ReadonlySet<string> = new Set(['NOT_FOUND', 'IO_ERROR', 'ARCHIVE_CORRUPT']);

/**
 * Why a collection's root cannot be reached, in words, or null when it can.
 * `known(n)` gives the paths of up to n images the library has of it (with
 * none, any folder is the collection). A root on the device a walk last found
 * it on (`rootDev`) is there: photos missing from it were deleted, and a walk
 * says so. On another device, it is an absent drive's mount point when none
 * of a sample of its known photos is there (whatever else the folder holds: a
 * hidden file, a script's output); before any walk recorded the device, when
 * it is empty.
 */
export async function rootUnreachable(
  c: { kind: 'folder' | 'archive'; root: string; rootDev?: number | null },
  known: (n: number) => string[],
): Promise<string | null> {
  const st = await stat(c.root).catch(() => null);
  if (!st) return `${c.root} is not reachable (an unplugged drive, or moved away)`;
  if (c.kind === 'archive') return st.isFile() ? null : `${c.root} is not an archive any more`;
  if (!st.isDirectory()) return `${c.root} is not a folder any more`;
  // One entry tells: the check runs at each walk's start and end, and the
  // root of a large collection may hold many thousands of names.
  if (c.rootDev !== undefined && c.rootDev !== null && c.rootDev === st.dev) return null;
  const sample = known(KNOWN_SAMPLE);
  if (!sample.length) return null;
  if (c.rootDev === undefined || c.rootDev === null) {
    return (await hasNoEntry(c.root)) ? `${c.root} is empty (a drive that is not mounted?)` : null;
  }
  const there = await Promise.all(
    sample.map((p) =>
      lstat(join(c.root, ...p.split('/'))).then(
        () => true,
        () => false,
      ),
    ),
  );
  return there.some(Boolean)
    ? null
    : `${c.root} is on another drive than at the last scan and none of its photos are there (a drive that is not mounted?)`;
}

/** How many of a collection's photos are looked for to tell its drive is there. */
const KNOWN_SAMPLE = 16;

/** True for a folder with no entry, or one that cannot be listed. */
async function hasNoEntry(dir: string): Promise<boolean> {
  const d = await opendir(dir).catch(() => null);
  if (!d) return true;
  try {
    return (await d.read()) === null;
  } catch {
    return true;
  } finally {
    await d.close().catch(() => {});
  }
}

function toOutcome(
  result: PoolOutcomeLike,
  spec: (v: Variant) => { hash: string; relPath: string } | undefined,
  cacheFolderId: number,
): RenderOutcome {
  if (result.ok) {
    const outputs: OutputRecord[] = [];
    for (const o of result.outputs) {
      const sp = spec(o.variant);
      if (!sp) continue;
      outputs.push({
        variant: o.variant,
        settingsHash: sp.hash,
        cacheFolderId,
        relPath: sp.relPath,
        bytes: o.bytes,
        width: o.width,
        height: o.height,
      });
    }
    const { format, width, height, orientation, contentHash, meta } = result.source;
    return {
      kind: 'done',
      source: { format, width, height, orientation },
      meta,
      outputs,
      contentHash,
    };
  }
  if ('crashed' in result && result.crashed) {
    const code = result.code === 'TIMEOUT' ? 'TIMEOUT' : 'DECODER_CRASH';
    return { kind: 'crashed', code, message: result.message };
  }
  if ('interrupted' in result && result.interrupted) return { kind: 'interrupted' };
  return { kind: 'failed', failure: { code: result.code, message: result.message } };
}

async function fileHasSize(path: string, bytes: number): Promise<boolean> {
  try {
    const st = await stat(path);
    return st.isFile() && st.size === bytes;
  } catch {
    return false;
  }
}

/** Every batch of a walk, in order. */
async function collect<T>(batches: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const b of batches) all.push(b);
  return all;
}

/** Maps with at most `limit` calls in flight, keeping the input order. */
export async function mapLimit<T, R>(
  list: readonly T[],
  limit: number,
  fn: (x: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(list.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, list.length) }, async () => {
    while (next < list.length) {
      const i = next++;
      out[i] = await fn(list[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}
