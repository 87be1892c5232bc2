import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../store/store.ts';
import { storeInvariantProblems } from '../store/invariants.ts';
import { outputAbsPath } from '../util/output-layout.ts';
import type { JobRow } from '../store/rows.ts';

/** What a data folder holds, read while no process works on it. */
export interface DataDirReport {
  /** Every broken invariant, in words; empty when all hold. */
  problems: string[];
  /** Done render item → identity of its output file (attempts, inode, mtime). */
  done: Map<number, string>;
  jobs: JobRow[];
  /** Temporary files left in any cache folder. */
  temps: string[];
  /** Output-shaped files with no row (normal right after a kill between rename and commit). */
  orphans: string[];
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
 * size, each output-shaped file has its row, and (with `idle`) no temporary
 * file is left.
 */
export function inspectDataDir(dataDir: string, opts: { idle?: boolean } = {}): DataDirReport {
  const store = Store.open(join(dataDir, 'library.db'));
  try {
    const problems = storeInvariantProblems(store);
    const folders = store.cacheFolders.list();
    const byId = new Map(folders.map((f) => [f.id, f.path]));
    const recorded = new Set<string>();
    for (let page = store.outputs.after(0, 1000); page.length;) {
      for (const o of page) {
        const abs = outputAbsPath(byId.get(o.cacheFolderId) ?? '', o.relPath);
        recorded.add(abs);
        const st = statSync(abs, { throwIfNoEntry: false });
        if (!st?.isFile()) problems.push(`output ${o.id} has no file ${abs}`);
        else if (st.size !== o.bytes)
          problems.push(`output ${o.id}: ${abs} has ${st.size} bytes, row says ${o.bytes}`);
      }
      page = store.outputs.after(page[page.length - 1]!.id, 1000);
    }
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
    const done = new Map<number, string>();
    for (const d of store.diagnostics.doneOutputs()) {
      const st = statSync(outputAbsPath(byId.get(d.cacheFolderId) ?? '', d.relPath), {
        throwIfNoEntry: false,
      });
      done.set(d.itemId, `${d.attempts}:${st?.ino ?? 'none'}:${st?.mtimeMs ?? 0}`);
    }
    return { problems, done, jobs: store.jobs.page(1_000_000, 0), temps, orphans };
  } finally {
    store.close();
  }
}
