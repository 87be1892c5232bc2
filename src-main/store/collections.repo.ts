import type { Db } from './database.ts';
import { idFloor } from './id-floor.ts';
import type { CollectionRow, MountPoint } from './rows.ts';
import type { CollectionKind } from '../../src-shared/domain.ts';

interface CollectionDbRow {
  id: number;
  kind: CollectionKind;
  root: string;
  name: string;
  cache_folder_id: number;
  created_at: number;
  removing: number;
  offline_since: number | null;
  last_seen_at: number | null;
  watch: number | null;
  root_dev: number | null;
  walked_at: number | null;
  mounts: string;
}

function toCollection(r: CollectionDbRow): CollectionRow {
  return {
    id: r.id,
    kind: r.kind,
    root: r.root,
    name: r.name,
    cacheFolderId: r.cache_folder_id,
    createdAt: r.created_at,
    removing: r.removing !== 0,
    keepFilesOnRemoval: r.removing === REMOVING_KEEP_FILES,
    offlineSince: r.offline_since,
    lastSeenAt: r.last_seen_at,
    watch: r.watch === null ? null : r.watch === 1,
    rootDev: r.root_dev,
    walkedAt: r.walked_at,
    mounts: parseMounts(r.mounts),
  };
}

/** `collections.removing` of a removal that keeps the output files (1: deletes them). */
const REMOVING_KEEP_FILES = 2;

/** The recorded mount points; a value this version cannot read counts as none. */
function parseMounts(json: string): MountPoint[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  return v.flatMap((m: unknown) => {
    if (typeof m !== 'object' || m === null) return [];
    const { path, dev } = m as { path?: unknown; dev?: unknown };
    return typeof path === 'string' && typeof dev === 'number' ? [{ path, dev }] : [];
  });
}

/** Collections: a folder or an archive, with the cache folder its new outputs go to. */
export class CollectionsRepo {
  private readonly st;
  private readonly nextId: () => number;

  constructor(db: Db) {
    this.nextId = idFloor(db, 'collections');
    this.st = {
      insert: db.prepare<[number, CollectionKind, string, string, number, number], unknown>(
        `INSERT INTO collections (id, kind, root, name, cache_folder_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      byRoot: db.prepare<[string], CollectionDbRow>('SELECT * FROM collections WHERE root = ?'),
      byId: db.prepare<[number], CollectionDbRow>('SELECT * FROM collections WHERE id = ?'),
      all: db.prepare<[], CollectionDbRow>(
        'SELECT * FROM collections WHERE removing = 0 ORDER BY name, id',
      ),
      removing: db.prepare<[], CollectionDbRow>('SELECT * FROM collections WHERE removing != 0'),
      markRemoving: db.prepare<[number, number], unknown>(
        'UPDATE collections SET removing = ? WHERE id = ?',
      ),
      remove: db.prepare<[number], unknown>('DELETE FROM collections WHERE id = ?'),
      setOffline: db.prepare<[number, number], unknown>(
        'UPDATE collections SET offline_since = coalesce(offline_since, ?) WHERE id = ?',
      ),
      setOnline: db.prepare<[number, number | null, number], unknown>(
        `UPDATE collections SET offline_since = NULL, last_seen_at = ?,
         root_dev = coalesce(?, root_dev) WHERE id = ?`,
      ),
      walked: db.prepare<[number, number, number | null, string, number], unknown>(
        `UPDATE collections SET offline_since = NULL, last_seen_at = ?, walked_at = ?,
         root_dev = coalesce(?, root_dev), mounts = ? WHERE id = ?`,
      ),
      offline: db.prepare<[], CollectionDbRow>(
        'SELECT * FROM collections WHERE offline_since IS NOT NULL AND removing = 0',
      ),
      setFolder: db.prepare<[number, number], unknown>(
        'UPDATE collections SET cache_folder_id = ? WHERE id = ?',
      ),
      setWatch: db.prepare<[number | null, number], unknown>(
        'UPDATE collections SET watch = ? WHERE id = ?',
      ),
    };
  }

  /** The collection rooted at `root`, created if new. */
  upsert(
    c: { kind: CollectionKind; root: string; name: string; cacheFolderId: number },
    t: number,
  ): CollectionRow {
    if (!this.byRoot(c.root)) {
      this.st.insert.run(this.nextId(), c.kind, c.root, c.name, c.cacheFolderId, t);
    }
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

  /** Collections whose removal began (see JobTransitions.removeCollection). */
  beingRemoved(): CollectionRow[] {
    return this.st.removing.all().map(toCollection);
  }

  /**
   * First step of a removal: hidden from every list; its rows go next (with
   * its output files unless `keepFiles`, which a removal finished after a
   * crash honours too).
   */
  markRemoving(id: number, keepFiles = false): void {
    this.st.markRemoving.run(keepFiles ? REMOVING_KEEP_FILES : 1, id);
  }

  /** Deletes the row; its images, items, jobs and outputs go with it (cascades). */
  remove(id: number): void {
    this.st.remove.run(id);
  }

  /** Its root cannot be reached: offline since `t` (kept if already offline). */
  setOffline(id: number, t: number): void {
    this.st.setOffline.run(t, id);
  }

  /** Its root was reached at `t`, on device `rootDev` when a walk read it (else unchanged). */
  setOnline(id: number, t: number, rootDev: number | null = null): void {
    this.st.setOnline.run(t, rootDev, id);
  }

  /**
   * A walk of it that began at `began` finished at `t`: online, its root on
   * `rootDev` (null for an archive) with these drives mounted inside.
   */
  walked(
    id: number,
    t: number,
    began: number,
    rootDev: number | null,
    mounts: readonly MountPoint[],
  ): void {
    this.st.walked.run(t, began, rootDev, JSON.stringify(mounts), id);
  }

  offline(): CollectionRow[] {
    return this.st.offline.all().map(toCollection);
  }

  /** Where new outputs of the collection go. */
  setCacheFolder(collectionId: number, folderId: number): void {
    this.st.setFolder.run(folderId, collectionId);
  }

  /** Whether the collection is watched: true or false, or null to follow the global setting. */
  setWatch(collectionId: number, watch: boolean | null): void {
    this.st.setWatch.run(watch === null ? null : watch ? 1 : 0, collectionId);
  }
}
