import type { Db } from '../store/database.ts';
import {
  coreSettingsPatchProblem,
  coreSettingsProblem,
  DEFAULT_SETTINGS,
  type CoreSettings,
} from '../../src-shared/settings.ts';

/** A partial update of the settings; nested groups merge. */
export interface SettingsPatch {
  render?: { [K in keyof CoreSettings['render']]?: Partial<CoreSettings['render'][K]> };
  limits?: Partial<CoreSettings['limits']>;
  workers?: number;
}

/** Raised for a settings value outside its range; the message says which. */
export class SettingsError extends Error {
  override name = 'SettingsError';
  readonly code = 'INVALID_INPUT';
}

/** The user's settings, one JSON row in the store, merged over the defaults. */
export class SettingsStore {
  private readonly db: Db;
  private cached: CoreSettings | null = null;

  constructor(db: Db) {
    this.db = db;
  }

  get(): CoreSettings {
    if (this.cached) return this.cached;
    const row = this.db.prepare(`SELECT value FROM settings WHERE key = 'core'`).get() as
      { value: string } | undefined;
    this.cached = merge(DEFAULT_SETTINGS, row ? (JSON.parse(row.value) as SettingsPatch) : {});
    return this.cached;
  }

  /** Validates and saves a change; returns the new settings. */
  update(patch: SettingsPatch): CoreSettings {
    const next = merge(this.get(), patch);
    // The ranges are the shared schema's (src-shared/settings.ts), the same the API and the form use.
    const problem = coreSettingsPatchProblem(patch) ?? coreSettingsProblem(next);
    if (problem) throw new SettingsError(problem);
    this.db
      .prepare(
        `INSERT INTO settings (key, value) VALUES ('core', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      )
      .run(JSON.stringify(next));
    this.cached = next;
    return next;
  }
}

function merge(base: CoreSettings, p: SettingsPatch): CoreSettings {
  return {
    render: {
      thumbnail: { ...base.render.thumbnail, ...p.render?.thumbnail },
      cache: { ...base.render.cache, ...p.render?.cache },
    },
    limits: { ...base.limits, ...p.limits },
    workers: p.workers ?? base.workers,
  };
}
