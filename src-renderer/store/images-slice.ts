import type { StateCreator } from 'zustand';
import type { ImagePage } from '../../src-shared/api.ts';
import {
  applyOutputs,
  emptyCache,
  evict,
  failPage,
  invalidate,
  markLoading,
  receivePage,
  setFailures,
  type ImageCache,
  type ImageFailure,
  type OutputNotice,
} from './image-pages.ts';
import type { AppState } from './index.ts';
import { rememberSort, type GridSort } from './sort.ts';

/** Paged images of the shown collection (see image-pages.ts). */
export interface ImagesSlice {
  images: Readonly<Record<number, ImageCache>>;
  /** Marks pages as requested; returns the generation to pass back with the answer. */
  pagesRequested: (collectionId: number, pages: readonly number[]) => number;
  pageReceived: (collectionId: number, page: number, generation: number, answer: ImagePage) => void;
  pageFailed: (collectionId: number, page: number, generation: number) => void;
  outputsArrived: (byCollection: ReadonlyMap<number, readonly OutputNotice[]>) => void;
  imagesChanged: (collectionId: number) => void;
  failuresLoaded: (collectionId: number, failures: Readonly<Record<number, ImageFailure>>) => void;
  evictPages: (collectionId: number, centerPage: number) => void;
  /** The grid's order per collection (absent: as remembered, else by name). */
  sorts: Readonly<Record<number, GridSort>>;
  /** Orders a collection anew: its pages are dropped and asked for again. */
  setSort: (collectionId: number, sort: GridSort) => void;
}

export const createImagesSlice: StateCreator<AppState, [], [], ImagesSlice> = (set, get) => {
  const update = (collectionId: number, f: (c: ImageCache) => ImageCache) =>
    set((s) => {
      const old = s.images[collectionId] ?? emptyCache(collectionId);
      const next = f(old);
      return next === old ? {} : { images: { ...s.images, [collectionId]: next } };
    });
  return {
    images: {},
    pagesRequested: (collectionId, pages) => {
      update(collectionId, (c) => markLoading(c, pages));
      return get().images[collectionId]!.generation;
    },
    pageReceived: (collectionId, page, generation, answer) => {
      // Answers for a collection no longer shown are not kept.
      if (get().selectedCollectionId !== collectionId) return;
      update(collectionId, (c) => receivePage(c, page, generation, answer));
    },
    pageFailed: (collectionId, page, generation) =>
      update(collectionId, (c) => failPage(c, page, generation)),
    outputsArrived: (byCollection) =>
      set((s) => {
        let images: Record<number, ImageCache> | null = null;
        for (const [id, notices] of byCollection) {
          const old = s.images[id];
          if (!old) continue;
          const next = applyOutputs(old, notices);
          if (next !== old) (images ??= { ...s.images })[id] = next;
        }
        return images ? { images } : {};
      }),
    imagesChanged: (collectionId) => {
      if (get().images[collectionId]) update(collectionId, invalidate);
    },
    failuresLoaded: (collectionId, failures) =>
      update(collectionId, (c) => setFailures(c, failures)),
    evictPages: (collectionId, centerPage) => {
      if (get().images[collectionId]) update(collectionId, (c) => evict(c, centerPage));
    },
    sorts: {},
    setSort: (collectionId, sort) => {
      rememberSort(collectionId, sort);
      set((s) => {
        const old = s.images[collectionId];
        // Answers asked in the old order belong to an older generation: dropped.
        const fresh = { ...emptyCache(collectionId), generation: (old?.generation ?? 0) + 1 };
        return {
          sorts: { ...s.sorts, [collectionId]: sort },
          images: { ...s.images, [collectionId]: { ...fresh, failures: old?.failures ?? {} } },
          focusIndex: 0,
        };
      });
    },
  };
};
