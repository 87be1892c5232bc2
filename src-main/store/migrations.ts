import type { Database } from 'better-sqlite3';

/** One schema step. Steps run in order; step N leaves `user_version` at N. */
export interface Migration {
  name: string;
  up(db: Database): void;
}

const counterColumns = ['pending', 'running', 'done', 'skipped', 'failed'] as const;

/** SQL adding 1 to the counter named by `state`, minus 1 for `minus` (both item-state expressions). */
function counterDelta(plus: string | null, minus: string | null): string {
  return counterColumns
    .map((c) => {
      const add = plus ? ` + (${plus} = '${c}')` : '';
      const sub = minus ? ` - (${minus} = '${c}')` : '';
      return `${c} = ${c}${add}${sub}`;
    })
    .join(', ');
}

/** The ordered list of schema steps. Never edit a released step; add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'initial schema',
    up(db) {
      db.exec(`
        CREATE TABLE cache_folders (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          enabled INTEGER NOT NULL DEFAULT 1,
          limit_bytes INTEGER,
          bytes INTEGER NOT NULL DEFAULT 0,
          files INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE collections (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('folder', 'archive')),
          root TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          cache_folder_id INTEGER NOT NULL REFERENCES cache_folders(id),
          created_at INTEGER NOT NULL
        );
        CREATE TABLE images (
          id INTEGER PRIMARY KEY,
          collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
          entry_path TEXT NOT NULL,
          sort_key TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_ms INTEGER NOT NULL,
          format TEXT,
          width INTEGER,
          height INTEGER,
          orientation INTEGER,
          UNIQUE (collection_id, entry_path)
        );
        CREATE INDEX images_by_order ON images (collection_id, sort_key);

        CREATE TABLE jobs (
          id INTEGER PRIMARY KEY,
          collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
          status TEXT NOT NULL,
          started INTEGER NOT NULL DEFAULT 0,
          scan_finished INTEGER NOT NULL DEFAULT 0,
          paused INTEGER NOT NULL DEFAULT 0,
          cancelled INTEGER NOT NULL DEFAULT 0,
          error_code TEXT,
          error_message TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          finished_at INTEGER
        );
        CREATE INDEX jobs_by_status ON jobs (status, id);
        CREATE INDEX jobs_by_collection ON jobs (collection_id, id);

        CREATE TABLE stages (
          job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
          stage TEXT NOT NULL CHECK (stage IN ('scan', 'thumbnail', 'cache')),
          status TEXT NOT NULL,
          total INTEGER NOT NULL DEFAULT 0,
          pending INTEGER NOT NULL DEFAULT 0,
          running INTEGER NOT NULL DEFAULT 0,
          done INTEGER NOT NULL DEFAULT 0,
          skipped INTEGER NOT NULL DEFAULT 0,
          failed INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (job_id, stage)
        ) WITHOUT ROWID;

        CREATE TABLE items (
          id INTEGER PRIMARY KEY,
          job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
          stage TEXT NOT NULL CHECK (stage IN ('scan', 'thumbnail', 'cache')),
          image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'skipped', 'failed')),
          priority INTEGER NOT NULL DEFAULT 0,
          attempts INTEGER NOT NULL DEFAULT 0,
          crashes INTEGER NOT NULL DEFAULT 0,
          error_code TEXT,
          error_message TEXT,
          updated_at INTEGER NOT NULL,
          UNIQUE (job_id, stage, image_id)
        );
        CREATE INDEX items_by_job_state ON items (job_id, state, stage);
        CREATE INDEX items_by_image ON items (image_id);
        -- Partial indexes keep picking the next work O(log n) however long the backlog.
        CREATE INDEX items_scan_pending ON items (job_id, id)
          WHERE state = 'pending' AND stage = 'scan';
        CREATE INDEX items_render_pending ON items (job_id, priority DESC, id)
          WHERE state = 'pending' AND stage <> 'scan';
        CREATE INDEX items_running ON items (id) WHERE state = 'running';

        CREATE TABLE outputs (
          id INTEGER PRIMARY KEY,
          image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          variant TEXT NOT NULL CHECK (variant IN ('thumbnail', 'cache')),
          settings_hash TEXT NOT NULL,
          cache_folder_id INTEGER NOT NULL REFERENCES cache_folders(id),
          rel_path TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          width INTEGER NOT NULL,
          height INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          UNIQUE (image_id, variant, settings_hash)
        );
        CREATE INDEX outputs_by_folder ON outputs (cache_folder_id, rel_path);

        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) WITHOUT ROWID;
      `);

      // Stage counters are maintained by triggers, inside the very statement that
      // changes an item: no code path can change an item and forget its counters.
      db.exec(`
        CREATE TRIGGER items_counters_insert AFTER INSERT ON items BEGIN
          UPDATE stages SET total = total + 1, ${counterDelta('NEW.state', null)}
          WHERE job_id = NEW.job_id AND stage = NEW.stage;
        END;
        CREATE TRIGGER items_counters_update AFTER UPDATE OF state ON items
        WHEN OLD.state <> NEW.state BEGIN
          UPDATE stages SET ${counterDelta('NEW.state', 'OLD.state')}
          WHERE job_id = NEW.job_id AND stage = NEW.stage;
        END;
        CREATE TRIGGER items_counters_delete AFTER DELETE ON items BEGIN
          UPDATE stages SET total = total - 1, ${counterDelta(null, 'OLD.state')}
          WHERE job_id = OLD.job_id AND stage = OLD.stage;
        END;
      `);

      // Cache-folder statistics follow the output rows in the same way.
      db.exec(`
        CREATE TRIGGER outputs_stats_insert AFTER INSERT ON outputs BEGIN
          UPDATE cache_folders SET bytes = bytes + NEW.bytes, files = files + 1
          WHERE id = NEW.cache_folder_id;
        END;
        CREATE TRIGGER outputs_stats_delete AFTER DELETE ON outputs BEGIN
          UPDATE cache_folders SET bytes = bytes - OLD.bytes, files = files - 1
          WHERE id = OLD.cache_folder_id;
        END;
        CREATE TRIGGER outputs_stats_update AFTER UPDATE OF bytes, cache_folder_id ON outputs BEGIN
          UPDATE cache_folders SET bytes = bytes - OLD.bytes, files = files - 1
          WHERE id = OLD.cache_folder_id;
          UPDATE cache_folders SET bytes = bytes + NEW.bytes, files = files + 1
          WHERE id = NEW.cache_folder_id;
        END;
      `);
    },
  },
  {
    name: 'cache folder timestamps and pause reasons',
    up(db) {
      db.exec(`
        ALTER TABLE cache_folders ADD COLUMN last_generated_at INTEGER;
        ALTER TABLE cache_folders ADD COLUMN last_cleanup_at INTEGER;
        -- Why a job is paused: 'user', or 'DISK_FULL' (resumed by itself when space returns).
        ALTER TABLE jobs ADD COLUMN pause_reason TEXT;
        UPDATE jobs SET pause_reason = 'user' WHERE paused = 1;
        UPDATE cache_folders SET last_generated_at =
          (SELECT max(created_at) FROM outputs WHERE cache_folder_id = cache_folders.id);
        CREATE TRIGGER outputs_last_generated AFTER INSERT ON outputs BEGIN
          UPDATE cache_folders SET last_generated_at = NEW.created_at WHERE id = NEW.cache_folder_id;
        END;
        CREATE INDEX outputs_by_variant_hash ON outputs (variant, settings_hash);
        CREATE INDEX outputs_by_folder_id ON outputs (cache_folder_id, id);
      `);
    },
  },
  {
    name: 'open jobs by finished_at, pause details',
    up(db) {
      db.exec(`
        -- A job is open exactly while finished_at is null; older files agree, but make
        -- sure, since every query now relies on it instead of a list of statuses.
        UPDATE jobs SET finished_at = updated_at WHERE finished_at IS NULL
          AND status IN ('completed', 'completed_with_errors', 'cancelled', 'failed');
        UPDATE jobs SET finished_at = NULL
          WHERE status NOT IN ('completed', 'completed_with_errors', 'cancelled', 'failed');
        CREATE INDEX jobs_open ON jobs (id) WHERE finished_at IS NULL;
        -- What a job paused by the system waits for, in words ("cache folder X is read-only").
        ALTER TABLE jobs ADD COLUMN pause_detail TEXT;
      `);
    },
  },
  {
    name: 'follow the disk: fingerprints, source versions, gone images, removals, pruning',
    up(db) {
      db.exec(`
        -- Size plus a hash of sampled blocks (or an archive entry's CRC): a moved or
        -- renamed file is recognised by it and keeps its image id and outputs.
        ALTER TABLE images ADD COLUMN fingerprint TEXT;
        -- Bumped when the file changes in place; an output is current only when it
        -- was made from the image's current version.
        ALTER TABLE images ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        -- Not found by a rescan: hidden at once, deleted with its outputs once no walk
        -- of the library is under way (a walk elsewhere may find where it moved).
        ALTER TABLE images ADD COLUMN gone_at INTEGER;
        CREATE INDEX images_by_fingerprint ON images (size, fingerprint);
        CREATE INDEX images_gone ON images (id) WHERE gone_at IS NOT NULL;
        ALTER TABLE outputs ADD COLUMN source_version INTEGER NOT NULL DEFAULT 1;
        -- The decoder's verdict on a failed image is taken again with it alone in the
        -- pool: libvips keeps one error buffer per process, so concurrent failures
        -- can swap their messages.
        ALTER TABLE items ADD COLUMN solo INTEGER NOT NULL DEFAULT 0;

        -- What a job was started for: 'import' or 'rescan'.
        ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'import';
        -- Bumped by each request to walk the collection again; a walk that began
        -- before the latest request does not finish the scan (it walks once more).
        ALTER TABLE jobs ADD COLUMN walk_requests INTEGER NOT NULL DEFAULT 0;
        -- A finished job keeps its counts and its failures, not a row per finished item:
        -- the counts of the rows it let go of are kept here (counters = items + pruned).
        ALTER TABLE stages ADD COLUMN pruned_done INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE stages ADD COLUMN pruned_skipped INTEGER NOT NULL DEFAULT 0;

        -- A collection whose root cannot be reached: offline since then (nothing removed).
        ALTER TABLE collections ADD COLUMN offline_since INTEGER;
        ALTER TABLE collections ADD COLUMN last_seen_at INTEGER;
        -- Follow changes on disk: 1 or 0, or NULL for the library-wide setting.
        ALTER TABLE collections ADD COLUMN watch INTEGER;
        -- Set by the first step of a removal: the collection is hidden and its rows
        -- go in the next; a crash in between is finished at the next start.
        ALTER TABLE collections ADD COLUMN removing INTEGER NOT NULL DEFAULT 0;

        -- Files to delete once the transition that let go of them has committed; the
        -- queue survives a crash, so an interrupted removal finishes at the next start.
        CREATE TABLE file_deletions (
          id INTEGER PRIMARY KEY,
          cache_folder_id INTEGER NOT NULL REFERENCES cache_folders(id) ON DELETE CASCADE,
          rel_path TEXT NOT NULL,
          -- A file written after this (a render of the same path) is not the one let go of.
          queued_at INTEGER NOT NULL
        );

        -- Ids are never given out twice: an output's path holds its collection and
        -- image ids, and a queued deletion must never hit a newer image's file.
        CREATE TABLE id_floor (name TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO id_floor VALUES ('images', (SELECT coalesce(max(id), 0) FROM images));
        INSERT INTO id_floor VALUES ('collections', (SELECT coalesce(max(id), 0) FROM collections));
      `);
    },
  },
  {
    name: 'full hashes for ties, the root device of a walk, ids of jobs never reused',
    up(db) {
      db.exec(`
        -- A hash of the whole file, made by the worker that decoded it: a new file
        -- whose sampled fingerprint matches several gone images is told between them.
        ALTER TABLE images ADD COLUMN content_hash TEXT;
        -- The device of a folder collection's root when a walk last reached it: an
        -- empty root on another device is an unmounted drive, on the same one a
        -- folder whose photos were all deleted.
        ALTER TABLE collections ADD COLUMN root_dev INTEGER;
        -- A job's id is never given out twice (a process waiting on a job that was
        -- taken in by another collection must not find a newer job under its id).
        INSERT INTO id_floor VALUES ('jobs', (SELECT coalesce(max(id), 0) FROM jobs));
        UPDATE id_floor SET last = max(last, (SELECT coalesce(max(id), 0) FROM collections))
          WHERE name = 'collections';
      `);
    },
  },
  {
    name: 'when each collection was last walked, and the drives mounted inside it',
    up(db) {
      db.exec(`
        -- When the collection's last finished walk began: an image gone from another
        -- collection is kept (hidden) until every other collection was walked after
        -- about when it went, since one of them may be where it moved.
        ALTER TABLE collections ADD COLUMN walked_at INTEGER;
        -- The folders inside a folder collection that were another drive's mount
        -- point at the last walk, as JSON [{"path": "a/b", "dev": 66}]: a drive
        -- unmounted there leaves an empty folder, and its images are offline, not gone.
        ALTER TABLE collections ADD COLUMN mounts TEXT NOT NULL DEFAULT '[]';
      `);
    },
  },
  {
    name: 'what each photo says about itself: date taken, camera, exposure, place, rating',
    up(db) {
      db.exec(`
        -- From the photo's EXIF and XMP, read by the worker that decoded it; null
        -- where absent. taken_at is ms since the epoch; taken_local and
        -- taken_offset are as the camera wrote them.
        ALTER TABLE images ADD COLUMN taken_at INTEGER;
        ALTER TABLE images ADD COLUMN taken_local TEXT;
        ALTER TABLE images ADD COLUMN taken_offset TEXT;
        ALTER TABLE images ADD COLUMN make TEXT;
        ALTER TABLE images ADD COLUMN model TEXT;
        ALTER TABLE images ADD COLUMN lens TEXT;
        ALTER TABLE images ADD COLUMN focal_length REAL;
        ALTER TABLE images ADD COLUMN aperture REAL;
        ALTER TABLE images ADD COLUMN exposure_time REAL;
        ALTER TABLE images ADD COLUMN iso INTEGER;
        ALTER TABLE images ADD COLUMN latitude REAL;
        ALTER TABLE images ADD COLUMN longitude REAL;
        ALTER TABLE images ADD COLUMN xmp_rating INTEGER;
        ALTER TABLE images ADD COLUMN xmp_label TEXT;
        -- The grid's orders: by date taken (the file's time where the photo
        -- names none), by size and by modified time; by name is sort_key.
        CREATE INDEX images_by_taken ON images
          (collection_id, coalesce(taken_at, mtime_ms), sort_key);
        CREATE INDEX images_by_size ON images (collection_id, size, sort_key);
        CREATE INDEX images_by_mtime ON images (collection_id, mtime_ms, sort_key);
      `);
    },
  },
  {
    name: 'frames of an animation and pages of a document',
    up(db) {
      db.exec(`
        -- From the decoder: frames of a GIF or WebP animation, pages of a TIFF
        -- (null for a single image), and one loop's duration in ms.
        ALTER TABLE images ADD COLUMN pages INTEGER;
        ALTER TABLE images ADD COLUMN duration_ms INTEGER;
      `);
    },
  },
];
