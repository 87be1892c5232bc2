import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { openNodeCore } from '../core/compose-node.ts';
import { AppService } from '../app/app-service.ts';
import { startBrowserHost, type BrowserHost } from './browser-host.ts';
import { writePhotos } from '../test-support/fixtures.ts';
import { HOSTILE, writeHostileMedia } from '../test-support/hostile-media.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import type { WsServerMessage } from '../../src-shared/ws-protocol.ts';
import { resultProblem } from '../../src-shared/api-validate.ts';

let root: string;
let core: AlbumenCore;
let service: AppService;
let host: BrowserHost;
let imageId: number;
/** Image ids of the hostile folder, by entry path. */
const hostileIds = new Map<string, number>();

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET: the path goes out exactly as written (no URL normalisation). */
function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: host.port,
        path,
        headers: { Host: `127.0.0.1:${host.port}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const cookie = () => ({ Cookie: `albumen_token=${host.token}` });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'albumen-host-'));
  const photos = join(root, 'photos');
  await writePhotos(photos, 3, { width: 640, height: 480 });
  await writeHostileMedia(join(root, 'hostile'));
  writeFileSync(join(root, 'secret.txt'), 'top secret');
  const ui = join(root, 'ui');
  mkdirSync(join(ui, 'assets'), { recursive: true });
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>Albumen</title>');
  writeFileSync(join(ui, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(ui, '.env'), 'SECRET=1');
  core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
  await core.start();
  service = new AppService(core);
  const job = await core.importPath(photos);
  await core.whenDone([job.id]);
  imageId = core.allImages(job.collectionId)[0]!.id;
  const hostileJob = await core.importPath(join(root, 'hostile'));
  await core.whenDone([hostileJob.id]);
  for (const img of core.allImages(hostileJob.collectionId)) {
    hostileIds.set(img.entryPath, img.id);
  }
  host = await startBrowserHost({ service, rendererDir: ui, port: 0 });
});

afterAll(async () => {
  await host.close();
  service.dispose();
  await core.close();
  rmSync(root, { recursive: true, force: true });
});

describe('browser host: access', () => {
  it('listens on 127.0.0.1 and prints a URL carrying the token', () => {
    expect(host.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[A-Za-z0-9_-]{20,}$`),
    );
  });

  it('refuses requests without the token, or with a wrong one', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=nope')).status).toBe(401);
    expect((await get('/', { Cookie: 'albumen_token=nope' })).status).toBe(401);
    expect((await get(`/media/thumbnail/${imageId}`)).status).toBe(401);
  });

  it('trades the token for an HttpOnly cookie and drops it from the address', async () => {
    const r = await get(`/?token=${host.token}`);
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('/');
    expect(String(r.headers['set-cookie'])).toMatch(/albumen_token=.+; HttpOnly; SameSite=Strict/);
  });

  it('serves the UI with a strict CSP once authorised', async () => {
    const r = await get('/', cookie());
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('<title>Albumen</title>');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.headers['content-security-policy']).toContain("object-src 'none'");
  });

  it('refuses another Host header (DNS rebinding)', async () => {
    const r = await get('/', { ...cookie(), Host: 'evil.example:80' });
    expect(r.status).toBe(421);
  });
});

