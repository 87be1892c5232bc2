import { CacheDialog } from '../cache/CacheDialog.tsx';
import { useAppStore } from '../store/index.ts';
import { JobsPanel } from '../jobs/JobsPanel.tsx';
import { Sidebar } from '../library/Sidebar.tsx';
import { LibraryView } from '../library/LibraryView.tsx';
import { SettingsDialog } from '../settings/SettingsDialog.tsx';
import { Viewer } from '../viewer/Viewer.tsx';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { DropOverlay } from './DropOverlay.tsx';
import { Toasts } from './Toasts.tsx';
import { TopBar } from './TopBar.tsx';
import { useGlobalKeys } from './useGlobalKeys.ts';

/** The window: top bar, library sidebar, grid, jobs drawer; viewer, dialogs and toasts above. */
export function App() {
  useGlobalKeys();
  const jobsOpen = useAppStore((s) => s.jobsOpen);
  const viewerOpen = useAppStore((s) => s.viewerIndex !== null);
  const settingsOpen = useAppStore((s) => s.settingsOpen);
  const cacheOpen = useAppStore((s) => s.cacheOpen);
  return (
    <div className="app">
      <ConnectionBanner />
      <TopBar />
      <div className="app-body">
        <Sidebar />
        <main className="content">
          <LibraryView />
        </main>
        {jobsOpen && <JobsPanel />}
      </div>
      {viewerOpen && <Viewer />}
      {settingsOpen && <SettingsDialog />}
      {cacheOpen && <CacheDialog />}
      <DropOverlay />
      <Toasts />
    </div>
  );
}
