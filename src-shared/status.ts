import type { JobStatus, StageCounters, StageName } from './domain.ts';

/** What decides a stage's status besides its counters. */
export interface StageFlags {
  /** True once no more items can be added to the stage (the scan has finished walking). */
  inputFinished: boolean;
  /** True once the scheduler has begun the job. */
  started: boolean;
  paused: boolean;
  cancelled: boolean;
  /** True when the whole job failed (e.g. its archive could not be opened). */
  fatal: boolean;
}

/**
 * True for the statuses after which a job (or stage) does no more work unless
 * the user retries it: exactly the outcomes `deriveStatus` gives a finished input.
 */
export function isTerminal(status: JobStatus): boolean {
  return (
    status === 'completed' ||
    status === 'completed_with_errors' ||
    status === 'cancelled' ||
    status === 'failed'
  );
}

/**
 * The one place a status is derived. A stage (and a job, whose counters are the
 * sum of its stages) is terminal exactly when its input is finished and it has
 * nothing pending or running; nobody patches a status afterwards.
 */
export function deriveStatus(c: StageCounters, f: StageFlags): JobStatus {
  if (f.fatal) return 'failed';
  if (f.cancelled) return 'cancelled';
  if (f.inputFinished && c.pending === 0 && c.running === 0) {
    return c.failed > 0 ? 'completed_with_errors' : 'completed';
  }
  if (f.paused) return 'paused';
  if (!f.started) return 'queued';
  return 'running';
}

/** Sums stage counters. */
export function sumCounters(list: readonly StageCounters[]): StageCounters {
  const sum: StageCounters = { total: 0, pending: 0, running: 0, done: 0, skipped: 0, failed: 0 };
  for (const c of list) {
    sum.total += c.total;
    sum.pending += c.pending;
    sum.running += c.running;
    sum.done += c.done;
    sum.skipped += c.skipped;
    sum.failed += c.failed;
  }
  return sum;
}

/**
 * A job's status: the derived status of all its stages together, where only
 * the scan's end closes the input of the later stages.
 */
export function deriveJobStatus(
  stages: Record<StageName, StageCounters>,
  flags: Omit<StageFlags, 'inputFinished'> & { scanFinished: boolean },
): JobStatus {
  const all = sumCounters([stages.scan, stages.thumbnail, stages.cache]);
  return deriveStatus(all, { ...flags, inputFinished: flags.scanFinished });
}

/**
 * Each stage's status: the scan's input ends when it has walked the whole
 * collection; the later stages' input ends once the scan has also drained.
 */
export function deriveStageStatuses(
  stages: Record<StageName, StageCounters>,
  flags: Omit<StageFlags, 'inputFinished'> & { scanFinished: boolean },
): Record<StageName, JobStatus> {
  const { scanFinished, ...rest } = flags;
  const scanDrained = scanFinished && stages.scan.pending === 0 && stages.scan.running === 0;
  return {
    scan: deriveStatus(stages.scan, { ...rest, inputFinished: scanFinished }),
    thumbnail: deriveStatus(stages.thumbnail, { ...rest, inputFinished: scanDrained }),
    cache: deriveStatus(stages.cache, { ...rest, inputFinished: scanDrained }),
  };
}
