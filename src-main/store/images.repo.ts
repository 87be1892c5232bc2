import type { Db } from './database.ts';
import type { ImageRow } from './rows.ts';
import type { Variant } from '../../src-shared/domain.ts';
import { naturalSortKey } from '../../src-shared/natural-sort.ts';

interface ImageDbRow {
  id: number;
  collection_id: number;
  entry_path: string;
  size: number;
  mtime_ms: number;
  format: string | null;
  width: number | null;
  height: number | null;
  orientation: number | null;
}

function toImage(r: ImageDbRow): ImageRow {
  return {
    id: r.id,
    collectionId: r.collection_id,
    entryPath: r.entry_path,
    size: r.size,
    mtimeMs: r.mtime_ms,
    format: r.format,
    width: r.width,
    height: r.height,
    orientation: r.orientation,
  };
}

/** What a header read or a decode found out about an image. */
export interface ImageMeta {
  format: string;
  width: number;
  height: number;
  orientation: number;
}

/** An image of the grid: its row and which outputs exist (made with any settings). */
export type ImageWithOutputs = ImageRow & { has: Record<Variant, boolean> };

/** Images of collections, addressed by (collection, entry path). */
export class ImagesRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      byPath: db.prepare<[number, string], ImageDbRow>(
        'SELECT * FROM images WHERE collection_id = ? AND entry_path = ?',
      ),
      byId: db.prepare<[number], ImageDbRow>('SELECT * FROM images WHERE id = ?'),
      insert: db.prepare<[number, string, string, number, number], unknown>(
        `INSERT INTO images (collection_id, entry_path, sort_key, size, mtime_ms) VALUES (?, ?, ?, ?, ?)`,
      ),
      reset: db.prepare<[number, number, number], unknown>(
        `UPDATE images SET size = ?, mtime_ms = ?, format = NULL, width = NULL, height = NULL,
         orientation = NULL WHERE id = ?`,
      ),
      setMeta: db.prepare<[string, number, number, number, number], unknown>(
        'UPDATE images SET format = ?, width = ?, height = ?, orientation = ? WHERE id = ?',
      ),
      count: db.prepare<[number], { n: number }>(
        'SELECT count(*) AS n FROM images WHERE collection_id = ? AND format IS NOT NULL',
      ),
      page: db.prepare<[number, number, number], ImageDbRow>(
        'SELECT * FROM images WHERE collection_id = ? ORDER BY sort_key LIMIT ? OFFSET ?',
      ),
      pageWithOutputs: db.prepare<
        [number, number, number],
        ImageDbRow & { has_thumbnail: number; has_cache: number }
      >(
        `SELECT i.*,
           EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = i.id AND o.variant = 'thumbnail')
             AS has_thumbnail,
           EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = i.id AND o.variant = 'cache')
             AS has_cache
         FROM images i WHERE i.collection_id = ? AND i.format IS NOT NULL
         ORDER BY i.sort_key LIMIT ? OFFSET ?`,
      ),
    };
  }

  byPath(collectionId: number, entryPath: string): ImageRow | undefined {
    const r = this.st.byPath.get(collectionId, entryPath);
    return r ? toImage(r) : undefined;
  }

  get(id: number): ImageRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toImage(r) : undefined;
  }

  insert(collectionId: number, entryPath: string, size: number, mtimeMs: number): number {
    return Number(
      this.st.insert.run(collectionId, entryPath, naturalSortKey(entryPath), size, mtimeMs)
        .lastInsertRowid,
    );
  }

  /** The file changed: new size and time, its header to be read again. */
  reset(id: number, size: number, mtimeMs: number): void {
    this.st.reset.run(size, mtimeMs, id);
  }

  setMeta(id: number, m: ImageMeta): void {
    this.st.setMeta.run(m.format, m.width, m.height, m.orientation, id);
  }

  /** Images of a collection whose header was read (the ones the grid shows). */
  count(collectionId: number): number {
    return this.st.count.get(collectionId)?.n ?? 0;
  }

  /** A page of a collection's images in natural order. */
  page(collectionId: number, limit: number, offset: number): ImageRow[] {
    return this.st.page.all(collectionId, limit, offset).map(toImage);
  }

  /** A page of the usable images of a collection with which outputs exist. */
  pageWithOutputs(collectionId: number, limit: number, offset: number): ImageWithOutputs[] {
    return this.st.pageWithOutputs.all(collectionId, limit, offset).map((r) => ({
      ...toImage(r),
      has: { thumbnail: r.has_thumbnail === 1, cache: r.has_cache === 1 },
    }));
  }
}
