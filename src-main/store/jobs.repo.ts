import type { Db } from './database.ts';
import { idFloor } from './id-floor.ts';
import type { JobRow, PauseReason, StageRow } from './rows.ts';
import {
  STAGES,
  isErrorCode,
  type Failure,
  type JobKind,
  type JobStatus,
  type StageCounters,
  type StageName,
} from '../../src-shared/domain.ts';
import { deriveJobStatus, deriveStageStatuses, isTerminal } from '../../src-shared/status.ts';

interface JobDbRow {
  id: number;
  kind: string;
  walk_requests: number;
  collection_id: number;
  status: JobStatus;
  started: number;
  scan_finished: number;
  paused: number;
  pause_reason: string | null;
  pause_detail: string | null;
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
    kind: r.kind === 'rescan' ? 'rescan' : 'import',
    walkRequests: r.walk_requests,
    collectionId: r.collection_id,
    status: r.status,
    started: r.started === 1,
    scanFinished: r.scan_finished === 1,
    paused: r.paused === 1,
    pauseReason: r.paused === 1 ? pauseReasonOf(r.pause_reason) : null,
    pauseDetail: r.paused === 1 ? r.pause_detail : null,
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

function pauseReasonOf(v: string | null): PauseReason {
  return v === 'DISK_FULL' || v === 'READ_ONLY' || v === 'SOURCE_OFFLINE' ? v : 'user';
}

function toStage(r: StageDbRow): StageRow {
  const { total, pending, running, done, skipped, failed, status } = r;
  return { total, pending, running, done, skipped, failed, status };
}

/**
 * Jobs and their stages. A job is open (not terminal) exactly while its
 * `finished_at` is null: `rederive` is the only writer of both, so no query
 * keeps its own list of terminal statuses.
 */
export class JobsRepo {
  private readonly st;
  private readonly nextId: () => number;

