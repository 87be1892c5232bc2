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
