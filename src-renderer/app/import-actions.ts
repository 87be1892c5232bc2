/** Importing folders and archives by path (typed, pasted or dropped). */
import type { ApiError } from '../../src-shared/api.ts';
import { callRaw } from '../api/call.ts';
import { useAppStore } from '../store/index.ts';
import { loadCollections, selectCollection } from '../library/library-actions.ts';

/** Splits what the user typed or pasted into paths: one per line, blank lines ignored. */
export function parsePaths(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((p) => p.trim())
    .map((p) => (p.length >= 2 && /^(["']).*\1$/.test(p) ? p.slice(1, -1) : p))
    .filter((p) => p.length > 0);
}

/** What an import came to: the error to show beside the field, or a note on a partial import. */
export type ImportOutcome = { ok: true; note: string | null } | { ok: false; error: ApiError };

/** Imports paths and shows the first new collection. */
export async function importPaths(paths: string[]): Promise<ImportOutcome> {
  if (!paths.length) {
    return {
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'Type or paste the path of a folder or archive.' },
    };
  }
  const r = await callRaw('importPaths', { paths });
  if (!r.ok) return { ok: false, error: r.error };
  const s = useAppStore.getState();
  const { jobs, notes, failed } = r.value;
  s.upsertJobs(jobs);
  await loadCollections();
  const first = jobs[0];
  if (first) selectCollection(first.collectionId);
  const said = [...notes];
  if (failed.length) {
    said.push(
      `${jobs.length} of ${paths.length} paths imported. Not imported: ` +
        failed.map((f) => `${f.path} (${f.error.code}: ${f.error.message})`).join('; '),
    );
  }
  return { ok: true, note: said.length ? said.join(' ') : null };
}
