import { describe, expect, it, vi } from 'vitest';
import { JobNotifier, jobNotification } from './notifications.ts';
import { jobView } from './test-jobs.ts';

const completed = jobView({
  status: 'completed',
  scan: { total: 1958, done: 1958 },
  thumbnail: { total: 1958, done: 1958 },
  cache: { total: 1958, done: 1000, skipped: 958 },
});
const withErrors = jobView({
  status: 'completed_with_errors',
  scan: { total: 1958, done: 1955, failed: 3 },
  thumbnail: { total: 1955, done: 1950, failed: 5 },
  cache: { total: 1955, done: 1950, failed: 5 },
});

describe('job notifications', () => {
  it('announces a completed job with its image count', () => {
    expect(jobNotification('running', completed)).toEqual({
      title: 'Import finished',
      body: 'photos — completed: 1\u202f958 images',
    });
  });

  it('announces errors with done and failed images (one per image, not per stage)', () => {
    expect(jobNotification('running', withErrors)).toEqual({
      title: 'Import finished with errors',
      body: 'photos — completed with errors: 1\u202f950 done, 8 failed',
    });
  });

  it('says nothing without a transition', () => {
    expect(jobNotification('completed', completed)).toBeNull();
    expect(jobNotification(undefined, completed)).toBeNull();
  });

  it.each(['cancelled', 'failed', 'paused', 'running', 'queued'] as const)(
    'says nothing on a move to %s',
    (status) => {
      expect(jobNotification('running', jobView({ status }))).toBeNull();
    },
  );

  it('says nothing for a retried job that starts running again', () => {
    expect(jobNotification('completed_with_errors', jobView({ status: 'running' }))).toBeNull();
  });
});

describe('job notifier', () => {
  const since = 1_000;
  it('notifies once when a job it saw running completes', () => {
    const show = vi.fn();
    const n = new JobNotifier(show, since);
    n.seed([{ ...completed, id: 5, status: 'running' }]);
    n.onEvent({ type: 'job', job: { ...completed, id: 5 } });
    n.onEvent({ type: 'job', job: { ...completed, id: 5 } });
    expect(show).toHaveBeenCalledTimes(1);
  });

  it('notifies for a job created while watching, even if its first event is the last', () => {
    const show = vi.fn();
    new JobNotifier(show, since).onEvent({
      type: 'job',
      job: { ...completed, id: 6, createdAt: since + 5 },
    });
    expect(show).toHaveBeenCalledTimes(1);
  });

  it('stays quiet about old jobs it never saw unfinished', () => {
    const show = vi.fn();
    const n = new JobNotifier(show, since);
    n.onEvent({ type: 'job', job: { ...completed, id: 7, createdAt: since - 5 } });
    n.onEvent({ type: 'collections' });
    expect(show).not.toHaveBeenCalled();
  });
});
