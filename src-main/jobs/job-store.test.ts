import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase } from '../store/database.ts';
import { JobStore, type RenderUnit, type ScannedEntry } from './job-store.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import type { StageName } from '../../src-shared/domain.ts';

const tempDir = useTempDir();

function setup() {
  const db = openDatabase(join(tempDir(), 'store.db'));
  let t = 1_000;
  const store = new JobStore(db, { clock: () => ++t });
  const folder = store.ensureCacheFolder('/cache');
  const col = store.upsertCollection({
    kind: 'folder',
    root: '/photos',
    name: 'photos',
    cacheFolderId: folder.id,
  });
  return { db, store, folder, col };
}

const entries = (n: number, prefix = 'img'): ScannedEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    entryPath: `${prefix}${i + 1}.jpg`,
    size: 1000 + i,
    mtimeMs: 5000 + i,
    failure: null,
  }));

const probeOk = { ok: true as const, format: 'jpeg', width: 4000, height: 3000, orientation: 1 };

/** Scans `n` images into a job and probes them all successfully. */
function scanned(store: JobStore, jobId: number, collectionId: number, n: number) {
  store.markStarted(jobId);
  store.recordScanBatch(jobId, collectionId, entries(n));
  const work = store.claimScanItems(jobId, n);
  store.completeScanItems(
    jobId,
    work.map((w) => ({ work: w, outcome: probeOk })),
  );
  store.finishScan(jobId);
}

function output(variant: 'thumbnail' | 'cache', imageId: number) {
  return {
    variant,
    settingsHash: 'h1',
    cacheFolderId: 1,
    relPath: `${imageId}-${variant}.jpg`,
    bytes: 100,
    width: 10,
    height: 10,
  };
}

function renderDone(store: JobStore, u: RenderUnit) {
  return store.completeRender(u, {
    kind: 'done',
    source: { format: 'jpeg', width: 4000, height: 3000, orientation: 1 },
    outputs: u.items.map((i) => output(i.variant, u.imageId)),
  });
}

