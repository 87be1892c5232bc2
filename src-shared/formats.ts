/**
 * Image formats by name: what the scan, the worker and the UI call them.
 * Format ids are lowercase ('jpeg', 'tiff', 'heic', 'dng', …); extensions
 * are lowercase without the dot.
 */

/** Camera RAW formats, by extension (each is also its format id). */
export const RAW_EXTENSIONS: ReadonlySet<string> = new Set([
  'dng',
  'cr2',
  'cr3',
  'crw',
  'nef',
  'nrw',
  'arw',
  'srf',
  'sr2',
  'raf',
  'orf',
  'rw2',
  'rwl',
  'pef',
  'srw',
  'x3f',
  '3fr',
  'iiq',
  'erf',
  'mef',
  'mos',
  'kdc',
  'dcr',
]);

/**
 * The format an ISO-BMFF (HEIF family) file holds, by its major brand:
 * AV1-coded ones are AVIF, HEVC-coded ones HEIC, the generic brands HEIF.
 */
export const HEIF_BRAND_FORMATS: Readonly<Record<string, 'avif' | 'heic' | 'heif'>> = {
  avif: 'avif',
  avis: 'avif',
  heic: 'heic',
  heix: 'heic',
  hevc: 'heic',
  hevx: 'heic',
  heim: 'heic',
  heis: 'heic',
  mif1: 'heif',
  msf1: 'heif',
};

/** The lowercase extension of a path's last segment, without the dot ('' when none). */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/** Extensions whose format id differs from the extension itself. */
const EXTENSION_FORMATS: Readonly<Record<string, string>> = {
  jpg: 'jpeg',
  jpe: 'jpeg',
  jfif: 'jpeg',
  tif: 'tiff',
  hif: 'heif',
};

/** The format id a file's extension names ('jpeg' for .jpg), or null without one. */
export function formatOfExtension(ext: string): string | null {
  const e = ext.toLowerCase();
  return e ? (EXTENSION_FORMATS[e] ?? e) : null;
}

const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  gif: 'GIF',
  webp: 'WebP',
  avif: 'AVIF',
  heic: 'HEIC',
  heif: 'HEIF',
  tiff: 'TIFF',
  bmp: 'BMP',
  ico: 'ICO',
  cur: 'CUR',
  svg: 'SVG',
  jxl: 'JPEG XL',
  psd: 'Photoshop (PSD)',
  dng: 'DNG',
};

/** How people name a format: 'JPEG XL' for jxl, 'Canon CR2 RAW' style for RAWs. */
export function formatDisplayName(format: string): string {
  const f = format.toLowerCase();
  const known = DISPLAY_NAMES[f];
  if (known) return known;
  if (RAW_EXTENSIONS.has(f)) return `${f.toUpperCase()} RAW`;
  return f.toUpperCase();
}

/** True for a camera RAW format id or extension. */
export function isRawFormat(format: string): boolean {
  return RAW_EXTENSIONS.has(format.toLowerCase());
}

/** Formats that can hold an animation (which the browser plays as it is). */
const ANIMATION_FORMATS: ReadonlySet<string> = new Set(['gif', 'webp']);

/**
 * Most pixels of all frames together that the viewer plays: past it (a GIF
 * of thousands of large frames, built to exhaust memory) it shows the first
 * frame, still, and says why.
 */
export const PLAY_MAX_PIXELS = 1_000_000_000;

/** True when an animation of `pages` frames of width × height is small enough to play. */
export function isPlayable(
  width: number | null,
  height: number | null,
  pages: number | null,
): boolean {
  return (width ?? 0) * (height ?? 0) * (pages ?? 1) <= PLAY_MAX_PIXELS;
}

/** True for an animated image: a GIF or WebP of more than one frame. */
export function isAnimation(format: string | null, pages: number | null): boolean {
  return !!format && ANIMATION_FORMATS.has(format) && (pages ?? 1) > 1;
}
