import type { Store, Tx } from '../store/store.ts';
import type {
  ImageRow,
  InterruptedItem,
  JobRow,
  MountPoint,
  OutputRecord,
  PauseReason,
  RenderUnit,
  ScannedEntry,
  ScanWork,
  Unreferenced,
} from '../store/rows.ts';
import type { ImageMeta } from '../store/images.repo.ts';
import type { PhotoMeta } from '../../src-shared/render-task.ts';
import {
  VARIANTS,
  type CollectionKind,
  type Failure,
  type JobKind,
  type Variant,
} from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { noCrash, type CrashHook } from '../../src-shared/crash-points.ts';

/** After this many suspect events (decoder crash, timeout) with an image in flight, it fails. */
export const MAX_SUSPECT_EVENTS = 2;

/** Finished rescans kept per collection besides those with failures (see dropOldRescans). */
export const KEPT_RESCANS = 20;

/**
 * How long an image a rescan found gone is kept (hidden, with its outputs) for
 * another collection's walk to find it moved there, when that collection is
 * not walked sooner.
 */
export const GONE_GRACE_MS = 60 * 60 * 1000;

/**
 * Another collection's walk that began at most this long before the walk that
 * found an image gone still counts as having looked for it: collections
 * rescanned together start within moments of each other. (One queued behind
 * a long walk starts later; the images it finds gone wait for GONE_GRACE_MS
 * or the next walk of the others, hidden.)
 */
export const WALK_SLACK_MS = 2000;

/**
 * Whether a scanned entry is still the file the library has at that path. A
 * file: the same size and modification time. An archive entry: the same size
 * and CRC-32 (its fingerprint, which the walk reads from the central
 * directory), whatever its DOS time says: a rewritten zip may stamp new times
 * on the same bytes, or keep the time of changed ones. An archive image
 * recorded without a fingerprint is compared by time, as before.
 */
export function isUnchanged(
  kind: CollectionKind,
  known: Pick<ImageRow, 'size' | 'mtimeMs' | 'fingerprint'>,
  e: Pick<ScannedEntry, 'size' | 'mtimeMs' | 'fingerprint'>,
): boolean {
  if (known.size !== e.size) return false;
  if (kind === 'archive' && known.fingerprint !== null && e.fingerprint) {
    return known.fingerprint === e.fingerprint;
  }
  return known.mtimeMs === Math.round(e.mtimeMs);
}

/** What probing an image found: its header metadata, or why it is not usable. */
export type ScanOutcome = ({ ok: true } & ImageMeta) | ({ ok: false } & Failure);

/** How a render unit ended, as the scheduler reports it. */
export type RenderOutcome =
  | {
      kind: 'done';
      source: ImageMeta;
      /** What the photo's EXIF and XMP say; absent leaves what is recorded. */
      meta?: PhotoMeta;
      outputs: OutputRecord[];
      contentHash?: string | null;
    }
  | { kind: 'failed'; failure: Failure }
  /**
   * The image was in flight when the decoder crashed or timed out: it runs alone
   * next time, and fails with `code` after MAX_SUSPECT_EVENTS.
   */
  | { kind: 'crashed'; code: 'DECODER_CRASH' | 'TIMEOUT'; message: string }
  /** Failed beside other decodes: run again alone, whose verdict (and message) stands. */
  | { kind: 'confirm' }
  /** Stopped through no fault of the image (shutdown, a host killed from outside, no room). */
  | { kind: 'interrupted' };

/**
 * The job state machine: every change to jobs, items and the outputs they make
 * is one method here, and every method is exactly one `Store.transition`, so
 * the item's change, its stage's counters and the derived statuses commit
 * together. Files the change made unreferenced are returned for deletion after
 * the commit.
 */
export class JobTransitions {
  private readonly store: Store;
  private readonly crash: CrashHook;

  constructor(store: Store, opts: { crash?: CrashHook } = {}) {
    this.store = store;
    this.crash = opts.crash ?? noCrash;
  }

  private job(tx: Tx, id: number): JobRow {
    const j = tx.jobs.get(id);
    if (!j) throw new Error(`job ${id} does not exist`);
    return j;
  }

  /** Creates a job with its three stages for a collection. */
  createJob(collectionId: number, kind: JobKind = 'import'): JobRow {
    return this.store.transition((tx) => this.job(tx, tx.jobs.insert(collectionId, tx.now, kind)));
  }