describe('JobStore', () => {
  it('creates a queued job with three empty stages', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    expect(job.status).toBe('queued');
    const stages = store.stages(job.id);
    expect(Object.keys(stages).sort()).toEqual(['cache', 'scan', 'thumbnail']);
    expect(stages.scan.total).toBe(0);
  });

  it('makes render items runnable as soon as each scan batch is probed', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    store.markStarted(job.id);
    store.recordScanBatch(job.id, col.id, entries(3));
    const work = store.claimScanItems(job.id, 10);
    expect(work).toHaveLength(3);
    expect(store.stages(job.id).scan.running).toBe(3);
    store.completeScanItems(job.id, [
      { work: work[0]!, outcome: probeOk },
      { work: work[1]!, outcome: probeOk },
      { work: work[2]!, outcome: { ok: false, code: 'UNSUPPORTED', message: 'not an image' } },
    ]);
    const s = store.stages(job.id);
    expect(s.scan).toMatchObject({ total: 3, done: 2, failed: 1 });
    expect(s.thumbnail).toMatchObject({ total: 2, pending: 2 });
    expect(s.cache).toMatchObject({ total: 2, pending: 2 });
    // The scan is still walking: nothing can be terminal yet.
    expect(store.job(job.id)?.status).toBe('running');
    expect(store.pendingRenderUnits(job.id, 10, new Set())).toHaveLength(2);
  });

  it('turns the job terminal in the very transaction that ends its last item', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 2);
    const units = store.pendingRenderUnits(job.id, 10, new Set());
    expect(units.map((u) => u.items.length)).toEqual([2, 2]);
    const claimed = store.skipAndClaim(job.id, units, new Set());
    renderDone(store, claimed[0]!);
    expect(store.job(job.id)?.status).toBe('running');
    store.completeRender(claimed[1]!, {
      kind: 'failed',
      failure: { code: 'TRUNCATED', message: 'the file ends early' },
    });
    const j = store.job(job.id)!;
    expect(j.status).toBe('completed_with_errors');
    expect(j.finishedAt).not.toBeNull();
    const s = store.stages(job.id);
    expect(s.thumbnail.status).toBe('completed_with_errors');
    expect(s.scan.status).toBe('completed');
    expect(store.failedItems(job.id).map((f) => [f.path, f.stage, f.code])).toEqual([
      ['img2.jpg', 'thumbnail', 'TRUNCATED'],
      ['img2.jpg', 'cache', 'TRUNCATED'],
    ]);
  });

  it('completes an empty collection once its scan finishes', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    store.markStarted(job.id);
    expect(store.job(job.id)?.status).toBe('running');
    store.finishScan(job.id);
    expect(store.job(job.id)?.status).toBe('completed');
  });

  it('counts existing outputs as skipped, not as nothing', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 2);
    const units = store.pendingRenderUnits(job.id, 10, new Set());
    const skip = new Set(units.flatMap((u) => u.items.map((i) => i.id)));
    expect(store.skipAndClaim(job.id, units, skip)).toEqual([]);
    expect(store.stages(job.id).thumbnail).toMatchObject({ total: 2, skipped: 2 });
    expect(store.job(job.id)?.status).toBe('completed');
  });

  it('claims instead of skipping when the output vanished before the claiming transaction', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 1);
    const units = store.pendingRenderUnits(job.id, 10, new Set());
    const ids = new Set(units.flatMap((u) => u.items.map((i) => i.id)));
    const claimed = store.skipAndClaim(job.id, units, ids, Infinity, () => false);
    expect(claimed.flatMap((u) => u.items)).toHaveLength(2);
    expect(store.stages(job.id).thumbnail).toMatchObject({ skipped: 0, running: 1 });
  });

  it('fails an image with DECODER_CRASH after it was in flight for two crashes', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 1);
    let [u] = store.skipAndClaim(job.id, store.pendingRenderUnits(job.id, 1, new Set()), new Set());
    store.completeRender(u!, { kind: 'crashed', message: 'decoder died' });
    const again = store.pendingRenderUnits(job.id, 1, new Set());
    expect(again[0]?.crashes).toBe(1);
    [u] = store.skipAndClaim(job.id, again, new Set());
    store.completeRender(u!, { kind: 'crashed', message: 'decoder died' });
    const failed = store.failedItems(job.id);
    expect(failed.map((f) => f.code)).toEqual(['DECODER_CRASH', 'DECODER_CRASH']);
    expect(failed[0]?.attempts).toBe(2);
    expect(store.job(job.id)?.status).toBe('completed_with_errors');
  });

  it('puts interrupted items back without blame', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 1);
    const [u] = store.skipAndClaim(
      job.id,
      store.pendingRenderUnits(job.id, 1, new Set()),
      new Set(),
    );
    store.completeRender(u!, { kind: 'interrupted' });
    const [again] = store.pendingRenderUnits(job.id, 1, new Set());
    expect(again?.crashes).toBe(0);
    expect(store.stages(job.id).thumbnail.pending).toBe(1);
  });

  it('recovers running items of a dead run as pending, keeping the attempt count', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 3);
    store.skipAndClaim(job.id, store.pendingRenderUnits(job.id, 2, new Set()), new Set());
    expect(store.stages(job.id).thumbnail.running).toBe(2);
    const recovered = store.recoverInterrupted();
    expect(recovered).toHaveLength(4);
    const s = store.stages(job.id);
    expect(s.thumbnail).toMatchObject({ running: 0, pending: 3 });
    expect(store.item(recovered[0]!.itemId)?.attempts).toBe(1);
    expect(store.checkCounters(false)).toEqual([]);
  });

  it('pauses, resumes, cancels and retries through status derivation', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 2);
    expect(store.pause(job.id)).toBe(true);
    expect(store.job(job.id)?.status).toBe('paused');
    expect(store.runnableJobs()).toEqual([]);
    expect(store.resume(job.id)).toBe(true);
    expect(store.job(job.id)?.status).toBe('running');
    const claimed = store.skipAndClaim(
      job.id,
      store.pendingRenderUnits(job.id, 10, new Set()),
      new Set(),
    );
    for (const u of claimed) {
      store.completeRender(u, { kind: 'failed', failure: { code: 'CORRUPT', message: 'bad' } });
    }
    expect(store.job(job.id)?.status).toBe('completed_with_errors');
    expect(store.pause(job.id)).toBe(false);
    expect(store.retryFailed(job.id)).toBe(4);
    expect(store.job(job.id)?.status).toBe('running');
    expect(store.cancel(job.id)).toBe(true);
    expect(store.job(job.id)?.status).toBe('cancelled');
    expect(store.stages(job.id).thumbnail.pending).toBe(2);
  });

  it('re-scanning an unchanged image reuses its metadata; a changed one loses its outputs', () => {
    const { store, col } = setup();
    const first = store.createJob(col.id);
    scanned(store, first.id, col.id, 2);
    for (const u of store.skipAndClaim(
      first.id,
      store.pendingRenderUnits(first.id, 10, new Set()),
      new Set(),
    )) {
      renderDone(store, u);
    }
    expect(store.job(first.id)?.status).toBe('completed');
    expect(store.cacheFolder(1)).toMatchObject({ files: 4, bytes: 400 });

    const second = store.createJob(col.id);
    store.markStarted(second.id);
    const changed = entries(2);
    changed[1] = { ...changed[1]!, size: 9999 };
    const gone = store.recordScanBatch(second.id, col.id, changed);
    expect(gone.map((g) => g.relPath).sort()).toEqual(['2-cache.jpg', '2-thumbnail.jpg']);
    expect(store.cacheFolder(1)).toMatchObject({ files: 2, bytes: 200 });
    const s = store.stages(second.id);
    expect(s.scan).toMatchObject({ total: 2, done: 1, pending: 1 });
    expect(s.thumbnail).toMatchObject({ total: 1, pending: 1 });
  });

  it('records a newer output and hands back the stale one made with other settings', () => {
    const { store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 1);
    const [u] = store.skipAndClaim(
      job.id,
      store.pendingRenderUnits(job.id, 1, new Set()),
      new Set(),
    );
    renderDone(store, u!);
    store.retryFailed(job.id);
    const job2 = store.createJob(col.id);
    store.markStarted(job2.id);
    store.recordScanBatch(job2.id, col.id, entries(1));
    const [u2] = store.skipAndClaim(
      job2.id,
      store.pendingRenderUnits(job2.id, 1, new Set()),
      new Set(),
    );
    const gone = store.completeRender(u2!, {
      kind: 'done',
      source: { format: 'jpeg', width: 1, height: 1, orientation: 1 },
      outputs: u2!.items.map((i) => ({
        ...output(i.variant, u2!.imageId),
        settingsHash: 'h2',
        relPath: `new-${i.variant}.jpg`,
      })),
    });
    expect(gone.map((g) => g.relPath).sort()).toEqual(['1-cache.jpg', '1-thumbnail.jpg']);
    expect(store.output(u2!.imageId, 'thumbnail', 'h1')).toBeUndefined();
    expect(store.output(u2!.imageId, 'thumbnail', 'h2')?.relPath).toBe('new-thumbnail.jpg');
    expect(store.cacheFolder(1)).toMatchObject({ files: 2, bytes: 200 });
  });

  it('keeps counters equal to item rows through a random sequence of transitions', () => {
    const { store, col } = setup();
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const jobs = [store.createJob(col.id).id, store.createJob(col.id).id];
    jobs.forEach((j, k) => {
      store.markStarted(j);
      store.recordScanBatch(j, col.id, entries(30, `j${k}-`));
    });
    for (let step = 0; step < 400; step++) {
      const j = jobs[rand(2)]!;
      switch (rand(7)) {
        case 0: {
          const w = store.claimScanItems(j, 1 + rand(5));
          store.completeScanItems(
            j,
            w.map((work) => ({
              work,
              outcome: rand(4) ? probeOk : { ok: false, code: 'CORRUPT', message: 'x' },
            })),
          );
          break;
        }
        case 1: {
          const units = store.pendingRenderUnits(j, 1 + rand(4), new Set());
          const skip = new Set(
            units.filter(() => rand(3) === 0).flatMap((u) => u.items.map((i) => i.id)),
          );
          for (const u of store.skipAndClaim(j, units, skip)) {
            const r = rand(4);
            if (r === 0) renderDone(store, u);
            else if (r === 1) store.completeRender(u, { kind: 'crashed', message: 'x' });
            else if (r === 2) store.completeRender(u, { kind: 'interrupted' });
            else
              store.completeRender(u, {
                kind: 'failed',
                failure: { code: 'TIMEOUT', message: 'x' },
              });
          }
          break;
        }
        case 2:
          store.retryFailed(j);
          break;
        case 3:
          if (rand(2)) store.pause(j);
          else store.resume(j);
          break;
        case 4:
          store.skipAndClaim(j, store.pendingRenderUnits(j, 2, new Set()), new Set());
          break;
        case 5:
          store.recoverInterrupted();
          break;
        default:
          if (rand(5) === 0) store.finishScan(j);
      }
      expect(store.checkCounters(false)).toEqual([]);
    }
  });

  it('detects and repairs counters that drifted from the item rows', () => {
    const { db, store, col } = setup();
    const job = store.createJob(col.id);
    scanned(store, job.id, col.id, 3);
    db.prepare(`UPDATE stages SET done = done + 5 WHERE job_id = ? AND stage = 'scan'`).run(job.id);
    const drift = store.checkCounters(true);
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ stage: 'scan' satisfies StageName });
    expect(drift[0]!.stored.done - drift[0]!.actual.done).toBe(5);
    expect(store.checkCounters(false)).toEqual([]);
  });
});
