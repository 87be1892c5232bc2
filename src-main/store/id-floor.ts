import type { Db } from './database.ts';

/** Tables whose ids are never given out twice (see the id_floor table). */
export type FlooredTable = 'images' | 'collections' | 'jobs';

/**
 * The next id of `table`, above every id it ever gave out: the floor is raised
 * in the same statement, inside the caller's transaction. An output's path
 * holds its collection and image ids, a queued deletion names them, and a
 * process waiting on a job finds it by id; a reused id would hit the wrong one.
 */
export function idFloor(db: Db, table: FlooredTable): () => number {
  const next = db.prepare<[], { last: number }>(
    `UPDATE id_floor SET last = max(last, (SELECT coalesce(max(id), 0) FROM ${table})) + 1
     WHERE name = '${table}' RETURNING last`,
  );
  return () => {
    const id = next.get()?.last;
    if (id === undefined) throw new Error(`id_floor has no row for ${table}`);
    return id;
  };
}
