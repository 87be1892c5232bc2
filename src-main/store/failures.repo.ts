import type { Db } from './database.ts';
import {
  isErrorCode,
  type FailedItemView,
  type ItemState,
  type StageName,
} from '../../src-shared/domain.ts';

interface FailedDbRow {
  id: number;
  image_id: number;
  stage: StageName;
  state: ItemState;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  entry_path: string;
}

/**
 * Failed items: what a job lists as failed, what a rescan does not try again
 * until the file changes, and retries. The items' own life is ItemsRepo's.
 */
export class FailuresRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      retryFailed: db.prepare<[number, number], unknown>(
        `UPDATE items SET state = 'pending', error_code = NULL, error_message = NULL, crashes = 0,
         updated_at = ? WHERE job_id = ? AND state = 'failed'`,
      ),
      forgetFailures: db.prepare<[number], unknown>(
        `DELETE FROM items WHERE image_id = ? AND state = 'failed'`,
      ),
      failedStages: db.prepare<[number], { stage: StageName }>(
        `SELECT DISTINCT stage FROM items WHERE image_id = ? AND state = 'failed'`,
      ),
      failedPage: db.prepare<[number, number, number], FailedDbRow>(
        `SELECT it.*, im.entry_path FROM items it JOIN images im ON im.id = it.image_id
         WHERE it.job_id = ? AND it.state = 'failed' ORDER BY it.id LIMIT ? OFFSET ?`,
      ),
    };
  }

  /** failed → pending for a whole job; returns how many. */
  retryFailed(jobId: number, t: number): number {
    return this.st.retryFailed.run(t, jobId).changes;
  }

  /** The file changed: what its old version failed with is no longer true of it. */
  forgetFailures(imageId: number): void {
    this.st.forgetFailures.run(imageId);
  }

  /** Stages in which some job failed this image (until the file changes, it would fail again). */
  failedStages(imageId: number): Set<StageName> {
    return new Set(this.st.failedStages.all(imageId).map((r) => r.stage));
  }

  /** Failed items of a job with their reasons, paged. */
  failedPage(jobId: number, limit: number, offset: number): FailedItemView[] {
    return this.st.failedPage.all(jobId, limit, offset).map((r) => ({
      itemId: r.id,
      imageId: r.image_id,
      path: r.entry_path,
      stage: r.stage,
      code: isErrorCode(r.error_code) ? r.error_code : 'INTERNAL',
      message: r.error_message ?? '',
      attempts: r.attempts,
    }));
  }
}
