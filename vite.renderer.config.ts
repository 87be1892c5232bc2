/**
 * The renderer on its own (the browser host serves it from out/renderer; the
 * desktop build uses electron.vite.config.ts with the same root). `base: './'`
 * keeps every asset URL relative, so the page works from file:// in Electron
 * and from any path of the host.
 */
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;

/**
 * In `vite dev` only: React refresh injects an inline preamble script and the
 * dev server talks over its own socket, so the page's CSP gets those two
 * allowances. Built pages keep the strict policy from index.html.
 */
function devCsp(): Plugin {
  return {
    name: 'albumen-dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'");
    },
  };
}

export default defineConfig({
  root: resolve(root, 'src-renderer'),
  base: './',
  plugins: [react(), devCsp()],
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    target: 'es2023',
    // Budget for one chunk: the whole UI is small; a jump means a stray dependency.
    chunkSizeWarningLimit: 400,
  },
  server: { host: '127.0.0.1' },
});