  /**
   * The collection's unfinished job, or a new one (a re-import or rescan joins
   * instead of racing it). An open job that has finished its walk cannot see
   * what changed since: it walks again.
   */
  openOrCreateJob(collectionId: number, kind: JobKind = 'import'): JobRow {
    return this.store.transition((tx) => {
      const open = tx.jobs.openOfCollection(collectionId);
      if (!open) {
        // Earlier rescans that found nothing tell nothing: one per collection at most;
        // of those that did, the newest few (and any with failures) are kept.
        if (kind === 'rescan') {
          tx.jobs.dropEmptyRescans(collectionId);
          tx.jobs.dropOldRescans(collectionId, KEPT_RESCANS);
        }
        return this.createJob(collectionId, kind);
      }
      // Walked again even if a walk is under way: it may have passed the change already.
      if (!open.cancelled) tx.jobs.requestWalk(open.id, tx.now);
      return this.job(tx, open.id);
    });
  }

  /**
   * The collection's root cannot be reached: it is offline (nothing of it is
   * removed) and its open jobs wait, paused SOURCE_OFFLINE with `detail`.
   * Returns the jobs that were paused.
   */
  goOffline(collectionId: number, detail: string): number[] {
    return this.store.transition((tx) => {
      tx.collections.setOffline(collectionId, tx.now);
      const paused: number[] = [];
      for (const j of tx.jobs.unfinishedOf(collectionId)) {
        if (j.paused && j.pauseReason === 'user') continue;
        tx.jobs.setPaused(j.id, 'SOURCE_OFFLINE', tx.now, detail);
        paused.push(j.id);
      }
      return paused;
    });
  }

  /**
   * The root is back: online again, its waiting jobs resume, and it is walked
   * again (its open job, or a new rescan job). Returns the job that walks.
   */
  backOnline(collectionId: number): JobRow {
    return this.store.transition((tx) => {
      tx.collections.setOnline(collectionId, tx.now);
      for (const j of tx.jobs.unfinishedOf(collectionId)) {
        if (j.paused && j.pauseReason === 'SOURCE_OFFLINE') tx.jobs.setPaused(j.id, null, tx.now);
      }
      return this.openOrCreateJob(collectionId, 'rescan');
    });
  }

  /** Claimed scan items go back to pending, no attempt counted (their root went away). */
  releaseScanItems(work: readonly ScanWork[]): void {
    this.store.transition((tx) => {
      for (const w of work) tx.items.requeue(w.itemId, tx.now, true);
    });
  }

  /**
   * First step of removing a collection: it disappears from every list and its
   * open jobs are cancelled, so nothing is handed out for it. `finishRemoval`
   * deletes the rows (and the files unless `keepFiles`, recorded here so
   * that a removal finished after a crash keeps them too); `removeCollection`
   * does both.
   */
  beginRemoval(collectionId: number, keepFiles = false): void {
    this.store.transition((tx) => {
      tx.collections.markRemoving(collectionId, keepFiles);
      for (const j of tx.jobs.unfinishedOf(collectionId)) tx.jobs.setCancelled(j.id, tx.now);
    });
    this.crash('in-removal');
  }

  /**
   * Second step: the collection's images, items, jobs and outputs go in one
   * transition, their files (unless `keepFiles`, by default what `beginRemoval`
   * recorded) queued for deletion in the same commit. Returns how many images
   * and files.
   */
  finishRemoval(collectionId: number, keepFiles?: boolean): { images: number; files: number } {
    return this.store.transition((tx) => {
      keepFiles ??= tx.collections.get(collectionId)?.keepFilesOnRemoval ?? false;
      const images = tx.images.countOf(collectionId);
      const files = tx.images.outputFilesOf(collectionId);
      if (!keepFiles) for (const f of files) tx.fileDeletions.add(f.cacheFolderId, f.relPath);
      this.crash('in-removal');
      tx.collections.remove(collectionId);
      return { images, files: files.length };
    });
  }

