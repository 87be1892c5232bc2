/**
 * Library actions: collections, pages of images as the grid scrolls, failure
 * badges. Called by components and by the event pump; they write to the store.
 */
import type { CollectionView } from '../../src-shared/api.ts';
import { call, callRaw } from '../api/call.ts';
import { rememberedSort } from '../store/sort.ts';
import {
  PAGE_SIZE,
  pageOf,
  pagesToLoad,
  emptyCache,
  type ImageFailure,
} from '../store/image-pages.ts';
import { useAppStore } from '../store/index.ts';
import { throttle, type Throttled } from '../../src-shared/throttle.ts';

/** Failed items fetched for the badges of one collection (more are listed in the jobs panel). */
const FAILURE_BADGE_LIMIT = 1000;

/** Fetches the collections; notices image counts that changed and reloads what depends on them. */
export async function loadCollections(): Promise<void> {
  const list = await call('listCollections', {});
  if (!list) return;
  const before = new Map(useAppStore.getState().collections.map((c) => [c.id, c]));
  useAppStore.getState().setCollections(list);
  const s = useAppStore.getState();
  const selected = list.find((c) => c.id === s.selectedCollectionId);
  if (!selected) return;
  const cache = s.images[selected.id];
  if (cache && cache.total !== null && cache.total !== selected.imageCount) {
    s.imagesChanged(selected.id);
  }
  const prev = before.get(selected.id);
  if (!prev || prev.job?.id !== selected.job?.id || prev.job?.failed !== selected.job?.failed) {
    failuresRefresh(selected.id)();
  }
  refreshVisible();
}

/** Walks a collection again: new, changed, moved and deleted photos are followed. */
export async function rescanCollection(id: number): Promise<void> {
  const jobs = await call('rescanCollections', { collectionIds: [id] });
  if (jobs) useAppStore.getState().upsertJobs(jobs);
  await loadCollections();
}

/** Turns following the disk on or off for one collection. */
/** Watches a collection or not; null returns it to the library's setting. */
export async function setCollectionWatch(id: number, watch: boolean | null): Promise<void> {
  const view = await call('setCollectionWatch', { collectionId: id, watch });
  if (view) await loadCollections();
}

/** Removes a collection from the library (its previews too; never the photos). */
export async function removeCollection(id: number): Promise<void> {
  const gone = await call('removeCollection', { collectionId: id });
  if (!gone) return;
  const c = useAppStore.getState().collections.find((x) => x.id === id);
  useAppStore.getState().pushToast({
    level: 'info',
    title: 'Collection removed',
    message: `${c?.name ?? 'The collection'}: ${gone.images} images and ${gone.files} preview files left the library; the photos were not touched.`,
  });
  await loadCollections();
}

/** Shows a collection in the grid. */
export function selectCollection(id: number): void {
  const s = useAppStore.getState();
  if (s.selectedCollectionId === id) return;
  s.selectCollection(id);
  const c = s.collections.find((x) => x.id === id);
  if (c) void loadFailures(c);
  rememberSelection(id);
}

const SELECTION_KEY = 'albumen.selectedCollection';

function rememberSelection(id: number): void {
  try {
    localStorage.setItem(SELECTION_KEY, String(id));
  } catch {
    // Storage may be unavailable (private mode, file:// quirks): selection just isn't kept.
  }
}

/** The collection chosen before the last reload, if any. */
export function rememberedSelection(): number | null {
  try {
    const v = Number(localStorage.getItem(SELECTION_KEY));
    return Number.isSafeInteger(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

/** How often a job that keeps failing items may reload a collection's badges. */
const FAILURES_MS = 3000;
const failureThrottles = new Map<number, Throttled>();

/** The throttled badge reload of one collection (it reads the collection when it runs). */
function failuresRefresh(collectionId: number): Throttled {
  let t = failureThrottles.get(collectionId);
  if (!t) {
    t = throttle(() => {
      const c = useAppStore.getState().collections.find((x) => x.id === collectionId);
      if (c) void loadFailures(c);
    }, FAILURES_MS);
    failureThrottles.set(collectionId, t);
  }
  return t;
}

/** Loads the failure badges of a collection's newest job. */
export async function loadFailures(c: CollectionView): Promise<void> {
  const failures: Record<number, ImageFailure> = {};
  if (c.job && c.job.failed > 0) {
    const items = await call('failedItems', {
      jobId: c.job.id,
      offset: 0,
      limit: FAILURE_BADGE_LIMIT,
    });
    if (!items) return;
    for (const it of items) {
      // The thumbnail's reason is the one the grid explains; keep the first per image.
      if (!failures[it.imageId] || it.stage === 'thumbnail') {
        failures[it.imageId] = { code: it.code, message: it.message };
      }
    }
  }
  const s = useAppStore.getState();
  if (s.images[c.id] || s.selectedCollectionId === c.id) s.failuresLoaded(c.id, failures);
}

let pageErrorShown = false;

/** Fetches the pages of positions [start, end) that are missing or out of date. */
export async function ensureRange(collectionId: number, start: number, end: number): Promise<void> {
  const s = useAppStore.getState();
  const cache = s.images[collectionId] ?? emptyCache(collectionId);
  const pages = pagesToLoad(cache, Math.max(0, start), Math.max(start + 1, end));
  if (!pages.length) return;
  const generation = s.pagesRequested(collectionId, pages);
  await Promise.all(
    pages.map(async (page) => {
      const sort = s.sorts[collectionId] ?? rememberedSort(collectionId);
      const r = await callRaw('listImages', {
        collectionId,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
        sort: sort.order,
        descending: sort.descending,
      });
      const now = useAppStore.getState();
      if (r.ok) {
        pageErrorShown = false;
        now.pageReceived(collectionId, page, generation, r.value);
      } else {
        now.pageFailed(collectionId, page, generation);
        // One toast per run of failures, not one per page.
        if (!pageErrorShown) {
          pageErrorShown = true;
          now.pushToast({
            level: 'error',
            title: `Loading images failed · ${r.error.code}`,
            message: r.error.message,
          });
        }
      }
    }),
  );
  useAppStore.getState().evictPages(collectionId, pageOf(start));
}

/** Refetches what the grid and the viewer show (after a change or a reconnection). */
export function refreshVisible(): void {
  const s = useAppStore.getState();
  const id = s.selectedCollectionId;
  if (id === null) return;
  const { start, end } = s.gridRange;
  void ensureRange(id, start, Math.max(end, start + 1));
  if (s.viewerIndex !== null)
    void ensureRange(id, Math.max(0, s.viewerIndex - 1), s.viewerIndex + 2);
}
