import { join } from 'node:path';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mediaPath, type MediaKind } from '../../src-shared/api.ts';
import { AppService, type MediaTarget } from '../app/app-service.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { openNodeCore } from '../core/compose-node.ts';
import { HOSTILE, writeHostileMedia } from '../test-support/hostile-media.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import {
  MEDIA_SCHEME_PRIVILEGES,
  mediaResponse,
  parseMediaUrl,
  registerMediaScheme,
  serveMediaProtocol,
  toWebResponse,
} from './media-protocol.ts';

const tempDir = useTempDir('albumen-media-');

/** A service that knows image 12 (a thumbnail file and a source stream) and nothing else. */
function fakeService(file = '/data/cache/thumbnail/12.webp') {
  const resolveMedia = vi.fn((kind: MediaKind, imageId: number): Promise<MediaTarget | null> => {
    if (imageId !== 12) return Promise.resolve(null);
    if (kind === 'source') {
      return Promise.resolve({
        kind: 'stream',
        stream: Readable.from([Buffer.from('jpeg bytes')]),
        size: 10,
        mime: 'image/jpeg',
      });
    }
    return Promise.resolve({ kind: 'file', path: file, size: 4, mime: 'image/webp' });
  });
  return { resolveMedia };
}

describe('media protocol: well-formed requests', () => {
  it('serves an output file by kind and id', async () => {
    const service = fakeService();
    const r = await mediaResponse('albumen-media://thumbnail/12', service);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ kind: 'file', path: '/data/cache/thumbnail/12.webp' });
    expect(r.headers['content-type']).toBe('image/webp');
    expect(r.headers['content-length']).toBe('4');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(service.resolveMedia).toHaveBeenCalledWith('thumbnail', 12, undefined, null);
  });

  it('streams an original', async () => {
    const r = await mediaResponse('albumen-media://source/12', fakeService());
    expect(r.status).toBe(200);
    expect(r.body?.kind).toBe('stream');
    expect(r.headers['content-type']).toBe('image/jpeg');
  });

  it('ignores the cache-busting version, and lets a versioned URL be cached for good', async () => {
    const service = fakeService();
    const r = await mediaResponse('albumen-media://cache/12?v=3f2a', service);
    expect(r.status).toBe(200);
    expect(service.resolveMedia).toHaveBeenCalledWith('cache', 12, undefined, '3f2a');
    expect(r.headers['cache-control']).toContain('immutable');
    const plain = await mediaResponse('albumen-media://cache/12', service);
    expect(plain.headers['cache-control']).toBe('no-cache');
  });

  it('asks for a tile of a deep-zoom pyramid by its numbers only', async () => {
    const service = fakeService();
    const r = await mediaResponse('albumen-media://tile/12/13-4-0?v=v2-abc', service);
    expect(r.status).toBe(200);
    expect(service.resolveMedia).toHaveBeenCalledWith(
      'tile',
      12,
      { level: 13, col: 4, row: 0 },
      'v2-abc',
    );
    expect(parseMediaUrl(`albumen-media:/${mediaPath('tile', 12, 'v2-abc', '13-4-0')}`)).toEqual({
      kind: 'tile',
      imageId: 12,
      tile: { level: 13, col: 4, row: 0 },
      version: 'v2-abc',
    });
  });

  it('builds the same URLs the contract does', () => {
    expect(parseMediaUrl('albumen-media://thumbnail/12?v=7')).toEqual({
      kind: 'thumbnail',
      imageId: 12,
      version: '7',
    });
  });

  it('answers HEAD without a body and releases the stream it opened', async () => {
    const stream = Readable.from([Buffer.from('x')]);
    const service = {
      resolveMedia: () =>
        Promise.resolve({ kind: 'stream', stream, size: 1, mime: 'image/png' } as const),
    };
    const r = await mediaResponse('albumen-media://source/12', service, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.body).toBeNull();
    expect(stream.destroyed).toBe(true);
  });
});