  /**
   * A collection whose root lies inside a newly imported folder becomes part of
   * it (the same file is never in two collections): its images move in with
   * their ids, metadata and outputs (nothing is rendered again); its own row,
   * jobs and items go. Part of the import's transition. Returns how many images.
   */
  absorbCollection(tx: Tx, childId: number, parentId: number, prefix: string): number {
    const n = tx.images.reparentAll(childId, parentId, prefix);
    tx.collections.remove(childId);
    return n;
  }

  /** Whether a collection follows the disk (null: the library's setting decides). */
  setWatch(collectionId: number, watch: boolean | null): void {
    this.store.transition((tx) => tx.collections.setWatch(collectionId, watch));
  }

  markStarted(jobId: number): void {
    this.store.transition((tx) => tx.jobs.setStarted(jobId, tx.now));
  }

  /** The whole job cannot go on (its collection is gone or unreadable). */
  failJob(jobId: number, failure: Failure): void {
    this.store.transition((tx) => tx.jobs.setError(jobId, failure, tx.now));
  }

  /**
   * The scan has walked the whole collection: the stages' inputs are complete.
   * The collection's images the walk did not see (`seen`) are gone: hidden at
   * once and no longer waited for; they are deleted with their outputs once
   * no walk of the library may still find where they moved (see `purgeGone`).
   * `walk.rootDev` is the device the walk found the root on (see
   * `rootUnreachable`), `walk.mounts` the drives mounted inside it (see
   * `MountPoint`), `walk.startedAt` when it began (the images it did not see
   * count as gone since then).
   */
  finishScan(
    jobId: number,
    seen: ReadonlySet<number>,
    walkRequests?: number,
    walk: { rootDev?: number | null; mounts?: readonly MountPoint[]; startedAt?: number } = {},
  ): void {
    this.store.transition((tx) => {
      const job = tx.jobs.get(jobId);
      if (!job) return; // its collection was removed meanwhile
      for (const id of tx.images.idsOf(job.collectionId)) {
        if (seen.has(id)) continue;
        tx.images.markGone(id, Math.min(walk.startedAt ?? tx.now, tx.now));
        tx.items.dropPendingOfImage(id);
      }
      const began = Math.min(walk.startedAt ?? tx.now, tx.now);
      tx.collections.walked(
        job.collectionId,
        tx.now,
        began,
        walk.rootDev ?? null,
        walk.mounts ?? [],
      );
      // Asked to walk again since this walk began: it walks once more.
      if (walkRequests !== undefined && job.walkRequests !== walkRequests) return;
      tx.jobs.setScanFinished(jobId, true, tx.now);
      this.purgeGone(tx);
    });
  }

  /**
   * Deletes gone images, their items and outputs, queueing the output files
   * for deletion in the same commit. None while some job is walking (it may
   * find one of them moved), and an image stays until every other collection
   * was walked after it went, or for GONE_GRACE_MS (a file moved from one
   * collection to another is found when the second is walked, even if the
   * first was rescanned alone). Returns how many.
   */
  purgeGone(tx?: Tx): number {
    const purge = (t: Tx): number => {
      if (t.jobs.anyWalking()) return 0;
      const before = t.now - GONE_GRACE_MS;
      const next = () => t.images.purgeable(500, before, WALK_SLACK_MS);
      let n = 0;
      for (let batch = next(); batch.length; batch = next()) {
        for (const image of batch) {
          for (const o of t.outputs.ofImage(image.id))
            t.fileDeletions.add(o.cacheFolderId, o.relPath);
          t.images.remove(image.id);
          n++;
        }
      }
      return n;
    };
    return tx ? purge(tx) : this.store.transition(purge);
  }

  /**
   * Stops handing out the job's work; running items finish. A user pause
   * overrides a system one (which is resumed by itself); a system pause never
   * overrides the user's. `detail` says what a system pause waits for. False
   * when nothing changed.
   */
  pause(jobId: number, reason: PauseReason = 'user', detail: string | null = null): boolean {
    return this.store.transition((tx) => {
      const j = tx.jobs.get(jobId);
      if (!j || isTerminal(j.status)) return false;
      if (j.paused && j.pauseReason === 'user') return false;
      if (j.paused && reason !== 'user' && j.pauseReason === reason && j.pauseDetail === detail) {
        return false;
      }
      tx.jobs.setPaused(jobId, reason, tx.now, reason === 'user' ? null : detail);
      return true;
    });
  }

