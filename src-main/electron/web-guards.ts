/**
 * Guards on the window's web contents and session: no navigation away from
 * our renderer, no new windows, no webviews, almost no permissions, and the
 * CSP header on our renderer's documents.
 */
import type { Session, WebContents } from 'electron';
import { contentSecurityPolicy, isRendererUrl, type RendererTarget } from './window-options.ts';

/** Links the user may open in their browser: web pages only, never file: or custom schemes. */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Keeps a window on our renderer: navigation elsewhere and redirects are
 * cancelled, window.open is denied (web links open in the user's browser),
 * and webviews are never attached.
 */
export function guardWebContents(
  wc: Pick<WebContents, 'on' | 'setWindowOpenHandler'>,
  target: RendererTarget,
  openExternal: (url: string) => void,
): void {
  const stayOnRenderer = (e: { preventDefault(): void }, url: string) => {
    if (!isRendererUrl(url, target)) e.preventDefault();
  };
  wc.on('will-navigate', (e) => stayOnRenderer(e, e.url));
  wc.on('will-redirect', (e) => stayOnRenderer(e, e.url));
  wc.on('will-attach-webview', (e) => e.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) openExternal(url);
    return { action: 'deny' };
  });
}

/**
 * The only permissions our renderer gets: copying text (a path, an error) to
 * the clipboard, and the Fullscreen API for the viewer. Camera, location,
 * notifications from the page and the rest are refused.
 */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set([
  'clipboard-sanitized-write',
  'fullscreen',
]);

/**
 * Session-wide guards: permissions only from the allow-list and only for our
 * renderer; and our renderer's responses carry the CSP header, replacing any
 * the server sent.
 */
export function guardSession(
  ses: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'webRequest'>,
  target: RendererTarget,
): void {
  const allowed = (permission: string, url: string | undefined) =>
    ALLOWED_PERMISSIONS.has(permission) && url !== undefined && isRendererUrl(url, target);
  ses.setPermissionRequestHandler((wc, permission, callback) =>
    callback(allowed(permission, wc?.getURL())),
  );
  ses.setPermissionCheckHandler((wc, permission) => allowed(permission, wc?.getURL()));
  const csp = contentSecurityPolicy(target);
  ses.webRequest.onHeadersReceived((details, callback) => {
    if (!isRendererUrl(details.url, target)) {
      callback({});
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(details.responseHeaders ?? {}).filter(
        ([k]) => k.toLowerCase() !== 'content-security-policy',
      ),
    );
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [csp] } });
  });
}
