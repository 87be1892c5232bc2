import { describe, expect, it } from 'vitest';
import type { AppSettings } from '../../src-shared/api.ts';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import { formFromSettings, formToPatch, isEmptyPatch } from './settings-form.ts';

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
    const { patch, errors } = formToPatch(form, current);
    expect(errors).toEqual({});
    expect(patch).toEqual({
      render: { thumbnail: { maxWidth: 400 }, cache: { format: 'webp' } },
      workers: 4,
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
});
