import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.ts';

export type Db = Database.Database;

/** Raised when the database cannot be used by this version of the app. */
export class DatabaseVersionError extends Error {
  override name = 'DatabaseVersionError';
}

/**
 * Opens (creating if needed) the store at `file` and brings its schema up to date.
 * Pass ':memory:' only in tests that do not need durability.
 */
export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  const db = new Database(file);
  try {
    // WAL: readers never block the single writer, and a crash leaves a consistent file.
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode (only an OS crash may
    // lose the last commits); FULL would fsync every item transition.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A REPLACE's implicit delete fires the delete triggers too, so no statement
    // can remove an item without its counters following.
    db.pragma('recursive_triggers = ON');
    // Another process (a CLI command beside the app) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Runs every migration newer than the file's `user_version`, each in its own
 * transaction that also sets `user_version`. A file from a newer app is refused.
 */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const latest = migrations.length;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new DatabaseVersionError(
      `The library database is from a newer version of Albumen (schema ${current}; this version knows ${latest}). ` +
        'Update Albumen, or use another data directory.',
    );
  }
  for (let v = current; v < latest; v++) {
    const step = migrations[v];
    if (!step) throw new Error(`missing migration ${v + 1}`);
    db.transaction(() => {
      step.up(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