  constructor(db: Db) {
    this.nextId = idFloor(db, 'jobs');
    const all = (where: string) => db.prepare<[], JobDbRow>(`SELECT * FROM jobs ${where}`);
    this.st = {
      insert: db.prepare<[number, number, JobKind, number, number], unknown>(
        `INSERT INTO jobs (id, collection_id, kind, status, created_at, updated_at)
         VALUES (?, ?, ?, 'queued', ?, ?)`,
      ),
      insertStage: db.prepare<[number, StageName], unknown>(
        `INSERT INTO stages (job_id, stage, status) VALUES (?, ?, 'queued')`,
      ),
      byId: db.prepare<[number], JobDbRow>('SELECT * FROM jobs WHERE id = ?'),
      page: db.prepare<[number, number], JobDbRow>(
        'SELECT * FROM jobs ORDER BY id DESC LIMIT ? OFFSET ?',
      ),
      openOfCollection: db.prepare<[number], JobDbRow>(
        'SELECT * FROM jobs WHERE collection_id = ? AND finished_at IS NULL ORDER BY id DESC LIMIT 1',
      ),
      latestOfCollection: db.prepare<[number], JobDbRow>(
        'SELECT * FROM jobs WHERE collection_id = ? ORDER BY id DESC LIMIT 1',
      ),
      requestWalk: db.prepare<[number, number], unknown>(
        `UPDATE jobs SET walk_requests = walk_requests + 1, scan_finished = 0, updated_at = ?
         WHERE id = ?`,
      ),
      anyWalking: db.prepare<[], { one: number }>(
        // A paused walk (a user's pause, an offline collection) may wait for days:
        // it does not hold back the deletion of other collections' gone images.
        'SELECT 1 AS one FROM jobs WHERE finished_at IS NULL AND scan_finished = 0 AND paused = 0 LIMIT 1',
      ),
      runnable: all('WHERE finished_at IS NULL AND paused = 0 ORDER BY id'),
      unfinished: all('WHERE finished_at IS NULL ORDER BY id'),
      unfinishedOf: db.prepare<[number], JobDbRow>(
        'SELECT * FROM jobs WHERE collection_id = ? AND finished_at IS NULL ORDER BY id',
      ),
      pausedForSpace: all(
        `WHERE finished_at IS NULL AND paused = 1 AND pause_reason IN ('DISK_FULL', 'READ_ONLY')
         ORDER BY id`,
      ),
      stages: db.prepare<[number], StageDbRow>('SELECT * FROM stages WHERE job_id = ?'),
      dropEmptyRescans: db.prepare<[number], unknown>(
        `DELETE FROM jobs WHERE collection_id = ? AND kind = 'rescan' AND finished_at IS NOT NULL
           AND cancelled = 0 AND error_code IS NULL
           AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.job_id = jobs.id AND s.total > 0)`,
      ),
      // Rows of items left mean failures, kept with their job (see FailuresRepo).
      dropOldRescans: db.prepare<[number, number, number], unknown>(
        `DELETE FROM jobs WHERE collection_id = ? AND kind = 'rescan' AND finished_at IS NOT NULL
           AND cancelled = 0 AND error_code IS NULL
           AND NOT EXISTS (SELECT 1 FROM items i WHERE i.job_id = jobs.id)
           AND id NOT IN (SELECT id FROM jobs WHERE collection_id = ? AND kind = 'rescan'
                          ORDER BY id DESC LIMIT ?)`,
      ),
      finishedCounts: db.prepare<[number], { stage: StageName; done: number; skipped: number }>(
        `SELECT stage, sum(state = 'done') AS done, sum(state = 'skipped') AS skipped
         FROM items WHERE job_id = ? AND state IN ('done', 'skipped') GROUP BY stage`,
      ),
      dropFinished: db.prepare<[number], unknown>(
        `DELETE FROM items WHERE job_id = ? AND state IN ('done', 'skipped')`,
      ),
      keepCounts: db.prepare<[number, number, number, number, number, number, StageName], unknown>(
        `UPDATE stages SET total = total + ?, done = done + ?, skipped = skipped + ?,
           pruned_done = pruned_done + ?, pruned_skipped = pruned_skipped + ?
         WHERE job_id = ? AND stage = ?`,
      ),
      setStageStatus: db.prepare<[JobStatus, number, StageName], unknown>(
        'UPDATE stages SET status = ? WHERE job_id = ? AND stage = ?',
      ),
      setStatus: db.prepare<[JobStatus, number, number | null, number], unknown>(
        'UPDATE jobs SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?',
      ),
      setStarted: db.prepare<[number, number], unknown>(
        'UPDATE jobs SET started = 1, updated_at = ? WHERE id = ?',
      ),
      setScanFinished: db.prepare<[number, number, number], unknown>(
        'UPDATE jobs SET scan_finished = ?, updated_at = ? WHERE id = ?',
      ),
      setError: db.prepare<[string, string, number, number], unknown>(
        'UPDATE jobs SET error_code = ?, error_message = ?, updated_at = ? WHERE id = ?',
      ),
      setPaused: db.prepare<[number, string | null, string | null, number, number], unknown>(
        'UPDATE jobs SET paused = ?, pause_reason = ?, pause_detail = ?, updated_at = ? WHERE id = ?',
      ),
      setCancelled: db.prepare<[number, number], unknown>(
        'UPDATE jobs SET cancelled = 1, updated_at = ? WHERE id = ?',
      ),
      revive: db.prepare<[number, number], unknown>(
        `UPDATE jobs SET cancelled = 0, paused = 0, pause_reason = NULL, error_code = NULL,
         error_message = NULL, pause_detail = NULL, scan_finished = CASE WHEN error_code IS NULL THEN scan_finished ELSE 0 END,
         finished_at = NULL, updated_at = ? WHERE id = ?`,
      ),
    };
  }

  /** Creates a job with its three stages; its status is derived when the transition ends. */
  insert(collectionId: number, t: number, kind: JobKind = 'import'): number {
    const id = this.nextId();
    this.st.insert.run(id, collectionId, kind, t, t);
    for (const stage of STAGES) this.st.insertStage.run(id, stage);
    return id;
  }

  /**
   * Deletes a collection's finished rescans that found nothing to do (no item
   * in any stage): they hold no counts or failures worth keeping, and watched
   * folders make one per change. Returns how many.
   */
  dropEmptyRescans(collectionId: number): number {
    return this.st.dropEmptyRescans.run(collectionId).changes;
  }

  /**
   * Deletes a collection's finished rescans older than its newest `keep` ones
   * that ended well with nothing failed: a watched folder makes one per change,
   * and the library's history must not grow with it. Returns how many.
   */
  dropOldRescans(collectionId: number, keep: number): number {
    return this.st.dropOldRescans.run(collectionId, collectionId, keep).changes;
  }

  get(id: number): JobRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toJob(r) : undefined;
  }