describe('browser host: media by id only', () => {
  it('serves a generated thumbnail and the original', async () => {
    const t = await get(`/media/thumbnail/${imageId}?v=1`, cookie());
    expect(t.status).toBe(200);
    expect(t.headers['content-type']).toBe('image/jpeg');
    expect(t.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const s = await get(`/media/source/${imageId}`, cookie());
    expect(s.status).toBe(200);
    expect(s.body.length).toBeGreaterThan(t.body.length);
  });

  const hostile = [
    '/media/../secret.txt',
    '/media/thumbnail/../../secret.txt',
    '/media/thumbnail/%2e%2e%2fsecret.txt',
    '/media/thumbnail/..%2f..%2fsecret.txt',
    '/media/%2e%2e/%2e%2e/secret.txt',
    '/media/thumbnail/1/../2',
    '/media/thumbnail/1%00',
    '/media/thumbnail//etc/passwd',
    '/media/thumbnail/-1',
    '/media/thumbnail/0',
    '/media/thumbnail/1e3',
    '/media/thumbnail/0x1',
    '/media/thumbnail/99999999999999999999',
    '/media/THUMBNAIL/1',
    '/media/file/1',
    '/media/source/%2Fetc%2Fpasswd',
    '/media/thumbnail',
    '/media/',
    '/media/tile/1',
    '/media/tile/1/1-2',
    '/media/tile/1/01-2-3',
    '/media/tile/1/1-2-3/4',
    '/media/tile/1/1-2-3.jpeg',
    '/media/thumbnail/1/1-2-3',
  ];
  for (const path of hostile) {
    it(`refuses ${path}`, async () => {
      const r = await get(path, cookie());
      expect([400, 404]).toContain(r.status);
      expect(r.body.toString()).not.toContain('top secret');
      expect(r.body.toString()).not.toContain('root:');
    });
  }

  it('answers 404 for an unknown id', async () => {
    expect((await get('/media/thumbnail/987654', cookie())).status).toBe(404);
    expect((await get('/media/source/987654', cookie())).status).toBe(404);
    expect((await get('/media/tile/987654/0-0-0', cookie())).status).toBe(404);
  });
});

describe('browser host: media is inert', () => {
  const id = (name: string): number => hostileIds.get(name)!;
  const expectInert = (r: Reply): void => {
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/(^|; )sandbox(;|$)/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
  };

  it('serves a photo and its outputs as raster images, with nosniff and a sandbox', async () => {
    for (const kind of ['source', 'thumbnail', 'cache']) {
      const r = await get(`/media/${kind}/${id(HOSTILE.good)}`, cookie());
      expect(r.status, kind).toBe(200);
      expect(r.headers['content-type'], kind).toBe('image/jpeg');
      expectInert(r);
    }
  });

  it('never serves an SVG original (its script could use the API): only rasters our decoder made', async () => {
    // Its "original" is a full-size JPEG rendered from it.
    const r = await get(`/media/source/${id(HOSTILE.svg)}`, cookie());
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect(r.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(r.body.toString('latin1')).not.toContain('<script');
    expectInert(r);
    // What the viewer falls back to: the cache image made from it, a JPEG.
    const view = await get(`/media/cache/${id(HOSTILE.svg)}`, cookie());
    expect(view.status).toBe(200);
    expect(view.headers['content-type']).toBe('image/jpeg');
    expect(view.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expectInert(view);
  });

  it('does not serve an HTML file named .jpg, nor an image whose scan failed', async () => {
    for (const name of [HOSTILE.html, HOSTILE.failed]) {
      const r = await get(`/media/source/${id(name)}`, cookie());
      expect(r.status, name).toBe(404);
      expect(r.body.toString(), name).not.toContain('<script');
      expectInert(r);
    }
  });

  it('keeps refusals inert too', async () => {
    expectInert(await get('/media/source/987654', cookie()));
    expectInert(await get('/media/thumbnail/0x1', cookie()));
  });
});

describe('browser host: static files stay inside the UI folder', () => {
  for (const path of [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/../../secret.txt',
    '/.env',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
  ]) {
    it(`does not leak ${path}`, async () => {
      const r = await get(path, cookie());
      expect(r.body.toString()).not.toContain('top secret');
      expect(r.body.toString()).not.toContain('SECRET=1');
    });
  }
  it('serves assets', async () => {
    const r = await get('/assets/app.js', cookie());
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('javascript');
  });
});

describe('browser host: WebSocket API', () => {
  function connect(headers: Record<string, string>): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api`, { headers });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  function call(
    ws: WebSocket,
    id: number,
    command: unknown,
    params: unknown,
  ): Promise<WsServerMessage> {
    return new Promise((resolve) => {
      const onMessage = (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as WsServerMessage;
        if (msg.type === 'result' && msg.id === id) {
          ws.off('message', onMessage);
          resolve(msg);
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'call', id, command, params }));
    });
  }

  it('refuses a connection without the token or from another origin', async () => {
    await expect(connect({})).rejects.toThrow(/401/);
    await expect(connect({ ...cookie(), Origin: 'http://evil.example' })).rejects.toThrow(/401/);
  });

  it('answers commands and refuses malformed ones with typed errors', async () => {
    const ws = await connect({ ...cookie(), Origin: `http://127.0.0.1:${host.port}` });
    try {
      const jobs = await call(ws, 1, 'listJobs', { offset: 0, limit: 10 });
      expect(jobs).toMatchObject({ type: 'result', id: 1, result: { ok: true } });
      expect(jobs.type === 'result' && resultProblem('listJobs', jobs.result)).toBeNull();
      const cases: [unknown, unknown][] = [
        ['nope', {}],
        ['listJobs', { offset: -1, limit: 10 }],
        ['listJobs', { offset: 0, limit: 10, extra: 1 }],
        ['pauseJob', { jobId: '1' }],
        ['importPaths', { paths: [] }],
        ['importPaths', { paths: ['a\0b'] }],
        ['listImages', null],
        ['updateSettings', { render: { thumbnail: { quality: 500 } } }],
        ['__proto__', {}],
      ];
      let id = 10;
      for (const [command, params] of cases) {
        const r = await call(ws, ++id, command, params);
        expect(r, JSON.stringify([command, params])).toMatchObject({
          result: { ok: false, error: { code: 'INVALID_INPUT' } },
        });
      }
      // The message says which field is wrong, as the schema finds it.
      const named = await call(ws, 50, 'updateSettings', { render: { cache: { format: 'png' } } });
      expect(named).toMatchObject({
        result: {
          ok: false,
          error: { message: 'updateSettings: render.cache.format must be one of jpeg, webp' },
        },
      });
      const missing = await call(ws, 99, 'pauseJob', { jobId: 12345 });
      expect(missing).toMatchObject({ result: { ok: false, error: { code: 'NOT_FOUND' } } });
      const badPath = await call(ws, 100, 'importPaths', { paths: [join(root, 'does-not-exist')] });
      expect(badPath).toMatchObject({ result: { ok: false, error: { code: 'NOT_FOUND' } } });
      // Some paths good, some not: the good ones import, the others say why.
      const partial = await call(ws, 101, 'importPaths', {
        paths: [join(root, 'photos'), join(root, 'nope')],
      });
      expect(partial).toMatchObject({
        result: {
          ok: true,
          value: {
            jobs: [{ collectionName: 'photos' }],
            failed: [{ path: join(root, 'nope'), error: { code: 'NOT_FOUND' } }],
          },
        },
      });
    } finally {
      ws.close();
    }
  });

  it('drops anything that is not a call envelope, and still answers the next call', async () => {
    const ws = await connect(cookie());
    try {
      const replies: WsServerMessage[] = [];
      ws.on('message', (d: Buffer) => {
        const msg = JSON.parse(d.toString('utf8')) as WsServerMessage;
        if (msg.type === 'result') replies.push(msg);
      });
      for (const junk of [
        'null',
        '"call"',
        '[1,2]',
        '{"type":"call"}',
        '{"type":"call","id":"7","command":"listJobs","params":{"offset":0,"limit":1}}',
        '{"type":"event","id":8,"command":"listJobs"}',
        '{not json',
      ]) {
        ws.send(junk);
      }
      const r = await call(ws, 9, 'listCollections', {});
      expect(r).toMatchObject({ type: 'result', id: 9, result: { ok: true } });
      expect(r.type === 'result' && resultProblem('listCollections', r.result)).toBeNull();
      expect(replies.map((m) => m.type === 'result' && m.id)).toEqual([9]);
    } finally {
      ws.close();
    }
  });

  it('pushes job events to connected clients', async () => {
    const ws = await connect(cookie());
    try {
      const events: WsServerMessage[] = [];
      ws.on('message', (d: Buffer) =>
        events.push(JSON.parse(d.toString('utf8')) as WsServerMessage),
      );
      const photos2 = join(root, 'photos2');
      await writePhotos(photos2, 2, { width: 320, height: 240 });
      const r = await call(ws, 1, 'importPaths', { paths: [photos2] });
      expect(r).toMatchObject({ result: { ok: true } });
      await new Promise((res) => setTimeout(res, 1500));
      expect(events.some((e) => e.type === 'event' && e.event.type === 'job')).toBe(true);
      expect(events.some((e) => e.type === 'event' && e.event.type === 'output')).toBe(true);
    } finally {
      ws.close();
    }
  });
});
