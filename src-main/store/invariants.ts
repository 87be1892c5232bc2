import type { Store } from './store.ts';
import { STAGES } from '../../src-shared/domain.ts';
import { deriveJobStatus, deriveStageStatuses, isTerminal } from '../../src-shared/status.ts';

/**
 * The store's invariants, recomputed from the rows: SQLite's integrity check,
 * stage counters against their items, each job's and stage's status against the
 * one status function, and finished render items without an output row. Empty when all
 * hold. Run at start-up (counters) and by the test and fault suites (all).
 */
export function storeInvariantProblems(store: Store): string[] {
  const problems = [...store.diagnostics.integrityProblems()];
  for (const d of store.diagnostics.counterDrift()) {
    problems.push(
      `job ${d.jobId} ${d.stage}: counters ${JSON.stringify(d.stored)} but items ${JSON.stringify(d.actual)}`,
    );
  }
  for (let page = store.jobs.page(500, 0), offset = 0; page.length;) {
    for (const j of page) {
      const st = store.jobs.stages(j.id);
      const flags = {
        started: j.started,
        paused: j.paused,
        cancelled: j.cancelled,
        fatal: j.error !== null,
        scanFinished: j.scanFinished,
      };
      const derived = deriveJobStatus(st, flags);
      if (derived !== j.status)
        problems.push(`job ${j.id}: status ${j.status}, derived ${derived}`);
      const stageStatus = deriveStageStatuses(st, flags);
      for (const s of STAGES) {
        if (stageStatus[s] !== st[s].status) {
          problems.push(`job ${j.id} ${s}: status ${st[s].status}, derived ${stageStatus[s]}`);
        }
      }
      if (isTerminal(j.status) !== (j.finishedAt !== null)) {
        problems.push(`job ${j.id}: status ${j.status} with finished_at ${String(j.finishedAt)}`);
      }
      for (const s of STAGES) {
        const c = st[s];
        if (c.total !== c.pending + c.running + c.done + c.skipped + c.failed) {
          problems.push(`job ${j.id} ${s}: total ${c.total} is not the sum of its states`);
        }
      }
    }
    offset += page.length;
    page = store.jobs.page(500, offset);
  }
  for (const f of store.diagnostics.finishedWithoutOutput()) {
    problems.push(
      `item ${f.itemId} (${f.stage} of image ${f.imageId}) is finished without an output`,
    );
  }
  return problems;
}
