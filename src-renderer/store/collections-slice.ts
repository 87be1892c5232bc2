import type { StateCreator } from 'zustand';
import type { CollectionView } from '../../src-shared/api.ts';
import type { AppState } from './index.ts';

/** The library sidebar's collections and which one the grid shows. */
export interface CollectionsSlice {
  collections: readonly CollectionView[];
  /** False until the first listCollections answer (the empty state waits for it). */
  collectionsLoaded: boolean;
  selectedCollectionId: number | null;
  setCollections: (list: readonly CollectionView[]) => void;
  selectCollection: (id: number | null) => void;
}

export const createCollectionsSlice: StateCreator<AppState, [], [], CollectionsSlice> = (set) => ({
  collections: [],
  collectionsLoaded: false,
  selectedCollectionId: null,
  setCollections: (list) =>
    set((s) => {
      const selected =
        s.selectedCollectionId !== null && list.some((c) => c.id === s.selectedCollectionId)
          ? s.selectedCollectionId
          : (list[0]?.id ?? null);
      return {
        collections: list,
        collectionsLoaded: true,
        ...(selected !== s.selectedCollectionId ? selectPatch(s, selected) : {}),
      };
    }),
  selectCollection: (id) => set((s) => (id === s.selectedCollectionId ? {} : selectPatch(s, id))),
});

/** Switching collections resets the grid's focus and closes the viewer; other caches go. */
function selectPatch(s: AppState, id: number | null): Partial<AppState> {
  const images = id !== null && s.images[id] ? { [id]: s.images[id] } : {};
  return { selectedCollectionId: id, focusIndex: 0, viewerIndex: null, images };
}
