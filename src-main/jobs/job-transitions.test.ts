import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../store/store.ts';
import type { RenderUnit, ScannedEntry } from '../store/rows.ts';
import { JobTransitions, KEPT_RESCANS, isUnchanged } from './job-transitions.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir();

function setup() {
  let t = 1_000;
  const store = Store.open(join(tempDir(), 'store.db'), { clock: () => ++t });
  const jobs = new JobTransitions(store);
  const folder = store.transition((tx) => tx.cacheFolders.ensure('/cache', tx.now));
  const col = store.transition((tx) =>
    tx.collections.upsert(
      { kind: 'folder', root: '/photos', name: 'photos', cacheFolderId: folder.id },
      tx.now,
    ),
  );
  return { store, jobs, folder, col };
}

const entries = (n: number, prefix = 'img'): ScannedEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    entryPath: `${prefix}${i + 1}.jpg`,
    size: 1000 + i,
    mtimeMs: 5000 + i,
    failure: null,
  }));

/** The settings hashes the scans see as current (output() makes 'h1' outputs). */
const H = { thumbnail: 'h1', cache: 'h1' };

const probeOk = { ok: true as const, format: 'jpeg', width: 4000, height: 3000, orientation: 1 };

/** Scans `n` images into a job and probes them all successfully. */
function scanned(jobs: JobTransitions, jobId: number, collectionId: number, n: number) {
  jobs.markStarted(jobId);
  const seen = jobs.recordScanBatch(jobId, collectionId, entries(n), H);
  const work = jobs.claimScanItems(jobId, n);
  jobs.completeScanItems(
    jobId,
    work.map((w) => ({ work: w, outcome: probeOk })),
  );
  jobs.finishScan(jobId, new Set(seen));
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

/** Claims up to `n` pending render units of a job and finishes each as rendered. */
function renderPending(jobs: JobTransitions, jobId: number, n: number): void {
  for (const u of jobs.skipAndClaim(
    jobId,
    jobs.pendingRenderUnits(jobId, n, new Set()),
    new Set(),
  )) {
    renderDone(jobs, u);
  }
}

function renderDone(jobs: JobTransitions, u: RenderUnit) {
  return jobs.completeRender(u, {
    kind: 'done',
    source: { format: 'jpeg', width: 4000, height: 3000, orientation: 1 },
    outputs: u.items.map((i) => output(i.variant, u.imageId)),
  });
}

describe('JobTransitions', () => {
  it('keeps the newest finished rescans of a collection and those with failures, not one per change', () => {
    const { store, jobs, col } = setup();
    let failedJob = 0;
    for (let r = 0; r < KEPT_RESCANS + 10; r++) {
      const job = jobs.openOrCreateJob(col.id, 'rescan');
      jobs.markStarted(job.id);
      const seen = jobs.recordScanBatch(job.id, col.id, entries(1, `r${r}-`), H);
      const work = jobs.claimScanItems(job.id, 1);
      const fails = r === 2;
      jobs.completeScanItems(
        job.id,
        work.map((w) => ({
          work: w,
          outcome: fails
            ? { ok: false as const, code: 'CORRUPT' as const, message: 'truncated' }
            : probeOk,
        })),
      );
      // Every image seen so far stays (each rescan adds one file).
      jobs.finishScan(job.id, new Set([...store.images.idsOf(col.id), ...seen]));
      renderPending(jobs, job.id, 10);
      expect(store.jobs.get(job.id)!.finishedAt).not.toBeNull();
      if (fails) failedJob = job.id;
    }
    jobs.openOrCreateJob(col.id, 'rescan');
    const rescans = store.jobs.page(1000, 0).filter((j) => j.kind === 'rescan' && j.finishedAt);
    expect(rescans).toHaveLength(KEPT_RESCANS + 1);
    expect(rescans.map((j) => j.id)).toContain(failedJob);
    expect(store.images.idsOf(col.id)).toHaveLength(KEPT_RESCANS + 10);
  });

  it('creates a queued job with three empty stages', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    expect(job.status).toBe('queued');
    const stages = store.jobs.stages(job.id);
    expect(Object.keys(stages).sort()).toEqual(['cache', 'scan', 'thumbnail']);
    expect(stages.scan.total).toBe(0);
  });

  it('makes render items runnable as soon as each scan batch is probed', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    jobs.markStarted(job.id);
    jobs.recordScanBatch(job.id, col.id, entries(3), H);
    const work = jobs.claimScanItems(job.id, 10);
    expect(work).toHaveLength(3);
    expect(store.jobs.stages(job.id).scan.running).toBe(3);
    jobs.completeScanItems(job.id, [
      { work: work[0]!, outcome: probeOk },
      { work: work[1]!, outcome: probeOk },
      { work: work[2]!, outcome: { ok: false, code: 'UNSUPPORTED', message: 'not an image' } },
    ]);
    const s = store.jobs.stages(job.id);
    expect(s.scan).toMatchObject({ total: 3, done: 2, failed: 1 });
    expect(s.thumbnail).toMatchObject({ total: 2, pending: 2 });
    expect(s.cache).toMatchObject({ total: 2, pending: 2 });
    // The scan is still walking: nothing can be terminal yet.
    expect(store.jobs.get(job.id)?.status).toBe('running');
    expect(jobs.pendingRenderUnits(job.id, 10, new Set())).toHaveLength(2);
  });

  it('turns the job terminal in the very transaction that ends its last item', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 2);
    const units = jobs.pendingRenderUnits(job.id, 10, new Set());
    expect(units.map((u) => u.items.length)).toEqual([2, 2]);
    const claimed = jobs.skipAndClaim(job.id, units, new Set());
    renderDone(jobs, claimed[0]!);
    expect(store.jobs.get(job.id)?.status).toBe('running');
    jobs.completeRender(claimed[1]!, {
      kind: 'failed',
      failure: { code: 'TRUNCATED', message: 'the file ends early' },
    });
    const j = store.jobs.get(job.id)!;
    expect(j.status).toBe('completed_with_errors');
    expect(j.finishedAt).not.toBeNull();
    const s = store.jobs.stages(job.id);
    expect(s.thumbnail.status).toBe('completed_with_errors');
    expect(s.scan.status).toBe('completed');
    expect(store.failures.failedPage(job.id, 200, 0).map((f) => [f.path, f.stage, f.code])).toEqual(
      [
        ['img2.jpg', 'thumbnail', 'TRUNCATED'],
        ['img2.jpg', 'cache', 'TRUNCATED'],
      ],
    );
  });

  it('completes an empty collection once its scan finishes', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    jobs.markStarted(job.id);
    expect(store.jobs.get(job.id)?.status).toBe('running');
    jobs.finishScan(job.id, new Set());
    expect(store.jobs.get(job.id)?.status).toBe('completed');
  });

  it('counts existing outputs as skipped, not as nothing', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 2);
    const units = jobs.pendingRenderUnits(job.id, 10, new Set());
    const skip = new Set(units.flatMap((u) => u.items.map((i) => i.id)));
    expect(jobs.skipAndClaim(job.id, units, skip)).toEqual([]);
    expect(store.jobs.stages(job.id).thumbnail).toMatchObject({ total: 2, skipped: 2 });
    expect(store.jobs.get(job.id)?.status).toBe('completed');
  });

  it('claims instead of skipping when the output vanished before the claiming transaction', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 1);
    const units = jobs.pendingRenderUnits(job.id, 10, new Set());
    const ids = new Set(units.flatMap((u) => u.items.map((i) => i.id)));
    const claimed = jobs.skipAndClaim(job.id, units, ids, Infinity, () => false);
    expect(claimed.flatMap((u) => u.items)).toHaveLength(2);
    expect(store.jobs.stages(job.id).thumbnail).toMatchObject({ skipped: 0, running: 1 });
  });

  it('fails an image with DECODER_CRASH after it was in flight for two crashes', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 1);
    let [u] = jobs.skipAndClaim(job.id, jobs.pendingRenderUnits(job.id, 1, new Set()), new Set());
    jobs.completeRender(u!, { kind: 'crashed', code: 'DECODER_CRASH', message: 'decoder died' });
    const again = jobs.pendingRenderUnits(job.id, 1, new Set());
    expect(again[0]?.crashes).toBe(1);
    [u] = jobs.skipAndClaim(job.id, again, new Set());
    jobs.completeRender(u!, { kind: 'crashed', code: 'DECODER_CRASH', message: 'decoder died' });
    const failed = store.failures.failedPage(job.id, 200, 0);
    expect(failed.map((f) => f.code)).toEqual(['DECODER_CRASH', 'DECODER_CRASH']);
    expect(failed[0]?.attempts).toBe(2);
    expect(store.jobs.get(job.id)?.status).toBe('completed_with_errors');
  });

  it('puts interrupted items back without blame', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 1);
    const [u] = jobs.skipAndClaim(job.id, jobs.pendingRenderUnits(job.id, 1, new Set()), new Set());
    jobs.completeRender(u!, { kind: 'interrupted' });
    const [again] = jobs.pendingRenderUnits(job.id, 1, new Set());
    expect(again?.crashes).toBe(0);
    expect(store.jobs.stages(job.id).thumbnail.pending).toBe(1);
  });

  it('recovers running items of a dead run as pending, keeping the attempt count', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 3);
    jobs.skipAndClaim(job.id, jobs.pendingRenderUnits(job.id, 2, new Set()), new Set());
    expect(store.jobs.stages(job.id).thumbnail.running).toBe(2);
    const recovered = jobs.recoverInterrupted();
    expect(recovered).toHaveLength(4);
    const s = store.jobs.stages(job.id);
    expect(s.thumbnail).toMatchObject({ running: 0, pending: 3 });
    expect(store.items.get(recovered[0]!.itemId)?.attempts).toBe(1);
    expect(store.diagnostics.counterDrift()).toEqual([]);
  });

  it('pauses, resumes, cancels and retries through status derivation', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 2);
    expect(jobs.pause(job.id)).toBe(true);
    expect(store.jobs.get(job.id)?.status).toBe('paused');
    expect(store.jobs.runnable()).toEqual([]);
    expect(jobs.resume(job.id)).toBe(true);
    expect(store.jobs.get(job.id)?.status).toBe('running');
    const claimed = jobs.skipAndClaim(
      job.id,
      jobs.pendingRenderUnits(job.id, 10, new Set()),
      new Set(),
    );
    for (const u of claimed) {
      jobs.completeRender(u, { kind: 'failed', failure: { code: 'CORRUPT', message: 'bad' } });
    }
    expect(store.jobs.get(job.id)?.status).toBe('completed_with_errors');
    expect(jobs.pause(job.id)).toBe(false);
    expect(jobs.retryFailed(job.id)).toBe(4);
    expect(store.jobs.get(job.id)?.status).toBe('running');
    expect(jobs.cancel(job.id)).toBe(true);
    expect(store.jobs.get(job.id)?.status).toBe('cancelled');
    expect(store.jobs.stages(job.id).thumbnail.pending).toBe(2);
  });

  it('re-scanning an unchanged image reuses its metadata; a changed one loses its outputs', () => {
    const { store, jobs, col } = setup();
    const first = jobs.createJob(col.id);
    scanned(jobs, first.id, col.id, 2);
    renderPending(jobs, first.id, 10);
    expect(store.jobs.get(first.id)?.status).toBe('completed');
    expect(store.cacheFolders.get(1)).toMatchObject({ files: 4, bytes: 400 });

    const second = jobs.createJob(col.id);
    jobs.markStarted(second.id);
    const changed = entries(2);
    changed[1] = { ...changed[1]!, size: 9999 };
    jobs.recordScanBatch(second.id, col.id, changed, H);
    // The changed image keeps its outputs (shown until their replacements are
    // written) and is read again; the unchanged one needs no item at all.
    expect(store.cacheFolders.get(1)).toMatchObject({ files: 4, bytes: 400 });
    const image2 = store.images.byPath(col.id, 'img2.jpg')!;
    expect(image2.version).toBe(2);
    expect(store.outputs.ofImage(image2.id).map((o) => o.sourceVersion)).toEqual([1, 1]);
    const s = store.jobs.stages(second.id);
    expect(s.scan).toMatchObject({ total: 1, pending: 1 });
    expect(s.thumbnail).toMatchObject({ total: 0 });
  });

  it('remakes the outputs of an unchanged image that were made from an older version of it', () => {
    // The batch's one query counts current outputs: same settings is not enough,
    // they must be made from the image's present version.
    const { store, jobs, col } = setup();
    const first = jobs.createJob(col.id);
    scanned(jobs, first.id, col.id, 1);
    renderPending(jobs, first.id, 1);
    // Changed in place and read again, but cancelled before its outputs were remade.
    const second = jobs.createJob(col.id);
    jobs.markStarted(second.id);
    const changed = [{ ...entries(1)[0]!, size: 4321 }];
    jobs.recordScanBatch(second.id, col.id, changed, H);
    jobs.completeScanItems(
      second.id,
      jobs.claimScanItems(second.id, 1).map((w) => ({ work: w, outcome: probeOk })),
    );
    jobs.cancel(second.id);
    const img = store.images.byPath(col.id, 'img1.jpg')!;
    expect(store.outputs.ofImage(img.id).map((o) => o.sourceVersion)).toEqual([1, 1]);

    const third = jobs.createJob(col.id);
    jobs.markStarted(third.id);
    jobs.recordScanBatch(third.id, col.id, changed, H);
    const s = store.jobs.stages(third.id);
    expect([s.scan.total, s.thumbnail.pending, s.cache.pending]).toEqual([0, 1, 1]);
  });

  it('looks up again an image that an earlier entry of the same batch moved away', () => {
    const { store, jobs, col } = setup();
    const first = jobs.createJob(col.id);
    jobs.markStarted(first.id);
    const [x] = jobs.recordScanBatch(
      first.id,
      col.id,
      [{ ...entries(1)[0]!, fingerprint: 'fp' }],
      H,
    );
    const job = jobs.createJob(col.id);
    jobs.markStarted(job.id);
    // The first entry is the file moved; the second a new file at its old path.
    const seen = jobs.recordScanBatch(
      job.id,
      col.id,
      [
        { ...entries(1, 'moved-')[0]!, size: 1000, mtimeMs: 5000, fingerprint: 'fp', movedFrom: x },
        entries(1)[0]!,
      ],
      H,
    );
    const fresh = store.images.byPath(col.id, 'img1.jpg')!;
    expect(store.images.get(x!)?.entryPath).toBe('moved-1.jpg');
    expect(fresh.id).not.toBe(x);
    expect(seen).toEqual([x, fresh.id]);
    expect(store.items.byKey(job.id, 'scan', fresh.id)?.state).toBe('pending');
  });

  it('records a newer output and hands back the stale one made with other settings', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    scanned(jobs, job.id, col.id, 1);
    const [u] = jobs.skipAndClaim(job.id, jobs.pendingRenderUnits(job.id, 1, new Set()), new Set());
    renderDone(jobs, u!);
    jobs.retryFailed(job.id);
    const job2 = jobs.createJob(col.id);
    jobs.markStarted(job2.id);
    jobs.recordScanBatch(job2.id, col.id, entries(1), { thumbnail: 'h2', cache: 'h2' });
    const [u2] = jobs.skipAndClaim(
      job2.id,
      jobs.pendingRenderUnits(job2.id, 1, new Set()),
      new Set(),
    );
    const gone = jobs.completeRender(u2!, {
      kind: 'done',
      source: { format: 'jpeg', width: 1, height: 1, orientation: 1 },
      outputs: u2!.items.map((i) => ({
        ...output(i.variant, u2!.imageId),
        settingsHash: 'h2',
        relPath: `new-${i.variant}.jpg`,
      })),
    });
    expect(gone.map((g) => g.relPath).sort()).toEqual(['1-cache.jpg', '1-thumbnail.jpg']);
    expect(store.outputs.byKey(u2!.imageId, 'thumbnail', 'h1')).toBeUndefined();
    expect(store.outputs.byKey(u2!.imageId, 'thumbnail', 'h2')?.relPath).toBe('new-thumbnail.jpg');
    expect(store.cacheFolders.get(1)).toMatchObject({ files: 2, bytes: 200 });
  });

  it('reads a file again when it changed before the same job walked it a second time', () => {
    // Found by the hostile review of the foundations: a walk restarted (after a
    // pause or a kill mid-scan) met a changed file whose items were already done
    // in this job; the old code deleted its outputs and left the items done.
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    jobs.markStarted(job.id);
    const seen = jobs.recordScanBatch(job.id, col.id, entries(2), H);
    jobs.completeScanItems(
      job.id,
      jobs.claimScanItems(job.id, 10).map((w) => ({ work: w, outcome: probeOk })),
    );
    renderPending(jobs, job.id, 10);
    const changed = entries(2);
    changed[0] = { ...changed[0]!, size: 4321, mtimeMs: 9999 };
    jobs.recordScanBatch(job.id, col.id, changed, H);
    const img = store.images.byPath(col.id, 'img1.jpg')!;
    expect(img.version).toBe(2);
    expect(store.items.byKey(job.id, 'scan', img.id)?.state).toBe('pending');
    expect(store.items.byKey(job.id, 'thumbnail', img.id)).toBeUndefined();
    jobs.completeScanItems(
      job.id,
      jobs.claimScanItems(job.id, 10).map((w) => ({ work: w, outcome: probeOk })),
    );
    jobs.finishScan(job.id, new Set(seen));
    expect(store.jobs.get(job.id)?.status).toBe('running');
    const units = jobs.pendingRenderUnits(job.id, 10, new Set());
    expect(units.map((u) => [u.imageId, u.version, u.items.length])).toEqual([[img.id, 2, 2]]);
    for (const u of jobs.skipAndClaim(job.id, units, new Set())) renderDone(jobs, u);
    expect(store.jobs.get(job.id)?.status).toBe('completed');
    expect(store.outputs.ofImage(img.id).map((o) => o.sourceVersion)).toEqual([2, 2]);
    expect(store.diagnostics.counterDrift()).toEqual([]);
  });

  it('tells an archive entry by its CRC, a file by its time', () => {
    const known = { size: 10, mtimeMs: 5000, fingerprint: 'za:1' };
    const same = { size: 10, mtimeMs: 5000, fingerprint: 'za:1' };
    // An archive entry: a new DOS time on the same bytes is no change…
    expect(isUnchanged('archive', known, { ...same, mtimeMs: 9000.4 })).toBe(true);
    // …and other bytes are one, whatever the size and time say.
    expect(isUnchanged('archive', known, { ...same, fingerprint: 'za:2' })).toBe(false);
    expect(isUnchanged('archive', known, { ...same, size: 11 })).toBe(false);
    // Recorded without a fingerprint (an older library): compared by time.
    expect(isUnchanged('archive', { ...known, fingerprint: null }, same)).toBe(true);
    expect(isUnchanged('archive', { ...known, fingerprint: null }, { ...same, mtimeMs: 1 })).toBe(
      false,
    );
    // A file: by size and time (its fingerprint is only read when those differ).
    expect(isUnchanged('folder', known, { ...same, fingerprint: 'other' })).toBe(true);
    expect(isUnchanged('folder', known, { ...same, mtimeMs: 5000.4 })).toBe(true);
    expect(isUnchanged('folder', known, { ...same, mtimeMs: 9000 })).toBe(false);
  });

  it('moves an image that could not be read without asking for its previews', () => {
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    jobs.markStarted(job.id);
    const e = { ...entries(1)[0]!, fingerprint: 'f1' };
    const [id] = jobs.recordScanBatch(job.id, col.id, [e], H);
    jobs.completeScanItems(
      job.id,
      jobs.claimScanItems(job.id, 10).map((w) => ({
        work: w,
        outcome: { ok: false as const, code: 'CORRUPT' as const, message: 'not a JPEG' },
      })),
    );
    jobs.finishScan(job.id, new Set([id!]));
    const second = jobs.createJob(col.id);
    jobs.markStarted(second.id);
    jobs.recordScanBatch(second.id, col.id, [{ ...e, entryPath: 'moved.jpg', movedFrom: id }], H);
    expect(store.images.byPath(col.id, 'moved.jpg')?.id).toBe(id);
    // Its verdict moves with it: not read again, and no preview of it is tried.
    const s = store.jobs.stages(second.id);
    expect([s.scan.total, s.thumbnail.total, s.cache.total]).toEqual([0, 0, 0]);
  });

  it('walks once more when a rescan is asked for while the walk is under way', () => {
    // A watched folder changes while its walk is past the change: the walk that
    // began before the request must not end the scan.
    const { store, jobs, col } = setup();
    const job = jobs.createJob(col.id);
    jobs.markStarted(job.id);
    const began = store.jobs.get(job.id)!.walkRequests;
    const seen = jobs.recordScanBatch(job.id, col.id, entries(2), H);
    expect(jobs.openOrCreateJob(col.id, 'rescan').id).toBe(job.id);
    jobs.finishScan(job.id, new Set(seen), began);
    expect(store.jobs.get(job.id)?.scanFinished).toBe(false);
    const again = store.jobs.get(job.id)!.walkRequests;
    jobs.finishScan(job.id, new Set(seen), again);
    expect(store.jobs.get(job.id)?.scanFinished).toBe(true);
  });

  it('keeps counters equal to item rows through a random sequence of transitions', () => {
    const { store, jobs, col } = setup();
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const ids = [jobs.createJob(col.id).id, jobs.createJob(col.id).id];
    const all = new Set<number>();
    ids.forEach((j, k) => {
      jobs.markStarted(j);
      for (const id of jobs.recordScanBatch(j, col.id, entries(30, `j${k}-`), H)) all.add(id);
    });
    for (let step = 0; step < 400; step++) {
      const j = ids[rand(2)]!;
      switch (rand(7)) {
        case 0: {
          const w = jobs.claimScanItems(j, 1 + rand(5));
          jobs.completeScanItems(
            j,
            w.map((work) => ({
              work,
              outcome: rand(4) ? probeOk : { ok: false, code: 'CORRUPT', message: 'x' },
            })),
          );
          break;
        }
        case 1: {
          const units = jobs.pendingRenderUnits(j, 1 + rand(4), new Set());
          const skip = new Set(
            units.filter(() => rand(3) === 0).flatMap((u) => u.items.map((i) => i.id)),
          );
          for (const u of jobs.skipAndClaim(j, units, skip)) {
            const r = rand(4);
            if (r === 0) renderDone(jobs, u);
            else if (r === 1)
              jobs.completeRender(u, { kind: 'crashed', code: 'DECODER_CRASH', message: 'x' });
            else if (r === 2) jobs.completeRender(u, { kind: 'interrupted' });
            else
              jobs.completeRender(u, {
                kind: 'failed',
                failure: { code: 'TIMEOUT', message: 'x' },
              });
          }
          break;
        }
        case 2:
          jobs.retryFailed(j);
          break;
        case 3:
          if (rand(2)) jobs.pause(j);
          else jobs.resume(j);
          break;
        case 4:
          jobs.skipAndClaim(j, jobs.pendingRenderUnits(j, 2, new Set()), new Set());
          break;
        case 5:
          jobs.recoverInterrupted();
          break;
        default:
          if (rand(5) === 0) jobs.finishScan(j, all);
      }
      expect(store.diagnostics.counterDrift()).toEqual([]);
    }
  });
});
