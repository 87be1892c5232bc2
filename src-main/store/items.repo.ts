import type { Db } from './database.ts';
import type { InterruptedItem, ItemRow } from './rows.ts';
import {
  isErrorCode,
  type Failure,
  type ItemState,
  type StageName,
  type Variant,
} from '../../src-shared/domain.ts';

interface ItemDbRow {
  id: number;
  job_id: number;
  stage: StageName;
  image_id: number;
  state: ItemState;
  attempts: number;
  crashes: number;
  error_code: string | null;
  error_message: string | null;
}

function failureOf(code: string | null, message: string | null): Failure | null {
  if (code === null) return null;
  return { code: isErrorCode(code) ? code : 'INTERNAL', message: message ?? '' };
}

function toItem(r: ItemDbRow): ItemRow {
  return {
    id: r.id,
    jobId: r.job_id,
    stage: r.stage,
    imageId: r.image_id,
    state: r.state,
    attempts: r.attempts,
    crashes: r.crashes,
    error: failureOf(r.error_code, r.error_message),
  };
}

/** A pending render item with what the scheduler needs to group it by image. */
export interface PendingRenderRow {
  id: number;
  variant: Variant;
  imageId: number;
  crashes: number;
  entryPath: string;
  collectionId: number;
  version: number;
  /** To run alone: its last failure must be confirmed with nothing else decoding. */
  solo: boolean;
}

type Code = string | null;

/**
 * Items: one (job, stage, image) each, pending → running → done | skipped |
 * failed. Every state change here moves its stage's counters through the
 * counter triggers, in the same statement.
 */
