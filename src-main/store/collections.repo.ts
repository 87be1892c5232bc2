import type { Db } from './database.ts';
import type { CollectionRow } from './rows.ts';
import type { CollectionKind } from '../../src-shared/domain.ts';

interface CollectionDbRow {
  id: number;
  kind: CollectionKind;
  root: string;
  name: string;
  cache_folder_id: number;
  created_at: number;
}

function toCollection(r: CollectionDbRow): CollectionRow {
  return {
    id: r.id,
    kind: r.kind,
    root: r.root,
    name: r.name,
    cacheFolderId: r.cache_folder_id,
    createdAt: r.created_at,
  };
}

/** Collections: a folder or an archive, with the cache folder its new outputs go to. */
export class CollectionsRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      insert: db.prepare<[CollectionKind, string, string, number, number], unknown>(
        `INSERT INTO collections (kind, root, name, cache_folder_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (root) DO NOTHING`,
      ),
      byRoot: db.prepare<[string], CollectionDbRow>('SELECT * FROM collections WHERE root = ?'),
      byId: db.prepare<[number], CollectionDbRow>('SELECT * FROM collections WHERE id = ?'),
      all: db.prepare<[], CollectionDbRow>('SELECT * FROM collections ORDER BY name, id'),
      setFolder: db.prepare<[number, number], unknown>(
        'UPDATE collections SET cache_folder_id = ? WHERE id = ?',
      ),
    };
  }

  /** The collection rooted at `root`, created if new. */
  upsert(
    c: { kind: CollectionKind; root: string; name: string; cacheFolderId: number },
    t: number,
  ): CollectionRow {
    this.st.insert.run(c.kind, c.root, c.name, c.cacheFolderId, t);
    const row = this.byRoot(c.root);
    if (!row) throw new Error('collection vanished inside its own transaction');
    return row;
  }

  byRoot(root: string): CollectionRow | undefined {
    const r = this.st.byRoot.get(root);
    return r ? toCollection(r) : undefined;
  }

  get(id: number): CollectionRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toCollection(r) : undefined;
  }

  list(): CollectionRow[] {
    return this.st.all.all().map(toCollection);
  }

  /** Where new outputs of the collection go. */
  setCacheFolder(collectionId: number, folderId: number): void {
    this.st.setFolder.run(folderId, collectionId);
  }
}
