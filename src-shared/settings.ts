import type { Variant } from './domain.ts';

export type OutputFormat = 'jpeg' | 'webp';

/** How one variant (thumbnail or cache image) is made. */
export interface VariantSettings {
  /** The output fits inside maxWidth × maxHeight and is never enlarged. */
  maxWidth: number;
  maxHeight: number;
  format: OutputFormat;
  /** Encoder quality 1–100; the cache image never exceeds the source's own quality. */
  quality: number;
}

export type RenderSettings = Record<Variant, VariantSettings>;

/** Limits applied to every source before and while decoding it. */
export interface InputLimits {
  /** Largest width × height accepted (decompression-bomb guard). */
  maxPixels: number;
  /** Largest source file or archive entry accepted, in bytes. */
  maxFileBytes: number;
  /** Longest a single render may take, in seconds. */
  timeoutSeconds: number;
}

/** All user-tunable settings of the core. */
export interface CoreSettings {
  render: RenderSettings;
  limits: InputLimits;
  /** Number of worker threads rendering images; 0 picks one per core. */
  workers: number;
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

/** Checks a VariantSettings value coming from outside (CLI, UI); returns an error text or null. */
export function validateVariantSettings(s: VariantSettings): string | null {
  const int = (n: unknown, lo: number, hi: number): boolean =>
    typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
  if (!int(s.maxWidth, 16, 16384) || !int(s.maxHeight, 16, 16384))
    return 'size must be a whole number of pixels between 16 and 16384';
  if (s.format !== 'jpeg' && s.format !== 'webp') return 'format must be jpeg or webp';
  if (!int(s.quality, 1, 100)) return 'quality must be a whole number from 1 to 100';
  return null;
}