  /** Resumes a paused job; with `onlyIf`, only a job paused for that reason. */
  resume(jobId: number, onlyIf?: PauseReason): boolean {
    return this.store.transition((tx) => {
      const j = tx.jobs.get(jobId);
      if (!j || !j.paused || isTerminal(j.status)) return false;
      if (onlyIf && j.pauseReason !== onlyIf) return false;
      tx.jobs.setPaused(jobId, null, tx.now);
      return true;
    });
  }

  /** Cancels the job: no more work is handed out; its pending items stay pending. */
  cancel(jobId: number): boolean {
    return this.store.transition((tx) => {
      const j = tx.jobs.get(jobId);
      if (!j || isTerminal(j.status)) return false;
      tx.jobs.setCancelled(jobId, tx.now);
      return true;
    });
  }

  /**
   * Puts the job's failed items back to pending (forgetting their suspect
   * events) and revives a cancelled or failed job. Returns how many items.
   */
  retryFailed(jobId: number): number {
    return this.store.transition((tx) => {
      const j = tx.jobs.get(jobId);
      if (!j) return 0;
      const n = tx.failures.retryFailed(jobId, tx.now);
      if (j.cancelled || j.error) tx.jobs.revive(jobId, tx.now);
      return n;
    });
  }

  // ---- scan ---------------------------------------------------------------------------

  /**
   * Records a batch of scanned entries against what the library knows:
   * - a new path: a new image and its scan item, unless `movedFrom` names an
   *   image with the same content whose file is gone — that image moves here
   *   (same id, metadata and outputs; nothing is read or rendered again);
   * - unchanged (see `isUnchanged`): no item at all, unless an output made
   *   with the current settings (`current`, per variant) is missing;
   * - changed in place: a new version of the image; its outputs stay (and are
   *   shown) until their replacements are written; it is probed again.
   * The batch is compared with the store in one query, so an unchanged image
   * whose outputs are current costs no query of its own.
   * Returns the ids of the images the batch saw.
   */
  recordScanBatch(
    jobId: number,
    collectionId: number,
    entries: ScannedEntry[],
    current: Record<Variant, string>,
  ): number[] {
    return this.store.transition((tx) => {
      const seen: number[] = [];
      const kind = tx.collections.get(collectionId)?.kind;
      if (!tx.jobs.get(jobId) || !kind) return seen; // its collection was removed meanwhile
      // The whole batch compared with the store in one query. Only an image that an
      // entry of this batch moves (elsewhere) may differ from it by the time its own
      // path comes: that one is looked up again.
      const found = tx.images.byPaths(
        collectionId,
        entries.map((e) => e.entryPath),
        current,
      );
      const moving = new Set(entries.map((e) => e.movedFrom));
      entries.forEach((e, i) => {
        if (i === entries.length >> 1) this.crash('mid-scan-batch');
        const mtime = Math.round(e.mtimeMs);
        const row = found.get(e.entryPath);
        const known = row && moving.has(row.id) ? tx.images.byPath(collectionId, e.entryPath) : row;
        const currentOutputs = known === row ? row?.currentOutputs : undefined;
        const fingerprint = e.fingerprint ?? null;
        if (!known) {
          const from = e.movedFrom === undefined ? undefined : tx.images.get(e.movedFrom);
          if (
            from &&
            fingerprint !== null &&
            from.fingerprint === fingerprint &&
            tx.images.move(from.id, {
              collectionId,
              entryPath: e.entryPath,
              size: e.size,
              mtimeMs: mtime,
            })
          ) {
            seen.push(from.id);
            this.keepUnchanged(tx, jobId, from, e, current);
            return;
          }
          const imageId = tx.images.insert(collectionId, e.entryPath, e.size, mtime, fingerprint);
          seen.push(imageId);
          tx.items.insert(
            jobId,
            'scan',
            imageId,
            e.failure ? 'failed' : 'pending',
            e.failure,
            tx.now,
          );
          return;
        }
        seen.push(known.id);
        if (isUnchanged(kind, known, e)) {
          // Back from gone, or an archive entry with the same content and a new time.
          if (known.goneAt !== null || known.mtimeMs !== mtime)
            tx.images.move(known.id, {
              collectionId,
              entryPath: e.entryPath,
              size: e.size,
              mtimeMs: mtime,
            });
          if (known.fingerprint === null && fingerprint !== null) {
            tx.images.setFingerprint(known.id, fingerprint);
          }
          this.keepUnchanged(tx, jobId, known, e, current, currentOutputs);
          return;
        }
        tx.images.changed(known.id, e.size, mtime, fingerprint);
        tx.failures.forgetFailures(known.id);
        tx.items.dropUnstarted(jobId, known.id);
        tx.items.insert(
          jobId,
          'scan',
          known.id,
          e.failure ? 'failed' : 'pending',
          e.failure,
          tx.now,
        );
      });
      return seen;
    });
  }

