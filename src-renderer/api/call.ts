/**
 * Command helpers for actions: every error answer either goes to the caller
 * (which shows it inline) or becomes a toast. Nothing is dropped.
 */
import type { ApiResult, CommandName, CommandParams, CommandValue } from '../../src-shared/api.ts';
import { useAppStore } from '../store/index.ts';
import { getBridge } from './bridge.ts';

/** Human names of the commands, for toast titles. */
const WHAT: Partial<Record<CommandName, string>> = {
  importPaths: 'Import',
  rescanCollections: 'Rescan',
  removeCollection: 'Removing the collection',
  listCollections: 'Loading the library',
  listImages: 'Loading images',
  getImage: 'Loading an image',
  deepZoom: 'Preparing full resolution',
  listJobs: 'Loading jobs',
  failedItems: 'Loading failed files',
  pauseJob: 'Pause',
  resumeJob: 'Resume',
  cancelJob: 'Cancel',
  retryJob: 'Retry',
  pauseAll: 'Pause all',
  resumeAll: 'Resume all',
  getSettings: 'Loading settings',
  updateSettings: 'Saving settings',
  listCacheFolders: 'Loading cache folders',
  addCacheFolder: 'Adding a cache folder',
  removeCacheFolder: 'Removing a cache folder',
  updateCacheFolder: 'Changing a cache folder',
  reconcileCache: 'Checking the cache',
  cleanupCache: 'Cleaning up the cache',
  rebalanceCache: 'Rebalancing the cache',
  staleOutputs: 'Looking for stale outputs',
  regenerateStale: 'Remaking stale outputs',
};

/** Runs a command and returns its whole answer; the caller shows any error. */
export function callRaw<K extends CommandName>(
  command: K,
  params: CommandParams<K>,
): Promise<ApiResult<CommandValue<K>>> {
  return getBridge().call(command, params);
}

/** Runs a command; an error answer becomes a toast and the result is null. */
export async function call<K extends CommandName>(
  command: K,
  params: CommandParams<K>,
): Promise<CommandValue<K> | null> {
  const r = await callRaw(command, params);
  if (r.ok) return r.value;
  useAppStore.getState().pushToast({
    level: 'error',
    title: `${WHAT[command] ?? command} failed · ${r.error.code}`,
    message: r.error.message,
  });
  return null;
}
