/** JobView values for the shell's tests. */
import type { JobStatus, JobView, StageName, StageView } from '../../src-shared/domain.ts';

type Counts = Partial<
  Pick<StageView, 'total' | 'pending' | 'running' | 'done' | 'skipped' | 'failed'>
>;

function stage(c: Counts, status: JobStatus): StageView {
  const done = c.done ?? 0;
  const skipped = c.skipped ?? 0;
  const failed = c.failed ?? 0;
  const running = c.running ?? 0;
  const total = c.total ?? done + skipped + failed + running + (c.pending ?? 0);
  return {
    total,
    pending: c.pending ?? total - done - skipped - failed - running,
    running,
    done,
    skipped,
    failed,
    status,
    rate: 0,
    etaSeconds: null,
    current: null,
  };
}

/** A job with the given status and stage counters (missing counters are zero). */
export function jobView(
  o: {
    id?: number;
    status?: JobStatus;
    name?: string;
    paused?: boolean;
    createdAt?: number;
  } & Partial<Record<StageName, Counts>> = {},
): JobView {
  const status = o.status ?? 'running';
  return {
    id: o.id ?? 1,
    collectionId: o.id ?? 1,
    collectionName: o.name ?? 'photos',
    collectionKind: 'folder',
    kind: 'import',
    root: `/home/u/${o.name ?? 'photos'}`,
    status,
    scanFinished: true,
    paused: o.paused ?? status === 'paused',
    pauseReason: (o.paused ?? status === 'paused') ? 'user' : null,
    waitingFor: null,
    createdAt: o.createdAt ?? 0,
    updatedAt: 0,
    finishedAt: null,
    error: null,
    stages: {
      scan: stage(o.scan ?? {}, status),
      thumbnail: stage(o.thumbnail ?? {}, status),
      cache: stage(o.cache ?? {}, status),
    },
  };
}
