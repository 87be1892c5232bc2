import { useAppStore } from '../store/index.ts';
import { DiskIcon, GearIcon, JobsIcon } from './icons.tsx';
import { ImportForm } from './ImportForm.tsx';

/** App name, the import field, and the buttons for the jobs panel and settings. */
export function TopBar() {
  const jobsOpen = useAppStore((s) => s.jobsOpen);
  const active = useAppStore((s) => {
    let n = 0;
    for (const id of s.jobOrder) {
      const st = s.jobs[id]?.status;
      if (st === 'running' || st === 'queued') n++;
    }
    return n;
  });
  return (
    <header className="topbar">
      <div className="brand">
        <div className="brand-mark" aria-hidden="true" />
        Albumen
      </div>
      <ImportForm />
      <div className="topbar-spacer" />
      <button
        className={`btn${jobsOpen ? ' is-on' : ' btn-ghost'}`}
        data-testid="jobs-toggle"
        aria-pressed={jobsOpen}
        title="Show or hide the jobs panel (J)"
        onClick={() => useAppStore.getState().setJobsOpen(!jobsOpen)}
      >
        <JobsIcon />
        Jobs
        {active > 0 && (
          <span className="badge" data-testid="jobs-badge" aria-label={`${active} running`}>
            {active}
          </span>
        )}
      </button>
      <button
        className="btn btn-ghost"
        data-testid="cache-open"
        title="Cache folders and maintenance"
        onClick={() => useAppStore.getState().setCacheOpen(true)}
      >
        <DiskIcon />
        Cache
      </button>
      <button
        className="btn btn-ghost btn-icon"
        data-testid="settings-open"
        title="Settings"
        aria-label="Settings"
        onClick={() => useAppStore.getState().setSettingsOpen(true)}
      >
        <GearIcon />
      </button>
    </header>
  );
}
