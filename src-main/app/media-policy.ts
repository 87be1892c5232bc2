/**
 * What media may be served to a UI, and how, shared by the desktop protocol
 * and the browser host. Media is served from the app's own origin, so a
 * response a browser would run as a document (an SVG, HTML sniffed from a
 * misnamed file) could script the app. Every media response is therefore
 * inert: a raster image type from a closed list, no sniffing, and a sandbox
 * CSP that allows nothing but the image itself.
 */

/**
 * The CSP of every media response. `sandbox` gives a document opened from it
 * an opaque origin with no scripts; `default-src 'none'` stops it loading
 * anything; an image document needs only its own picture and the browser's
 * inline styles to centre it.
 */
export const MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

/**
 * Formats (as the scan records them) the renderer may be given, with their
 * MIME types: raster formats Chromium decodes as images and nothing else.
 * Not SVG (a document that can run scripts), not formats Chromium cannot
 * show (TIFF, HEIC: the viewer shows their cache image instead).
 */
const RASTER_MIME: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
};

/** The MIME type to serve an image of this recorded format as, or null to refuse it. */
export function rasterMime(format: string | null | undefined): string | null {
  if (!format) return null;
  return Object.hasOwn(RASTER_MIME, format) ? RASTER_MIME[format]! : null;
}

/** Extensions of the files the renderer writes (outputs), by format. */
const OUTPUT_FORMAT: Readonly<Record<string, string>> = { jpg: 'jpeg', webp: 'webp' };

/** The MIME type of an output file Albumen wrote itself, or null for any other name. */
export function outputMime(path: string): string | null {
  const dot = path.lastIndexOf('.');
  const ext = dot < 0 ? '' : path.slice(dot + 1).toLowerCase();
  return Object.hasOwn(OUTPUT_FORMAT, ext) ? rasterMime(OUTPUT_FORMAT[ext]) : null;
}

const ALLOWED = new Set(Object.values(RASTER_MIME));

/**
 * True for a MIME type from the allow-list. The protocol and the host check
 * what they are given again, so no other type can reach a UI even if a
 * resolver gets it wrong.
 */
export function isServableMime(mime: string): boolean {
  return ALLOWED.has(mime);
}