describe('media protocol: hostile and malformed requests', () => {
  const refused: [string, string][] = [
    ['dot-dot segment', 'albumen-media://thumbnail/../12'],
    ['dot-dot to a system file', 'albumen-media://thumbnail/../../../../etc/passwd'],
    ['encoded dot-dot', 'albumen-media://thumbnail/%2e%2e/12'],
    ['encoded dot-dot, upper case', 'albumen-media://thumbnail/%2E%2E%2Fetc%2Fpasswd'],
    ['encoded slash inside the id', 'albumen-media://thumbnail/12%2f13'],
    ['backslashes', 'albumen-media://thumbnail/..\\..\\windows\\win.ini'],
    ['encoded backslash', 'albumen-media://thumbnail/%5c12'],
    ['absolute path as the path', 'albumen-media://thumbnail//etc/passwd'],
    ['absolute path with no kind', 'albumen-media:///etc/passwd'],
    ['path as the host', 'albumen-media://etc/passwd'],
    ['unknown kind', 'albumen-media://original/12'],
    ['kind in another case', 'albumen-media://Thumbnail/12'],
    ['non-numeric id', 'albumen-media://thumbnail/abc'],
    ['negative id', 'albumen-media://thumbnail/-1'],
    ['zero id', 'albumen-media://thumbnail/0'],
    ['leading zeros', 'albumen-media://thumbnail/0012'],
    ['exponent notation', 'albumen-media://thumbnail/1e3'],
    ['fractional id', 'albumen-media://thumbnail/1.5'],
    ['huge id', 'albumen-media://thumbnail/99999999999999999999'],
    ['id past the safe integers', 'albumen-media://thumbnail/9007199254740993'],
    ['extra path segment', 'albumen-media://thumbnail/12/13'],
    ['trailing slash', 'albumen-media://thumbnail/12/'],
    ['empty id', 'albumen-media://thumbnail/'],
    ['NUL byte', 'albumen-media://thumbnail/12%00.png'],
    ['credentials', 'albumen-media://user:pw@thumbnail/12'],
    ['a port', 'albumen-media://thumbnail:8080/12'],
    ['a path in the query', 'albumen-media://thumbnail/12?path=/etc/passwd'],
    ['a second version', 'albumen-media://thumbnail/12?v=1&v=2'],
    ['a fragment', 'albumen-media://thumbnail/12#x'],
    ['another scheme', 'file:///etc/passwd'],
    ['http', 'http://thumbnail/12'],
    ['scheme prefix only', 'albumen-media:'],
    ['not a URL', ''],
    ['a tile without its numbers', 'albumen-media://tile/12'],
    ['a tile with two numbers', 'albumen-media://tile/12/3-4'],
    ['a tile with leading zeros', 'albumen-media://tile/12/03-4-5'],
    ['a tile with a negative number', 'albumen-media://tile/12/3--4-5'],
    ['a tile with a segment after it', 'albumen-media://tile/12/3-4-5/6'],
    ['a tile named like a file', 'albumen-media://tile/12/3-4-5.jpeg'],
    ['tile numbers on a thumbnail', 'albumen-media://thumbnail/12/3-4-5'],
    ['an endless URL', `albumen-media://thumbnail/12?v=${'a'.repeat(2000)}`],
  ];

  it.each(refused)('refuses %s with 400 and never asks the store', async (_name, url) => {
    const service = fakeService();
    const r = await mediaResponse(url, service);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ kind: 'text', text: 'bad media request' });
    expect(service.resolveMedia).not.toHaveBeenCalled();
  });

  it('answers 404 for an id the store does not know', async () => {
    const r = await mediaResponse('albumen-media://thumbnail/77', fakeService());
    expect(r.status).toBe(404);
  });

  it('answers 405 to anything but GET and HEAD', async () => {
    const service = fakeService();
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await mediaResponse('albumen-media://thumbnail/12', service, method);
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    expect(service.resolveMedia).not.toHaveBeenCalled();
  });

  it('answers 500 without the error text when reading fails (it could name a path)', async () => {
    const service = {
      resolveMedia: () => Promise.reject(new Error('EIO: /home/u/secret/photo.jpg')),
    };
    const r = await mediaResponse('albumen-media://source/12', service);
    expect(r.status).toBe(500);
    expect(JSON.stringify(r)).not.toContain('/home/u');
  });

  it('answers 404 when the original vanished', async () => {
    const gone = Object.assign(new Error('ENOENT: /x'), { code: 'ENOENT' });
    const r = await mediaResponse('albumen-media://source/12', {
      resolveMedia: () => Promise.reject(gone),
    });
    expect(r.status).toBe(404);
  });
});

