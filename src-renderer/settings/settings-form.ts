/**
 * The settings dialog's form as plain strings, and its conversion to a patch
 * with per-field errors (the same limits the core checks, so most mistakes are
 * caught before a round trip).
 */
import type { AppSettings, AppSettingsPatch } from '../../src-shared/api.ts';
import type { Variant } from '../../src-shared/domain.ts';
import type { OutputFormat } from '../../src-shared/settings.ts';

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
    keepRunningInTray: s.keepRunningInTray,
  };
}

function wholeNumber(text: string, lo: number, hi: number): number | string {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return `Enter a whole number from ${lo} to ${hi}.`;
  const n = Number(t);
  return n >= lo && n <= hi ? n : `Enter a whole number from ${lo} to ${hi}.`;
}

/**
 * Turns the form into a patch holding only what changed from `current`; or
 * the errors of the fields that are out of range.
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
    for (const [key, lo, hi] of [
      ['maxWidth', 16, 16384],
      ['maxHeight', 16, 16384],
      ['quality', 1, 100],
    ] as const) {
      const n = wholeNumber(f[key], lo, hi);
      if (typeof n === 'string') errors[`${variant}.${key}`] = n;
      else if (n !== cur[key]) changes[key] = n;
    }
    if (f.format !== cur.format) changes.format = f.format;
    if (Object.keys(changes).length) {
      patch.render = { ...patch.render, [variant]: changes };
    }
  }
  const workers = wholeNumber(form.workers, 0, 64);
  if (typeof workers === 'string') errors.workers = workers;
  else if (workers !== current.workers) patch.workers = workers;
  if (form.keepRunningInTray !== current.keepRunningInTray) {
    patch.keepRunningInTray = form.keepRunningInTray;
  }
  return { patch, errors };
}

/** True when the patch changes nothing. */
export function isEmptyPatch(p: AppSettingsPatch): boolean {
  return Object.keys(p).length === 0;
}
