import { describe, expect, it } from 'vitest';
import type { AppSettings } from '../../src-shared/api.ts';
import { DEFAULT_SETTINGS, SETTINGS_RANGES } from '../../src-shared/settings.ts';
import {
  formFromSettings,
  formToPatch,
  isEmptyPatch,
  type FieldKey,
  type SettingsForm,
} from './settings-form.ts';

const current: AppSettings = { ...DEFAULT_SETTINGS, keepRunningInTray: true };

describe('settings form', () => {
  it('round-trips without changes into an empty patch', () => {
    const { patch, errors } = formToPatch(formFromSettings(current), current);
    expect(errors).toEqual({});
    expect(isEmptyPatch(patch)).toBe(true);
  });

  it('sends only what changed', () => {
    const form = formFromSettings(current);
    form.thumbnail.maxWidth = '400';
    form.cache.format = 'webp';
    form.workers = '4';
    form.keepRunningInTray = false;
    form.watchFolders = false;
    const { patch, errors } = formToPatch(form, current);
    expect(errors).toEqual({});
    expect(patch).toEqual({
      render: { thumbnail: { maxWidth: 400 }, cache: { format: 'webp' } },
      workers: 4,
      watchFolders: false,
      keepRunningInTray: false,
    });
  });

  it('names each field that is out of range', () => {
    const form = formFromSettings(current);
    form.thumbnail.maxHeight = '8';
    form.cache.quality = '101';
    form.workers = 'many';
    const { errors } = formToPatch(form, current);
    expect(Object.keys(errors).sort()).toEqual(['cache.quality', 'thumbnail.maxHeight', 'workers']);
  });

  // The form's limits are the shared schema's (settings.ts): it takes each range to its edge.
  const FIELDS: [FieldKey, keyof typeof SETTINGS_RANGES, (f: SettingsForm, t: string) => void][] = [
    ['thumbnail.maxWidth', 'size', (f, t) => (f.thumbnail.maxWidth = t)],
    ['thumbnail.maxHeight', 'size', (f, t) => (f.thumbnail.maxHeight = t)],
    ['cache.maxWidth', 'size', (f, t) => (f.cache.maxWidth = t)],
    ['cache.quality', 'quality', (f, t) => (f.cache.quality = t)],
    ['thumbnail.quality', 'quality', (f, t) => (f.thumbnail.quality = t)],
    ['workers', 'workers', (f, t) => (f.workers = t)],
  ];

  it.each(FIELDS)('takes %s from the shared %s range, edges included', (key, range, set) => {
    const { min, max } = SETTINGS_RANGES[range];
    for (const ok of [min, max]) {
      const form = formFromSettings(current);
      set(form, ` ${ok} `);
      expect(formToPatch(form, current).errors, String(ok)).toEqual({});
    }
    for (const bad of [String(min - 1), String(max + 1), `${min}.5`, '1e3', '-0', '', 'x']) {
      const form = formFromSettings(current);
      set(form, bad);
      const { errors, patch } = formToPatch(form, current);
      expect(errors, bad).toEqual({ [key]: `Enter a whole number from ${min} to ${max}.` });
      // A field in error is left out of the patch rather than sent half-checked.
      expect(JSON.stringify(patch), bad).toBe('{}');
    }
  });
});
