import type { Db } from './database.ts';
import type { CacheFolderRow } from './rows.ts';

interface CacheFolderDbRow {
  id: number;
  path: string;
  enabled: number;
  limit_bytes: number | null;
  bytes: number;
  files: number;
  last_generated_at: number | null;
  last_cleanup_at: number | null;
}

function toFolder(r: CacheFolderDbRow): CacheFolderRow {
  return {
    id: r.id,
    path: r.path,
    enabled: r.enabled === 1,
    limitBytes: r.limit_bytes,
    bytes: r.bytes,
    files: r.files,
    lastGeneratedAt: r.last_generated_at,
    lastCleanupAt: r.last_cleanup_at,
  };
}

/** Cache folders as records; their byte and file statistics are kept by triggers on outputs. */
export class CacheFoldersRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      ensure: db.prepare<[string, number], unknown>(
        'INSERT INTO cache_folders (path, created_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING',
      ),
      insert: db.prepare<[string, number | null, number], unknown>(
        'INSERT INTO cache_folders (path, limit_bytes, created_at) VALUES (?, ?, ?)',
      ),
      byPath: db.prepare<[string], CacheFolderDbRow>('SELECT * FROM cache_folders WHERE path = ?'),
      byId: db.prepare<[number], CacheFolderDbRow>('SELECT * FROM cache_folders WHERE id = ?'),
      all: db.prepare<[], CacheFolderDbRow>('SELECT * FROM cache_folders ORDER BY id'),
      setLimit: db.prepare<[number | null, number], unknown>(
        'UPDATE cache_folders SET limit_bytes = ? WHERE id = ?',
      ),
      setEnabled: db.prepare<[number, number], unknown>(
        'UPDATE cache_folders SET enabled = ? WHERE id = ?',
      ),
      setCleanedAt: db.prepare<[number, number], unknown>(
        'UPDATE cache_folders SET last_cleanup_at = ? WHERE id = ?',
      ),
      delete: db.prepare<[number], unknown>('DELETE FROM cache_folders WHERE id = ?'),
      collections: db.prepare<[number], { n: number }>(
        `SELECT count(DISTINCT substr(rel_path, 1, instr(rel_path, '/') - 1)) AS n
         FROM outputs WHERE cache_folder_id = ?`,
      ),
    };
  }

  /** Registers the folder if it is new (the default folder on first start) and returns it. */
  ensure(path: string, t: number): CacheFolderRow {
    this.st.ensure.run(path, t);
    const r = this.st.byPath.get(path);
    if (!r) throw new Error(`cache folder ${path} vanished inside its own transaction`);
    return toFolder(r);
  }

  insert(path: string, limitBytes: number | null, t: number): number {
    return Number(this.st.insert.run(path, limitBytes, t).lastInsertRowid);
  }

  get(id: number): CacheFolderRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toFolder(r) : undefined;
  }

  list(): CacheFolderRow[] {
    return this.st.all.all().map(toFolder);
  }

  setLimit(id: number, limitBytes: number | null): void {
    this.st.setLimit.run(limitBytes, id);
  }

  setEnabled(id: number, enabled: boolean): void {
    this.st.setEnabled.run(enabled ? 1 : 0, id);
  }

  setCleanedAt(id: number, t: number): void {
    this.st.setCleanedAt.run(t, id);
  }

  delete(id: number): void {
    this.st.delete.run(id);
  }

  /** How many collections have outputs in the folder. */
  collectionCount(id: number): number {
    return this.st.collections.get(id)?.n ?? 0;
  }
}
