import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../store/store.ts';
import { storeInvariantProblems } from '../store/invariants.ts';
import { outputAbsPath } from '../util/output-layout.ts';
import { GONE_GRACE_MS, WALK_SLACK_MS } from '../jobs/job-transitions.ts';
import type { ItemRow, JobRow } from '../store/rows.ts';
import { VARIANTS, type StageName } from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';

/** What a data folder holds, read while no process works on it. */
export interface DataDirReport {
  /** Every broken invariant, in words; empty when all hold. */
  problems: string[];
  /** Output (image:variant:settings hash) → identity of its file (inode, mtime). */
  done: Map<string, string>;
  jobs: JobRow[];
  /** Temporary files left in any cache folder. */
  temps: string[];
  /** Output-shaped files with no row (normal right after a kill between rename and commit). */
  orphans: string[];
  /** Output rows whose file the caller deleted behind the app's back (`opts.deleted`). */
  missing: string[];
  /** Files still queued for deletion (normal right after a kill; none once idle). */
  queued: number;
  /** Gone images that are due for deletion and not deleted (none once idle). */
  gone: number;
  /** How many separate invariants were checked (for the fault suite's figures). */
  checked: number;
}

export interface InspectOptions {
  /**
   * No process works and none was killed since the last clean end: no
   * temporary file and no output-shaped file without its row may be left.
   */
  idle?: boolean;
  /**
   * Files the caller deleted behind the app's back: a row whose file is one of
   * these is listed in `missing`, not as a problem (the app cannot know yet).
   */
  deleted?: ReadonlySet<string>;
  /**
   * Entry paths known to be valid photos, by collection root: none of them may
   * end failed at any stage (a kill, a stopped decoder or a full disk is never
   * the image's fault).
   */
  valid?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * After the last run with no fault left: every job is terminal, and every
   * image whose newest item of a variant is done or skipped has that output,
   * its row and its file (nothing is left to remake a missing one).
   */
  final?: boolean;
}

function isOutputShaped(abs: string): boolean {
  return /\/(thumbnail|cache)\/\d+\/\d+-[0-9a-f]+\.\w+$/.test(abs);
}

/** Every regular file below `dir`, absolute. */
export function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

/**
 * Opens a data folder's store (never while a process runs on it) and checks
 * the store's invariants plus the files: each output row has its file with its
 * size, each folder's byte and file counters match its rows, each
 * output-shaped file has its row, and (with `idle`) no temporary file is left.
 * A done item without an output row is a problem unless a newer item of the
 * same image and variant is pending or running (it will be remade, or the user
 * cancelled the job that would remake it).
 */