  /**
   * The work an image whose file is unchanged (or moved) still needs: the
   * outputs missing for the current settings if it was read, else its read,
   * unless it failed before (it is not read again until it changes, or on
   * retry). An entry the walk found unusable records its failure.
   */
  private keepUnchanged(
    tx: Tx,
    jobId: number,
    image: ImageRow,
    e: ScannedEntry,
    current: Record<Variant, string>,
    currentOutputs?: number,
  ): void {
    if (image.format) {
      this.addMissingRenders(tx, jobId, image, current, currentOutputs);
    } else if (e.failure) {
      tx.items.insert(jobId, 'scan', image.id, 'failed', e.failure, tx.now);
    } else if (!tx.failures.failedStages(image.id).has('scan')) {
      // Never read (or its read was interrupted): read it now.
      tx.items.insert(jobId, 'scan', image.id, 'pending', null, tx.now);
    }
  }

  /**
   * Render items for the variants of a readable image that have no current
   * output (made with `current` settings from the image's version), except
   * those that already failed for this version of the file.
   */
  private addMissingRenders(
    tx: Tx,
    jobId: number,
    image: { id: number; version: number },
    current: Record<Variant, string>,
    currentOutputs = tx.outputs.currentVariants(image.id, current, image.version),
  ): void {
    // The common case of a rescan: every output current (counted with the batch's query).
    if (currentOutputs === VARIANTS.length) return;
    const failed = tx.failures.failedStages(image.id);
    for (const v of VARIANTS) {
      const out = tx.outputs.byKey(image.id, v, current[v]);
      if (out && out.sourceVersion === image.version) continue;
      if (failed.has(v)) continue;
      tx.items.insert(jobId, v, image.id, 'pending', null, tx.now);
    }
  }

  private addRenderItems(tx: Tx, jobId: number, imageId: number): void {
    for (const v of VARIANTS) tx.items.insert(jobId, v, imageId, 'pending', null, tx.now);
  }

  /** Claims up to `limit` pending scan items of a job for probing. */
  claimScanItems(jobId: number, limit: number): ScanWork[] {
    // Nothing to claim (a rescan's unchanged batches): no write transaction for it.
    if (!this.store.items.hasPendingScan(jobId)) return [];
    return this.store.transition((tx) =>
      tx.items
        .pendingScan(jobId, limit)
        .filter((r) => tx.items.claim(r.id, tx.now))
        .map((r) => ({ itemId: r.id, imageId: r.imageId, entryPath: r.entryPath })),
    );
  }

  /**
   * Finishes probed scan items: a usable image gets its metadata and its
   * thumbnail and cache items, in the same transition as its scan item's end.
   */
  completeScanItems(jobId: number, results: { work: ScanWork; outcome: ScanOutcome }[]): void {
    this.store.transition((tx) => {
      for (const { work, outcome } of results) {
        if (outcome.ok) {
          if (!tx.items.finish(work.itemId, 'done', null, tx.now)) continue;
          tx.images.setMeta(work.imageId, outcome);
          this.addRenderItems(tx, jobId, work.imageId);
        } else {
          tx.items.finish(work.itemId, 'failed', outcome, tx.now);
        }
      }
    });
  }

  // ---- render -------------------------------------------------------------------------

