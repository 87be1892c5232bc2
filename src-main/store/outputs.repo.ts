import type { Db } from './database.ts';
import type { OutputRecord, OutputRow } from './rows.ts';
import type { Variant } from '../../src-shared/domain.ts';

interface OutputDbRow {
  id: number;
  image_id: number;
  variant: Variant;
  settings_hash: string;
  cache_folder_id: number;
  rel_path: string;
  bytes: number;
  width: number;
  height: number;
  source_version: number;
}

function toOutput(r: OutputDbRow): OutputRow {
  return {
    id: r.id,
    imageId: r.image_id,
    variant: r.variant,
    settingsHash: r.settings_hash,
    cacheFolderId: r.cache_folder_id,
    relPath: r.rel_path,
    bytes: r.bytes,
    width: r.width,
    height: r.height,
    sourceVersion: r.source_version,
  };
}

/** Outputs made with older settings, per collection. */
export interface StaleByCollection {
  collectionId: number;
  name: string;
  files: number;
  bytes: number;
}

/** Output rows: one per (image, variant, settings hash), written after the file's rename. */
export class OutputsRepo {
  private readonly st;

  constructor(db: Db) {
    const rows = (sql: string) => db.prepare<[number, number, number], OutputDbRow>(sql);
    this.st = {
      byKey: db.prepare<[number, Variant, string], OutputDbRow>(
        'SELECT * FROM outputs WHERE image_id = ? AND variant = ? AND settings_hash = ?',
      ),
      byId: db.prepare<[number], OutputDbRow>('SELECT * FROM outputs WHERE id = ?'),
      currentVariants: db.prepare<[number, string, string, number], { n: number }>(
        `SELECT count(*) AS n FROM outputs WHERE image_id = ?
           AND ((variant = 'thumbnail' AND settings_hash = ?) OR (variant = 'cache' AND settings_hash = ?))
           AND source_version = ?`,
      ),
      ofImage: db.prepare<[number], OutputDbRow>('SELECT * FROM outputs WHERE image_id = ?'),
      best: db.prepare<[number, Variant, string], OutputDbRow>(
        `SELECT * FROM outputs WHERE image_id = ? AND variant = ?
         ORDER BY settings_hash = ? DESC, id DESC LIMIT 1`,
      ),
      stale: db.prepare<[number, Variant, string], OutputDbRow>(
        'SELECT * FROM outputs WHERE image_id = ? AND variant = ? AND settings_hash <> ?',
      ),
      after: db.prepare<[number, number], OutputDbRow>(
        'SELECT * FROM outputs WHERE id > ? ORDER BY id LIMIT ?',
      ),
      inFolder: rows(
        'SELECT * FROM outputs WHERE cache_folder_id = ? AND id > ? ORDER BY id LIMIT ?',
      ),
      elsewhere: db.prepare<[number, number], OutputDbRow>(
        `SELECT o.* FROM outputs o JOIN images i ON i.id = o.image_id
         WHERE i.collection_id = ? AND o.cache_folder_id <> ?`,
      ),
      hasFile: db.prepare<[number, string], { one: number }>(
        'SELECT 1 AS one FROM outputs WHERE cache_folder_id = ? AND rel_path = ?',
      ),
      staleByCollection: db.prepare<[string, string], StaleByCollection>(
        `SELECT i.collection_id AS collectionId, c.name, count(*) AS files, sum(o.bytes) AS bytes
         FROM outputs o JOIN images i ON i.id = o.image_id JOIN collections c ON c.id = i.collection_id
         WHERE (o.variant = 'thumbnail' AND o.settings_hash <> ?) OR (o.variant = 'cache' AND o.settings_hash <> ?)
         GROUP BY i.collection_id ORDER BY c.name`,
      ),
      move: db.prepare<[number, number], unknown>(
        'UPDATE outputs SET cache_folder_id = ? WHERE id = ?',
      ),
      delete: db.prepare<[number], unknown>('DELETE FROM outputs WHERE id = ?'),
      deleteOfImage: db.prepare<[number], unknown>('DELETE FROM outputs WHERE image_id = ?'),
      upsert: db.prepare<
        [number, Variant, string, number, string, number, number, number, number, number],
        unknown
      >(
        `INSERT INTO outputs (image_id, variant, settings_hash, cache_folder_id, rel_path, bytes,
           width, height, created_at, source_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (image_id, variant, settings_hash) DO UPDATE SET
           cache_folder_id = excluded.cache_folder_id, rel_path = excluded.rel_path,
           bytes = excluded.bytes, width = excluded.width, height = excluded.height,
           created_at = excluded.created_at, source_version = excluded.source_version`,
      ),
    };
  }

  /** How many variants of the image have an output made with `current` settings from `version`. */
  currentVariants(imageId: number, current: Record<Variant, string>, version: number): number {
    return this.st.currentVariants.get(imageId, current.thumbnail, current.cache, version)?.n ?? 0;
  }

  /** The output of (image, variant, settings), if recorded. */
  byKey(imageId: number, variant: Variant, settingsHash: string): OutputRow | undefined {
    const r = this.st.byKey.get(imageId, variant, settingsHash);
    return r ? toOutput(r) : undefined;
  }

  get(id: number): OutputRow | undefined {
    const r = this.st.byId.get(id);
    return r ? toOutput(r) : undefined;
  }

  ofImage(imageId: number): OutputRow[] {
    return this.st.ofImage.all(imageId).map(toOutput);
  }

  /** The output for the current settings, else the newest of the variant. */
  best(imageId: number, variant: Variant, settingsHash: string): OutputRow | undefined {
    const r = this.st.best.get(imageId, variant, settingsHash);
    return r ? toOutput(r) : undefined;
  }

  /** Outputs of the image and variant made with other settings. */
  stale(imageId: number, variant: Variant, settingsHash: string): OutputRow[] {
    return this.st.stale.all(imageId, variant, settingsHash).map(toOutput);
  }

  /** All output rows, a page at a time in id order. */
  after(afterId: number, limit: number): OutputRow[] {
    return this.st.after.all(afterId, limit).map(toOutput);
  }

  /** Output rows of one cache folder, a page at a time in id order. */
  inFolder(folderId: number, afterId: number, limit: number): OutputRow[] {
    return this.st.inFolder.all(folderId, afterId, limit).map(toOutput);
  }

  /** Outputs of a collection that sit in another folder than `folderId`. */
  elsewhere(collectionId: number, folderId: number): OutputRow[] {
    return this.st.elsewhere.all(collectionId, folderId).map(toOutput);
  }

  /** True when a row refers to this file of the folder. */
  refersTo(folderId: number, relPath: string): boolean {
    return this.st.hasFile.get(folderId, relPath) !== undefined;
  }

  staleByCollection(current: Record<Variant, string>): StaleByCollection[] {
    return this.st.staleByCollection.all(current.thumbnail, current.cache);
  }

  /** Records the output of `imageId` as made from version `sourceVersion` of its file. */
  upsert(imageId: number, o: OutputRecord, sourceVersion: number, t: number): void {
    this.st.upsert.run(
      imageId,
      o.variant,
      o.settingsHash,
      o.cacheFolderId,
      o.relPath,
      o.bytes,
      o.width,
      o.height,
      t,
      sourceVersion,
    );
  }

  /** The file now lives in another folder (the folders' statistics follow). */
  move(id: number, folderId: number): void {
    this.st.move.run(folderId, id);
  }

  delete(id: number): void {
    this.st.delete.run(id);
  }

  deleteOfImage(imageId: number): void {
    this.st.deleteOfImage.run(imageId);
  }
}
