import type { Db } from './database.ts';
import { idFloor } from './id-floor.ts';
import type { ImageRow } from './rows.ts';
import { IMAGE_ORDERS } from '../../src-shared/domain.ts';
import type { ImageOrder, Variant } from '../../src-shared/domain.ts';
import type { PhotoMeta } from '../../src-shared/render-task.ts';
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
  fingerprint: string | null;
  content_hash: string | null;
  version: number;
  gone_at: number | null;
  taken_at?: number | null;
  taken_local?: string | null;
  taken_offset?: string | null;
  make?: string | null;
  model?: string | null;
  lens?: string | null;
  focal_length?: number | null;
  aperture?: number | null;
  exposure_time?: number | null;
  iso?: number | null;
  latitude?: number | null;
  longitude?: number | null;
  xmp_rating?: number | null;
  xmp_label?: string | null;
  pages?: number | null;
  duration_ms?: number | null;
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
    fingerprint: r.fingerprint,
    contentHash: r.content_hash,
    version: r.version,
    goneAt: r.gone_at,
    meta: {
      takenAt: r.taken_at ?? null,
      takenLocal: r.taken_local ?? null,
      takenOffset: r.taken_offset ?? null,
      make: r.make ?? null,
      model: r.model ?? null,
      lens: r.lens ?? null,
      focalLength: r.focal_length ?? null,
      aperture: r.aperture ?? null,
      exposureTime: r.exposure_time ?? null,
      iso: r.iso ?? null,
      latitude: r.latitude ?? null,
      longitude: r.longitude ?? null,
      rating: r.xmp_rating ?? null,
      label: r.xmp_label ?? null,
      pages: r.pages ?? null,
      durationMs: r.duration_ms ?? null,
    },
  };
}

/**
 * What a header read or a decode found out about an image. A header the probe
 * could not read leaves the size null (the format is a hint) until the
 * decoder has read it.
 */
export interface ImageMeta {
  format: string;
  width: number | null;
  height: number | null;
  orientation: number;
}

/**
 * A known image as a scan compares it: its row and how many of its variants
 * have an output made with the current settings from its current version.
 */
export type ScannedImage = ImageRow & { currentOutputs: number };

/** An image of the grid: its row and which outputs exist (made with any settings). */
export type ImageWithOutputs = ImageRow & { has: Record<Variant, boolean> };

/**
 * The grid's orders, each matching an index: date taken (the file's modified
 * time where the photo names none), name (natural), size, modified time.
 * Ties go by name, so every order is total.
 */
const ORDER_SQL: Record<ImageOrder, string[]> = {
  taken: ['coalesce(i.taken_at, i.mtime_ms)', 'i.sort_key'],
  name: ['i.sort_key'],
  size: ['i.size', 'i.sort_key'],
  modified: ['i.mtime_ms', 'i.sort_key'],
};

/** Images of collections, addressed by (collection, entry path). */
export class ImagesRepo {
  private readonly st;
  private readonly nextId: () => number;