  /** Newest first, paged. */
  page(limit: number, offset: number): JobRow[] {
    return this.st.page.all(limit, offset).map(toJob);
  }

  /** The unfinished job of a collection, if any. */
  openOfCollection(collectionId: number): JobRow | undefined {
    const r = this.st.openOfCollection.get(collectionId);
    return r ? toJob(r) : undefined;
  }

  latestOfCollection(collectionId: number): JobRow | undefined {
    const r = this.st.latestOfCollection.get(collectionId);
    return r ? toJob(r) : undefined;
  }

  /** Jobs the scheduler may take work from, oldest first. */
  runnable(): JobRow[] {
    return this.st.runnable.all().map(toJob);
  }

  /** Jobs that are not terminal, paused ones included. */
  unfinished(): JobRow[] {
    return this.st.unfinished.all().map(toJob);
  }

  /** Jobs paused because a folder would not take writes (they resume by themselves). */
  pausedForSpace(): JobRow[] {
    return this.st.pausedForSpace.all().map(toJob);
  }

  stages(jobId: number): Record<StageName, StageRow> {
    const out = {} as Record<StageName, StageRow>;
    for (const r of this.st.stages.all(jobId)) out[r.stage] = toStage(r);
    return out;
  }

  setStarted(jobId: number, t: number): void {
    this.st.setStarted.run(t, jobId);
  }

  /** The collection's jobs that are not terminal. */
  unfinishedOf(collectionId: number): JobRow[] {
    return this.st.unfinishedOf.all(collectionId).map(toJob);
  }

  /** Asks for one more walk of the job's collection (see walk_requests). */
  requestWalk(jobId: number, t: number): void {
    this.st.requestWalk.run(t, jobId);
  }

  /** True while some open job has not finished walking its collection. */
  anyWalking(): boolean {
    return this.st.anyWalking.get() !== undefined;
  }

  setScanFinished(jobId: number, finished: boolean, t: number): void {
    this.st.setScanFinished.run(finished ? 1 : 0, t, jobId);
  }

  setError(jobId: number, failure: Failure, t: number): void {
    this.st.setError.run(failure.code, failure.message, t, jobId);
  }

  setPaused(
    jobId: number,
    reason: PauseReason | null,
    t: number,
    detail: string | null = null,
  ): void {
    this.st.setPaused.run(reason ? 1 : 0, reason, reason ? detail : null, t, jobId);
  }

  setCancelled(jobId: number, t: number): void {
    this.st.setCancelled.run(t, jobId);
  }

  /** Clears a job's cancel, pause and fatal error (a failed job scans again). */
  revive(jobId: number, t: number): void {
    this.st.revive.run(t, jobId);
  }

  /**
   * Re-derives the stage and job statuses from the counters and flags, with the
   * one status function. Called by the write path for every job a transition
   * touched, never by anything else.
   */
  rederive(jobId: number, t: number): void {
    const job = this.get(jobId);
    if (!job) return;
    const stages = this.stages(jobId);
    const flags = {
      started: job.started,
      paused: job.paused,
      cancelled: job.cancelled,
      fatal: job.error !== null,
    };
    const derived = deriveStageStatuses(stages, { ...flags, scanFinished: job.scanFinished });
    for (const stage of STAGES) {
      if (derived[stage] !== stages[stage].status) {
        this.st.setStageStatus.run(derived[stage], jobId, stage);
      }
    }
    const status = deriveJobStatus(stages, { ...flags, scanFinished: job.scanFinished });
    const finished = isTerminal(status);
    if (status !== job.status || finished !== (job.finishedAt !== null)) {
      this.st.setStatus.run(status, t, finished ? (job.finishedAt ?? t) : null, jobId);
    }
    if (finished && job.finishedAt === null) this.prune(jobId);
  }

  /**
   * A job just finished: it keeps its counts and its failures (and, when
   * cancelled, what it had not done), not a row per done or skipped item, so
   * the store grows with the library, not with its history. The counters stay
   * as they were; `pruned_*` says how much of them has no row any more.
   */
  private prune(jobId: number): void {
    const counts = this.st.finishedCounts.all(jobId);
    if (!counts.length) return;
    this.st.dropFinished.run(jobId);
    for (const c of counts) {
      const n = c.done + c.skipped;
      this.st.keepCounts.run(n, c.done, c.skipped, c.done, c.skipped, jobId, c.stage);
    }
  }
}
