import type { StateCreator } from 'zustand';
import type { AppState } from './index.ts';

/** What is open and focused: panels, dialogs, the grid's focus and visible range, the viewer. */
export interface UiSlice {
  jobsOpen: boolean;
  settingsOpen: boolean;
  cacheOpen: boolean;
  /** Grid position that has the keyboard focus. */
  focusIndex: number;
  /** Positions the grid currently renders [start, end) (for refreshes and priority). */
  gridRange: { start: number; end: number };
  /** Position open in the viewer, or null when the grid shows. */
  viewerIndex: number | null;
  /** The collection whose removal is being asked about (its confirmation shows). */
  removeAskId: number | null;
  askRemove: (collectionId: number | null) => void;
  setJobsOpen: (open: boolean) => void;
  setSettingsOpen: (open: boolean) => void;
  setCacheOpen: (open: boolean) => void;
  setFocusIndex: (index: number) => void;
  setGridRange: (start: number, end: number) => void;
  openViewer: (index: number) => void;
  /** Closes the viewer, leaving the grid's focus on the image that was shown. */
  closeViewer: () => void;
}

export const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  jobsOpen: false,
  settingsOpen: false,
  cacheOpen: false,
  focusIndex: 0,
  gridRange: { start: 0, end: 0 },
  viewerIndex: null,
  removeAskId: null,
  askRemove: (removeAskId) => set({ removeAskId }),
  setJobsOpen: (jobsOpen) => set({ jobsOpen }),
  setSettingsOpen: (settingsOpen) => set({ settingsOpen }),
  setCacheOpen: (cacheOpen) => set({ cacheOpen }),
  setFocusIndex: (focusIndex) => set({ focusIndex }),
  setGridRange: (start, end) =>
    set((s) =>
      s.gridRange.start === start && s.gridRange.end === end ? {} : { gridRange: { start, end } },
    ),
  openViewer: (index) => set({ viewerIndex: index, focusIndex: index }),
  closeViewer: () =>
    set((s) => (s.viewerIndex === null ? {} : { viewerIndex: null, focusIndex: s.viewerIndex })),
});
