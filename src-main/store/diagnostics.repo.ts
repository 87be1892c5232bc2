import type { Db } from './database.ts';
import type { CounterDrift } from './rows.ts';
import { EMPTY_COUNTERS, type StageCounters, type StageName } from '../../src-shared/domain.ts';

type CountRow = StageCounters & { job_id: number; stage: StageName };

function counters(r: StageCounters): StageCounters {
  const { total, pending, running, done, skipped, failed } = r;
  return { total, pending, running, done, skipped, failed };
}

function same(a: StageCounters, b: StageCounters): boolean {
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
 * The store's self-checks, run at start-up and by the test and fault suites:
 * counters recomputed from the item rows (plus what finished jobs pruned), SQLite's own integrity check, and
 * finished render items whose output row is missing.
 */
export class DiagnosticsRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      count: db.prepare<[], CountRow>(
        `SELECT job_id, stage, count(*) AS total,
           sum(state = 'pending') AS pending, sum(state = 'running') AS running,
           sum(state = 'done') AS done, sum(state = 'skipped') AS skipped,
           sum(state = 'failed') AS failed
         FROM items GROUP BY job_id, stage`,
      ),
      stages: db.prepare<[], CountRow & { pruned_done: number; pruned_skipped: number }>(
        `SELECT job_id, stage, total, pending, running, done, skipped, failed, pruned_done,
           pruned_skipped FROM stages`,
      ),
      setCounters: db.prepare<
        [number, number, number, number, number, number, number, StageName],
        unknown
      >(
        `UPDATE stages SET total = ?, pending = ?, running = ?, done = ?, skipped = ?, failed = ?
         WHERE job_id = ? AND stage = ?`,
      ),
      integrity: db.prepare<[], { integrity_check: string }>('PRAGMA integrity_check'),
      doneWithoutOutput: db.prepare<[], { id: number; image_id: number; stage: StageName }>(
        `SELECT it.id, it.image_id, it.stage FROM items it
         WHERE it.stage <> 'scan' AND it.state IN ('done', 'skipped')
           AND NOT EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = it.image_id AND o.variant = it.stage)
         LIMIT 100`,
      ),
      doneOutputs: db.prepare<
        [],
        { id: number; attempts: number; rel_path: string; cache_folder_id: number }
      >(
        `SELECT it.id, it.attempts, o.rel_path, o.cache_folder_id FROM items it
         JOIN outputs o ON o.image_id = it.image_id AND o.variant = it.stage
         WHERE it.state = 'done' AND it.stage <> 'scan'`,
      ),
    };
  }

  /** Done render items with their output's file, to prove none is redone later. */
  doneOutputs(): { itemId: number; attempts: number; relPath: string; cacheFolderId: number }[] {
    return this.st.doneOutputs.all().map((r) => ({
      itemId: r.id,
      attempts: r.attempts,
      relPath: r.rel_path,
      cacheFolderId: r.cache_folder_id,
    }));
  }

  /** Stages whose stored counters differ from their item rows. */
  counterDrift(): CounterDrift[] {
    const actual = new Map<string, StageCounters>();
    for (const r of this.st.count.all()) actual.set(`${r.job_id}:${r.stage}`, counters(r));
    const drifts: CounterDrift[] = [];
    for (const s of this.st.stages.all()) {
      const rows = actual.get(`${s.job_id}:${s.stage}`) ?? { ...EMPTY_COUNTERS };
      // What the rows say, plus the done and skipped items a finished job let go of.
      const a = {
        ...rows,
        total: rows.total + s.pruned_done + s.pruned_skipped,
        done: rows.done + s.pruned_done,
        skipped: rows.skipped + s.pruned_skipped,
      };
      if (!same(a, s))
        drifts.push({ jobId: s.job_id, stage: s.stage, stored: counters(s), actual: a });
    }
    return drifts;
  }

  /** Sets the stored counters to the recomputed ones (inside a transition, which re-derives status). */
  repair(drifts: readonly CounterDrift[]): void {
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
  }

  /** SQLite's integrity check: empty when the file is sound. */
  integrityProblems(): string[] {
    return this.st.integrity
      .all()
      .map((r) => r.integrity_check)
      .filter((m) => m !== 'ok');
  }

  /** Done or skipped render items with no output row of their variant (at most 100). */
  finishedWithoutOutput(): { itemId: number; imageId: number; stage: StageName }[] {
    return this.st.doneWithoutOutput
      .all()
      .map((r) => ({ itemId: r.id, imageId: r.image_id, stage: r.stage }));
  }
}
