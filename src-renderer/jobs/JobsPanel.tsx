import { useEffect } from 'react';
import { CloseIcon } from '../app/icons.tsx';
import { useAppStore } from '../store/index.ts';
import { JobCard } from './JobCard.tsx';
import { loadJobs, loadMoreJobs, pauseAll, resumeAll } from './jobs-actions.ts';

/** The jobs drawer: every job, newest first, live. */
export function JobsPanel() {
  const ids = useAppStore((s) => s.jobOrder);
  const loaded = useAppStore((s) => s.jobsLoaded);
  const more = useAppStore((s) => s.moreJobs);
  const anyActive = useAppStore((s) =>
    s.jobOrder.some((id) => {
      const st = s.jobs[id]?.status;
      return st === 'running' || st === 'queued';
    }),
  );
  const anyPaused = useAppStore((s) => s.jobOrder.some((id) => s.jobs[id]?.status === 'paused'));

  // Opening the panel is a good moment to make sure the list is current.
  useEffect(() => {
    void loadJobs();
  }, []);

  return (
    <aside className="jobs-panel" data-testid="jobs-panel" aria-label="Jobs">
      <div className="jobs-head">
        <h2 className="jobs-title">Jobs</h2>
        {anyActive && (
          <button
            className="btn btn-ghost btn-small"
            data-testid="jobs-pause-all"
            onClick={() => void pauseAll()}
          >
            Pause all
          </button>
        )}
        {anyPaused && (
          <button
            className="btn btn-ghost btn-small"
            data-testid="jobs-resume-all"
            onClick={() => void resumeAll()}
          >
            Resume all
          </button>
        )}
        <button
          className="btn btn-ghost btn-icon"
          aria-label="Close the jobs panel"
          onClick={() => useAppStore.getState().setJobsOpen(false)}
        >
          <CloseIcon />
        </button>
      </div>
      <div className="jobs-list">
        {loaded && ids.length === 0 && (
          <div className="jobs-empty">No jobs yet. Importing a folder starts one.</div>
        )}
        {ids.map((id) => (
          <JobCard key={id} jobId={id} />
        ))}
        {more && (
          <button
            className="btn btn-ghost"
            style={{ width: '100%' }}
            onClick={() => void loadMoreJobs()}
          >
            Show older jobs
          </button>
        )}
      </div>
    </aside>
  );
}
