import type { Db } from './database.ts';

/** Every table of the schema that holds state; writes to any of them need an open transition. */
const GATED_TABLES = [
  'cache_folders',
  'collections',
  'images',
  'jobs',
  'stages',
  'items',
  'outputs',
  'settings',
  'file_deletions',
  'id_floor',
] as const;

/**
 * Per-connection guards that make the write path structural rather than a
 * convention. They live in the connection's TEMP schema, so they cost nothing
 * on disk and every process that opens the store installs its own:
 *
 * - a gate: any INSERT, UPDATE or DELETE on a state table outside an open
 *   transition aborts with "write outside a transition";
 * - a touched set: any change to a job's flags or to a stage's counters (the
 *   counter triggers fire on every item change) records the job, so the
 *   transition re-derives the status of exactly the jobs it touched.
 */
export function installWriteGate(db: Db): {
  open(): void;
  close(): void;
  takeTouched(): number[];
} {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS write_gate (open INTEGER NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS touched_jobs (job_id INTEGER PRIMARY KEY);
  `);
  for (const t of GATED_TABLES) {
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
      db.exec(`
        CREATE TEMP TRIGGER IF NOT EXISTS gate_${t}_${op.toLowerCase()} BEFORE ${op} ON main.${t}
        WHEN NOT EXISTS (SELECT 1 FROM temp.write_gate)
        BEGIN SELECT RAISE(ABORT, 'albumen: write to ${t} outside a transition'); END;
      `);
    }
  }
  db.exec(`
    CREATE TEMP TRIGGER IF NOT EXISTS touch_job_insert AFTER INSERT ON main.jobs
    BEGIN INSERT OR IGNORE INTO temp.touched_jobs VALUES (NEW.id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS touch_job_flags
    AFTER UPDATE OF started, scan_finished, paused, pause_reason, cancelled, error_code ON main.jobs
    BEGIN INSERT OR IGNORE INTO temp.touched_jobs VALUES (NEW.id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS touch_stage_counters
    AFTER UPDATE OF total, pending, running, done, skipped, failed ON main.stages
    BEGIN INSERT OR IGNORE INTO temp.touched_jobs VALUES (NEW.job_id); END;
  `);
  const open = db.prepare('INSERT INTO temp.write_gate (open) VALUES (1)');
  const close = db.prepare('DELETE FROM temp.write_gate');
  const touched = db.prepare<[], { job_id: number }>('SELECT job_id FROM temp.touched_jobs');
  const clear = db.prepare('DELETE FROM temp.touched_jobs');
  return {
    open: () => void open.run(),
    close: () => void close.run(),
    takeTouched: () => {
      const ids = touched.all().map((r) => r.job_id);
      if (ids.length) clear.run();
      return ids;
    },
  };
}
