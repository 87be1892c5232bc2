import type { Store } from '../store/store.ts';
import {
  coreSettingsPatchProblem,
  coreSettingsProblem,
  DEFAULT_SETTINGS,
  type CoreSettings,
  type CoreSettingsPatch,
} from '../../src-shared/settings.ts';

/** A partial update of the settings; nested groups merge (the shared schema's type). */
export type SettingsPatch = CoreSettingsPatch;

/** Raised for a settings value outside its range; the message says which. */
export class SettingsError extends Error {
  override name = 'SettingsError';
  readonly code = 'INVALID_INPUT';
}

/** The user's settings, one JSON row in the store, merged over the defaults. */
export class SettingsStore {
  private readonly store: Store;
  private cached: CoreSettings | null = null;

  constructor(store: Store) {
    this.store = store;
  }

  get(): CoreSettings {
    if (this.cached) return this.cached;
    const saved = this.store.settings.get('core') as SettingsPatch | undefined;
    this.cached = merge(DEFAULT_SETTINGS, saved ?? {});
    return this.cached;
  }

  /** Validates and saves a change; returns the new settings. */
  update(patch: SettingsPatch): CoreSettings {
    const next = merge(this.get(), patch);
    // The ranges are the shared schema's (src-shared/settings.ts), the same the API and the form use.
    const problem = coreSettingsPatchProblem(patch) ?? coreSettingsProblem(next);
    if (problem) throw new SettingsError(problem);
    this.store.transition((tx) => tx.settings.set('core', next));
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
    watchFolders: p.watchFolders ?? base.watchFolders,
  };
}
