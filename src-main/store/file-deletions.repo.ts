import type { Db } from './database.ts';

/** A file queued for deletion once the transition that let go of it has committed. */
export interface QueuedDeletion {
  id: number;
  cacheFolderId: number;
  relPath: string;
  queuedAt: number;
}

/**
 * The durable queue of files to delete. A transition that lets go of output
 * files (a removed collection, images gone from the disk) queues them in the
 * same commit; the cache service deletes them afterwards and takes them off
 * the queue. A crash in between leaves them queued, and the next start
 * finishes the job: no file is ever left without its row for good.
 */
export class FileDeletionsRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      add: db.prepare<[number, string, number], unknown>(
        'INSERT INTO file_deletions (cache_folder_id, rel_path, queued_at) VALUES (?, ?, ?)',
      ),
      page: db.prepare<
        [number, number],
        { id: number; cache_folder_id: number; rel_path: string; queued_at: number }
      >('SELECT * FROM file_deletions WHERE id > ? ORDER BY id LIMIT ?'),
      done: db.prepare<[number], unknown>('DELETE FROM file_deletions WHERE id = ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM file_deletions'),
    };
  }

  /**
   * Queues a file. Stamped with the wall clock (not the store's clock, which
   * tests may set): the drain compares it with the file's mtime, and keeps a
   * file written later (a new render of the same path).
   */
  add(cacheFolderId: number, relPath: string): void {
    this.st.add.run(cacheFolderId, relPath, Date.now());
  }

  /** Up to `limit` queued deletions after id `after`, oldest first. */
  page(after: number, limit: number): QueuedDeletion[] {
    return this.st.page.all(after, limit).map((r) => ({
      id: r.id,
      cacheFolderId: r.cache_folder_id,
      relPath: r.rel_path,
      queuedAt: r.queued_at,
    }));
  }

  /** The file is gone (or was never there): off the queue. */
  done(id: number): void {
    this.st.done.run(id);
  }

  count(): number {
    return this.st.count.get()?.n ?? 0;
  }
}
