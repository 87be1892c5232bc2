import { describe, expect, it } from 'vitest';
import type { CollectionView } from '../../src-shared/api.ts';
import type { JobView, StageView } from '../../src-shared/domain.ts';
import {
  collectionState,
  jobChip,
  formatEta,
  formatMoment,
  formatRate,
  jobActions,
  jobProgress,
  percent,
  stageFractions,
} from './format.ts';

function stage(p: Partial<StageView> = {}): StageView {
  return {
    total: 0,
    pending: 0,
    running: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    status: 'running',
    rate: 0,
    etaSeconds: null,
    current: null,
    ...p,
  };
}

function job(p: Partial<JobView> = {}): JobView {
  return {
    id: 1,
    kind: 'import',
    collectionId: 1,
    collectionName: 'photos',
    collectionKind: 'folder',
    root: '/photos',
    status: 'running',
    scanFinished: true,
    paused: false,
    pauseReason: null,
    waitingFor: null,
    createdAt: 0,
    updatedAt: 0,
    finishedAt: null,
    error: null,
    stages: { scan: stage(), thumbnail: stage(), cache: stage() },
    ...p,
  };
}

function collection(j: CollectionView['job']): CollectionView {
  return {
    id: 1,
    name: 'photos',
    kind: 'folder',
    root: '/photos',
    imageCount: 10,
    job: j,
    offlineSince: null,
    lastSeenAt: null,
    watch: null,
    watched: true,
    watchState: 'watching',
    watchDetail: null,
  };
}

describe('formatting', () => {
  it('formats rates and times left', () => {
    expect(formatRate(12.34)).toBe('12.3/s');
    expect(formatRate(0)).toBe('—');
    expect(formatRate(1234.5)).toBe('1,235/s');
    expect(formatEta(42)).toBe('0:42');
    expect(formatEta(725)).toBe('12:05');
    expect(formatEta(3723)).toBe('1:02:03');
    expect(formatEta(null)).toBe('—');
  });

  it('splits a stage bar into done, skipped and failed', () => {
    expect(stageFractions(stage({ total: 10, done: 5, skipped: 2, failed: 1 }))).toEqual({
      done: 0.5,
      skipped: 0.2,
      failed: 0.1,
    });
    expect(stageFractions(stage())).toEqual({ done: 0, skipped: 0, failed: 0 });
  });

  it('sums progress over the stages; a finished job is whole', () => {
    const j = job({
      stages: {
        scan: stage({ total: 10, done: 10 }),
        thumbnail: stage({ total: 10, done: 5 }),
        cache: stage({ total: 10 }),
      },
    });
    expect(jobProgress(j)).toBe(0.5);
    expect(jobProgress({ ...j, status: 'cancelled' })).toBe(1);
  });
});

describe('formatMoment', () => {
  it('writes a short local date and time', () => {
    expect(formatMoment(new Date(2026, 10, 23, 9, 5).getTime())).toBe('Nov 23, 09:05');
  });
});

describe('jobActions', () => {
  it('allows what the status allows', () => {
    expect(jobActions(job({ status: 'running' }))).toEqual({
      pause: true,
      resume: false,
      cancel: true,
      retry: false,
    });
    expect(jobActions(job({ status: 'paused' }))).toMatchObject({ pause: false, resume: true });
    expect(jobActions(job({ status: 'completed' }))).toEqual({
      pause: false,
      resume: false,
      cancel: false,
      retry: false,
    });
    const withErrors = job({
      status: 'completed_with_errors',
      stages: { scan: stage({ failed: 2 }), thumbnail: stage(), cache: stage() },
    });
    expect(jobActions(withErrors).retry).toBe(true);
  });
});