  constructor(db: Db) {
    this.nextId = idFloor(db, 'images');
    this.st = {
      byPath: db.prepare<[number, string], ImageDbRow>(
        'SELECT * FROM images WHERE collection_id = ? AND entry_path = ?',
      ),
      byId: db.prepare<[number], ImageDbRow>('SELECT * FROM images WHERE id = ?'),
      filesByPaths: db.prepare<
        [string, number],
        {
          id: number;
          entry_path: string;
          size: number;
          mtime_ms: number;
          fingerprint: string | null;
        }
      >(
        `SELECT i.id, i.entry_path, i.size, i.mtime_ms, i.fingerprint FROM json_each(?) AS p
         CROSS JOIN images i ON i.collection_id = ? AND i.entry_path = p.value`,
      ),
      // One query for a whole scan batch: the paths come as a JSON array. CROSS JOIN
      // keeps the paths the outer loop (else the planner scans the collection's images).
      byPaths: db.prepare<
        [string, string, string, number],
        ImageDbRow & { current_outputs: number }
      >(
        `SELECT i.*,
           (SELECT count(*) FROM outputs o WHERE o.image_id = i.id AND o.source_version = i.version
              AND ((o.variant = 'thumbnail' AND o.settings_hash = ?)
                OR (o.variant = 'cache' AND o.settings_hash = ?))) AS current_outputs
         FROM json_each(?) AS p
         CROSS JOIN images i ON i.collection_id = ? AND i.entry_path = p.value`,
      ),
      insert: db.prepare<[number, number, string, string, number, number, string | null], unknown>(
        `INSERT INTO images (id, collection_id, entry_path, sort_key, size, mtime_ms, fingerprint)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      changed: db.prepare<[number, number, string | null, number], unknown>(
        `UPDATE images SET size = ?, mtime_ms = ?, fingerprint = ?, content_hash = NULL, version = version + 1,
         gone_at = NULL WHERE id = ?`,
      ),
      move: db.prepare<[number, string, string, number, number, number], unknown>(
        `UPDATE images SET collection_id = ?, entry_path = ?, sort_key = ?, mtime_ms = ?,
         gone_at = NULL WHERE id = ? AND size = ?`,
      ),
      reparent: db.prepare<[number, string, string, number], unknown>(
        'UPDATE images SET collection_id = ?, entry_path = ?, sort_key = ? WHERE id = ?',
      ),
      pathsOf: db.prepare<[number], { id: number; entry_path: string }>(
        'SELECT id, entry_path FROM images WHERE collection_id = ?',
      ),
      setFingerprint: db.prepare<[string, number], unknown>(
        'UPDATE images SET fingerprint = ? WHERE id = ?',
      ),
      setContentHash: db.prepare<[string, number], unknown>(
        'UPDATE images SET content_hash = ? WHERE id = ?',
      ),
      sameContent: db.prepare<[number, string], ImageDbRow>(
        'SELECT * FROM images WHERE size = ? AND fingerprint = ? ORDER BY id',
      ),
      // Plain numbers, not row objects: a scan's end reads every id of the collection.
      idsOf: db
        .prepare<[number], number>(
          'SELECT id FROM images WHERE collection_id = ? AND gone_at IS NULL',
        )
        .pluck(),
      markGone: db.prepare<[number, number], unknown>(
        'UPDATE images SET gone_at = ? WHERE id = ? AND gone_at IS NULL',
      ),
      // Gone long enough, or every other collection of its kind (online) was
      // walked since about when it went: no walk can find where it moved any more.
      purgeable: db.prepare<[number, number, number], ImageDbRow>(
        `SELECT * FROM images i WHERE i.gone_at IS NOT NULL AND (i.gone_at <= ? OR NOT EXISTS (
           SELECT 1 FROM collections c WHERE c.id != i.collection_id AND c.removing = 0
             AND c.offline_since IS NULL AND coalesce(c.walked_at, 0) < i.gone_at - ?
             AND c.kind = (SELECT kind FROM collections WHERE id = i.collection_id)))
         ORDER BY i.id LIMIT ?`,
      ),
      samplePaths: db
        .prepare<[number, number], string>(
          // Spread over the collection (not the first folder only), by id.
          `SELECT entry_path FROM images WHERE collection_id = ? AND gone_at IS NULL
           ORDER BY (id * 2654435761) % 4294967296 LIMIT ?`,
        )
        .pluck(),
      idsUnder: db
        .prepare<[number, string, string], number>(
          `SELECT id FROM images WHERE collection_id = ? AND entry_path >= ? AND entry_path < ?
           AND gone_at IS NULL`,
        )
        .pluck(),
      remove: db.prepare<[number], unknown>('DELETE FROM images WHERE id = ?'),
      outputsOfCollection: db.prepare<[number], { cache_folder_id: number; rel_path: string }>(
        `SELECT o.cache_folder_id, o.rel_path FROM outputs o JOIN images i ON i.id = o.image_id
         WHERE i.collection_id = ?`,
      ),
      countOf: db.prepare<[number], { n: number }>(
        'SELECT count(*) AS n FROM images WHERE collection_id = ?',
      ),
      setPhotoMeta: db.prepare<[PhotoMeta & { id: number }], unknown>(
        `UPDATE images SET taken_at = @takenAt, taken_local = @takenLocal,
           taken_offset = @takenOffset, make = @make, model = @model, lens = @lens,
           focal_length = @focalLength, aperture = @aperture, exposure_time = @exposureTime,
           iso = @iso, latitude = @latitude, longitude = @longitude, xmp_rating = @rating,
           xmp_label = @label, pages = @pages, duration_ms = @durationMs WHERE id = @id`,
      ),
      setMeta: db.prepare<[string, number | null, number | null, number, number], unknown>(
        'UPDATE images SET format = ?, width = ?, height = ?, orientation = ? WHERE id = ?',
      ),
      count: db.prepare<[number], { n: number }>(
        'SELECT count(*) AS n FROM images WHERE collection_id = ? AND format IS NOT NULL AND gone_at IS NULL',
      ),
      page: db.prepare<[number, number, number], ImageDbRow>(
        `SELECT * FROM images WHERE collection_id = ? AND gone_at IS NULL
         ORDER BY sort_key LIMIT ? OFFSET ?`,
      ),
      pageWithOutputs: Object.fromEntries(
        IMAGE_ORDERS.flatMap((order) =>
          (['asc', 'desc'] as const).map((dir) => [
            `${order} ${dir}`,
            db.prepare<
              [number, number, number],
              ImageDbRow & { has_thumbnail: number; has_cache: number }
            >(
              `SELECT i.*,
                 EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = i.id AND o.variant = 'thumbnail')
                   AS has_thumbnail,
                 EXISTS (SELECT 1 FROM outputs o WHERE o.image_id = i.id AND o.variant = 'cache')
                   AS has_cache
               FROM images i WHERE i.collection_id = ? AND i.format IS NOT NULL AND i.gone_at IS NULL
               ORDER BY ${ORDER_SQL[order].map((c) => `${c} ${dir}`).join(', ')} LIMIT ? OFFSET ?`,
            ),
          ]),
        ),
      ),
    };
  }

  byPath(collectionId: number, entryPath: string): ImageRow | undefined {
    const r = this.st.byPath.get(collectionId, entryPath);
    return r ? toImage(r) : undefined;
  }

  /**
   * The collection's images at these paths, by path, each with how many of its
   * variants have a current output (made with `current` from its version): a
   * scan batch compared with the store in one query.
   */
  byPaths(
    collectionId: number,
    entryPaths: readonly string[],
    current: Record<Variant, string>,
  ): Map<string, ScannedImage> {
    const found = new Map<string, ScannedImage>();
    if (!entryPaths.length) return found;
    const rows = this.st.byPaths.all(
      current.thumbnail,
      current.cache,
      JSON.stringify(entryPaths),
      collectionId,
    );
    for (const r of rows)
      found.set(r.entry_path, { ...toImage(r), currentOutputs: r.current_outputs });
    return found;
  }

  /**
   * Size and time of the collection's images at these paths, by path: what a
   * scan needs to tell which files to read (like `byPaths`, but lighter).
   */
  filesByPaths(
    collectionId: number,
    entryPaths: readonly string[],
  ): Map<string, Pick<ImageRow, 'id' | 'size' | 'mtimeMs' | 'fingerprint'>> {
    const found = new Map<string, Pick<ImageRow, 'id' | 'size' | 'mtimeMs' | 'fingerprint'>>();
    if (!entryPaths.length) return found;
    for (const r of this.st.filesByPaths.all(JSON.stringify(entryPaths), collectionId)) {
      found.set(r.entry_path, {
        id: r.id,
        size: r.size,
        mtimeMs: r.mtime_ms,
        fingerprint: r.fingerprint,
      });
    }
    return found;
  }

  get(id: number): ImageRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toImage(r) : undefined;
  }

  /** A new image; its id was never given to another (see id_floor). */
  insert(
    collectionId: number,
    entryPath: string,
    size: number,
    mtimeMs: number,
    fingerprint: string | null = null,
  ): number {
    const id = this.nextId();
    this.st.insert.run(
      id,
      collectionId,
      entryPath,
      naturalSortKey(entryPath),
      size,
      mtimeMs,
      fingerprint,
    );
    return id;
  }

  /**
   * The file changed in place: new size, time and fingerprint, and a new
   * version, so its outputs count as outdated (they stay, and are shown, until
   * their replacements are written). Its header is read again.
   */
  changed(id: number, size: number, mtimeMs: number, fingerprint: string | null): void {
    this.st.changed.run(size, mtimeMs, fingerprint, id);
  }

  /**
   * The same file found at another path (maybe of another collection): the
   * image keeps its id, metadata and outputs. False if its size differs.
   */
  move(
    id: number,
    to: { collectionId: number; entryPath: string; size: number; mtimeMs: number },
  ): boolean {
    return (
      this.st.move.run(
        to.collectionId,
        to.entryPath,
        naturalSortKey(to.entryPath),
        to.mtimeMs,
        id,
        to.size,
      ).changes === 1
    );
  }

  /**
   * Every image of a collection (gone ones too) moves into another whose root
   * contains it, its entry path prefixed with `prefix` (the folder between the
   * two roots, `/`-separated); ids, metadata and outputs stay. Returns how many.
   */
  reparentAll(fromCollection: number, toCollection: number, prefix: string): number {
    const rows = this.st.pathsOf.all(fromCollection);
    for (const r of rows) {
      const entryPath = `${prefix}/${r.entry_path}`;
      this.st.reparent.run(toCollection, entryPath, naturalSortKey(entryPath), r.id);
    }
    return rows.length;
  }

  setFingerprint(id: number, fingerprint: string): void {
    this.st.setFingerprint.run(fingerprint, id);
  }

  /** The hash of the whole file the current version's render read. */
  setContentHash(id: number, contentHash: string): void {
    this.st.setContentHash.run(contentHash, id);
  }

  /** Images (of any collection, gone ones included) with this size and fingerprint. */
  sameContent(size: number, fingerprint: string): ImageRow[] {
    return this.st.sameContent.all(size, fingerprint).map(toImage);
  }

  /** Ids of a collection's images that are not gone. */
  idsOf(collectionId: number): number[] {
    return this.st.idsOf.all(collectionId);
  }

  /** Not found by a rescan: hidden now, deleted by `remove` once no walk may still find it. */
  markGone(id: number, t: number): boolean {
    return this.st.markGone.run(t, id).changes === 1;
  }

  /**
   * Up to `limit` gone images that no walk may still find moved: gone before
   * `before`, or every other online collection of their kind had a walk that
   * began at most `slackMs` before the one that found them gone.
   */
  purgeable(limit: number, before: number, slackMs: number): ImageRow[] {
    return this.st.purgeable.all(before, slackMs, limit).map(toImage);
  }

  /** Paths of up to `n` of a collection's images (not gone), from all over it. */
  samplePaths(collectionId: number, n: number): string[] {
    return this.st.samplePaths.all(collectionId, n);
  }

  /** Ids of a collection's images (not gone) inside the folder `dir` (a path in it). */
  idsUnder(collectionId: number, dir: string): number[] {
    // Every path below `dir/` sorts between it and `dir0` ('0' follows '/').
    return this.st.idsUnder.all(collectionId, `${dir}/`, `${dir}0`);
  }

  /** Every output file of a collection's images. */
  outputFilesOf(collectionId: number): { cacheFolderId: number; relPath: string }[] {
    return this.st.outputsOfCollection
      .all(collectionId)
      .map((r) => ({ cacheFolderId: r.cache_folder_id, relPath: r.rel_path }));
  }

  /** Every image row of a collection, gone ones included. */
  countOf(collectionId: number): number {
    return this.st.countOf.get(collectionId)?.n ?? 0;
  }

  /** Deletes the image row (its items and outputs go with it). */
  remove(id: number): void {
    this.st.remove.run(id);
  }

  setMeta(id: number, m: ImageMeta): void {
    this.st.setMeta.run(m.format, m.width, m.height, m.orientation, id);
  }

  /** Records what the photo's EXIF and XMP say (from the decode that rendered it). */
  setPhotoMeta(id: number, m: PhotoMeta): void {
    this.st.setPhotoMeta.run({ ...m, id });
  }

  /** Images of a collection whose header was read (the ones the grid shows). */
  count(collectionId: number): number {
    return this.st.count.get(collectionId)?.n ?? 0;
  }

  /** A page of a collection's images in natural order. */
  page(collectionId: number, limit: number, offset: number): ImageRow[] {
    return this.st.page.all(collectionId, limit, offset).map(toImage);
  }

  /** A page of the usable images of a collection in an order, with which outputs exist. */
  pageWithOutputs(
    collectionId: number,
    limit: number,
    offset: number,
    order: ImageOrder = 'name',
    dir: 'asc' | 'desc' = 'asc',
  ): ImageWithOutputs[] {
    const st = this.st.pageWithOutputs[`${order} ${dir}`];
    if (!st) throw new RangeError(`no such order: ${order} ${dir}`);
    return st.all(collectionId, limit, offset).map((r) => ({
      ...toImage(r),
      has: { thumbnail: r.has_thumbnail === 1, cache: r.has_cache === 1 },
    }));
  }
}