  /**
   * The next pending render units of a job, best priority first. Each unit holds
   * every pending variant of its image, so the image is decoded once.
   */
  pendingRenderUnits(jobId: number, limit: number, exclude: ReadonlySet<number>): RenderUnit[] {
    const { items } = this.store;
    const units = new Map<number, RenderUnit>();
    for (const r of items.pendingRender(jobId, limit * 2 + exclude.size)) {
      if (exclude.has(r.imageId)) continue;
      let u = units.get(r.imageId);
      if (!u) {
        if (units.size >= limit) continue;
        u = {
          jobId,
          imageId: r.imageId,
          collectionId: r.collectionId,
          entryPath: r.entryPath,
          version: r.version,
          crashes: 0,
          solo: false,
          items: [],
        };
        units.set(r.imageId, u);
      }
      u.crashes = Math.max(u.crashes, r.crashes);
      u.solo ||= r.solo;
      if (!u.items.some((i) => i.id === r.id)) u.items.push({ id: r.id, variant: r.variant });
    }
    // A sibling variant beyond the page limit still belongs to the same decode.
    for (const u of units.values()) {
      if (u.items.length === VARIANTS.length) continue;
      for (const s of items.pendingSiblings(jobId, u.imageId)) {
        if (!u.items.some((i) => i.id === s.id)) u.items.push({ id: s.id, variant: s.variant });
        u.crashes = Math.max(u.crashes, s.crashes);
      }
    }
    return [...units.values()];
  }

  /**
   * In one transition: items whose output already exists become skipped (each
   * confirmed by `stillSkippable` inside the transaction); the rest of each unit
   * is claimed, up to `maxClaims` units. Returns the units with only the claimed
   * items.
   */
  skipAndClaim(
    jobId: number,
    units: RenderUnit[],
    skipItemIds: ReadonlySet<number>,
    maxClaims = Number.POSITIVE_INFINITY,
    stillSkippable: (itemId: number) => boolean = () => true,
  ): RenderUnit[] {
    return this.store.transition((tx) => {
      const claimed: RenderUnit[] = [];
      for (const u of units) {
        if (u.jobId !== jobId) continue;
        const items: RenderUnit['items'] = [];
        for (const it of u.items) {
          if (skipItemIds.has(it.id) && stillSkippable(it.id)) tx.items.skip(it.id, tx.now);
          else if (claimed.length < maxClaims && tx.items.claim(it.id, tx.now)) items.push(it);
        }
        if (items.length) claimed.push({ ...u, items });
      }
      return claimed;
    });
  }

  /**
   * Records how a render unit ended. Written outputs replace any output of the
   * same image and variant made with other settings (returned for deletion).
   */
  completeRender(unit: RenderUnit, outcome: RenderOutcome): Unreferenced[] {
    return this.store.transition((tx) => {
      const unreferenced: Unreferenced[] = [];
      switch (outcome.kind) {
        case 'done': {
          const image = tx.images.get(unit.imageId);
          if (!image) {
            // Removed meanwhile (its items went with it): what was written goes too.
            for (const o of outcome.outputs) unreferenced.push(o);
            break;
          }
          // The file changed while it rendered: what was made stands in (it is the
          // picture the user had) and is made again from the new file.
          const outdated = image.version !== unit.version;
          if (!outdated) {
            tx.images.setMeta(unit.imageId, outcome.source);
            if (outcome.meta) tx.images.setPhotoMeta(unit.imageId, outcome.meta);
            if (outcome.contentHash) tx.images.setContentHash(unit.imageId, outcome.contentHash);
          }
          for (const it of unit.items) {
            const o = outcome.outputs.find((x) => x.variant === it.variant);
            if (!o) {
              const message = `the worker did not write the ${it.variant}`;
              tx.items.finish(it.id, 'failed', { code: 'INTERNAL', message }, tx.now);
              continue;
            }
            for (const old of tx.outputs.stale(unit.imageId, o.variant, o.settingsHash)) {
              if (old.relPath !== o.relPath || old.cacheFolderId !== o.cacheFolderId) {
                unreferenced.push({ cacheFolderId: old.cacheFolderId, relPath: old.relPath });
              }
              tx.outputs.delete(old.id);
            }
            const same = tx.outputs.byKey(unit.imageId, o.variant, o.settingsHash);
            if (same && (same.relPath !== o.relPath || same.cacheFolderId !== o.cacheFolderId)) {
              unreferenced.push({ cacheFolderId: same.cacheFolderId, relPath: same.relPath });
            }
            tx.outputs.upsert(unit.imageId, o, unit.version, tx.now);
            this.crash('in-transaction');
            if (outdated) tx.items.requeue(it.id, tx.now, true);
            else tx.items.finish(it.id, 'done', null, tx.now);
          }
          break;
        }
        case 'failed':
          for (const it of unit.items) tx.items.finish(it.id, 'failed', outcome.failure, tx.now);
          break;
        case 'crashed':
          for (const it of unit.items) {
            const crashes = (tx.items.get(it.id)?.crashes ?? 0) + 1;
            const final = crashes >= MAX_SUSPECT_EVENTS;
            tx.items.suspect(
              it.id,
              crashes,
              final ? { code: outcome.code, message: outcome.message } : null,
              tx.now,
            );
          }
          break;
        case 'interrupted':
          for (const it of unit.items) tx.items.requeue(it.id, tx.now, true);
          break;
        case 'confirm':
          for (const it of unit.items) tx.items.confirmAlone(it.id, tx.now);
          break;
      }
      // Deleted after the commit, durably: a kill before then leaves them queued.
      for (const u of unreferenced) tx.fileDeletions.add(u.cacheFolderId, u.relPath);
      return unreferenced;
    });
  }

