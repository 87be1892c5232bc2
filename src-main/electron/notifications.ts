/**
 * Desktop notifications when a job finishes. The decision (which transition
 * notifies, with what text) is pure; the adapter passes a `show` function.
 */
import type { AppEvent } from '../../src-shared/api.ts';
import type { JobStatus, JobView } from '../../src-shared/domain.ts';
import { formatCount, imageProgress } from './tray-model.ts';

/** A notification's text. */
export interface NotificationModel {
  title: string;
  body: string;
}

/** Images of a finished job: how many were read, and how many failed somewhere. */
function outcome(job: JobView): { images: number; failed: number } {
  const { scan, thumbnail, cache } = job.stages;
  // One image failing both renders (one decode) is one failed image, not two.
  const failed = Math.min(
    scan.failed + Math.max(thumbnail.failed, cache.failed),
    imageProgress(job).total,
  );
  return { images: imageProgress(job).total, failed };
}

const images = (n: number) => `${formatCount(n)} ${n === 1 ? 'image' : 'images'}`;

/**
 * The notification for a job's status change, or null. Only a transition into
 * `completed` or `completed_with_errors` notifies; `prev` undefined means the
 * job was not seen before, which notifies nothing (it finished before this
 * run watched it).
 */
export function jobNotification(
  prev: JobStatus | undefined,
  job: JobView,
): NotificationModel | null {
  if (prev === undefined || prev === job.status) return null;
  const { images: n, failed } = outcome(job);
  if (job.status === 'completed') {
    return { title: 'Import finished', body: `${job.collectionName} — completed: ${images(n)}` };
  }
  if (job.status === 'completed_with_errors') {
    return {
      title: 'Import finished with errors',
      body: `${job.collectionName} — completed with errors: ${formatCount(n - failed)} done, ${formatCount(failed)} failed`,
    };
  }
  return null;
}

/**
 * Follows job events and shows a notification for each job that finishes.
 * Jobs created while it watches count as seen from the start (a job can go
 * from import to completed between two events); older jobs notify only once
 * they were seen unfinished.
 */
export class JobNotifier {
  private readonly statuses = new Map<number, JobStatus>();
  private readonly show: (n: NotificationModel, job: JobView) => void;
  private readonly since: number;

  /** `since`: when watching began (jobs created after it are new). */
  constructor(show: (n: NotificationModel, job: JobView) => void, since: number) {
    this.show = show;
    this.since = since;
  }

  /** Records jobs as they are at start-up, without notifying. */
  seed(jobs: readonly JobView[]): void {
    for (const j of jobs) this.statuses.set(j.id, j.status);
  }

  /** Feeds one AppService event. */
  onEvent(e: AppEvent): void {
    if (e.type !== 'job') return;
    const job = e.job;
    const prev = this.statuses.get(job.id) ?? (job.createdAt >= this.since ? 'queued' : undefined);
    this.statuses.set(job.id, job.status);
    const n = jobNotification(prev, job);
    if (n) this.show(n, job);
  }
}
