/** Settings actions: load once, save a patch (errors go back to the dialog). */
import type { ApiError, AppSettingsPatch } from '../../src-shared/api.ts';
import { call, callRaw } from '../api/call.ts';
import { useAppStore } from '../store/index.ts';

export async function loadSettings(): Promise<void> {
  const settings = await call('getSettings', {});
  if (settings) useAppStore.getState().setSettings(settings);
}

/** Saves a patch; returns the error to show in the dialog, or null when saved. */
export async function saveSettings(patch: AppSettingsPatch): Promise<ApiError | null> {
  const r = await callRaw('updateSettings', patch);
  if (!r.ok) return r.error;
  useAppStore.getState().setSettings(r.value);
  return null;
}
