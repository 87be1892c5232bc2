/**
 * The `albumen-media://<kind>/<imageId>` protocol: the renderer's only way to
 * show thumbnails, cache images and originals. The URL names an image by id;
 * the file behind it comes from the store, never from the URL.
 */
import type { CustomScheme, Protocol } from 'electron';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { MEDIA_SCHEME } from '../../src-shared/api.ts';
import { parseMediaRequest, type AppService, type MediaTarget } from '../app/app-service.ts';
import { MEDIA_CSP, isServableMime } from '../app/media-policy.ts';
import type { MediaKind } from '../../src-shared/api.ts';
import type { TileNumbers } from '../../src-shared/deep-zoom.ts';

/**
 * The scheme's privileges, registered before the app is ready. Deliberately
 * not `bypassCSP` (the CSP names the scheme in img-src) nor `corsEnabled`.
 */
export const MEDIA_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: MEDIA_SCHEME,
  privileges: {
    // Parsed like http: URLs (host = kind, path = /id), so Chromium
    // canonicalises them and no opaque path reaches the handler.
    standard: true,
    // A secure context, like the page itself: images load without
    // mixed-content blocking.
    secure: true,
    // The UI may fetch() an image (to decode it off the main thread).
    supportFetchAPI: true,
    // Originals inside archives are streamed, not buffered whole.
    stream: true,
  },
};

/** What the handler answers, without Electron: a status, headers and what to send. */
export interface MediaResponse {
  status: number;
  headers: Record<string, string>;
  /** A file or stream to send, a short text for refusals, or null (HEAD). */
  body:
    | { kind: 'file'; path: string }
    | { kind: 'stream'; stream: NodeJS.ReadableStream }
    | { kind: 'text'; text: string }
    | null;
}

/** A well-formed media request. */
export interface MediaRequest {
  kind: MediaKind;
  imageId: number;
  /** A tile's numbers, for a tile (`albumen-media://tile/<id>/<level>-<col>-<row>`). */
  tile?: TileNumbers;
  /** The cache-busting `v` parameter, when present (it selects nothing). */
  version: string | null;
}

const PREFIX = `${MEDIA_SCHEME}://`;
/** What may never appear in a media URL, in any encoding: dot segments, separators, NUL. */
const FORBIDDEN = /\.\.|%2e|%2f|%5c|%00|\\|\0/i;
const MAX_URL = 512;

/**
 * Parses exactly `albumen-media://<kind>/<id>` with an optional `?v=`; null
 * for anything else: another scheme, credentials or a port, dot segments or
 * encoded separators, an extra path segment, unknown kinds, ids that are not
 * a plain positive whole number, any other query parameter, a fragment.
 */
export function parseMediaUrl(raw: string): MediaRequest | null {
  if (raw.length > MAX_URL || !raw.startsWith(PREFIX) || FORBIDDEN.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== `${MEDIA_SCHEME}:` || url.username || url.password || url.port) return null;
  if (url.hash) return null;
  const m = /^\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
  if (!m?.[1]) return null;
  const parsed = parseMediaRequest(url.hostname, m[1], m[2]);
  if (!parsed) return null;
  const keys = [...url.searchParams.keys()];
  if (keys.some((k) => k !== 'v') || keys.length > 1) return null;
  return { ...parsed, version: url.searchParams.get('v') };
}

/** Headers of every media response, refusals included: nothing served here may run. */
const INERT = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': MEDIA_CSP,
} as const;

const text = (status: number, message: string): MediaResponse => ({
  status,
  headers: { ...INERT, 'content-type': 'text/plain; charset=utf-8' },
  body: { kind: 'text', text: message },
});

function headersOf(target: MediaTarget, versioned: boolean): Record<string, string> {
  return {
    ...INERT,
    // A raster type from the allow-list, chosen by the AppService from the
    // format the scan recorded (never SVG, never from the file name).
    'content-type': target.mime,
    'content-length': String(target.size),
    // A versioned URL names one output for good; an unversioned one may be
    // replaced when the settings change, so the renderer must revalidate.
    'cache-control': versioned ? 'private, max-age=31536000, immutable' : 'no-cache',
  };
}

function destroy(stream: NodeJS.ReadableStream): void {
  const s = stream as Partial<Readable>;
  if (typeof s.destroy === 'function') s.destroy();
}

/**
 * Answers one media request, given only its URL and method: 400 for anything
 * that is not a well-formed request, 404 for an unknown image or a missing
 * output, 405 for methods other than GET and HEAD, 500 (with no detail, which
 * could name a path) when reading fails.
 */
export async function mediaResponse(
  url: string,
  service: Pick<AppService, 'resolveMedia'>,
  method = 'GET',
): Promise<MediaResponse> {
  if (method !== 'GET' && method !== 'HEAD') {
    const r = text(405, 'method not allowed');
    r.headers.allow = 'GET, HEAD';
    return r;
  }
  const request = parseMediaUrl(url);
  if (!request) return text(400, 'bad media request');
  let target: MediaTarget | null;
  try {
    target = await service.resolveMedia(
      request.kind,
      request.imageId,
      request.tile,
      request.version,
    );
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'ENOENT' || code === 'NOT_FOUND'
      ? text(404, 'not found')
      : text(500, 'media could not be read');
  }
  if (!target) return text(404, 'not found');
  if (!isServableMime(target.mime)) {
    if (target.kind === 'stream') destroy(target.stream);
    return text(404, 'not found');
  }
  const headers = headersOf(target, request.version !== null);
  if (method === 'HEAD') {
    if (target.kind === 'stream') destroy(target.stream);
    return { status: 200, headers, body: null };
  }
  return {
    status: 200,
    headers,
    body:
      target.kind === 'file'
        ? { kind: 'file', path: target.path }
        : { kind: 'stream', stream: target.stream },
  };
}

type ResponseBody = ConstructorParameters<typeof Response>[0];

/** A Node stream as the body of a web Response. */
function webBody(stream: NodeJS.ReadableStream): ResponseBody {
  const readable = stream instanceof Readable ? stream : new Readable().wrap(stream);
  return Readable.toWeb(readable) as ResponseBody;
}

/**
 * Turns a MediaResponse into a web Response. A file is opened first so one
 * that vanished since the store named it (a cleanup) is a 404, not a broken
 * stream.
 */
export async function toWebResponse(r: MediaResponse): Promise<Response> {
  const init = { status: r.status, headers: r.headers };
  const body = r.body;
  if (body === null) return new Response(null, init);
  switch (body.kind) {
    case 'text':
      return new Response(body.text, init);
    case 'stream':
      return new Response(webBody(body.stream), init);
    case 'file': {
      try {
        const handle = await open(body.path, 'r');
        return new Response(webBody(handle.createReadStream()), init);
      } catch {
        const missing = text(404, 'not found');
        return new Response((missing.body as { text: string }).text, missing);
      }
    }
  }
}

/** Gives the scheme its privileges; must run before the app's `ready`. */
export function registerMediaScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([MEDIA_SCHEME_PRIVILEGES]);
}

/** Serves the scheme from the AppService; returns the function that stops serving it. */
export function serveMediaProtocol(
  protocol: Pick<Protocol, 'handle' | 'unhandle'>,
  service: Pick<AppService, 'resolveMedia'>,
): () => void {
  protocol.handle(MEDIA_SCHEME, async (request) =>
    toWebResponse(await mediaResponse(request.url, service, request.method)),
  );
  return () => protocol.unhandle(MEDIA_SCHEME);
}