export class ItemsRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      insert: db.prepare<[number, StageName, number, ItemState, Code, Code, number], unknown>(
        `INSERT INTO items (job_id, stage, image_id, state, error_code, error_message, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, stage, image_id) DO NOTHING`,
      ),
      byId: db.prepare<[number], ItemDbRow>('SELECT * FROM items WHERE id = ?'),
      byKey: db.prepare<[number, StageName, number], ItemDbRow>(
        'SELECT * FROM items WHERE job_id = ? AND stage = ? AND image_id = ?',
      ),
      claim: db.prepare<[number, number], unknown>(
        `UPDATE items SET state = 'running', attempts = attempts + 1, updated_at = ?
         WHERE id = ? AND state = 'pending'`,
      ),
      skip: db.prepare<[number, number], unknown>(
        `UPDATE items SET state = 'skipped', updated_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      finish: db.prepare<[ItemState, Code, Code, number, number], unknown>(
        `UPDATE items SET state = ?, error_code = ?, error_message = ?, updated_at = ?
         WHERE id = ? AND state = 'running'`,
      ),
      suspect: db.prepare<[number, ItemState, Code, Code, number, number], unknown>(
        `UPDATE items SET crashes = ?, state = ?, error_code = ?, error_message = ?, updated_at = ?
         WHERE id = ? AND state = 'running'`,
      ),
      requeue: db.prepare<[number, number, number], unknown>(
        `UPDATE items SET state = 'pending', attempts = max(0, attempts - ?), updated_at = ?
         WHERE id = ? AND state = 'running'`,
      ),
      confirmAlone: db.prepare<[number, number], unknown>(
        `UPDATE items SET state = 'pending', solo = 1, attempts = max(0, attempts - 1),
         updated_at = ? WHERE id = ? AND state = 'running'`,
      ),
      requeueFinished: db.prepare<[number, number], unknown>(
        `UPDATE items SET state = 'pending', error_code = NULL, error_message = NULL, crashes = 0,
         updated_at = ? WHERE id = ? AND state IN ('done', 'skipped', 'failed')`,
      ),
      running: db.prepare<[], ItemDbRow & { collection_id: number }>(
        `SELECT it.*, im.collection_id FROM items it JOIN images im ON im.id = it.image_id
         WHERE it.state = 'running'`,
      ),
      anyPendingScan: db.prepare<[number], { one: number }>(
        `SELECT 1 AS one FROM items WHERE job_id = ? AND state = 'pending' AND stage = 'scan' LIMIT 1`,
      ),
      pendingScan: db.prepare<
        [number, number],
        { id: number; image_id: number; entry_path: string }
      >(
        `SELECT it.id, it.image_id, im.entry_path FROM items it JOIN images im ON im.id = it.image_id
         WHERE it.job_id = ? AND it.state = 'pending' AND it.stage = 'scan' ORDER BY it.id LIMIT ?`,
      ),
      pendingRender: db.prepare<
        [number, number],
        {
          id: number;
          stage: Variant;
          image_id: number;
          crashes: number;
          entry_path: string;
          collection_id: number;
          version: number;
          solo: number;
        }
      >(
        `SELECT it.id, it.stage, it.image_id, it.crashes, im.entry_path, im.collection_id,
           im.version, it.solo
         FROM items it JOIN images im ON im.id = it.image_id
         WHERE it.job_id = ? AND it.state = 'pending' AND it.stage <> 'scan'
         ORDER BY it.priority DESC, it.id LIMIT ?`,
      ),
      pendingSiblings: db.prepare<
        [number, number],
        { id: number; stage: Variant; crashes: number }
      >(
        `SELECT id, stage, crashes FROM items
         WHERE job_id = ? AND image_id = ? AND state = 'pending' AND stage <> 'scan'`,
      ),
      dropUnstarted: db.prepare<[number, number], unknown>(
        `DELETE FROM items WHERE job_id = ? AND image_id = ? AND state <> 'running'`,
      ),
      dropPendingOfImage: db.prepare<[number], unknown>(
        `DELETE FROM items WHERE image_id = ? AND state = 'pending'
         AND job_id IN (SELECT id FROM jobs WHERE finished_at IS NULL)`,
      ),
      countAll: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM items'),
    };
  }

  /** Adds an item unless the job already has one for (stage, image); true when added. */
  insert(
    jobId: number,
    stage: StageName,
    imageId: number,
    state: ItemState,
    failure: Failure | null,
    t: number,
  ): boolean {
    return (
      this.st.insert.run(
        jobId,
        stage,
        imageId,
        state,
        failure?.code ?? null,
        failure?.message ?? null,
        t,
      ).changes === 1
    );
  }

  get(id: number): ItemRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toItem(r) : undefined;
  }

  byKey(jobId: number, stage: StageName, imageId: number): ItemRow | undefined {
    const r = this.st.byKey.get(jobId, stage, imageId);
    return r ? toItem(r) : undefined;
  }

  /** pending → running, counting an attempt; false when it was not pending. */
  claim(id: number, t: number): boolean {
    return this.st.claim.run(t, id).changes === 1;
  }

  /** pending → skipped: its output already exists. */
  skip(id: number, t: number): boolean {
    return this.st.skip.run(t, id).changes === 1;
  }

  /** running → done or failed; false when it was not running (another run settled it). */
  finish(id: number, state: 'done' | 'failed', failure: Failure | null, t: number): boolean {
    return (
      this.st.finish.run(state, failure?.code ?? null, failure?.message ?? null, t, id).changes ===
      1
    );
  }

  /** running → pending (or failed with `failure`) after a suspect event, with its new count. */
  suspect(id: number, crashes: number, failure: Failure | null, t: number): void {
    this.st.suspect.run(
      crashes,
      failure ? 'failed' : 'pending',
      failure?.code ?? null,
      failure?.message ?? null,
      t,
      id,
    );
  }

  /** running → pending; `refund` gives back the attempt counted by the claim (no fault of the item). */
  requeue(id: number, t: number, refund: boolean): void {
    this.st.requeue.run(refund ? 1 : 0, t, id);
  }

  /** running → pending, to run alone next (its failure is to be confirmed); no attempt counted. */
  confirmAlone(id: number, t: number): void {
    this.st.confirmAlone.run(t, id);
  }

  /** done | skipped | failed → pending, forgetting errors and suspect events. */
  requeueFinished(id: number, t: number): void {
    this.st.requeueFinished.run(t, id);
  }

  /** Items left running (by a process that died, when no process holds the lock). */
  running(): InterruptedItem[] {
    return this.st.running.all().map((r) => ({
      itemId: r.id,
      jobId: r.job_id,
      stage: r.stage,
      imageId: r.image_id,
      collectionId: r.collection_id,
    }));
  }

  hasPendingScan(jobId: number): boolean {
    return this.st.anyPendingScan.get(jobId) !== undefined;
  }

  pendingScan(jobId: number, limit: number): { id: number; imageId: number; entryPath: string }[] {
    return this.st.pendingScan
      .all(jobId, limit)
      .map((r) => ({ id: r.id, imageId: r.image_id, entryPath: r.entry_path }));
  }

  /** Pending render items of a job, best priority first. */
  pendingRender(jobId: number, limit: number): PendingRenderRow[] {
    return this.st.pendingRender.all(jobId, limit).map((r) => ({
      id: r.id,
      variant: r.stage,
      imageId: r.image_id,
      crashes: r.crashes,
      entryPath: r.entry_path,
      collectionId: r.collection_id,
      version: r.version,
      solo: r.solo === 1,
    }));
  }

  pendingSiblings(
    jobId: number,
    imageId: number,
  ): { id: number; variant: Variant; crashes: number }[] {
    return this.st.pendingSiblings
      .all(jobId, imageId)
      .map((r) => ({ id: r.id, variant: r.stage, crashes: r.crashes }));
  }

  /**
   * Forgets the job's items of an image that are not in flight (the file
   * changed under the scan: it is read again from the start).
   */
  dropUnstarted(jobId: number, imageId: number): void {
    this.st.dropUnstarted.run(jobId, imageId);
  }

  /** The image left the library: open jobs stop waiting for it. */
  dropPendingOfImage(imageId: number): void {
    this.st.dropPendingOfImage.run(imageId);
  }

  /** Every item row (diagnostics: the store grows with the library, not its history). */
  countAll(): number {
    return this.st.countAll.get()?.n ?? 0;
  }
}