describe('collectionState', () => {
  it('says a collection is offline, whatever its job does', () => {
    const running = { id: 1, status: 'running' as const, progress: 0.4, failed: 0 };
    const away = {
      ...collection(running),
      offlineSince: new Date(2026, 0, 5, 9, 30).getTime(),
      lastSeenAt: new Date(2026, 0, 5, 9, 10).getTime(),
    };
    const state = collectionState(away, undefined);
    // When it was last seen is what tells the user which copy the previews show.
    expect(state.text).toMatch(/^Offline · last seen /);
    expect(collectionState({ ...away, lastSeenAt: null }, undefined).text).toBe('Offline');
    expect(state.tone).toBe('muted');
    expect(collectionState(collection(running), undefined).text).not.toMatch(/Offline/);
  });

  it('says what the newest job is doing', () => {
    const running = { id: 1, status: 'running' as const, progress: 0.423, failed: 0 };
    expect(collectionState(collection(running), job({ scanFinished: false })).text).toBe(
      'Scanning…',
    );
    expect(collectionState(collection(running), undefined).text).toBe('Generating 42%');
    const generating = job({
      stages: {
        scan: stage({ total: 10, done: 10 }),
        thumbnail: stage({ total: 10, done: 6 }),
        cache: stage({ total: 10, done: 2 }),
      },
    });
    expect(collectionState(collection(running), generating).text).toBe('Generating 40%');
    expect(
      collectionState(collection({ id: 1, status: 'completed', progress: 1, failed: 0 }), undefined)
        .text,
    ).toBe('Done');
    expect(
      collectionState(
        collection({ id: 1, status: 'completed_with_errors', progress: 1, failed: 3 }),
        undefined,
      ).text,
    ).toBe('Done · 3 errors');
    expect(
      collectionState(
        collection({ id: 1, status: 'failed', progress: 1, failed: 0 }),
        job({ status: 'failed', error: { code: 'ARCHIVE_CORRUPT', message: 'bad zip' } }),
      ).text,
    ).toBe('Failed: bad zip');
    expect(
      collectionState(collection({ id: 1, status: 'paused', progress: 0.5, failed: 0 }), undefined)
        .text,
    ).toBe('Paused');
  });
});

describe('percent', () => {
  it('is the exact whole percentage of a count out of 100', () => {
    for (let n = 0; n <= 100; n++) expect(percent(n / 100), `${n}/100`).toBe(`${n}%`);
    expect(percent(7 / 1000)).toBe('0%');
    expect(percent(1 / 3)).toBe('33%');
    expect(percent(2 / 3)).toBe('66%');
  });

  it('rounds down, so 100% only when finished', () => {
    expect(percent(0.4299)).toBe('42%');
    expect(percent(0.999)).toBe('99%');
    expect(percent(999_999 / 1_000_000)).toBe('99%');
    expect(percent(1 - Number.EPSILON)).toBe('99%');
    expect(percent(1)).toBe('100%');
  });

  it('stays within 0% and 100%, and says 0% for what is not a number', () => {
    expect(percent(-0.5)).toBe('0%');
    expect(percent(-0)).toBe('0%');
    expect(percent(1.5)).toBe('100%');
    expect(percent(Infinity)).toBe('100%');
    expect(percent(-Infinity)).toBe('0%');
    expect(percent(NaN)).toBe('0%');
    // 0 / 0, as a progress ratio of an empty stage comes out.
    expect(percent(0 / 0)).toBe('0%');
  });
});

describe('jobChip', () => {
  it('says why a job is paused, and that it waits when the database cannot grow', () => {
    expect(jobChip(job({ status: 'paused', paused: true, pauseReason: 'user' }))).toBe('Paused');
    expect(jobChip(job({ status: 'paused', paused: true, pauseReason: 'DISK_FULL' }))).toBe(
      'Paused · disk full',
    );
    expect(jobChip(job({ status: 'paused', paused: true, pauseReason: 'READ_ONLY' }))).toBe(
      'Paused · folder read-only',
    );
    expect(jobChip(job({ status: 'running', waitingFor: 'the library database is full' }))).toBe(
      'Waiting · disk full',
    );
    expect(jobChip(job({ status: 'running' }))).toBe('Running');
    expect(jobChip(job({ status: 'completed', waitingFor: 'stale' }))).toBe('Completed');
  });
});
