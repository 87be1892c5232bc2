/**
 * The AppApi over Electron IPC: one invoke channel for every command, one
 * channel for pushed events. Commands are accepted only from our window's
 * main frame showing our renderer; the AppService validates the rest.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { ApiResult, AppEvent } from '../../src-shared/api.ts';
import type { AppService } from '../app/app-service.ts';
import { isRendererUrl, type RendererTarget } from './window-options.ts';

import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../../src-shared/api.ts';

/** The IPC channels, declared once in the contract. */
export const CALL_CHANNEL = IPC_CALL_CHANNEL;
export const EVENT_CHANNEL = IPC_EVENT_CHANNEL;

/** What the sender check looks at in an invoke event. */
export interface SenderInfo {
  webContentsId: number;
  /** The sending frame's URL, or null when the frame is gone or navigated away. */
  frameUrl: string | null;
  /** True when the sending frame is the top frame (not an iframe). */
  isMainFrame: boolean;
}

/** Who may call: the main window's webContents showing our renderer. */
export interface TrustedRenderer {
  /** The main window's webContents id, or null while there is no window. */
  webContentsId: () => number | null;
  target: RendererTarget;
}

/**
 * The IPC sender check: the call must come from our window's webContents, its
 * top frame, and that frame must show our renderer (not a page it was
 * navigated to, which navigation guards also prevent).
 */
export function isTrustedSender(sender: SenderInfo, trusted: TrustedRenderer): boolean {
  const id = trusted.webContentsId();
  return (
    id !== null &&
    sender.webContentsId === id &&
    sender.isMainFrame &&
    sender.frameUrl !== null &&
    isRendererUrl(sender.frameUrl, trusted.target)
  );
}

/** Reads the sender check's inputs from an Electron invoke event. */
export function senderInfo(e: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): SenderInfo {
  const frame = e.senderFrame;
  return {
    webContentsId: e.sender.id,
    frameUrl: frame ? frame.url : null,
    isMainFrame: frame !== null && frame.parent === null,
  };
}

const refused: ApiResult<never> = {
  ok: false,
  error: { code: 'INVALID_INPUT', message: 'calls are accepted only from the Albumen window' },
};

/**
 * Registers the one command handler; returns the function that removes it.
 * Refused calls get an ApiResult error (no exception crosses) and are logged.
 */
export function registerCommandHandler(
  ipc: Pick<IpcMain, 'handle' | 'removeHandler'>,
  service: Pick<AppService, 'handle'>,
  isTrusted: (e: IpcMainInvokeEvent) => boolean,
  log: (message: string) => void,
): () => void {
  ipc.handle(CALL_CHANNEL, (e, command: unknown, params: unknown) => {
    if (!isTrusted(e)) {
      log(`refused IPC call ${String(command)} from ${e.senderFrame?.url ?? 'a closed frame'}`);
      return refused;
    }
    return service.handle(command, params);
  });
  return () => ipc.removeHandler(CALL_CHANNEL);
}

/** The part of a webContents that events are sent to. */
export interface EventSink {
  isDestroyed(): boolean;
  send(channel: string, event: AppEvent): void;
}

/**
 * Forwards every AppService event to the current window (none while the app
 * lives in the tray); returns the unsubscribe function.
 */
export function forwardEvents(
  service: Pick<AppService, 'onEvent'>,
  sink: () => EventSink | null,
): () => void {
  return service.onEvent((e) => {
    const target = sink();
    if (target && !target.isDestroyed()) target.send(EVENT_CHANNEL, e);
  });
}
