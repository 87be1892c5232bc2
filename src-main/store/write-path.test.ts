import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from './store.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir();

function setup() {
  const file = join(tempDir(), 'store.db');
  let t = 1_000;
  const store = Store.open(file, { clock: () => ++t });
  const folder = store.transition((tx) => tx.cacheFolders.ensure('/cache', tx.now));
  const col = store.transition((tx) =>
    tx.collections.upsert(
      { kind: 'folder', root: '/photos', name: 'photos', cacheFolderId: folder.id },
      tx.now,
    ),
  );
  return { file, store, col };
}

/** A job with one scanned image whose thumbnail and cache items are pending. */
function jobWithOneImage(store: Store, collectionId: number, name = 'a.jpg') {
  return store.transition((tx) => {
    const jobId = tx.jobs.insert(collectionId, tx.now);
    tx.jobs.setStarted(jobId, tx.now);
    const imageId = tx.images.insert(collectionId, name, 10, 20);
    tx.items.insert(jobId, 'scan', imageId, 'done', null, tx.now);
    tx.items.insert(jobId, 'thumbnail', imageId, 'pending', null, tx.now);
    tx.items.insert(jobId, 'cache', imageId, 'pending', null, tx.now);
    tx.jobs.setScanFinished(jobId, true, tx.now);
    return { jobId, imageId };
  });
}

describe('the write path', () => {
  it('never gives out an image, collection or job id twice, across removals and reopening', () => {
    const { file, store, col } = setup();
    const made = (root: string) =>
      store.transition((tx) => {
        const c = tx.collections.upsert(
          { kind: 'folder', root, name: root, cacheFolderId: col.cacheFolderId },
          tx.now,
        );
        const jobId = tx.jobs.insert(c.id, tx.now);
        const imageId = tx.images.insert(c.id, 'a.jpg', 1, 1);
        return { collectionId: c.id, jobId, imageId };
      });
    const first = made('/newest');
    // The newest of each goes: its id must not come back.
    store.transition((tx) => tx.collections.remove(first.collectionId));
    expect(store.jobs.get(first.jobId)).toBeUndefined();
    const second = made('/again');
    expect(second.collectionId).toBeGreaterThan(first.collectionId);
    expect(second.jobId).toBeGreaterThan(first.jobId);
    expect(second.imageId).toBeGreaterThan(first.imageId);
    store.transition((tx) => tx.collections.remove(second.collectionId));
    store.close();
    const reopened = Store.open(file);
    try {
      const third = reopened.transition((tx) => {
        const c = tx.collections.upsert(
          { kind: 'folder', root: '/third', name: 'third', cacheFolderId: col.cacheFolderId },
          tx.now,
        );
        return { collectionId: c.id, jobId: tx.jobs.insert(c.id, tx.now) };
      });
      expect(third.collectionId).toBeGreaterThan(second.collectionId);
      expect(third.jobId).toBeGreaterThan(second.jobId);
    } finally {
      reopened.close();
    }
  });

  it('refuses a write to any state table outside a transition', () => {
    const { store, col } = setup();
    const { jobId } = jobWithOneImage(store, col.id);
    expect(() => store.jobs.setPaused(jobId, 'user', 1)).toThrow(/outside a transition/);
    expect(() => store.settings.set('core', {})).toThrow(/outside a transition/);
    expect(() => store.cacheFolders.setLimit(1, 5)).toThrow(/outside a transition/);
    expect(() => store.images.insert(col.id, 'b.jpg', 1, 1)).toThrow(/outside a transition/);
    expect(store.jobs.get(jobId)?.paused).toBe(false);
  });

  it('re-derives the status of every job a transition touched, without being asked', () => {
    const { store, col } = setup();
    const a = jobWithOneImage(store, col.id);
    const b = jobWithOneImage(store, col.id, 'b.jpg');
    expect(store.jobs.get(a.jobId)?.status).toBe('running');
    // A transition that only moves items: nothing in it names a status.
    store.transition((tx) => {
      for (const job of [a, b]) {
        for (const stage of ['thumbnail', 'cache'] as const) {
          const item = tx.items.byKey(job.jobId, stage, job.imageId)!;
          tx.items.claim(item.id, tx.now);
          tx.items.finish(item.id, 'failed', { code: 'CORRUPT', message: 'x' }, tx.now);
        }
      }
    });
    for (const job of [a, b]) {
      const j = store.jobs.get(job.jobId)!;
      expect(j.status).toBe('completed_with_errors');
      expect(j.finishedAt).not.toBeNull();
      expect(store.jobs.stages(job.jobId).thumbnail.status).toBe('completed_with_errors');
    }
    expect(store.jobs.unfinished()).toEqual([]);
  });

  it('rolls back the whole change, statuses included, when the change throws', () => {
    const { store, col } = setup();
    const { jobId, imageId } = jobWithOneImage(store, col.id);
    expect(() =>
      store.transition((tx) => {
        const item = tx.items.byKey(jobId, 'thumbnail', imageId)!;
        tx.items.claim(item.id, tx.now);
        tx.jobs.setPaused(jobId, 'user', tx.now);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.jobs.get(jobId)).toMatchObject({ status: 'running', paused: false });
    expect(store.jobs.stages(jobId).thumbnail).toMatchObject({ pending: 1, running: 0 });
    // The next transition starts clean: nothing touched by the rolled-back one lingers.
    store.transition((tx) => tx.settings.set('ui', { keepRunningInTray: true }));
    expect(store.jobs.get(jobId)?.status).toBe('running');
  });

  it('joins a transition inside another, and refuses an asynchronous one', () => {
    const { store, col } = setup();
    const { jobId } = jobWithOneImage(store, col.id);
    store.transition((tx) => {
      store.transition((inner) => inner.jobs.setPaused(jobId, 'user', inner.now));
      expect(tx.jobs.get(jobId)?.paused).toBe(true);
    });
    expect(store.jobs.get(jobId)?.status).toBe('paused');
    expect(() => store.transition(async () => {})).toThrow(/synchronous/);
  });

  it('finds and repairs counters that another writer made drift from the items', () => {
    const { file, store, col } = setup();
    const { jobId } = jobWithOneImage(store, col.id);
    // A second connection has no write gate: it stands for a foreign or buggy writer.
    const raw = new Database(file);
    raw.prepare(`UPDATE stages SET done = done + 5 WHERE job_id = ? AND stage = 'scan'`).run(jobId);
    raw.close();
    const drift = store.diagnostics.counterDrift();
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ jobId, stage: 'scan' });
    expect(drift[0]!.stored.done - drift[0]!.actual.done).toBe(5);
    store.transition((tx) => tx.diagnostics.repair(tx.diagnostics.counterDrift()));
    expect(store.diagnostics.counterDrift()).toEqual([]);
    expect(store.diagnostics.integrityProblems()).toEqual([]);
  });
});
