import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseVersionError, migrate, openDatabase } from './database.ts';
import { MIGRATIONS } from './migrations.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir();

describe('openDatabase', () => {
  it('creates the schema, records its version and uses WAL with foreign keys', () => {
    const file = join(tempDir(), 'a.db');
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('is idempotent when opened again', () => {
    const file = join(tempDir(), 'a.db');
    openDatabase(file).close();
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('refuses a database from a newer version with a clear message', () => {
    const file = join(tempDir(), 'future.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(DatabaseVersionError);
    expect(() => openDatabase(file)).toThrow(/newer version of Albumen/);
  });

  it('rolls a failing migration back whole, leaving the version unchanged', () => {
    const db = new Database(':memory:');
    const steps = [
      { name: 'ok', up: (d: Database.Database) => d.exec('CREATE TABLE a (x)') },
      {
        name: 'broken',
        up: (d: Database.Database) => {
          d.exec('CREATE TABLE b (x)');
          throw new Error('boom');
        },
      },
    ];
    expect(() => migrate(db, steps)).toThrow('boom');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'b'`).get()).toBeUndefined();
  });
});

describe('migration 1 (initial schema)', () => {
  it('keeps stage counters equal to the item rows through triggers', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    db.exec(`
      INSERT INTO cache_folders (id, path, created_at) VALUES (1, '/c', 0);
      INSERT INTO collections (id, kind, root, name, cache_folder_id, created_at) VALUES (1, 'folder', '/r', 'r', 1, 0);
      INSERT INTO images (id, collection_id, entry_path, sort_key, size, mtime_ms) VALUES (1, 1, 'a.jpg', 'a', 1, 0), (2, 1, 'b.jpg', 'b', 1, 0);
      INSERT INTO jobs (id, collection_id, status, created_at, updated_at) VALUES (1, 1, 'queued', 0, 0);
      INSERT INTO stages (job_id, stage, status) VALUES (1, 'thumbnail', 'queued');
      INSERT INTO items (job_id, stage, image_id, state, updated_at) VALUES (1, 'thumbnail', 1, 'pending', 0), (1, 'thumbnail', 2, 'pending', 0);
      UPDATE items SET state = 'running' WHERE image_id = 1;
      UPDATE items SET state = 'done' WHERE image_id = 1;
      UPDATE items SET state = 'failed' WHERE image_id = 2;
    `);
    expect(
      db.prepare('SELECT total, pending, running, done, skipped, failed FROM stages').get(),
    ).toEqual({
      total: 2,
      pending: 0,
      running: 0,
      done: 1,
      skipped: 0,
      failed: 1,
    });
    db.exec('DELETE FROM items WHERE image_id = 2');
    expect(db.prepare('SELECT total, failed FROM stages').get()).toEqual({ total: 1, failed: 0 });
  });

  it('keeps cache-folder statistics equal to the output rows', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    db.exec(`
      INSERT INTO cache_folders (id, path, created_at) VALUES (1, '/c', 0), (2, '/d', 0);
      INSERT INTO collections (id, kind, root, name, cache_folder_id, created_at) VALUES (1, 'folder', '/r', 'r', 1, 0);
      INSERT INTO images (id, collection_id, entry_path, sort_key, size, mtime_ms) VALUES (1, 1, 'a.jpg', 'a', 1, 0);
      INSERT INTO outputs (image_id, variant, settings_hash, cache_folder_id, rel_path, bytes, width, height, created_at)
        VALUES (1, 'thumbnail', 'h', 1, 'x', 100, 1, 1, 0), (1, 'cache', 'h', 1, 'y', 1000, 1, 1, 0);
      UPDATE outputs SET bytes = 50 WHERE variant = 'thumbnail';
      UPDATE outputs SET cache_folder_id = 2 WHERE variant = 'cache';
    `);
    const rows = db.prepare('SELECT id, bytes, files FROM cache_folders ORDER BY id').all();
    expect(rows).toEqual([
      { id: 1, bytes: 50, files: 1 },
      { id: 2, bytes: 1000, files: 1 },
    ]);
  });
});

describe('migration 2 (cache folder timestamps, pause reasons)', () => {
  it('keeps user pauses as user pauses and stamps the folder on each new output', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    db.exec(`
      INSERT INTO cache_folders (id, path, created_at) VALUES (1, '/c', 0);
      INSERT INTO collections (id, kind, root, name, cache_folder_id, created_at) VALUES (1, 'folder', '/r', 'r', 1, 0);
      INSERT INTO images (id, collection_id, entry_path, sort_key, size, mtime_ms) VALUES (1, 1, 'a.jpg', 'a', 1, 0);
      INSERT INTO jobs (id, collection_id, status, paused, created_at, updated_at) VALUES (1, 1, 'paused', 1, 0, 0), (2, 1, 'running', 0, 0, 0);
      INSERT INTO outputs (image_id, variant, settings_hash, cache_folder_id, rel_path, bytes, width, height, created_at)
        VALUES (1, 'cache', 'h', 1, 'y', 10, 1, 1, 777);
    `);
    migrate(db, MIGRATIONS.slice(0, 2));
    expect(db.prepare('SELECT id, pause_reason FROM jobs ORDER BY id').all()).toEqual([
      { id: 1, pause_reason: 'user' },
      { id: 2, pause_reason: null },
    ]);
    expect(db.prepare('SELECT last_generated_at FROM cache_folders').get()).toEqual({
      last_generated_at: 777,
    });
    db.exec(`INSERT INTO outputs (image_id, variant, settings_hash, cache_folder_id, rel_path, bytes, width, height, created_at)
             VALUES (1, 'thumbnail', 'h', 1, 'x', 10, 1, 1, 1234)`);
    expect(db.prepare('SELECT last_generated_at FROM cache_folders').get()).toEqual({
      last_generated_at: 1234,
    });
  });
});

describe('migration 3 (open jobs, pause details)', () => {
  it('marks terminal jobs finished and open ones not, whatever an older file said', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 2));
    db.exec(`
      INSERT INTO cache_folders (id, path, created_at) VALUES (1, '/c', 0);
      INSERT INTO collections (id, kind, root, name, cache_folder_id, created_at) VALUES (1, 'folder', '/r', 'r', 1, 0);
      INSERT INTO jobs (id, collection_id, status, created_at, updated_at, finished_at) VALUES
        (1, 1, 'completed', 0, 50, NULL), (2, 1, 'running', 0, 60, 70), (3, 1, 'failed', 0, 80, 90);
    `);
    migrate(db, MIGRATIONS.slice(0, 3));
    expect(db.prepare('SELECT id, finished_at, pause_detail FROM jobs ORDER BY id').all()).toEqual([
      { id: 1, finished_at: 50, pause_detail: null },
      { id: 2, finished_at: null, pause_detail: null },
      { id: 3, finished_at: 90, pause_detail: null },
    ]);
  });
});