  /**
   * An output's file is gone: in one transition its row is dropped and the
   * image's item for that variant goes (back) to pending — in its collection's
   * unfinished job, or in a new job that only remakes outputs. A cancelled or
   * failed job is never revived for it. With `seen`, the row must still be
   * the one whose file was found wrong (a render may have replaced both
   * meanwhile). A file left at the path (of the wrong size) is queued for
   * deletion. Returns the job id, or null when nothing was dropped.
   */
  dropAndRequeue(
    outputId: number,
    seen?: { relPath: string; bytes: number; cacheFolderId: number },
  ): number | null {
    return this.store.transition((tx) => {
      const o = tx.outputs.get(outputId);
      const img = o && tx.images.get(o.imageId);
      if (!o || !img) return null;
      if (
        seen &&
        (seen.relPath !== o.relPath ||
          seen.bytes !== o.bytes ||
          seen.cacheFolderId !== o.cacheFolderId)
      ) {
        return null;
      }
      tx.outputs.delete(o.id);
      tx.fileDeletions.add(o.cacheFolderId, o.relPath);
      this.crash('between-drop-and-requeue');
      return this.requeueVariant(tx, img.collectionId, img.id, o.variant);
    });
  }

  private requeueVariant(tx: Tx, collectionId: number, imageId: number, variant: Variant): number {
    let job = tx.jobs.openOfCollection(collectionId);
    if (!job) {
      const id = tx.jobs.insert(collectionId, tx.now);
      // Nothing to scan: the job's only work is the outputs requeued into it.
      tx.jobs.setStarted(id, tx.now);
      tx.jobs.setScanFinished(id, true, tx.now);
      job = this.job(tx, id);
    }
    const item = tx.items.byKey(job.id, variant, imageId);
    if (!item) tx.items.insert(job.id, variant, imageId, 'pending', null, tx.now);
    else if (item.state !== 'pending' && item.state !== 'running')
      tx.items.requeueFinished(item.id, tx.now);
    return job.id;
  }

  // ---- recovery -----------------------------------------------------------------------

  /**
   * Items left running by a dead process go back to pending (their attempt was
   * counted when they were claimed). Returns them so their temporary files can
   * be removed. Only the holder of the data folder's lock may call this.
   */
  recoverInterrupted(): InterruptedItem[] {
    return this.store.transition((tx) => {
      const rows = tx.items.running();
      for (const r of rows) tx.items.requeue(r.itemId, tx.now, false);
      return rows;
    });
  }

  /**
   * Items left running that this process is not working on (it could not record
   * their end while the database was full) go back to pending without blame.
   */
  requeueStranded(inFlight: ReadonlySet<number>): number {
    return this.store.transition((tx) => {
      let n = 0;
      for (const r of tx.items.running()) {
        if (inFlight.has(r.itemId)) continue;
        tx.items.requeue(r.itemId, tx.now, true);
        n++;
      }
      return n;
    });
  }

  /** Recomputes every stage's counters from its items; repairs and returns any drift. */
  repairCounters(): ReturnType<Store['diagnostics']['counterDrift']> {
    return this.store.transition((tx) => {
      const drift = tx.diagnostics.counterDrift();
      tx.diagnostics.repair(drift);
      return drift;
    });
  }
}