describe('media protocol: web responses', () => {
  it('streams a file with the headers', async () => {
    const file = join(tempDir(), '12.webp');
    writeFileSync(file, 'webp');
    const res = await toWebResponse(
      await mediaResponse('albumen-media://thumbnail/12', fakeService(file)),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(await res.text()).toBe('webp');
  });

  it('streams an original', async () => {
    const res = await toWebResponse(
      await mediaResponse('albumen-media://source/12', fakeService()),
    );
    expect(await res.text()).toBe('jpeg bytes');
  });

  it('turns a file removed since the store named it into a 404', async () => {
    const file = join(tempDir(), 'gone.webp');
    const res = await toWebResponse(
      await mediaResponse('albumen-media://thumbnail/12', fakeService(file)),
    );
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not found');
  });

  it('sends refusals as short text', async () => {
    const res = await toWebResponse(await mediaResponse('albumen-media://x/1', fakeService()));
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('bad media request');
  });
});

describe('media protocol: nothing served can run', () => {
  let dir: string;
  let core: AlbumenCore;
  let service: AppService;
  const ids = new Map<string, number>();
  const url = (kind: string, name: string): string => `albumen-media://${kind}/${ids.get(name)}`;
  const expectInert = (headers: Record<string, string>): void => {
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['content-security-policy']).toMatch(/(^|; )sandbox(;|$)/);
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).not.toContain('script-src');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumen-media-real-'));
    await writeHostileMedia(join(dir, 'hostile'));
    core = openNodeCore({ dataDir: join(dir, 'data'), logFile: null, pollMs: 200 });
    await core.start();
    service = new AppService(core);
    const job = await core.importPath(join(dir, 'hostile'));
    await core.whenDone([job.id]);
    for (const img of core.allImages(job.collectionId)) ids.set(img.entryPath, img.id);
  });

  afterAll(async () => {
    service.dispose();
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a photo and its outputs as raster images, inert', async () => {
    for (const kind of ['source', 'thumbnail', 'cache']) {
      const r = await mediaResponse(url(kind, HOSTILE.good), service);
      expect(r.status, kind).toBe(200);
      expect(r.headers['content-type'], kind).toBe('image/jpeg');
      expectInert(r.headers);
      await (await toWebResponse(r)).arrayBuffer();
    }
  });

  it('never serves an SVG original: its "original" is a full-size raster our decoder made', async () => {
    const r = await mediaResponse(url('source', HOSTILE.svg), service);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expectInert(r.headers);
    const raster = Buffer.from(await (await toWebResponse(r)).arrayBuffer());
    expect(raster.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(raster.toString('latin1')).not.toContain('<script');
    const view = await mediaResponse(url('cache', HOSTILE.svg), service);
    expect(view.status).toBe(200);
    expect(view.headers['content-type']).toBe('image/jpeg');
    const bytes = Buffer.from(await (await toWebResponse(view)).arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('does not serve an HTML file named .jpg, nor an image whose scan or decode failed', async () => {
    for (const name of [HOSTILE.html, HOSTILE.failed, HOSTILE.rejected]) {
      const r = await mediaResponse(url('source', name), service);
      expect(r.status, name).toBe(404);
      expectInert(r.headers);
      expect(await (await toWebResponse(r)).text()).not.toContain('<script');
    }
  });

  it('refuses any type outside the allow-list, whatever the resolver says', async () => {
    for (const mime of ['image/svg+xml', 'text/html', 'application/octet-stream']) {
      const stream = Readable.from([Buffer.from('<svg onload="alert(1)"/>')]);
      const r = await mediaResponse('albumen-media://source/12', {
        resolveMedia: () => Promise.resolve({ kind: 'stream', stream, size: 24, mime } as const),
      });
      expect(r.status, mime).toBe(404);
      expectInert(r.headers);
      expect(stream.destroyed).toBe(true);
    }
  });
});

describe('media protocol: registration', () => {
  it('registers the scheme as standard, secure, fetchable and streamable, without bypassing CSP', () => {
    const protocol = { registerSchemesAsPrivileged: vi.fn() };
    registerMediaScheme(protocol);
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([MEDIA_SCHEME_PRIVILEGES]);
    expect(MEDIA_SCHEME_PRIVILEGES).toEqual({
      scheme: 'albumen-media',
      privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true },
    });
  });

  it('serves requests through the handler and stops serving on dispose', async () => {
    let handler: ((r: Request) => Promise<Response>) | undefined;
    const protocol = {
      handle: vi.fn((_scheme: string, h: (r: Request) => Promise<Response>) => {
        handler = h;
      }),
      unhandle: vi.fn(),
    };
    const stop = serveMediaProtocol(protocol, fakeService());
    expect(protocol.handle).toHaveBeenCalledWith('albumen-media', expect.any(Function));
    const request = { url: 'albumen-media://thumbnail/77', method: 'GET' } as Request;
    expect((await handler!(request)).status).toBe(404);
    stop();
    expect(protocol.unhandle).toHaveBeenCalledWith('albumen-media');
  });
});
