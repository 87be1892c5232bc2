import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseMediaRequest, type AppService } from '../app/app-service.ts';
import * as v from 'valibot';
import { MEDIA_CSP, isServableMime } from '../app/media-policy.ts';
import {
  TOKEN_COOKIE,
  WS_PATH,
  WsCallSchema,
  type WsServerMessage,
} from '../../src-shared/ws-protocol.ts';

/** Content-Security-Policy of every page the host serves. */
export const HOST_CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  // Inline style attributes are how React positions virtualised cells.
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export interface BrowserHostOptions {
  /** What arrives over the WebSocket goes to `handle` as it came: the service checks it. */
  service: Pick<AppService, 'handle' | 'onEvent' | 'resolveMedia'>;
  /** The built renderer (index.html and its assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
  log?: (message: string) => void;
}

/** A running host. */
export interface BrowserHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return v.join('=');
  }
  return undefined;
}

const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function destroyStream(stream: NodeJS.ReadableStream): void {
  const s = stream as Partial<Readable>;
  if (typeof s.destroy === 'function') s.destroy();
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

/**
 * Serves the renderer, the API (WebSocket) and media (by id) on 127.0.0.1 only.
 * Every request must carry the access token, as `?token=` once (it then
 * becomes an HttpOnly cookie) or as that cookie; requests for another Host
 * are refused so a web page cannot reach the host through DNS rebinding.
 */
export async function startBrowserHost(o: BrowserHostOptions): Promise<BrowserHost> {
  const token = o.token ?? randomBytes(24).toString('base64url');
  const log = o.log ?? (() => {});
  const rendererDir = normalize(o.rendererDir + sep);
  let port = 0;

  const allowedHost = (req: IncomingMessage): boolean => {
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  };

  const authorised = (req: IncomingMessage, url: URL): boolean =>
    sameToken(url.searchParams.get('token') ?? undefined, token) ||
    sameToken(cookieToken(req), token);

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      log(`http error: ${String(err)}`);
      if (!res.headersSent) send(res, 500, 'Internal error');
      else res.destroy();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowedHost(req)) return send(res, 421, 'Wrong host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return send(res, 400, 'Bad request');
    }
    if (!authorised(req, url)) {
      return send(
        res,
        401,
        'Albumen: open the address printed by `albumen serve`; it carries the access token.',
      );
    }
    if (url.searchParams.has('token')) {
      // Trade the token in the address for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      res.writeHead(302, {
        ...BASE_HEADERS,
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname + url.search,
      });
      return void res.end();
    }
    const raw = req.url ?? '/';
    if (raw.startsWith('/media/')) return serveMedia(raw, res);
    return serveStatic(url.pathname, res, req.method === 'HEAD');
  }

  /** A media refusal: short text, as inert as the images themselves. */
  function refuseMedia(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, {
      ...BASE_HEADERS,
      'Content-Security-Policy': MEDIA_CSP,
      'Content-Type': 'text/plain; charset=utf-8',
    });
    res.end(text + '\n');
  }

  async function serveMedia(raw: string, res: ServerResponse): Promise<void> {
    // Parsed from the raw request path: no decoding, so `%2e%2e` or `%2f` never match.
    const path = raw.split('?')[0]!;
    const m = /^\/media\/([a-z]+)\/([0-9]+)(?:\/([0-9-]+))?$/.exec(path);
    const parsed = m ? parseMediaRequest(m[1]!, m[2]!, m[3]) : null;
    if (!parsed) return refuseMedia(res, 400, 'Bad media request');
    const version = new URLSearchParams(raw.split('?')[1] ?? '').get('v');
    const target = await o.service
      .resolveMedia(parsed.kind, parsed.imageId, parsed.tile, version)
      .catch(() => null);
    if (!target) return refuseMedia(res, 404, 'No such image');
    if (!isServableMime(target.mime)) {
      if (target.kind === 'stream') destroyStream(target.stream);
      return refuseMedia(res, 404, 'No such image');
    }
    const headers = {
      ...BASE_HEADERS,
      // Served from the app's own origin: a raster type from the allow-list
      // (never SVG, never sniffed) and a sandbox, so a hostile file stays inert
      // even when opened on its own.
      'Content-Type': target.mime,
      'Content-Security-Policy': MEDIA_CSP,
      'Content-Length': String(target.size),
      // Outputs change name when remade; the `v` parameter busts the cache on updates.
      'Cache-Control': 'private, max-age=3600',
    };
    if (target.kind === 'file') {
      const stream = createReadStream(target.path);
      stream.once('open', () => {
        res.writeHead(200, headers);
        // pipeline closes the file when the client goes away (a viewer flicking on).
        pipeline(stream, res, () => {});
      });
      stream.once('error', () => {
        if (!res.headersSent) refuseMedia(res, 404, 'No such image');
      });
    } else {
      res.writeHead(200, headers);
      pipeline(target.stream, res, () => {});
    }
  }

  async function serveStatic(pathname: string, res: ServerResponse, head: boolean): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return send(res, 400, 'Bad path');
    }
    if (rel.includes('\0')) return send(res, 400, 'Bad path');
    let file = normalize(join(rendererDir, rel));
    if (
      !file.startsWith(rendererDir) ||
      rel.split('/').some((p) => p.startsWith('.') && p !== '')
    ) {
      return send(res, 404, 'Not found');
    }
    let st = await stat(file).catch(() => null);
    if (!st || st.isDirectory()) {
      // The app is one page: unknown paths get index.html.
      file = join(rendererDir, 'index.html');
      st = await stat(file).catch(() => null);
      if (!st) {
        return send(
          res,
          503,
          'The Albumen UI is not built. Run `npm run serve`, which builds it first.',
        );
      }
    }
    const type = STATIC_TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': type,
      'Content-Length': String(st.size),
      'Content-Security-Policy': HOST_CSP,
      'Cache-Control': type.startsWith('text/html')
        ? 'no-cache'
        : 'private, max-age=31536000, immutable',
    });
    if (head) return void res.end();
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    let url: URL | null;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      url = null;
    }
    const origin = req.headers.origin;
    const originOk =
      !origin || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (
      !url ||
      url.pathname !== WS_PATH ||
      !allowedHost(req) ||
      !originOk ||
      !authorised(req, url)
    ) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data: Buffer) => void onMessage(ws, data.toString('utf8')));
    });
  });

  const sendTo = (ws: WebSocket, msg: WsServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };

  async function onMessage(ws: WebSocket, text: string): Promise<void> {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    // Anything but a call envelope is dropped; the service checks the command itself.
    const msg = v.safeParse(WsCallSchema, data);
    if (!msg.success) return;
    const result = await o.service.handle(msg.output.command, msg.output.params);
    sendTo(ws, { type: 'result', id: msg.output.id, result });
  }

  const unsubscribe = o.service.onEvent((event) => {
    for (const ws of clients) sendTo(ws, { type: 'event', event });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
