import { describe, expect, it } from 'vitest';
import type { CollectionView } from '../../src-shared/api.ts';
import type { JobView } from '../../src-shared/domain.ts';
import { createAppStore } from './index.ts';
import { addToast, MAX_TOASTS } from './notices-slice.ts';

function job(id: number, updatedAt: number, status: JobView['status'] = 'running'): JobView {
  const stage = {
    total: 0,
    pending: 0,
    running: 0,
    done: 0,
    skipped: 0,
    failed: 0,
    status,
    rate: 0,
    etaSeconds: null,
    current: null,
  };
  return {
    id,
    kind: 'import',
    collectionId: id,
    collectionName: `c${id}`,
    collectionKind: 'folder',
    root: `/c${id}`,
    status,
    scanFinished: true,
    paused: false,
    pauseReason: null,
    waitingFor: null,
    createdAt: 0,
    updatedAt,
    finishedAt: null,
    error: null,
    stages: { scan: stage, thumbnail: stage, cache: stage },
  };
}

function collection(id: number): CollectionView {
  return {
    id,
    name: `c${id}`,
    kind: 'folder',
    root: `/c${id}`,
    imageCount: 1,
    job: null,
    offlineSince: null,
    lastSeenAt: null,
    watch: null,
    watched: true,
    watchState: 'watching',
    watchDetail: null,
  };
}

describe('jobs slice', () => {
  it('keeps jobs newest first and never lets an older view replace a newer one', () => {
    const store = createAppStore();
    store.getState().setJobs([job(2, 10), job(1, 10)], false);
    store.getState().upsertJobs([job(3, 5), job(2, 20, 'completed')]);
    expect(store.getState().jobOrder).toEqual([3, 2, 1]);
    store.getState().upsertJobs([job(2, 15, 'running')]);
    expect(store.getState().jobs[2]?.status).toBe('completed');
    // A list fetched before job 3 was announced keeps it.
    store.getState().setJobs([job(2, 12), job(1, 10)], false);
    expect(store.getState().jobOrder).toEqual([3, 2, 1]);
    expect(store.getState().jobs[2]?.updatedAt).toBe(20);
  });
});

describe('collections slice', () => {
  it('selects the first collection, keeps a valid selection, and resets the grid on a switch', () => {
    const store = createAppStore();
    store.getState().setCollections([collection(1), collection(2)]);
    expect(store.getState().selectedCollectionId).toBe(1);
    store.getState().selectCollection(2);
    store.getState().setFocusIndex(7);
    store.getState().setCollections([collection(1), collection(2), collection(3)]);
    expect(store.getState().selectedCollectionId).toBe(2);
    expect(store.getState().focusIndex).toBe(7);
    store.getState().setCollections([collection(1)]);
    expect(store.getState().selectedCollectionId).toBe(1);
    expect(store.getState().focusIndex).toBe(0);
  });
});

describe('viewer', () => {
  it('leaves the grid focused on the image that was shown', () => {
    const store = createAppStore();
    store.getState().openViewer(4);
    store.getState().openViewer(5);
    store.getState().closeViewer();
    expect(store.getState()).toMatchObject({ viewerIndex: null, focusIndex: 5 });
  });
});

describe('toasts', () => {
  it('folds repeats into a count and keeps only the newest few', () => {
    let list = addToast([], { level: 'error', title: 'x', message: 'm' }, 1);
    list = addToast(list, { level: 'error', title: 'x', message: 'm' }, 2);
    expect(list).toHaveLength(1);
    expect(list[0]?.count).toBe(2);
    for (let i = 0; i < 10; i++)
      list = addToast(list, { level: 'error', title: 't', message: String(i) }, 3);
    expect(list).toHaveLength(MAX_TOASTS);
    expect(list[list.length - 1]?.message).toBe('9');
  });
});