export function inspectDataDir(dataDir: string, opts: InspectOptions = {}): DataDirReport {
  const store = Store.open(join(dataDir, 'library.db'));
  try {
    const jobs = store.jobs.page(1_000_000, 0);
    const ascending = [...jobs].sort((a, b) => a.id - b.id);
    /** The item of the newest job that has one for (image, stage). */
    const newestItem = (imageId: number, stage: StageName): ItemRow | undefined => {
      for (let i = ascending.length - 1; i >= 0; i--) {
        const it = store.items.byKey(ascending[i]!.id, stage, imageId);
        if (it) return it;
      }
      return undefined;
    };
    let checked = 4; // integrity, counters, statuses, finished-without-output
    const unexcused = new Set<number>();
    for (const f of store.diagnostics.finishedWithoutOutput()) {
      const newest = newestItem(f.imageId, f.stage);
      if (!(newest && (newest.state === 'pending' || newest.state === 'running'))) {
        unexcused.add(f.itemId);
      }
    }
    const problems = storeInvariantProblems(store).filter((p) => {
      const m = /^item (\d+) \(.* is finished without an output$/.exec(p);
      return !m || unexcused.has(Number(m[1]));
    });
    const folders = store.cacheFolders.list();
    const byId = new Map(folders.map((f) => [f.id, f.path]));
    const recorded = new Set<string>();
    const missing: string[] = [];
    const sums = new Map<number, { bytes: number; files: number }>();
    for (let page = store.outputs.after(0, 1000); page.length;) {
      for (const o of page) {
        const abs = outputAbsPath(byId.get(o.cacheFolderId) ?? '', o.relPath);
        recorded.add(abs);
        const sum = sums.get(o.cacheFolderId) ?? { bytes: 0, files: 0 };
        sum.bytes += o.bytes;
        sum.files++;
        sums.set(o.cacheFolderId, sum);
        const st = statSync(abs, { throwIfNoEntry: false });
        if (!st?.isFile()) {
          if (opts.deleted?.has(abs)) missing.push(abs);
          else problems.push(`output ${o.id} has no file ${abs}`);
        } else if (st.size !== o.bytes)
          problems.push(`output ${o.id}: ${abs} has ${st.size} bytes, row says ${o.bytes}`);
      }
      page = store.outputs.after(page[page.length - 1]!.id, 1000);
    }
    checked += 2;
    for (const f of folders) {
      const sum = sums.get(f.id) ?? { bytes: 0, files: 0 };
      if (sum.bytes !== f.bytes || sum.files !== f.files) {
        problems.push(
          `cache folder ${f.id}: counters say ${f.files} files, ${f.bytes} bytes; rows hold ${sum.files} files, ${sum.bytes} bytes`,
        );
      }
    }
    checked++;
    const temps: string[] = [];
    const orphans: string[] = [];
    for (const f of folders) {
      for (const abs of filesBelow(f.path)) {
        if (abs.endsWith('.tmp')) temps.push(abs);
        else if (isOutputShaped(abs) && !recorded.has(abs)) orphans.push(abs);
      }
    }
    // A kill between rename and commit leaves a file whose row is not written yet;
    // the item is redone into the same path. Once idle, none may be left.
    if (opts.idle && temps.length) problems.push(`temporary files left: ${temps.join(', ')}`);
    if (opts.idle && orphans.length)
      problems.push(`files without output rows: ${orphans.join(', ')}`);
    if (opts.idle) checked += 2;
    if (opts.valid) {
      checked++;
      for (const j of jobs) {
        const root = store.collections.get(j.collectionId)?.root ?? '';
        const valid = opts.valid.get(root);
        if (!valid) continue;
        for (const f of store.failures.failedPage(j.id, 1_000_000, 0)) {
          if (valid.has(f.path)) {
            problems.push(
              `job ${j.id}: valid photo ${f.path} failed at ${f.stage} with ${f.code}: ${f.message}`,
            );
          }
        }
      }
    }
    if (opts.final) {
      checked += 2;
      for (const j of jobs) {
        if (!isTerminal(j.status)) {
          const why = j.paused ? ` (${j.pauseReason ?? 'user'})` : '';
          problems.push(`job ${j.id} is ${j.status}${why} after the final run`);
        }
      }
      for (const c of store.collections.list()) {
        for (let off = 0, page = store.images.page(c.id, 500, 0); page.length;) {
          for (const img of page) {
            for (const v of VARIANTS) {
              const it = newestItem(img.id, v);
              // Finished jobs keep no done items: a readable image that no job
              // failed must have its output, whatever items are left.
              if (it && it.state !== 'done' && it.state !== 'skipped') continue;
              if (!it && (!img.format || store.failures.failedStages(img.id).has(v))) continue;
              const outs = store.outputs.ofImage(img.id).filter((o) => o.variant === v);
              const present = outs.some((o) =>
                statSync(outputAbsPath(byId.get(o.cacheFolderId) ?? '', o.relPath), {
                  throwIfNoEntry: false,
                })?.isFile(),
              );
              if (!present) {
                problems.push(
                  `${c.root} ${img.entryPath}: ` +
                    (it
                      ? `its ${v} item ${it.id} (job ${it.jobId}) is ${it.state} but `
                      : `${v}: `) +
                    (outs.length ? 'its file is gone' : 'it has no output') +
                    ', and nothing will make it again',
                );
              }
            }
          }
          off += page.length;
          page = store.images.page(c.id, 500, off);
        }
      }
    }
    // Each output file's identity: a file rewritten later (inode or mtime) was made again.
    const done = new Map<string, string>();
    for (let page = store.outputs.after(0, 1000); page.length;) {
      for (const o of page) {
        const st = statSync(outputAbsPath(byId.get(o.cacheFolderId) ?? '', o.relPath), {
          throwIfNoEntry: false,
        });
        done.set(
          `${o.imageId}:${o.variant}:${o.settingsHash}`,
          `${st?.ino ?? 'none'}:${st?.mtimeMs ?? 0}`,
        );
      }
      page = store.outputs.after(page[page.length - 1]!.id, 1000);
    }
    const queued = store.fileDeletions.count();
    // Gone images kept for another collection's walk are not due yet (see purgeGone).
    const gone = store.images.purgeable(100_000, Date.now() - GONE_GRACE_MS, WALK_SLACK_MS).length;
    if (opts.idle && queued) problems.push(`${queued} files still queued for deletion`);
    if (opts.idle && gone) problems.push(`${gone} gone images not deleted`);
    return { problems, done, jobs, temps, orphans, missing, queued, gone, checked };
  } finally {
    store.close();
  }
}
