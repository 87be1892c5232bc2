import type { Db } from './database.ts';

/** Settings as JSON documents by key ('core', 'ui'); their shape is the settings module's business. */
export class SettingsRepo {
  private readonly st;

  constructor(db: Db) {
    this.st = {
      get: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      set: db.prepare<[string, string], unknown>(
        `INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    };
  }

  /** The parsed document, or undefined when never saved (or not valid JSON). */
  get(key: string): unknown {
    const row = this.st.get.get(key);
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: unknown): void {
    this.st.set.run(key, JSON.stringify(value));
  }
}
