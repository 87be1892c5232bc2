import type { Store } from '../store/store.ts';
import {
  DEFAULT_SETTINGS,
  validateVariantSettings,
  type CoreSettings,
} from '../../src-shared/settings.ts';
import { VARIANTS } from '../../src-shared/domain.ts';

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
    for (const v of VARIANTS) {
      const problem = validateVariantSettings(next.render[v]);
      if (problem) throw new SettingsError(`${v}: ${problem}`);
    }
    if (!Number.isInteger(next.workers) || next.workers < 0 || next.workers > 64) {
      throw new SettingsError('workers must be a whole number from 0 (automatic) to 64');
    }
    const l = next.limits;
    if (!(l.maxPixels > 0 && l.maxFileBytes > 0 && l.timeoutSeconds > 0)) {
      throw new SettingsError('limits must be positive numbers');
    }
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
  };
}
