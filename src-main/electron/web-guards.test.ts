import { describe, expect, it, vi } from 'vitest';
import {
  ALLOWED_PERMISSIONS,
  guardSession,
  guardWebContents,
  isExternalLink,
} from './web-guards.ts';
import type { RendererTarget } from './window-options.ts';

const target: RendererTarget = { kind: 'file', file: '/app/out/renderer/index.html' };
const PAGE = 'file:///app/out/renderer/index.html';

type Listener = (e: { url: string; preventDefault: () => void }) => void;

function fakeWebContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  const wc = {
    on: (event: string, l: Listener) => {
      listeners.set(event, l);
      return wc;
    },
    setWindowOpenHandler: (h: (d: { url: string }) => { action: string }) => {
      openHandler = h;
    },
  };
  const fire = (event: string, url = '') => {
    const e = { url, preventDefault: vi.fn() };
    listeners.get(event)!(e);
    return e.preventDefault.mock.calls.length > 0;
  };
  return { wc, fire, open: (url: string) => openHandler!({ url }) };
}

describe('web contents guards', () => {
  function guarded() {
    const f = fakeWebContents();
    const openExternal = vi.fn();
    guardWebContents(
      f.wc as unknown as Parameters<typeof guardWebContents>[0],
      target,
      openExternal,
    );
    return { ...f, openExternal };
  }

  it('lets the renderer navigate within itself', () => {
    expect(guarded().fire('will-navigate', `${PAGE}#/jobs`)).toBe(false);
  });

  it('blocks navigation and redirects anywhere else', () => {
    const g = guarded();
    expect(g.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(g.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(g.fire('will-redirect', 'https://evil.example/')).toBe(true);
  });

  it('never attaches a webview', () => {
    expect(guarded().fire('will-attach-webview')).toBe(true);
  });

  it('denies every new window; web links open in the browser', () => {
    const g = guarded();
    expect(g.open('https://albumen.example/help')).toEqual({ action: 'deny' });
    expect(g.openExternal).toHaveBeenCalledWith('https://albumen.example/help');
    expect(g.open('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(g.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(g.openExternal).toHaveBeenCalledTimes(1);
  });

  it('only treats http and https as external links', () => {
    expect(isExternalLink('https://a.example/')).toBe(true);
    expect(isExternalLink('smb://server/share')).toBe(false);
    expect(isExternalLink('nonsense')).toBe(false);
  });
});

describe('session guards', () => {
  function guarded() {
    let onHeaders:
      | ((
          d: { url: string; responseHeaders?: Record<string, string[]> },
          cb: (r: { responseHeaders?: Record<string, string[]> }) => void,
        ) => void)
      | undefined;
    type Wc = { getURL(): string } | null;
    let request: ((wc: Wc, permission: string, cb: (ok: boolean) => void) => void) | undefined;
    let check: ((wc: Wc, permission: string) => boolean) | undefined;
    const ses = {
      setPermissionRequestHandler: (h: typeof request) => (request = h),
      setPermissionCheckHandler: (h: typeof check) => (check = h),
      webRequest: { onHeadersReceived: (h: typeof onHeaders) => (onHeaders = h) },
    };
    guardSession(ses as unknown as Parameters<typeof guardSession>[0], target);
    return { onHeaders: onHeaders!, request: request!, check: check! };
  }

  const ours = { getURL: () => PAGE };
  const foreign = { getURL: () => 'https://evil.example/' };

  it('refuses every permission but the allow-list', () => {
    const g = guarded();
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'hid']) {
      const cb = vi.fn();
      g.request(ours, permission, cb);
      expect(cb, permission).toHaveBeenCalledWith(false);
      expect(g.check(ours, permission), permission).toBe(false);
    }
    expect([...ALLOWED_PERMISSIONS].sort()).toEqual(['clipboard-sanitized-write', 'fullscreen']);
  });

  it('grants the allow-list to our renderer only', () => {
    const g = guarded();
    const cb = vi.fn();
    g.request(ours, 'clipboard-sanitized-write', cb);
    expect(cb).toHaveBeenCalledWith(true);
    expect(g.check(ours, 'fullscreen')).toBe(true);
    expect(g.check(foreign, 'fullscreen')).toBe(false);
    expect(g.check(null, 'fullscreen')).toBe(false);
  });

  it('puts our CSP on the renderer, replacing any other', () => {
    const cb = vi.fn();
    guarded().onHeaders(
      { url: PAGE, responseHeaders: { 'content-security-policy': ['default-src *'], a: ['b'] } },
      cb,
    );
    const headers = (cb.mock.calls[0]![0] as { responseHeaders: Record<string, string[]> })
      .responseHeaders;
    expect(headers['Content-Security-Policy']![0]).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers.a).toEqual(['b']);
  });

  it('leaves other responses alone', () => {
    const cb = vi.fn();
    guarded().onHeaders({ url: 'albumen-media://thumbnail/1' }, cb);
    expect(cb).toHaveBeenCalledWith({});
  });
});
