/// <reference types="vite/client" />
/**
 * Globals the renderer can meet: `window.albumen` is the Electron preload's
 * bridge (absent in a browser, where the WebSocket client is used instead).
 */
import type { PreloadApi } from '../src-shared/api.ts';

declare global {
  interface Window {
    readonly albumen?: PreloadApi;
  }
}

export {};
