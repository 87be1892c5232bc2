import type { StateCreator } from 'zustand';
import type { AppSettings } from '../../src-shared/api.ts';
import type { Variant } from '../../src-shared/domain.ts';
import { settingsHash } from '../../src-shared/settings.ts';
import type { ConnectionStatus } from '../api/ws-client.ts';
import type { AppState } from './index.ts';

/** A message in the notification area. */
export interface Toast {
  id: number;
  level: 'error' | 'warn' | 'info';
  /** Short heading, e.g. the error code or the command that failed. */
  title: string;
  message: string;
  /** How many times the same toast arrived (shown as ×N instead of piling up). */
  count: number;
  time: number;
}

/** Toasts, the connection state and the settings: app-wide facts outside the library. */
export interface NoticesSlice {
  toasts: readonly Toast[];
  connection: ConnectionStatus;
  settings: AppSettings | null;
  /**
   * Short tags of the current output settings, put in media URLs: outputs made
   * with other settings get other URLs, so the browser never shows a stale one.
   */
  outputTags: Record<Variant, string>;
  pushToast: (t: Omit<Toast, 'id' | 'count' | 'time'> & { time?: number }) => void;
  dismissToast: (id: number) => void;
  setConnection: (status: ConnectionStatus) => void;
  setSettings: (settings: AppSettings) => void;
}

/** At most this many toasts are kept; the oldest go first. */
export const MAX_TOASTS = 5;

let nextToastId = 1;

/** Adds a toast, folding it into an identical one that is still shown. */
export function addToast(
  list: readonly Toast[],
  t: Omit<Toast, 'id' | 'count' | 'time'> & { time?: number },
  now: number,
): Toast[] {
  const same = list.find(
    (x) => x.level === t.level && x.title === t.title && x.message === t.message,
  );
  if (same) {
    return [
      ...list.filter((x) => x !== same),
      { ...same, count: same.count + 1, time: t.time ?? now },
    ];
  }
  const toast: Toast = { ...t, id: nextToastId++, count: 1, time: t.time ?? now };
  return [...list, toast].slice(-MAX_TOASTS);
}

export const createNoticesSlice: StateCreator<AppState, [], [], NoticesSlice> = (set) => ({
  toasts: [],
  connection: { state: 'connecting', everOpened: false, attempt: 0, retryAt: null },
  settings: null,
  outputTags: { thumbnail: '', cache: '' },
  pushToast: (t) => set((s) => ({ toasts: addToast(s.toasts, t, Date.now()) })),
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  setConnection: (connection) => set({ connection }),
  setSettings: (settings) =>
    set((s) => {
      const outputTags = {
        thumbnail: settingsHash('thumbnail', settings.render.thumbnail).slice(0, 10),
        cache: settingsHash('cache', settings.render.cache).slice(0, 10),
      };
      const same =
        outputTags.thumbnail === s.outputTags.thumbnail && outputTags.cache === s.outputTags.cache;
      return same ? { settings } : { settings, outputTags };
    }),
});
