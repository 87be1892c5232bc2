/**
 * The object the sandboxed preload exposes as `window.albumen`, built from
 * injected IPC parts so it is testable without Electron: one function per
 * command of the contract, the event subscription and the drop-path helper.
 */
import type { IpcRenderer, IpcRendererEvent, WebUtils } from 'electron';
import { COMMANDS, type AppApi, type AppEvent, type PreloadApi } from '../src-shared/api.ts';

import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../src-shared/api.ts';

/** The IPC channels, declared once in the contract. */
export const CALL_CHANNEL = IPC_CALL_CHANNEL;
export const EVENT_CHANNEL = IPC_EVENT_CHANNEL;

/** Builds the bridge object. Nothing Electron-specific (no event objects) reaches the page. */
export function createPreloadApi(
  ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>,
  webUtils: Pick<WebUtils, 'getPathForFile'>,
): PreloadApi {
  const commands = Object.fromEntries(
    COMMANDS.map((name) => [name, (params: unknown) => ipc.invoke(CALL_CHANNEL, name, params)]),
  ) as AppApi;
  return {
    ...commands,
    onEvent(listener: (e: AppEvent) => void): () => void {
      const relay = (_e: IpcRendererEvent, event: AppEvent) => listener(event);
      ipc.on(EVENT_CHANNEL, relay);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, relay);
      };
    },
    pathForFile(file: File): string {
      try {
        return webUtils.getPathForFile(file);
      } catch {
        return '';
      }
    },
  };
}
