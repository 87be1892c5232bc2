import type { StateCreator } from 'zustand';
import type { FailedItemView, JobView } from '../../src-shared/domain.ts';
import type { AppState } from './index.ts';

/** The failed items of one job, as far as the panel has paged through them. */
export interface FailedList {
  items: readonly FailedItemView[];
  loading: boolean;
  /** False once a page came back short. */
  hasMore: boolean;
  /** The job's failed count when the list was loaded (a change means reload). */
  loadedForFailed: number;
}

/** Jobs as the jobs panel shows them: newest first, each replaced whole by its events. */
export interface JobsSlice {
  jobs: Readonly<Record<number, JobView>>;
  /** Job ids, newest first. */
  jobOrder: readonly number[];
  jobsLoaded: boolean;
  /** Whether more (older) jobs exist than listed. */
  moreJobs: boolean;
  failedLists: Readonly<Record<number, FailedList>>;
  /** Replaces the list with a fresh first page (events that arrive later win by updatedAt). */
  setJobs: (list: readonly JobView[], moreJobs: boolean) => void;
  /** Adds older jobs after the listed ones. */
  appendJobs: (list: readonly JobView[], moreJobs: boolean) => void;
  /** Puts jobs from events in place (new ones go by id order). */
  upsertJobs: (list: readonly JobView[]) => void;
  setFailedList: (jobId: number, list: FailedList | null) => void;
}

const newestFirst = (a: number, b: number) => b - a;

/** Keeps the newer of two views of the same job (events and list answers may cross). */
export function newer(a: JobView | undefined, b: JobView): JobView {
  return a && a.updatedAt > b.updatedAt ? a : b;
}

export const createJobsSlice: StateCreator<AppState, [], [], JobsSlice> = (set) => ({
  jobs: {},
  jobOrder: [],
  jobsLoaded: false,
  moreJobs: false,
  failedLists: {},
  setJobs: (list, moreJobs) =>
    set((s) => {
      const jobs: Record<number, JobView> = {};
      for (const j of list) jobs[j.id] = newer(s.jobs[j.id], j);
      // Jobs that came by event after the list was asked for stay too.
      const newest = list[0]?.id ?? 0;
      for (const j of Object.values(s.jobs)) if (j.id > newest) jobs[j.id] = j;
      return {
        jobs,
        jobOrder: Object.keys(jobs).map(Number).sort(newestFirst),
        jobsLoaded: true,
        moreJobs,
      };
    }),
  appendJobs: (list, moreJobs) =>
    set((s) => {
      const jobs = { ...s.jobs };
      for (const j of list) jobs[j.id] = newer(s.jobs[j.id], j);
      return { jobs, jobOrder: Object.keys(jobs).map(Number).sort(newestFirst), moreJobs };
    }),
  upsertJobs: (list) =>
    set((s) => {
      if (!list.length) return {};
      const jobs = { ...s.jobs };
      let added = false;
      for (const j of list) {
        if (!jobs[j.id]) added = true;
        jobs[j.id] = newer(jobs[j.id], j);
      }
      return added ? { jobs, jobOrder: Object.keys(jobs).map(Number).sort(newestFirst) } : { jobs };
    }),
  setFailedList: (jobId, list) =>
    set((s) => {
      const failedLists = { ...s.failedLists };
      if (list) failedLists[jobId] = list;
      else delete failedLists[jobId];
      return { failedLists };
    }),
});
