/**
 * The sandboxed preload: exposes the AppApi bridge as `window.albumen`. It
 * may only require `electron`, so the build bundles it into one CommonJS file.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createPreloadApi } from './preload-api.ts';

contextBridge.exposeInMainWorld('albumen', createPreloadApi(ipcRenderer, webUtils));
