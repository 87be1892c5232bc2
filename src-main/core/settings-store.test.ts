import { afterEach, describe, expect, it } from 'vitest';
import { openNodeCore } from './compose-node.ts';
import type { AlbumenCore } from './albumen-core.ts';
import { SettingsError } from './settings-store.ts';
import { DEFAULT_SETTINGS, SETTINGS_RANGES } from '../../src-shared/settings.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir('albumen-settings-');
let core: AlbumenCore | null = null;

afterEach(async () => {
  await core?.close();
  core = null;
});

function open(dataDir = tempDir()): AlbumenCore {
  core = openNodeCore({ dataDir, logFile: null });
  return core;
}

/** Every numeric setting as a patch, with the shared range it must keep to. */
const FIELDS: [keyof typeof SETTINGS_RANGES, string, (n: number) => object][] = [
  ['size', 'render.thumbnail.maxWidth', (n) => ({ render: { thumbnail: { maxWidth: n } } })],
  ['size', 'render.cache.maxHeight', (n) => ({ render: { cache: { maxHeight: n } } })],
  ['quality', 'render.thumbnail.quality', (n) => ({ render: { thumbnail: { quality: n } } })],
  ['workers', 'workers', (n) => ({ workers: n })],
  ['maxPixels', 'limits.maxPixels', (n) => ({ limits: { maxPixels: n } })],
  ['maxFileBytes', 'limits.maxFileBytes', (n) => ({ limits: { maxFileBytes: n } })],
  ['timeoutSeconds', 'limits.timeoutSeconds', (n) => ({ limits: { timeoutSeconds: n } })],
];

describe('SettingsStore validation', () => {
  it.each(FIELDS)('keeps %s to the shared range (%s)', (range, field, patch) => {
    const store = open().settingsStore;
    const { min, max } = SETTINGS_RANGES[range];
    expect(() => store.update(patch(min))).not.toThrow();
    expect(() => store.update(patch(max))).not.toThrow();
    for (const bad of [min - 1, max + 1, min + 0.5, NaN]) {
      expect(() => store.update(patch(bad)), String(bad)).toThrow(SettingsError);
      expect(() => store.update(patch(bad))).toThrow(
        new RegExp(`^${field.replace(/\./g, '\\.')} `),
      );
    }
  });

  it('refuses what is not a setting, and a format it cannot write', () => {
    const store = open().settingsStore;
    // Patches as an untyped caller (a hand-edited file, a script) could send them.
    const outside = (json: string) => () => store.update(JSON.parse(json) as object);
    expect(outside('{"render":{"thumbnail":{"maxWidht":300}}}')).toThrow(
      'render.thumbnail.maxWidht is not a known field',
    );
    expect(outside('{"colour":"red"}')).toThrow('colour is not a known field');
    expect(outside('{"render":{"cache":{"format":"png"}}}')).toThrow(
      'render.cache.format must be one of jpeg, webp',
    );
  });

  it('saves nothing from a refused change, and keeps an accepted one across a reopen', async () => {
    const dir = tempDir();
    const store = open(dir).settingsStore;
    expect(() => store.update({ workers: 2, render: { cache: { quality: 0 } } })).toThrow(
      SettingsError,
    );
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    store.update({ render: { cache: { quality: 70, format: 'webp' } }, workers: 3 });
    await core!.close();
    core = null;
    const again = open(dir).settingsStore.get();
    expect(again.render.cache).toEqual({
      ...DEFAULT_SETTINGS.render.cache,
      quality: 70,
      format: 'webp',
    });
    expect(again.workers).toBe(3);
  });

  it('carries INVALID_INPUT, so the API answers with that code', () => {
    const store = open().settingsStore;
    try {
      store.update({ workers: 65 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      expect((err as SettingsError).code).toBe('INVALID_INPUT');
      expect((err as SettingsError).message).toBe('workers must be a whole number from 0 to 64');
    }
  });
});
