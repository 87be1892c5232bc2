/** Jobs panel actions: the job list, the commands on a job, its failed items. */
import type { JobView } from '../../src-shared/domain.ts';
import { call } from '../api/call.ts';
import { useAppStore } from '../store/index.ts';
import { loadCollections } from '../library/library-actions.ts';

/** Jobs per listJobs request. */
export const JOBS_PAGE = 100;
/** Failed items per failedItems request. */
export const FAILED_PAGE = 50;

export async function loadJobs(): Promise<void> {
  const jobs = await call('listJobs', { offset: 0, limit: JOBS_PAGE });
  if (jobs) useAppStore.getState().setJobs(jobs, jobs.length === JOBS_PAGE);
}

export async function loadMoreJobs(): Promise<void> {
  const offset = useAppStore.getState().jobOrder.length;
  const jobs = await call('listJobs', { offset, limit: JOBS_PAGE });
  if (jobs) useAppStore.getState().appendJobs(jobs, jobs.length === JOBS_PAGE);
}

export type JobCommand = 'pauseJob' | 'resumeJob' | 'cancelJob' | 'retryJob';

/** Runs a command on a job; the job's own event brings the new state. */
export async function jobCommand(command: JobCommand, jobId: number): Promise<void> {
  const r = await call(command, { jobId });
  if (r === null) return;
  if (command === 'retryJob') {
    useAppStore.getState().setFailedList(jobId, null);
    void loadCollections();
  }
}

export async function pauseAll(): Promise<void> {
  await call('pauseAll', {});
}

export async function resumeAll(): Promise<void> {
  await call('resumeAll', {});
}

function failedCount(job: JobView | undefined): number {
  return job ? job.stages.scan.failed + job.stages.thumbnail.failed + job.stages.cache.failed : 0;
}

/** Loads the first page of a job's failed items, or the next one with `more`. */
export async function loadFailedItems(jobId: number, more = false): Promise<void> {
  const s = useAppStore.getState();
  const existing = s.failedLists[jobId];
  if (existing?.loading) return;
  const offset = more && existing ? existing.items.length : 0;
  const base = more && existing ? existing.items : [];
  const failed = failedCount(s.jobs[jobId]);
  s.setFailedList(jobId, {
    // What is shown stays until the new page replaces it.
    items: existing?.items ?? [],
    loading: true,
    hasMore: existing?.hasMore ?? true,
    loadedForFailed: failed,
  });
  const items = await call('failedItems', { jobId, offset, limit: FAILED_PAGE });
  useAppStore.getState().setFailedList(jobId, {
    items: items ? [...base, ...items] : base,
    loading: false,
    hasMore: items ? items.length === FAILED_PAGE : false,
    loadedForFailed: failed,
  });
}
