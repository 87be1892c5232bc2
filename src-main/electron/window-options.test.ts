import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  isRendererUrl,
  mainWindowOptions,
  rendererTarget,
  type RendererTarget,
} from './window-options.ts';

const built: RendererTarget = { kind: 'file', file: '/opt/Albumen/out/renderer/index.html' };
const dev: RendererTarget = { kind: 'url', url: 'http://localhost:5173/' };

describe('main window options', () => {
  const o = mainWindowOptions({
    preload: '/opt/Albumen/out/preload/index.cjs',
    placement: { width: 1000, height: 700, x: 10, y: 20, maximized: false },
  });

  it('locks the renderer down', () => {
    expect(o.webPreferences).toMatchObject({
      preload: '/opt/Albumen/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });

  it('opens where it was, hidden until painted', () => {
    expect(o).toMatchObject({ width: 1000, height: 700, x: 10, y: 20, show: false });
  });

  it('centres a window with no remembered position', () => {
    const c = mainWindowOptions({
      preload: 'p',
      placement: { width: 1000, height: 700, maximized: false },
    });
    expect(c.center).toBe(true);
    expect(c.x).toBeUndefined();
  });
});

describe('content security policy', () => {
  const directives = (csp: string) =>
    new Map(
      csp.split('; ').map((d) => {
        const [name, ...values] = d.split(' ');
        return [name!, values];
      }),
    );

  it('is the strict policy for the built renderer', () => {
    expect(contentSecurityPolicy(built)).toBe(
      "default-src 'self'; img-src 'self' albumen-media: data: blob:; style-src 'self' 'unsafe-inline'; " +
        "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it('never allows inline or remote scripts, eval, plugins or framing in production', () => {
    const d = directives(contentSecurityPolicy(built));
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(contentSecurityPolicy(built)).not.toMatch(/unsafe-eval|https?:|\*/);
  });

  it('lets the dev server run its refresh preamble and hot-reload socket', () => {
    const d = directives(contentSecurityPolicy(dev));
    expect(d.get('script-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://localhost:5173']);
    expect(d.get('img-src')).toContain('albumen-media:');
  });
});

describe('renderer target', () => {
  it('uses the dev server only in an unpackaged run, and only on this machine', () => {
    const html = '/app/out/renderer/index.html';
    expect(rendererTarget({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, false, html)).toEqual(
      { kind: 'url', url: 'http://localhost:5173' },
    );
    expect(rendererTarget({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, true, html)).toEqual({
      kind: 'file',
      file: html,
    });
    expect(rendererTarget({ ELECTRON_RENDERER_URL: 'https://evil.example/' }, false, html)).toEqual(
      { kind: 'file', file: html },
    );
    expect(rendererTarget({}, false, html)).toEqual({ kind: 'file', file: html });
  });
});

describe('isRendererUrl', () => {
  it('accepts the built page, with a query or hash', () => {
    expect(isRendererUrl('file:///opt/Albumen/out/renderer/index.html', built)).toBe(true);
    expect(isRendererUrl('file:///opt/Albumen/out/renderer/index.html#/jobs', built)).toBe(true);
  });

  it('refuses other files, other schemes and look-alikes', () => {
    for (const url of [
      'file:///opt/Albumen/out/renderer/other.html',
      'file:///etc/passwd',
      'file:///opt/Albumen/out/renderer/index.html/../../../etc/passwd',
      'file://host/opt/Albumen/out/renderer/index.html',
      'https://evil.example/opt/Albumen/out/renderer/index.html',
      'albumen-media://thumbnail/1',
      'not a url',
    ]) {
      expect(isRendererUrl(url, built), url).toBe(false);
    }
  });

  it('accepts the dev server origin only', () => {
    expect(isRendererUrl('http://localhost:5173/src/main.tsx', dev)).toBe(true);
    expect(isRendererUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isRendererUrl('http://localhost.evil.example:5173/', dev)).toBe(false);
  });
});
