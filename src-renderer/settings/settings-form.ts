/**
 * The settings dialog's form as plain strings, and its conversion to a patch
 * with per-field errors. Whether a value is allowed is decided by the shared
 * settings schema (src-shared/settings.ts), the one the core checks too, so
 * the form and the core cannot disagree about a range.
 */
import * as v from 'valibot';
import type { AppSettings, AppSettingsPatch } from '../../src-shared/api.ts';
import type { Variant } from '../../src-shared/domain.ts';
import { rangeText, type WholeRange } from '../../src-shared/schema.ts';
import {
  SETTINGS_RANGES,
  variantSettingsEntries,
  workersSchema,
  type OutputFormat,
} from '../../src-shared/settings.ts';

export interface VariantForm {
  maxWidth: string;
  maxHeight: string;
  quality: string;
  format: OutputFormat;
}

export interface SettingsForm {
  thumbnail: VariantForm;
  cache: VariantForm;
  workers: string;
  watchFolders: boolean;
  keepRunningInTray: boolean;
}

/** A field's key: `thumbnail.maxWidth`, `workers`, … */
export type FieldKey = `${Variant}.${keyof Omit<VariantForm, 'format'>}` | 'workers';

export function formFromSettings(s: AppSettings): SettingsForm {
  const v = (variant: Variant): VariantForm => ({
    maxWidth: String(s.render[variant].maxWidth),
    maxHeight: String(s.render[variant].maxHeight),
    quality: String(s.render[variant].quality),
    format: s.render[variant].format,
  });
  return {
    thumbnail: v('thumbnail'),
    cache: v('cache'),
    workers: String(s.workers),
    watchFolders: s.watchFolders,
    keepRunningInTray: s.keepRunningInTray,
  };
}

/** A field's text as a number: NaN unless it is plain digits (no signs, exponents or points). */
function numberOf(text: string): number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : NaN;
}

/** The number fields of a variant, each with the range its message states. */
const VARIANT_NUMBERS = [
  ['maxWidth', SETTINGS_RANGES.size],
  ['maxHeight', SETTINGS_RANGES.size],
  ['quality', SETTINGS_RANGES.quality],
] as const;

const enter = (r: WholeRange): string => `Enter ${rangeText(r)}.`;

/**
 * Turns the form into a patch holding only what changed from `current`; or
 * the errors of the fields that are out of range. Each field is checked by
 * its own schema from the shared settings declaration.
 */
export function formToPatch(
  form: SettingsForm,
  current: AppSettings,
): { patch: AppSettingsPatch; errors: Partial<Record<FieldKey, string>> } {
  const errors: Partial<Record<FieldKey, string>> = {};
  const patch: AppSettingsPatch = {};
  for (const variant of ['thumbnail', 'cache'] as const) {
    const f = form[variant];
    const cur = current.render[variant];
    const changes: Partial<AppSettings['render'][Variant]> = {};
    for (const [key, range] of VARIANT_NUMBERS) {
      const n = numberOf(f[key]);
      if (!v.is(variantSettingsEntries[key], n)) errors[`${variant}.${key}`] = enter(range);
      else if (n !== cur[key]) changes[key] = n;
    }
    if (f.format !== cur.format && v.is(variantSettingsEntries.format, f.format)) {
      changes.format = f.format;
    }
    if (Object.keys(changes).length) {
      patch.render = { ...patch.render, [variant]: changes };
    }
  }
  const workers = numberOf(form.workers);
  if (!v.is(workersSchema, workers)) errors.workers = enter(SETTINGS_RANGES.workers);
  else if (workers !== current.workers) patch.workers = workers;
  if (form.watchFolders !== current.watchFolders) patch.watchFolders = form.watchFolders;
  if (form.keepRunningInTray !== current.keepRunningInTray) {
    patch.keepRunningInTray = form.keepRunningInTray;
  }
  return { patch, errors };
}

/** True when the patch changes nothing. */
export function isEmptyPatch(p: AppSettingsPatch): boolean {
  return Object.keys(p).length === 0;
}
