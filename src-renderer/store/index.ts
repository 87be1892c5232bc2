/**
 * The renderer's one store, made of slices. Slices hold state and synchronous
 * transitions only; talking to the core happens in the features' action
 * modules and in the event pump (api/event-pump.ts), which write here from
 * outside React. Components select narrowly.
 */
import { create } from 'zustand';
import { createCollectionsSlice, type CollectionsSlice } from './collections-slice.ts';
import { createImagesSlice, type ImagesSlice } from './images-slice.ts';
import { createJobsSlice, type JobsSlice } from './jobs-slice.ts';
import { createNoticesSlice, type NoticesSlice } from './notices-slice.ts';
import { createUiSlice, type UiSlice } from './ui-slice.ts';

export type AppState = CollectionsSlice & ImagesSlice & JobsSlice & UiSlice & NoticesSlice;

/** Builds a store (the app has one; tests make their own). */
export function createAppStore() {
  return create<AppState>()((...a) => ({
    ...createCollectionsSlice(...a),
    ...createImagesSlice(...a),
    ...createJobsSlice(...a),
    ...createUiSlice(...a),
    ...createNoticesSlice(...a),
  }));
}

export const useAppStore = createAppStore();
export type AppStore = typeof useAppStore;
