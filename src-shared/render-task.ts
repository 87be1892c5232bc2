import type { Failure, Variant } from './domain.ts';
import type { VariantSettings } from './settings.ts';
import type { PyramidInfo } from './deep-zoom.ts';

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
  /** A deep-zoom tile pyramid to write (with no outputs), for the viewer's real pixels. */
  pyramid?: PyramidSpec;
}

/** Where and how a worker writes an image's tile pyramid (see deep-zoom.ts). */
export interface PyramidSpec {
  /**
   * Absolute final folder. The worker writes it as `${dir}.<random>.tmp`
   * (see tempPathFor) with its manifest last, and renames it here.
   */
  dir: string;
  tileSize: number;
  quality: number;
}

/** A pyramid as written: what the viewer needs, and its size on disk. */
export interface WrittenPyramid extends PyramidInfo {
  bytes: number;
  tiles: number;
}

/** The file in a pyramid's folder that describes it (a WrittenPyramid, as JSON). */
export const PYRAMID_MANIFEST = 'pyramid.json';

/** A pyramid's manifest, read back; null for anything torn, empty or not one. */
export function parsePyramid(text: string): WrittenPyramid | null {
  let m: Partial<Record<keyof WrittenPyramid, unknown>>;
  try {
    m = JSON.parse(text) as typeof m;
  } catch {
    return null;
  }
  const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  const ok =
    typeof m === 'object' &&
    m !== null &&
    [m.width, m.height, m.tileSize, m.maxLevel, m.bytes, m.tiles].every(whole) &&
    (m.format === 'jpeg' || m.format === 'webp');
  return ok ? (m as WrittenPyramid) : null;
}

/** What a file takes on disk: its blocks where the system says, else its size in 4 KiB blocks. */
export function diskBytes(st: { size: number; blocks?: number }): number {
  const blocks = st.blocks ? st.blocks * 512 : 0;
  return Math.max(blocks, Math.ceil(st.size / 4096) * 4096);
}

/** What a photo's EXIF and XMP say; null where a field is absent or not believable. */
export interface PhotoMeta {
  /** When it was taken, ms since the epoch (DateTimeOriginal, else CreateDate). */
  takenAt: number | null;
  /** The date taken as the camera wrote it, 'YYYY:MM:DD HH:MM:SS'. */
  takenLocal: string | null;
  /** Its offset from UTC as written ('+02:00'); null when the camera wrote none. */
  takenOffset: string | null;
  make: string | null;
  model: string | null;
  lens: string | null;
  /** Millimetres. */
  focalLength: number | null;
  /** The f-number. */
  aperture: number | null;
  /** Seconds. */
  exposureTime: number | null;
  iso: number | null;
  /** Degrees, WGS 84. */
  latitude: number | null;
  longitude: number | null;
  /** XMP rating, −1 (rejected) to 5. */
  rating: number | null;
  /** XMP colour label ('Red', …). */
  label: string | null;
  /**
   * Frames of an animation (GIF, WebP) or pages of a document (TIFF), from
   * the decoder; null for a single image.
   */
  pages: number | null;
  /** How long one loop of an animation lasts, ms; null when not animated. */
  durationMs: number | null;
}

/** No metadata: what a file without EXIF or XMP, or with a broken block, records. */
export const NO_META: PhotoMeta = {
  takenAt: null,
  takenLocal: null,
  takenOffset: null,
  make: null,
  model: null,
  lens: null,
  focalLength: null,
  aperture: null,
  exposureTime: null,
  iso: null,
  latitude: null,
  longitude: null,
  rating: null,
  label: null,
  pages: null,
  durationMs: null,
};

/** What a worker learnt about the source while decoding it. */
export interface SourceInfo {
  format: string;
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number;
  /** Estimated JPEG quality of the source, or null when not a JPEG or unknown. */
  quality: number | null;
  /**
   * The CONTENT_HASH of every byte of the input (hex), or null when it could
   * not be read again: tells apart files whose sampled fingerprints are alike.
   */
  contentHash: string | null;
  /** Its EXIF and XMP metadata. */
  meta: PhotoMeta;
}

/** The node:crypto hash a whole file's content is identified by (worker and scan alike). */
export const CONTENT_HASH = 'sha256';

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
  | { ok: true; source: SourceInfo; outputs: WrittenOutput[]; pyramid?: WrittenPyramid }
  | ({ ok: false } & Failure);

/** Suffix of temporary files; anything ending with it in a cache folder is a dead write. */
export const TEMP_SUFFIX = '.tmp';

/** Hex digits of the random part of a temporary name. */
const TEMP_NONCE_DIGITS = 12;
const TEMP_NONCE = new RegExp(`^[0-9a-f]{${TEMP_NONCE_DIGITS}}$`);

/**
 * The temporary name a worker writes an output to before renaming it to
 * `finalPath`: `${finalPath}.<12 hex digits>.tmp`, in the same folder.
 * `randomHex` must be TEMP_NONCE_DIGITS hex digits (6 random bytes).
 */
export function tempPathFor(finalPath: string, randomHex: string): string {
  if (!TEMP_NONCE.test(randomHex)) throw new RangeError(`not a temp nonce: ${randomHex}`);
  return `${finalPath}.${randomHex}${TEMP_SUFFIX}`;
}

/**
 * True when `fileName`, a name in the folder of an output called `finalName`,
 * is one of that output's temporary files (see tempPathFor).
 */
export function isTempNameOf(finalName: string, fileName: string): boolean {
  if (!fileName.startsWith(`${finalName}.`) || !fileName.endsWith(TEMP_SUFFIX)) return false;
  return TEMP_NONCE.test(fileName.slice(finalName.length + 1, -TEMP_SUFFIX.length));
}
