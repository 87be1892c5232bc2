/**
 * The one subscription to the core's events, made at start-up outside React.
 * Events are folded into the store in batches (a running job sends hundreds a
 * second); collections and failure badges are refreshed at a calm rate; a
 * reconnection re-fetches everything the UI shows.
 */
import type { AppEvent } from '../../src-shared/api.ts';
import type { JobView } from '../../src-shared/domain.ts';
import { loadFailedItems, loadJobs } from '../jobs/jobs-actions.ts';
import { loadCollections, refreshVisible } from '../library/library-actions.ts';
import { loadSettings } from '../settings/settings-actions.ts';
import type { OutputNotice } from '../store/image-pages.ts';
import { useAppStore } from '../store/index.ts';
import { throttle } from '../../src-shared/throttle.ts';
import type { ClientBridge } from './client.ts';

/** How often batched job and output events reach the store. */
const FLUSH_MS = 120;
/** How often job events may refresh the sidebar's collections. */
const COLLECTIONS_MS = 1000;

/** Loads everything the UI shows from scratch (start-up and after a reconnection). */
export async function loadAll(): Promise<void> {
  await Promise.all([loadSettings(), loadCollections(), loadJobs()]);
  refreshVisible();
}

/** Subscribes the store to the bridge; returns the function that stops it. */
export function startEventPump(bridge: ClientBridge): () => void {
  const store = useAppStore;
  let jobs = new Map<number, JobView>();
  let outputs = new Map<number, OutputNotice[]>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const refreshCollections = throttle(() => void loadCollections(), COLLECTIONS_MS);

  const flush = () => {
    timer = null;
    const s = store.getState();
    if (jobs.size) {
      const list = [...jobs.values()];
      jobs = new Map();
      s.upsertJobs(list);
      // An open failed-items list follows its job's failed count.
      for (const j of list) {
        const open = s.failedLists[j.id];
        const failed = j.stages.scan.failed + j.stages.thumbnail.failed + j.stages.cache.failed;
        if (open && !open.loading && open.loadedForFailed !== failed && open.items.length < 200) {
          void loadFailedItems(j.id);
        }
      }
      refreshCollections();
    }
    if (outputs.size) {
      const batch = outputs;
      outputs = new Map();
      s.outputsArrived(batch);
    }
  };
  const schedule = () => {
    timer ??= setTimeout(flush, FLUSH_MS);
  };

  const onEvent = (e: AppEvent) => {
    switch (e.type) {
      case 'job':
        jobs.set(e.job.id, e.job);
        schedule();
        break;
      case 'output': {
        const list = outputs.get(e.collectionId);
        const notice = { imageId: e.imageId, variant: e.variant, image: e.image };
        if (list) list.push(notice);
        else outputs.set(e.collectionId, [notice]);
        schedule();
        break;
      }
      case 'collections':
        refreshCollections();
        break;
      case 'settings':
        store.getState().setSettings(e.settings);
        break;
      case 'log':
        if (e.level === 'error') {
          store
            .getState()
            .pushToast({ level: 'error', title: 'Error', message: e.message, time: e.time });
        } else {
          console.warn(`albumen: ${e.message}`);
        }
        break;
      default:
        // A newer core may send events this renderer does not know: say so once in the console.
        console.warn('albumen: unknown event', e satisfies never);
    }
  };

  const offEvent = bridge.onEvent(onEvent);
  let wasOpen = bridge.connection.state === 'open';
  store.getState().setConnection(bridge.connection);
  const offConnection = bridge.onConnection((status) => {
    store.getState().setConnection(status);
    const open = status.state === 'open';
    // Whatever happened while the connection was down is unknown: load it all again.
    if (open && !wasOpen) void loadAll();
    wasOpen = open;
  });
  if (wasOpen) void loadAll();

  return () => {
    offEvent();
    offConnection();
    refreshCollections.cancel();
    if (timer !== null) clearTimeout(timer);
  };
}
