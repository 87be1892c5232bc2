/**
 * The core's settings: their ranges and schemas, declared once here. The
 * SettingsStore, the API's parameter checks and the renderer's settings form
 * all check against these.
 */
import * as v from 'valibot';
import type { Variant } from './domain.ts';
import { obj, oneOf, optionalFields, problemOf, whole } from './schema.ts';

export const OUTPUT_FORMATS = ['jpeg', 'webp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The allowed range of every numeric setting. */
export const SETTINGS_RANGES = {
  /** An output's largest width or height, in pixels. */
  size: { min: 16, max: 16384 },
  /** Encoder quality. */
  quality: { min: 1, max: 100 },
  /** Render worker threads; 0 picks one per core. */
  workers: { min: 0, max: 64 },
  maxPixels: { min: 1, max: 2 ** 40 },
  maxFileBytes: { min: 1, max: 2 ** 45 },
  timeoutSeconds: { min: 1, max: 3600 },
} as const;

/** The fields of VariantSettingsSchema, each its own schema (the settings form checks them one by one). */
export const variantSettingsEntries = {
  /** The output fits inside maxWidth × maxHeight and is never enlarged. */
  maxWidth: whole(SETTINGS_RANGES.size),
  maxHeight: whole(SETTINGS_RANGES.size),
  format: oneOf(OUTPUT_FORMATS),
  /** Encoder quality 1–100; the cache image never exceeds the source's own quality. */
  quality: whole(SETTINGS_RANGES.quality),
};

const limitsEntries = {
  /** Largest width × height accepted (decompression-bomb guard). */
  maxPixels: whole(SETTINGS_RANGES.maxPixels),
  /** Largest source file or archive entry accepted, in bytes. */
  maxFileBytes: whole(SETTINGS_RANGES.maxFileBytes),
  /** Longest a single render may take, in seconds. */
  timeoutSeconds: whole(SETTINGS_RANGES.timeoutSeconds),
};

/** How one variant (thumbnail or cache image) is made. */
export const VariantSettingsSchema = obj(variantSettingsEntries);
export type VariantSettings = v.InferOutput<typeof VariantSettingsSchema>;

/** Limits applied to every source before and while decoding it. */
export const InputLimitsSchema = obj(limitsEntries);
export type InputLimits = v.InferOutput<typeof InputLimitsSchema>;

export const workersSchema = whole(SETTINGS_RANGES.workers);

/** The entries of CoreSettingsSchema, for schemas that extend it. */
export const coreSettingsEntries = {
  render: obj({ thumbnail: VariantSettingsSchema, cache: VariantSettingsSchema }),
  limits: InputLimitsSchema,
  /** Number of worker threads rendering images; 0 picks one per core. */
  workers: workersSchema,
  /**
   * Follow changes on disk while the app or the browser host runs (each
   * collection may say otherwise), and rescan at start.
   */
  watchFolders: v.boolean(),
};

/** All user-tunable settings of the core. */
export const CoreSettingsSchema = obj(coreSettingsEntries);
export type CoreSettings = v.InferOutput<typeof CoreSettingsSchema>;
export type RenderSettings = Record<Variant, VariantSettings>;

const variantPatch = v.optional(obj(optionalFields(variantSettingsEntries)));

/** The entries of CoreSettingsPatchSchema, for schemas that extend it. */
export const coreSettingsPatchEntries = {
  render: v.optional(obj({ thumbnail: variantPatch, cache: variantPatch })),
  limits: v.optional(obj(optionalFields(limitsEntries))),
  workers: v.optional(workersSchema),
  watchFolders: v.optional(v.boolean()),
};

/** A partial update of the core's settings; nested groups merge. */
export const CoreSettingsPatchSchema = obj(coreSettingsPatchEntries);
export type CoreSettingsPatch = v.InferOutput<typeof CoreSettingsPatchSchema>;

/** What is wrong with a whole settings value (null when nothing). */
export function coreSettingsProblem(s: unknown): string | null {
  return problemOf(CoreSettingsSchema, s);
}

/** What is wrong with a settings patch: unknown fields, values out of range (null when nothing). */
export function coreSettingsPatchProblem(p: unknown): string | null {
  return problemOf(CoreSettingsPatchSchema, p);
}

export const DEFAULT_SETTINGS: CoreSettings = {
  render: {
    thumbnail: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 80 },
    cache: { maxWidth: 1920, maxHeight: 1080, format: 'jpeg', quality: 85 },
  },
  limits: {
    maxPixels: 268_402_689, // libvips' own default cap (16383 × 16383)
    maxFileBytes: 512 * 1024 * 1024,
    timeoutSeconds: 60,
  },
  workers: 0,
  watchFolders: true,
};

/**
 * Bumped whenever the rendering code changes what it writes for the same
 * settings, so that older outputs count as stale.
 */
export const RENDER_ALGORITHM_VERSION = 1;

/** File extension written for an output format. */
export function extensionFor(format: OutputFormat): string {
  return format === 'jpeg' ? 'jpg' : format;
}

/**
 * The hash of the settings that make a variant: part of an output's key, so an
 * output made with other settings is stale and never counted as a skip.
 */
export function settingsHash(variant: Variant, s: VariantSettings): string {
  const canonical = JSON.stringify([
    RENDER_ALGORITHM_VERSION,
    variant,
    s.maxWidth,
    s.maxHeight,
    s.format,
    s.quality,
  ]);
  return fnv1a64Hex(canonical);
}

/** 64-bit FNV-1a over UTF-16 code units, as 16 hex digits (stable, dependency-free). */
export function fnv1a64Hex(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}
