import type { Failure, Variant } from './domain.ts';
import type { VariantSettings } from './settings.ts';

/**
 * What a worker reads: a regular file by absolute path, or the bytes of an
 * archive entry (already read by the pool host).
 */
export type RenderInput = { kind: 'file'; path: string } | { kind: 'buffer'; data: Uint8Array };

/** One output the worker must write, from the same decode as the others. */
export interface RenderOutputSpec {
  variant: Variant;
  /** Absolute final path. The worker writes `${finalPath}.<random>.tmp` and renames it here. */
  finalPath: string;
  settings: VariantSettings;
}

/** A render task: decode the input once, write every requested output. */
export interface RenderRequest {
  /** Human-readable name of the source (entry path), for messages and test triggers. */
  label: string;
  input: RenderInput;
  outputs: RenderOutputSpec[];
  maxPixels: number;
  timeoutSeconds: number;
}

/** What a worker learnt about the source while decoding it. */
export interface SourceInfo {
  format: string;
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number;
  /** Estimated JPEG quality of the source, or null when not a JPEG or unknown. */
  quality: number | null;
}

/** One output as written: its final path, size and pixel dimensions. */
export interface WrittenOutput {
  variant: Variant;
  path: string;
  bytes: number;
  width: number;
  height: number;
}

/** Result of a render task. Expected failures are values; only surprises throw. */
export type RenderResult =
  { ok: true; source: SourceInfo; outputs: WrittenOutput[] } | ({ ok: false } & Failure);

/** Suffix of temporary files; anything ending with it in a cache folder is a dead write. */
export const TEMP_SUFFIX = '.tmp';
