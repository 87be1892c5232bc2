import type { Db } from '../store/database.ts';
import {
  EMPTY_COUNTERS,
  STAGES,
  VARIANTS,
  isErrorCode,
  type CollectionKind,
  type ErrorCode,
  type Failure,
  type FailedItemView,
  type ItemState,
  type JobStatus,
  type StageCounters,
  type StageName,
  type Variant,
} from '../../src-shared/domain.ts';
import { deriveJobStatus, deriveStatus } from '../../src-shared/status.ts';
import { naturalSortKey } from '../../src-shared/natural-sort.ts';
import { noCrash, type CrashHook } from '../../src-shared/crash-points.ts';

export interface CollectionRow {
  id: number;
  kind: CollectionKind;
  root: string;
  name: string;
  cacheFolderId: number;
  createdAt: number;
}

export interface CacheFolderRow {
  id: number;
  path: string;
  enabled: boolean;
  limitBytes: number | null;
  bytes: number;
  files: number;
  lastGeneratedAt: number | null;
  lastCleanupAt: number | null;
}

export interface JobRow {
  id: number;
  collectionId: number;
  status: JobStatus;
  started: boolean;
  scanFinished: boolean;
  paused: boolean;
  /** Why the job is paused: by the user, or because its cache folder is full. */
  pauseReason: PauseReason | null;
  cancelled: boolean;
  error: Failure | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** A file found by the scan, as the store records it. */
export interface ScannedEntry {
  entryPath: string;
  size: number;
  mtimeMs: number;
  failure: Failure | null;
}

/** A scan item claimed for probing. */
export interface ScanWork {
  itemId: number;
  imageId: number;
  entryPath: string;
}

/** What probing an image found: its header metadata, or why it is not usable. */
export type ScanOutcome =
  | { ok: true; format: string; width: number; height: number; orientation: number }
  | ({ ok: false } & Failure);

/** The render items of one image in one job: decoded once, written per variant. */
export interface RenderUnit {
  jobId: number;
  imageId: number;
  collectionId: number;
  entryPath: string;
  /** How many times a decoder crash happened while this image was in flight. */
  crashes: number;
  items: { id: number; variant: Variant }[];
}

/** An output file as recorded after its rename. */
export interface OutputRecord {
  variant: Variant;
  settingsHash: string;
  cacheFolderId: number;
  relPath: string;
  bytes: number;
  width: number;
  height: number;
}

export interface OutputRow extends OutputRecord {
  id: number;
  imageId: number;
}

/** How a render unit ended, as the scheduler reports it. */
export type RenderOutcome =
  | {
      kind: 'done';
      source: { format: string; width: number; height: number; orientation: number };
      outputs: OutputRecord[];
    }
  | { kind: 'failed'; failure: Failure }
  /** The decoder process died with this unit in flight. */
  | { kind: 'crashed'; message: string }
  /** Stopped through no fault of the image (shutdown, a restart for another image). */
  | { kind: 'interrupted' };

/** Files that a transaction made unreferenced; deleted after it commits. */
export interface Unreferenced {
  cacheFolderId: number;
  relPath: string;
}

/** An item that was running when the previous process died. */
export interface InterruptedItem {
  itemId: number;
  jobId: number;
  stage: StageName;
  imageId: number;
  collectionId: number;
}

/** A stage whose counters disagreed with its item rows. */
export interface CounterDrift {
  jobId: number;
  stage: StageName;
  stored: StageCounters;
  actual: StageCounters;
}

/** An image of a collection; format and size are null until its header was read. */
export interface ImageRow {
  id: number;
  collectionId: number;
  entryPath: string;
  size: number;
  format: string | null;
  width: number | null;
  height: number | null;
  orientation: number | null;
}

interface ImageDbRow {
  id: number;
  collection_id: number;
  entry_path: string;
  size: number;
  format: string | null;
  width: number | null;
  height: number | null;
  orientation: number | null;
}

function toImage(r: ImageDbRow): ImageRow {
  return {
    id: r.id,
    collectionId: r.collection_id,
    entryPath: r.entry_path,
    size: r.size,
    format: r.format,
    width: r.width,
    height: r.height,
    orientation: r.orientation,
  };
}

/** After this many decoder crashes with an image in flight, the image is failed. */
export const MAX_DECODER_CRASHES = 2;

export type PauseReason = 'user' | 'DISK_FULL';

interface JobDbRow {
  id: number;
  collection_id: number;
  status: JobStatus;
  started: number;
  scan_finished: number;
  paused: number;
  pause_reason: string | null;
  cancelled: number;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

type StageDbRow = StageCounters & { stage: StageName; status: JobStatus };

function toJob(r: JobDbRow): JobRow {
  return {
    id: r.id,
    collectionId: r.collection_id,
    status: r.status,
    started: r.started === 1,
    scanFinished: r.scan_finished === 1,
    paused: r.paused === 1,
    pauseReason: r.paused === 1 ? (r.pause_reason === 'DISK_FULL' ? 'DISK_FULL' : 'user') : null,
    cancelled: r.cancelled === 1,
    error:
      r.error_code !== null
        ? {
            code: isErrorCode(r.error_code) ? r.error_code : 'INTERNAL',
            message: r.error_message ?? '',
          }
        : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

function counters(r: StageCounters): StageCounters {
  return {
    total: r.total,
    pending: r.pending,
    running: r.running,
    done: r.done,
    skipped: r.skipped,
    failed: r.failed,
  };
}

function sameCounters(a: StageCounters, b: StageCounters): boolean {
  return (
    a.total === b.total &&
    a.pending === b.pending &&
    a.running === b.running &&
    a.done === b.done &&
    a.skipped === b.skipped &&
    a.failed === b.failed
  );
}

/**
 * The durable job store. Every public method that changes state is one
 * `BEGIN IMMEDIATE` transaction that ends by re-deriving the statuses of the
 * jobs it touched, so an item's transition, its stage counters (kept by
 * triggers) and the stage and job statuses always commit together.
 */
export class JobStore {
  private readonly db: Db;
  private readonly now: () => number;
  private readonly crash: CrashHook;
  private readonly st: ReturnType<typeof prepare>;

  constructor(db: Db, opts: { clock?: () => number; crash?: CrashHook } = {}) {
    this.db = db;
    this.now = opts.clock ?? Date.now;
    this.crash = opts.crash ?? noCrash;
    this.st = prepare(db);
  }

  /** Runs `fn` as one write transaction (BEGIN IMMEDIATE: no lock upgrade deadlocks). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- cache folders and collections -------------------------------------------------

  /** Makes sure the folder is registered and returns it (the default folder on first start). */
  ensureCacheFolder(path: string): CacheFolderRow {
    return this.transaction(() => {
      this.st.insertCacheFolder.run(path, this.now());
      return this.toCacheFolder(this.st.cacheFolderByPath.get(path));
    });
  }

  cacheFolder(id: number): CacheFolderRow | undefined {
    const r = this.st.cacheFolderById.get(id);
    return r ? this.toCacheFolder(r) : undefined;
  }

  listCacheFolders(): CacheFolderRow[] {
    return this.st.cacheFolders.all().map((r) => this.toCacheFolder(r));
  }

  private toCacheFolder(r: unknown): CacheFolderRow {
    const row = r as {
      id: number;
      path: string;
      enabled: number;
      limit_bytes: number | null;
      bytes: number;
      files: number;
      last_generated_at: number | null;
      last_cleanup_at: number | null;
    };
    return {
      id: row.id,
      path: row.path,
      enabled: row.enabled === 1,
      limitBytes: row.limit_bytes,
      bytes: row.bytes,
      files: row.files,
      lastGeneratedAt: row.last_generated_at,
      lastCleanupAt: row.last_cleanup_at,
    };
  }

  /** The collection rooted at `root`, created on first import. */
  upsertCollection(c: {
    kind: CollectionKind;
    root: string;
    name: string;
    cacheFolderId: number;
  }): CollectionRow {
    return this.transaction(() => {
      this.st.insertCollection.run(c.kind, c.root, c.name, c.cacheFolderId, this.now());
      const row = this.collectionByRoot(c.root);
      if (!row) throw new Error('collection vanished inside its own transaction');
      return row;
    });
  }

  collectionByRoot(root: string): CollectionRow | undefined {
    const r = this.st.collectionByRoot.get(root) as CollectionDbRow | undefined;
    return r ? toCollection(r) : undefined;
  }

  collection(id: number): CollectionRow | undefined {
    const r = this.st.collectionById.get(id) as CollectionDbRow | undefined;
    return r ? toCollection(r) : undefined;
  }

  listCollections(): CollectionRow[] {
    return (this.st.collections.all() as CollectionDbRow[]).map(toCollection);
  }

  // ---- jobs ---------------------------------------------------------------------------

  /** Creates a job with its three stages for a collection. */
  createJob(collectionId: number): JobRow {
    return this.transaction(() => {
      const t = this.now();
      const id = Number(this.st.insertJob.run(collectionId, t, t).lastInsertRowid);
      for (const stage of STAGES) this.st.insertStage.run(id, stage);
      this.recompute(id);
      return this.mustJob(id);
    });
  }

  job(id: number): JobRow | undefined {
    const r = this.st.jobById.get(id) as JobDbRow | undefined;
    return r ? toJob(r) : undefined;
  }

  private mustJob(id: number): JobRow {
    const j = this.job(id);
    if (!j) throw new Error(`job ${id} does not exist`);
    return j;
  }

  /** Newest first, paged. */
  listJobs(limit = 100, offset = 0): JobRow[] {
    return (this.st.jobsPage.all(limit, offset) as JobDbRow[]).map(toJob);
  }

  /** The unfinished job of a collection, if any (a re-import joins it instead of racing it). */
  openJobOfCollection(collectionId: number): JobRow | undefined {
    const r = this.st.openJobOfCollection.get(collectionId) as JobDbRow | undefined;
    return r ? toJob(r) : undefined;
  }

  /** Jobs the scheduler may take work from, oldest first. */
  runnableJobs(): JobRow[] {
    return (this.st.runnableJobs.all() as JobDbRow[]).map(toJob);
  }

  /** Jobs that are not terminal (including paused ones). */
  unfinishedJobs(): JobRow[] {
    return (this.st.unfinishedJobs.all() as JobDbRow[]).map(toJob);
  }

  stages(jobId: number): Record<StageName, StageCounters & { status: JobStatus }> {
    const rows = this.st.stagesOf.all(jobId) as StageDbRow[];
    const out = {} as Record<StageName, StageCounters & { status: JobStatus }>;
    for (const r of rows) out[r.stage] = { ...counters(r), status: r.status };
    return out;
  }

  markStarted(jobId: number): void {
    this.transaction(() => {
      this.st.setStarted.run(this.now(), jobId);
      this.recompute(jobId);
    });
  }

  /** The whole job cannot go on (its collection is gone or unreadable). */
  failJob(jobId: number, failure: Failure): void {
    this.transaction(() => {
      this.st.setJobError.run(failure.code, failure.message, this.now(), jobId);
      this.recompute(jobId);
    });
  }

  /** The scan has walked the whole collection: the stages' inputs are complete. */
  finishScan(jobId: number): void {
    this.transaction(() => {
      this.st.setScanFinished.run(this.now(), jobId);
      this.recompute(jobId);
    });
  }

  /**
   * Stops handing out the job's work; running items finish. A user pause
   * overrides a DISK_FULL one (it is not resumed by itself). False when not
   * applicable.
   */
  pause(jobId: number, reason: PauseReason = 'user'): boolean {
    return this.transaction(() => {
      const j = this.job(jobId);
      if (!j || isDone(j)) return false;
      if (j.paused && (j.pauseReason === reason || reason === 'DISK_FULL')) return false;
      this.st.setPaused.run(1, reason, this.now(), jobId);
      this.recompute(jobId);
      return true;
    });
  }

  /** Resumes a paused job; with `onlyIf`, only a job paused for that reason. */
  resume(jobId: number, onlyIf?: PauseReason): boolean {
    return this.transaction(() => {
      const j = this.job(jobId);
      if (!j || !j.paused) return false;
      if (onlyIf && j.pauseReason !== onlyIf) return false;
      this.st.setPaused.run(0, null, this.now(), jobId);
      this.recompute(jobId);
      return true;
    });
  }

  /** Jobs paused because their cache folder was full. */
  jobsPausedForDiskFull(): JobRow[] {
    return (this.st.pausedForDiskFull.all() as JobDbRow[]).map(toJob);
  }

  /** Cancels the job: no more work is handed out; its pending items stay pending. */
  cancel(jobId: number): boolean {
    return this.transaction(() => {
      const j = this.job(jobId);
      if (!j || isDone(j)) return false;
      this.st.setCancelled.run(1, this.now(), jobId);
      this.recompute(jobId);
      return true;
    });
  }

  /**
   * Puts the job's failed items back to pending (forgetting their crashes), and
   * revives a cancelled or failed job. Returns how many items were reset.
   */
  retryFailed(jobId: number): number {
    return this.transaction(() => {
      const j = this.job(jobId);
      if (!j) return 0;
      const n = this.st.retryFailed.run(this.now(), jobId).changes;
      if (j.cancelled || j.error) this.st.revive.run(this.now(), jobId);
      this.recompute(jobId);
      return n;
    });
  }

  // ---- scan ---------------------------------------------------------------------------

  /**
   * Records a batch of scanned entries: their image rows and scan items. An image
   * already known with the same size and modification time keeps its metadata
   * and its scan item is done at once; a changed one loses its outputs (returned
   * so the caller deletes the files after the commit).
   */
  recordScanBatch(jobId: number, collectionId: number, entries: ScannedEntry[]): Unreferenced[] {
    return this.transaction(() => {
      const t = this.now();
      const unreferenced: Unreferenced[] = [];
      entries.forEach((e, i) => {
        if (i === entries.length >> 1) this.crash('mid-scan-batch');
        const known = this.st.imageByPath.get(collectionId, e.entryPath) as
          { id: number; size: number; mtime_ms: number; format: string | null } | undefined;
        let imageId: number;
        let unchanged = false;
        if (!known) {
          imageId = Number(
            this.st.insertImage.run(
              collectionId,
              e.entryPath,
              naturalSortKey(e.entryPath),
              e.size,
              Math.round(e.mtimeMs),
            ).lastInsertRowid,
          );
        } else {
          imageId = known.id;
          unchanged = known.size === e.size && known.mtime_ms === Math.round(e.mtimeMs);
          if (!unchanged) {
            this.st.resetImage.run(e.size, Math.round(e.mtimeMs), imageId);
            for (const o of this.st.outputsOfImage.all(imageId) as OutputDbRow[]) {
              unreferenced.push({ cacheFolderId: o.cache_folder_id, relPath: o.rel_path });
            }
            this.st.deleteOutputsOfImage.run(imageId);
          }
        }
        let state: ItemState = 'pending';
        if (e.failure) state = 'failed';
        else if (unchanged && known?.format) state = 'done';
        const inserted = this.st.insertItem.run(
          jobId,
          'scan',
          imageId,
          state,
          e.failure?.code ?? null,
          e.failure?.message ?? null,
          t,
        ).changes;
        if (inserted && state === 'done') this.addRenderItems(jobId, imageId, t);
      });
      this.recompute(jobId);
      return unreferenced;
    });
  }

  private addRenderItems(jobId: number, imageId: number, t: number): void {
    for (const v of VARIANTS) this.st.insertItem.run(jobId, v, imageId, 'pending', null, null, t);
  }

  /** True when the job has scan items waiting to be probed. */
  hasPendingScan(jobId: number): boolean {
    return this.st.anyPendingScan.get(jobId) !== undefined;
  }

  /** Claims up to `limit` pending scan items of a job for probing. */
  claimScanItems(jobId: number, limit: number): ScanWork[] {
    return this.transaction(() => {
      const rows = this.st.pendingScanItems.all(jobId, limit) as {
        id: number;
        image_id: number;
        entry_path: string;
      }[];
      const t = this.now();
      const claimed: ScanWork[] = [];
      for (const r of rows) {
        if (this.st.claimItem.run(t, r.id).changes === 1) {
          claimed.push({ itemId: r.id, imageId: r.image_id, entryPath: r.entry_path });
        }
      }
      if (claimed.length) this.recompute(jobId);
      return claimed;
    });
  }

  /**
   * Finishes probed scan items: a usable image gets its metadata and its
   * thumbnail and cache items, in the same transaction as its scan item's end.
   */
  completeScanItems(jobId: number, results: { work: ScanWork; outcome: ScanOutcome }[]): void {
    this.transaction(() => {
      const t = this.now();
      for (const { work, outcome } of results) {
        if (outcome.ok) {
          if (this.st.finishItem.run('done', null, null, t, work.itemId).changes !== 1) continue;
          this.st.setImageMeta.run(
            outcome.format,
            outcome.width,
            outcome.height,
            outcome.orientation,
            work.imageId,
          );
          this.addRenderItems(jobId, work.imageId, t);
        } else {
          this.st.finishItem.run('failed', outcome.code, outcome.message, t, work.itemId);
        }
      }
      this.recompute(jobId);
    });
  }

  // ---- render -------------------------------------------------------------------------

  /**
   * The next pending render units of a job, best priority first. Each unit holds
   * every pending variant of its image, so the image is decoded once.
   */
  pendingRenderUnits(jobId: number, limit: number, exclude: ReadonlySet<number>): RenderUnit[] {
    const rows = this.st.pendingRenderItems.all(jobId, limit * 2 + exclude.size) as {
      id: number;
      stage: Variant;
      image_id: number;
      crashes: number;
      entry_path: string;
      collection_id: number;
    }[];
    const units = new Map<number, RenderUnit>();
    for (const r of rows) {
      if (exclude.has(r.image_id)) continue;
      let u = units.get(r.image_id);
      if (!u) {
        if (units.size >= limit) continue;
        u = {
          jobId,
          imageId: r.image_id,
          collectionId: r.collection_id,
          entryPath: r.entry_path,
          crashes: 0,
          items: [],
        };
        units.set(r.image_id, u);
      }
      u.crashes = Math.max(u.crashes, r.crashes);
      if (!u.items.some((i) => i.id === r.id)) u.items.push({ id: r.id, variant: r.stage });
    }
    // A sibling variant beyond the page limit still belongs to the same decode.
    for (const u of units.values()) {
      if (u.items.length === VARIANTS.length) continue;
      for (const s of this.st.pendingSiblings.all(jobId, u.imageId) as {
        id: number;
        stage: Variant;
        crashes: number;
      }[]) {
        if (!u.items.some((i) => i.id === s.id)) u.items.push({ id: s.id, variant: s.stage });
        u.crashes = Math.max(u.crashes, s.crashes);
      }
    }
    return [...units.values()];
  }

  /** The current output of (image, variant, settings), if recorded. */
  output(imageId: number, variant: Variant, settingsHash: string): OutputRow | undefined {
    const r = this.st.outputByKey.get(imageId, variant, settingsHash) as OutputDbRow | undefined;
    return r ? toOutput(r) : undefined;
  }

  outputById(id: number): OutputRow | undefined {
    const r = this.st.outputById.get(id) as OutputDbRow | undefined;
    return r ? toOutput(r) : undefined;
  }

  /** Forgets an output whose file is gone; the caller regenerates it. */
  dropOutput(id: number): void {
    this.transaction(() => {
      this.st.deleteOutput.run(id);
    });
  }

  /**
   * In one transaction: items whose output already exists become skipped; the
   * rest of each unit is claimed (running, one more attempt). Returns the units
   * with only the claimed items, dropping units with nothing left to do.
   */
  skipAndClaim(
    jobId: number,
    units: RenderUnit[],
    skipItemIds: ReadonlySet<number>,
    maxClaims = Number.POSITIVE_INFINITY,
    stillSkippable: (itemId: number) => boolean = () => true,
  ): RenderUnit[] {
    return this.transaction(() => {
      const t = this.now();
      const claimed: RenderUnit[] = [];
      for (const u of units) {
        const items: RenderUnit['items'] = [];
        for (const it of u.items) {
          if (skipItemIds.has(it.id) && stillSkippable(it.id)) {
            this.st.skipPending.run(t, it.id);
          } else if (claimed.length < maxClaims && this.st.claimItem.run(t, it.id).changes === 1) {
            items.push(it);
          }
        }
        if (items.length) claimed.push({ ...u, items });
      }
      this.recompute(jobId);
      return claimed;
    });
  }

  /**
   * Records how a render unit ended. Written outputs replace any output of the
   * same image and variant made with other settings (returned for deletion).
   */
  completeRender(unit: RenderUnit, outcome: RenderOutcome): Unreferenced[] {
    return this.transaction(() => {
      const t = this.now();
      const unreferenced: Unreferenced[] = [];
      switch (outcome.kind) {
        case 'done': {
          const s = outcome.source;
          this.st.setImageMeta.run(s.format, s.width, s.height, s.orientation, unit.imageId);
          for (const it of unit.items) {
            const o = outcome.outputs.find((x) => x.variant === it.variant);
            if (!o) {
              this.st.finishItem.run(
                'failed',
                'INTERNAL',
                `the worker did not write the ${it.variant}`,
                t,
                it.id,
              );
              continue;
            }
            for (const old of this.st.staleOutputs.all(
              unit.imageId,
              o.variant,
              o.settingsHash,
            ) as OutputDbRow[]) {
              if (old.rel_path !== o.relPath || old.cache_folder_id !== o.cacheFolderId) {
                unreferenced.push({ cacheFolderId: old.cache_folder_id, relPath: old.rel_path });
              }
              this.st.deleteOutput.run(old.id);
            }
            this.st.upsertOutput.run(
              unit.imageId,
              o.variant,
              o.settingsHash,
              o.cacheFolderId,
              o.relPath,
              o.bytes,
              o.width,
              o.height,
              t,
            );
            this.crash('in-transaction');
            this.st.finishItem.run('done', null, null, t, it.id);
          }
          break;
        }
        case 'failed':
          for (const it of unit.items) {
            this.st.finishItem.run(
              'failed',
              outcome.failure.code,
              outcome.failure.message,
              t,
              it.id,
            );
          }
          break;
        case 'crashed':
          for (const it of unit.items) {
            const row = this.st.itemCrashes.get(it.id) as { crashes: number } | undefined;
            const crashes = (row?.crashes ?? 0) + 1;
            if (crashes >= MAX_DECODER_CRASHES) {
              this.st.crashItem.run(crashes, 'failed', 'DECODER_CRASH', outcome.message, t, it.id);
            } else {
              this.st.crashItem.run(crashes, 'pending', null, null, t, it.id);
            }
          }
          break;
        case 'interrupted':
          for (const it of unit.items) this.st.requeueItem.run(t, it.id);
          break;
      }
      this.recompute(unit.jobId);
      return unreferenced;
    });
  }

  /**
   * An output's file is gone: the image's item for that variant goes (back) to
   * pending in its collection's unfinished job, or in a new job that only
   * remakes outputs. A cancelled or failed job is never revived for it.
   * Returns the job id, or null when the image is unknown.
   */
  requeueOutput(imageId: number, variant: Variant): number | null {
    return this.transaction(() => {
      const img = this.st.imageById.get(imageId) as ImageDbRow | undefined;
      if (!img) return null;
      let job = this.openJobOfCollection(img.collection_id);
      if (!job) {
        const t = this.now();
        const id = Number(this.st.insertJob.run(img.collection_id, t, t).lastInsertRowid);
        for (const stage of STAGES) this.st.insertStage.run(id, stage);
        // Nothing to scan: the job's only work is the outputs requeued into it.
        this.st.setStarted.run(t, id);
        this.st.setScanFinished.run(t, id);
        job = this.mustJob(id);
      }
      const item = this.st.itemByKey.get(job.id, variant, imageId) as
        { id: number; state: ItemState } | undefined;
      if (!item) {
        this.st.insertItem.run(job.id, variant, imageId, 'pending', null, null, this.now());
      } else if (item.state === 'done' || item.state === 'skipped' || item.state === 'failed') {
        this.st.requeueFinished.run(this.now(), item.id);
      }
      this.recompute(job.id);
      return job.id;
    });
  }

  // ---- recovery and invariants --------------------------------------------------------

  /**
   * Items left running by a dead process go back to pending (their attempt was
   * counted when they were claimed). Returns them so their temporary files can be
   * removed.
   */
  recoverInterrupted(): InterruptedItem[] {
    return this.transaction(() => {
      const rows = this.st.runningItems.all() as {
        id: number;
        job_id: number;
        stage: StageName;
        image_id: number;
        collection_id: number;
      }[];
      const t = this.now();
      const jobs = new Set<number>();
      for (const r of rows) {
        this.st.requeueItem.run(t, r.id);
        jobs.add(r.job_id);
      }
      for (const j of jobs) this.recompute(j);
      return rows.map((r) => ({
        itemId: r.id,
        jobId: r.job_id,
        stage: r.stage,
        imageId: r.image_id,
        collectionId: r.collection_id,
      }));
    });
  }

  /**
   * Recomputes every stage's counters from its item rows and reports the stages
   * whose stored counters differ. With `repair`, fixes them and re-derives status.
   */
  checkCounters(repair: boolean): CounterDrift[] {
    const run = (): CounterDrift[] => {
      const actual = new Map<string, StageCounters>();
      for (const r of this.st.countItems.all() as (StageCounters & {
        job_id: number;
        stage: StageName;
      })[]) {
        actual.set(`${r.job_id}:${r.stage}`, counters(r));
      }
      const drifts: CounterDrift[] = [];
      for (const s of this.st.allStages.all() as (StageDbRow & { job_id: number })[]) {
        const a = actual.get(`${s.job_id}:${s.stage}`) ?? { ...EMPTY_COUNTERS };
        if (!sameCounters(a, s)) {
          drifts.push({ jobId: s.job_id, stage: s.stage, stored: counters(s), actual: a });
        }
      }
      if (repair && drifts.length) {
        for (const d of drifts) {
          const a = d.actual;
          this.st.setCounters.run(
            a.total,
            a.pending,
            a.running,
            a.done,
            a.skipped,
            a.failed,
            d.jobId,
            d.stage,
          );
        }
        for (const j of new Set(drifts.map((d) => d.jobId))) this.recompute(j);
      }
      return drifts;
    };
    return repair ? this.transaction(run) : run();
  }

  /** Output rows of one cache folder, a page at a time in id order. */
  outputsInFolder(folderId: number, afterId: number, limit: number): OutputRow[] {
    return (this.st.outputsInFolder.all(folderId, afterId, limit) as OutputDbRow[]).map(toOutput);
  }

  /** Outputs of a collection that sit in another folder than `folderId` (to rebalance). */
  outputsOfCollectionElsewhere(collectionId: number, folderId: number): OutputRow[] {
    return (this.st.outputsElsewhere.all(collectionId, folderId) as OutputDbRow[]).map(toOutput);
  }

  /** Records that an output's file now lives in another folder (statistics follow). */
  moveOutput(id: number, folderId: number): void {
    this.transaction(() => {
      this.st.moveOutput.run(folderId, id);
    });
  }

  /** Where new outputs of a collection go. */
  setCollectionFolder(collectionId: number, folderId: number): void {
    this.transaction(() => {
      this.st.setCollectionFolder.run(folderId, collectionId);
    });
  }

  /** All output rows, a page at a time in id order (for file checks). */
  outputsAfter(afterId: number, limit: number): OutputRow[] {
    return (this.st.outputsPage.all(afterId, limit) as OutputDbRow[]).map(toOutput);
  }

  // ---- views --------------------------------------------------------------------------

  /** The newest job of a collection. */
  latestJobOfCollection(collectionId: number): JobRow | undefined {
    const r = this.st.latestJobOfCollection.get(collectionId) as JobDbRow | undefined;
    return r ? toJob(r) : undefined;
  }

  /** Images of a collection whose header was read (the ones the grid shows). */
  countImages(collectionId: number): number {
    return (this.st.countImages.get(collectionId) as { n: number }).n;
  }

  image(id: number): ImageRow | undefined {
    const r = this.st.imageById.get(id) as ImageDbRow | undefined;
    return r ? toImage(r) : undefined;
  }

  /**
   * A page of the usable images of a collection, in natural order, with which
   * outputs exist (made with any settings: an older one is shown until remade).
   */
  imagesWithOutputs(
    collectionId: number,
    limit: number,
    offset: number,
  ): (ImageRow & { has: Record<Variant, boolean> })[] {
    return (
      this.st.imagesWithOutputs.all(collectionId, limit, offset) as (ImageDbRow & {
        has_thumbnail: number;
        has_cache: number;
      })[]
    ).map((r) => ({
      ...toImage(r),
      has: { thumbnail: r.has_thumbnail === 1, cache: r.has_cache === 1 },
    }));
  }

  /** The output for the current settings, else the newest of the variant. */
  bestOutput(imageId: number, variant: Variant, settingsHash: string): OutputRow | undefined {
    const r = this.st.bestOutput.get(imageId, variant, settingsHash) as OutputDbRow | undefined;
    return r ? toOutput(r) : undefined;
  }

  /** A page of a collection's images in natural order. */
  listImages(collectionId: number, limit = 200, offset = 0): ImageRow[] {
    return (
      this.st.imagesPage.all(collectionId, limit, offset) as {
        id: number;
        entry_path: string;
        size: number;
        format: string | null;
        width: number | null;
        height: number | null;
        orientation: number | null;
      }[]
    ).map((r) => ({
      id: r.id,
      collectionId,
      entryPath: r.entry_path,
      size: r.size,
      format: r.format,
      width: r.width,
      height: r.height,
      orientation: r.orientation,
    }));
  }

  /** Failed items of a job with their reasons, paged. */
  failedItems(jobId: number, limit = 200, offset = 0): FailedItemView[] {
    return (
      this.st.failedItems.all(jobId, limit, offset) as {
        id: number;
        image_id: number;
        entry_path: string;
        stage: StageName;
        error_code: string | null;
        error_message: string | null;
        attempts: number;
      }[]
    ).map((r) => ({
      itemId: r.id,
      imageId: r.image_id,
      path: r.entry_path,
      stage: r.stage,
      code: isErrorCode(r.error_code) ? r.error_code : 'INTERNAL',
      message: r.error_message ?? '',
      attempts: r.attempts,
    }));
  }

  /** One item's row, for tests and diagnostics. */
  item(id: number):
    | {
        id: number;
        jobId: number;
        stage: StageName;
        imageId: number;
        state: ItemState;
        attempts: number;
        crashes: number;
        errorCode: ErrorCode | null;
      }
    | undefined {
    const r = this.st.itemById.get(id) as
      | {
          id: number;
          job_id: number;
          stage: StageName;
          image_id: number;
          state: ItemState;
          attempts: number;
          crashes: number;
          error_code: string | null;
        }
      | undefined;
    if (!r) return undefined;
    return {
      id: r.id,
      jobId: r.job_id,
      stage: r.stage,
      imageId: r.image_id,
      state: r.state,
      attempts: r.attempts,
      crashes: r.crashes,
      errorCode: isErrorCode(r.error_code) ? r.error_code : null,
    };
  }

  // ---- status -------------------------------------------------------------------------

  /**
   * Re-derives the stage and job statuses from the counters and flags. Called at
   * the end of every transaction that touches a job; the only writer of status.
   */
  private recompute(jobId: number): void {
    const jr = this.st.jobById.get(jobId) as JobDbRow | undefined;
    if (!jr) return;
    const job = toJob(jr);
    const stages = this.stages(jobId);
    const flags = {
      started: job.started,
      paused: job.paused,
      cancelled: job.cancelled,
      fatal: job.error !== null,
    };
    const scan = stages.scan;
    const scanDrained = job.scanFinished && scan.pending === 0 && scan.running === 0;
    for (const stage of STAGES) {
      const s = stages[stage];
      const status = deriveStatus(s, {
        ...flags,
        inputFinished: stage === 'scan' ? job.scanFinished : scanDrained,
      });
      if (status !== s.status) this.st.setStageStatus.run(status, jobId, stage);
    }
    const status = deriveJobStatus(stages, { ...flags, scanFinished: job.scanFinished });
    if (status !== job.status) {
      const t = this.now();
      const finished = ['completed', 'completed_with_errors', 'cancelled', 'failed'].includes(
        status,
      );
      this.st.setJobStatus.run(status, t, finished ? t : null, jobId);
    }
  }
}

function isDone(j: JobRow): boolean {
  return ['completed', 'completed_with_errors', 'cancelled', 'failed'].includes(j.status);
}

interface CollectionDbRow {
  id: number;
  kind: CollectionKind;
  root: string;
  name: string;
  cache_folder_id: number;
  created_at: number;
}

function toCollection(r: CollectionDbRow): CollectionRow {
  return {
    id: r.id,
    kind: r.kind,
    root: r.root,
    name: r.name,
    cacheFolderId: r.cache_folder_id,
    createdAt: r.created_at,
  };
}

interface OutputDbRow {
  id: number;
  image_id: number;
  variant: Variant;
  settings_hash: string;
  cache_folder_id: number;
  rel_path: string;
  bytes: number;
  width: number;
  height: number;
}

function toOutput(r: OutputDbRow): OutputRow {
  return {
    id: r.id,
    imageId: r.image_id,
    variant: r.variant,
    settingsHash: r.settings_hash,
    cacheFolderId: r.cache_folder_id,
    relPath: r.rel_path,
    bytes: r.bytes,
    width: r.width,
    height: r.height,
  };
}

/** Every statement of the store, prepared once. */
function prepare(db: Db) {
  const s = (sql: string) => db.prepare(sql);
  return {
    insertCacheFolder: s(
      'INSERT INTO cache_folders (path, created_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING',
    ),
    cacheFolderByPath: s('SELECT * FROM cache_folders WHERE path = ?'),
    cacheFolderById: s('SELECT * FROM cache_folders WHERE id = ?'),
    cacheFolders: s('SELECT * FROM cache_folders ORDER BY id'),
    insertCollection: s(
      `INSERT INTO collections (kind, root, name, cache_folder_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (root) DO NOTHING`,
    ),
    collectionByRoot: s('SELECT * FROM collections WHERE root = ?'),
    collectionById: s('SELECT * FROM collections WHERE id = ?'),
    collections: s('SELECT * FROM collections ORDER BY name, id'),
    insertJob: s(
      `INSERT INTO jobs (collection_id, status, created_at, updated_at) VALUES (?, 'queued', ?, ?)`,
    ),
    insertStage: s(`INSERT INTO stages (job_id, stage, status) VALUES (?, ?, 'queued')`),
    jobById: s('SELECT * FROM jobs WHERE id = ?'),
    jobsPage: s('SELECT * FROM jobs ORDER BY id DESC LIMIT ? OFFSET ?'),
    openJobOfCollection: s(
      `SELECT * FROM jobs WHERE collection_id = ?
       AND status NOT IN ('completed', 'completed_with_errors', 'cancelled', 'failed')
       ORDER BY id DESC LIMIT 1`,
    ),
    runnableJobs: s(
      `SELECT * FROM jobs WHERE status IN ('queued', 'running') AND paused = 0 ORDER BY id`,
    ),
    unfinishedJobs: s(
      `SELECT * FROM jobs WHERE status IN ('queued', 'running', 'paused') ORDER BY id`,
    ),
    stagesOf: s('SELECT * FROM stages WHERE job_id = ?'),
    allStages: s('SELECT * FROM stages'),
    setStageStatus: s('UPDATE stages SET status = ? WHERE job_id = ? AND stage = ?'),
    setCounters: s(
      `UPDATE stages SET total = ?, pending = ?, running = ?, done = ?, skipped = ?, failed = ?
       WHERE job_id = ? AND stage = ?`,
    ),
    setJobStatus: s('UPDATE jobs SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?'),
    setStarted: s('UPDATE jobs SET started = 1, updated_at = ? WHERE id = ?'),
    setScanFinished: s('UPDATE jobs SET scan_finished = 1, updated_at = ? WHERE id = ?'),
    setJobError: s(
      'UPDATE jobs SET error_code = ?, error_message = ?, updated_at = ? WHERE id = ?',
    ),
    setPaused: s('UPDATE jobs SET paused = ?, pause_reason = ?, updated_at = ? WHERE id = ?'),
    pausedForDiskFull: s(
      `SELECT * FROM jobs WHERE paused = 1 AND pause_reason = 'DISK_FULL'
       AND status NOT IN ('completed', 'completed_with_errors', 'cancelled', 'failed') ORDER BY id`,
    ),
    setCancelled: s('UPDATE jobs SET cancelled = ?, updated_at = ? WHERE id = ?'),
    revive: s(
      `UPDATE jobs SET cancelled = 0, paused = 0, pause_reason = NULL, error_code = NULL, error_message = NULL,
       scan_finished = CASE WHEN error_code IS NULL THEN scan_finished ELSE 0 END,
       finished_at = NULL, updated_at = ? WHERE id = ?`,
    ),
    retryFailed: s(
      `UPDATE items SET state = 'pending', error_code = NULL, error_message = NULL, crashes = 0,
       updated_at = ? WHERE job_id = ? AND state = 'failed'`,
    ),
    imageByPath: s(
      'SELECT id, size, mtime_ms, format FROM images WHERE collection_id = ? AND entry_path = ?',
    ),
    insertImage: s(
      `INSERT INTO images (collection_id, entry_path, sort_key, size, mtime_ms) VALUES (?, ?, ?, ?, ?)`,
    ),
    resetImage: s(
      `UPDATE images SET size = ?, mtime_ms = ?, format = NULL, width = NULL, height = NULL,
       orientation = NULL WHERE id = ?`,
    ),
    setImageMeta: s(
      'UPDATE images SET format = ?, width = ?, height = ?, orientation = ? WHERE id = ?',
    ),
    insertItem: s(
      `INSERT INTO items (job_id, stage, image_id, state, error_code, error_message, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, stage, image_id) DO NOTHING`,
    ),
    itemById: s('SELECT * FROM items WHERE id = ?'),
    itemByKey: s('SELECT id, state FROM items WHERE job_id = ? AND stage = ? AND image_id = ?'),
    requeueFinished: s(
      `UPDATE items SET state = 'pending', error_code = NULL, error_message = NULL, crashes = 0,
       updated_at = ? WHERE id = ?`,
    ),

    latestJobOfCollection: s('SELECT * FROM jobs WHERE collection_id = ? ORDER BY id DESC LIMIT 1'),
    countImages: s(
      'SELECT count(*) AS n FROM images WHERE collection_id = ? AND format IS NOT NULL',
    ),
    imageById: s('SELECT * FROM images WHERE id = ?'),
    imagesWithOutputs: s(
      `SELECT i.*,
         EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = i.id AND o.variant = 'thumbnail')
           AS has_thumbnail,
         EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = i.id AND o.variant = 'cache')
           AS has_cache
       FROM images i WHERE i.collection_id = ? AND i.format IS NOT NULL
       ORDER BY i.sort_key LIMIT ? OFFSET ?`,
    ),
    bestOutput: s(
      `SELECT * FROM outputs WHERE image_id = ? AND variant = ?
       ORDER BY settings_hash = ? DESC, id DESC LIMIT 1`,
    ),
    imagesPage: s(
      `SELECT id, entry_path, size, format, width, height, orientation FROM images
       WHERE collection_id = ? ORDER BY sort_key LIMIT ? OFFSET ?`,
    ),
    anyPendingScan: s(
      `SELECT 1 FROM items WHERE job_id = ? AND state = 'pending' AND stage = 'scan' LIMIT 1`,
    ),
    itemCrashes: s('SELECT crashes FROM items WHERE id = ?'),
    pendingScanItems: s(
      `SELECT it.id, it.image_id, im.entry_path FROM items it JOIN images im ON im.id = it.image_id
       WHERE it.job_id = ? AND it.state = 'pending' AND it.stage = 'scan' ORDER BY it.id LIMIT ?`,
    ),
    pendingRenderItems: s(
      `SELECT it.id, it.stage, it.image_id, it.crashes, im.entry_path, im.collection_id
       FROM items it JOIN images im ON im.id = it.image_id
       WHERE it.job_id = ? AND it.state = 'pending' AND it.stage <> 'scan'
       ORDER BY it.priority DESC, it.id LIMIT ?`,
    ),
    pendingSiblings: s(
      `SELECT id, stage, crashes FROM items
       WHERE job_id = ? AND image_id = ? AND state = 'pending' AND stage <> 'scan'`,
    ),
    claimItem: s(
      `UPDATE items SET state = 'running', attempts = attempts + 1, updated_at = ?
       WHERE id = ? AND state = 'pending'`,
    ),
    skipPending: s(
      `UPDATE items SET state = 'skipped', updated_at = ? WHERE id = ? AND state = 'pending'`,
    ),
    finishItem: s(
      `UPDATE items SET state = ?, error_code = ?, error_message = ?, updated_at = ?
       WHERE id = ? AND state = 'running'`,
    ),
    crashItem: s(
      `UPDATE items SET crashes = ?, state = ?, error_code = ?, error_message = ?, updated_at = ?
       WHERE id = ? AND state = 'running'`,
    ),
    requeueItem: s(
      `UPDATE items SET state = 'pending', updated_at = ? WHERE id = ? AND state = 'running'`,
    ),
    runningItems: s(
      `SELECT it.id, it.job_id, it.stage, it.image_id, im.collection_id
       FROM items it JOIN images im ON im.id = it.image_id WHERE it.state = 'running'`,
    ),
    countItems: s(
      `SELECT job_id, stage, count(*) AS total,
         sum(state = 'pending') AS pending, sum(state = 'running') AS running,
         sum(state = 'done') AS done, sum(state = 'skipped') AS skipped,
         sum(state = 'failed') AS failed
       FROM items GROUP BY job_id, stage`,
    ),
    failedItems: s(
      `SELECT it.id, it.image_id, im.entry_path, it.stage, it.error_code, it.error_message, it.attempts
       FROM items it JOIN images im ON im.id = it.image_id
       WHERE it.job_id = ? AND it.state = 'failed' ORDER BY it.id LIMIT ? OFFSET ?`,
    ),
    outputByKey: s(
      'SELECT * FROM outputs WHERE image_id = ? AND variant = ? AND settings_hash = ?',
    ),
    outputById: s('SELECT * FROM outputs WHERE id = ?'),
    outputsOfImage: s('SELECT * FROM outputs WHERE image_id = ?'),
    outputsPage: s('SELECT * FROM outputs WHERE id > ? ORDER BY id LIMIT ?'),
    outputsInFolder: s(
      'SELECT * FROM outputs WHERE cache_folder_id = ? AND id > ? ORDER BY id LIMIT ?',
    ),
    outputsElsewhere: s(
      `SELECT o.* FROM outputs o JOIN images i ON i.id = o.image_id
       WHERE i.collection_id = ? AND o.cache_folder_id <> ?`,
    ),
    moveOutput: s('UPDATE outputs SET cache_folder_id = ? WHERE id = ?'),
    setCollectionFolder: s('UPDATE collections SET cache_folder_id = ? WHERE id = ?'),
    staleOutputs: s(
      'SELECT * FROM outputs WHERE image_id = ? AND variant = ? AND settings_hash <> ?',
    ),
    deleteOutput: s('DELETE FROM outputs WHERE id = ?'),
    deleteOutputsOfImage: s('DELETE FROM outputs WHERE image_id = ?'),
    upsertOutput: s(
      `INSERT INTO outputs (image_id, variant, settings_hash, cache_folder_id, rel_path, bytes, width, height, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (image_id, variant, settings_hash) DO UPDATE SET
         cache_folder_id = excluded.cache_folder_id, rel_path = excluded.rel_path,
         bytes = excluded.bytes, width = excluded.width, height = excluded.height,
         created_at = excluded.created_at`,
    ),
  };
}
