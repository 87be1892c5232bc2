import { posix } from 'node:path';
import { extensionOf, HEIF_BRAND_FORMATS, RAW_EXTENSIONS } from '../../src-shared/formats.ts';
import { naturalSortKey } from '../../src-shared/natural-sort.ts';

/** Extensions (lowercase, no dot) that make a file an image candidate by name alone. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'jpg',
  'jpeg',
  'jpe',
  'jfif',
  'png',
  'gif',
  'webp',
  'avif',
  'heic',
  'heif',
  'tif',
  'tiff',
  'hif',
  'bmp',
  'svg',
  'ico',
  'cur',
  'jxl',
  'psd',
  ...RAW_EXTENSIONS,
]);

/** Archive formats that are reported, not opened, when found inside an archive. */
const NESTED_ARCHIVE_EXTENSIONS: ReadonlySet<string> = new Set([
  'zip',
  'cbz',
  'cbr',
  'rar',
  '7z',
  'cb7',
  'tar',
  'cbt',
  'gz',
  'tgz',
]);

/**
 * Names (lowercase) that other tools leave beside images and that are never
 * images: macOS resource forks, Windows thumbnail caches and system folders,
 * Synology's per-folder thumbnail folders.
 */
const JUNK_NAMES: ReadonlySet<string> = new Set([
  '__macosx',
  'thumbs.db',
  'desktop.ini',
  '@eadir',
  '$recycle.bin',
  'system volume information',
]);

/** Bytes read from a file of unknown extension to decide whether it is an image. */
export const SNIFF_BYTES = 32;

export { extensionOf };

export function hasImageExtension(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extensionOf(name));
}

export function isNestedArchiveName(name: string): boolean {
  return NESTED_ARCHIVE_EXTENSIONS.has(extensionOf(name));
}

/** True for one path segment that the walk skips silently: hidden (".x") or junk. */
export function isSkippedName(segment: string): boolean {
  return segment.startsWith('.') || JUNK_NAMES.has(segment.toLowerCase());
}

function ascii(head: Uint8Array, offset: number, text: string): boolean {
  if (head.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (head[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

function bytes(head: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (head.length < offset + expected.length) return false;
  return expected.every((b, i) => head[offset + i] === b);
}

/** Sizes of the BMP info headers (BITMAPCOREHEADER … BITMAPV5HEADER). */
const BMP_INFO_HEADER_SIZES = [12, 16, 40, 52, 56, 64, 108, 124];

/**
 * The format named by the signature at the start of a file (jpeg, png, gif,
 * webp, tiff, heif, bmp), or null. Decoding goes by content, so a file with
 * such a signature is an image whatever its extension says.
 */
export function imageFormatFromMagic(head: Uint8Array): string | null {
  if (bytes(head, 0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (bytes(head, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(head, 0, 'GIF8')) return 'gif';
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'webp';
  if (ascii(head, 0, 'II') || ascii(head, 0, 'MM')) {
    const little = ascii(head, 0, 'II');
    const version = little
      ? (head[2] ?? 0) | ((head[3] ?? 0) << 8)
      : ((head[2] ?? 0) << 8) | (head[3] ?? 0);
    if (version === 42 || version === 43) return 'tiff';
  }
  if (
    ascii(head, 4, 'ftyp') &&
    Object.keys(HEIF_BRAND_FORMATS).some((brand) => ascii(head, 8, brand))
  )
    return 'heif';
  // "BM" alone starts too many text files; the info header size must match too.
  if (ascii(head, 0, 'BM') && head.length >= 18) {
    const infoSize = (head[14] ?? 0) | ((head[15] ?? 0) << 8) | ((head[16] ?? 0) << 16);
    if (head[17] === 0 && BMP_INFO_HEADER_SIZES.includes(infoSize)) return 'bmp';
  }
  return null;
}

/** True for the signature of a ZIP file (a local header, or the end record of an empty zip). */
export function hasZipMagic(head: Uint8Array): boolean {
  return bytes(head, 0, [0x50, 0x4b, 0x03, 0x04]) || bytes(head, 0, [0x50, 0x4b, 0x05, 0x06]);
}

/**
 * Sorts items in natural order of their path ("page2" before "page10"), in
 * the byte order SQLite uses for the stored sort key, so a walk and an
 * `ORDER BY sort_key` agree. Ties (names differing only in case or leading
 * zeros) fall back to the raw path, so the order is total and stable.
 */
export function sortNaturally<T>(items: readonly T[], pathOf: (item: T) => string): T[] {
  const keyed = items.map((item) => {
    const path = pathOf(item);
    return { item, path, key: Buffer.from(naturalSortKey(path), 'utf8') };
  });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key) || Buffer.compare(utf8(a.path), utf8(b.path)));
  return keyed.map((k) => k.item);
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/**
 * Why `entryPath` is not a valid entry path, or null when it is: entry paths
 * are relative, '/'-separated, normalized, without '..' or NUL. On Windows a
 * backslash or a colon would be read as a separator, a drive or a stream.
 */
export function entryPathProblem(
  entryPath: string,
  platform: NodeJS.Platform = process.platform,
): string | null {
  if (typeof entryPath !== 'string' || entryPath === '') return 'empty path';
  if (entryPath.includes('\0')) return 'contains a NUL character';
  if (entryPath.startsWith('/')) return 'absolute path';
  if (platform === 'win32' && /[\\:]/.test(entryPath)) return 'contains a backslash or a colon';
  const segments = entryPath.split('/');
  if (segments.includes('..')) return "contains a '..' segment";
  if (segments.includes('.') || segments.includes('') || posix.normalize(entryPath) !== entryPath) {
    return 'not a normalized path';
  }
  return null;
}

/**
 * A label for a name that cannot be an entry path: printable, relative,
 * without '..' segments, and recognisably escaped ('%2E%2E/evil.jpg',
 * '%2Fabs.jpg'). Only ever shown and stored, never used to read or write.
 */
export function escapeInvalidName(raw: string): string {
  const escaped = raw
    .replace(
      /[%\\:\p{Cc}]/gu,
      (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'),
    )
    .replace(/^\/+/, (slashes) => '%2F'.repeat(slashes.length));
  const segments = escaped
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s === '..' ? '%2E%2E' : s === '.' ? '%2E' : s));
  return segments.length > 0 ? segments.join('/') : '%00';
}

/**
 * `label` made unique against `taken` by a " (2)", " (3)"… suffix; the
 * result is added to `taken`.
 */
export function uniqueLabel(label: string, taken: Set<string>): string {
  let candidate = label;
  for (let n = 2; taken.has(candidate); n++) candidate = `${label} (${n})`;
  taken.add(candidate);
  return candidate;
}
