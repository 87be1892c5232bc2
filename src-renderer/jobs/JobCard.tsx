import { memo } from 'react';
import { STAGES, type JobView, type StageName, type StageView } from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { ChevronRightIcon } from '../app/icons.tsx';
import { useAppStore } from '../store/index.ts';
import { FailedList } from './FailedList.tsx';
import {
  failedTotal,
  formatCount,
  formatEta,
  formatMoment,
  formatRate,
  finished,
  jobActions,
  percent,
  stageActive,
  stageFractions,
  jobChip,
  statusLabel,
  statusTone,
} from './format.ts';
import { jobCommand, loadFailedItems } from './jobs-actions.ts';

const STAGE_TITLES: Record<StageName, string> = {
  scan: 'Scan',
  thumbnail: 'Thumbnails',
  cache: 'View images',
};

function StageRow({ job, name, stage }: { job: JobView; name: StageName; stage: StageView }) {
  const f = stageFractions(stage);
  const active = stageActive(job, stage);
  const complete = isTerminal(stage.status);
  // The scan's total grows while it walks: its bar is meaningless until it is done.
  const fraction = stage.total > 0 ? finished(stage) / stage.total : complete ? 1 : 0;
  return (
    <div
      className={`stage${complete ? ' stage-done' : ''}`}
      data-testid={`stage-${name}`}
      data-status={stage.status}
    >
      <div className="stage-top">
        <span className="stage-name">{STAGE_TITLES[name]}</span>
        <span className="stage-total num">
          {formatCount(finished(stage))} <span className="k">of</span> {formatCount(stage.total)}
        </span>
        <span className="stage-pct num">{percent(fraction)}</span>
      </div>
      <div
        className="stage-bar"
        role="progressbar"
        aria-label={`${STAGE_TITLES[name]} progress`}
        aria-valuemin={0}
        aria-valuemax={stage.total}
        aria-valuenow={finished(stage)}
      >
        <span className="done" style={{ width: `${f.done * 100}%` }} />
        <span className="skipped" style={{ width: `${f.skipped * 100}%` }} />
        <span className="failed" style={{ width: `${f.failed * 100}%` }} />
      </div>
      <div className="stage-meta num">
        <span className="stage-numbers">
          {formatCount(stage.done)} done<span className="sep"> · </span>
          {formatCount(stage.skipped)} skipped<span className="sep"> · </span>
          <span className={stage.failed ? 'failed-n' : undefined}>
            {formatCount(stage.failed)} failed
          </span>
        </span>
        {active ? (
          <>
            <span title="Items per second">{formatRate(stage.rate)}</span>
            <span title="Time left at the current rate">{formatEta(stage.etaSeconds)} left</span>
          </>
        ) : (
          <span>{complete ? 'Finished' : statusLabel(stage.status)}</span>
        )}
      </div>
      {active && stage.current && (
        <div className="stage-current" title={stage.current}>{`\u2066${stage.current}\u2069`}</div>
      )}
    </div>
  );
}

/** One job: its collection, status, three stages, the buttons it allows and its failed files. */
export const JobCard = memo(function JobCard({ jobId }: { jobId: number }) {
  const job = useAppStore((s) => s.jobs[jobId]);
  const failedOpen = useAppStore((s) => s.failedLists[jobId] !== undefined);
  if (!job) return null;
  const can = jobActions(job);
  const failed = failedTotal(job);
  const tone = statusTone(job.status);
  const chip = jobChip(job);
  return (
    <article
      className="job-card"
      data-testid="job-card"
      data-job-id={job.id}
      data-status={job.status}
    >
      <div className="job-head">
        <span className="job-name" title={job.collectionName}>
          {job.collectionName}
        </span>
        <span className={`chip tone-${tone}`} data-testid="job-status">
          {chip}
        </span>
      </div>
      <div className="job-sub">
        <span className="job-root" title={job.root}>
          {`\u2066${job.root}\u2069`}
        </span>
        <span
          className="job-time num"
          title={job.finishedAt ? `Finished ${formatMoment(job.finishedAt)}` : undefined}
        >
          {formatMoment(job.createdAt)}
        </span>
      </div>
      {job.waitingFor && (
        <div className="job-waiting" data-testid="job-waiting" title={job.waitingFor}>
          {`Waiting: ${job.waitingFor}. It goes on by itself.`}
        </div>
      )}
      {job.error && (
        <div className="job-error" data-testid="job-error">
          <code>{job.error.code}</code>
          {job.error.message}
        </div>
      )}
      <div className="job-stages">
        {STAGES.map((name) => (
          <StageRow key={name} job={job} name={name} stage={job.stages[name]} />
        ))}
      </div>
      <div className="job-actions">
        <button
          className="btn btn-small"
          data-testid="job-pause"
          disabled={!can.pause}
          onClick={() => void jobCommand('pauseJob', job.id)}
        >
          Pause
        </button>
        <button
          className="btn btn-small"
          data-testid="job-resume"
          disabled={!can.resume}
          onClick={() => void jobCommand('resumeJob', job.id)}
        >
          Resume
        </button>
        <button
          className="btn btn-small"
          data-testid="job-cancel"
          disabled={!can.cancel}
          onClick={() => void jobCommand('cancelJob', job.id)}
        >
          Cancel
        </button>
        <button
          className="btn btn-small"
          data-testid="job-retry"
          disabled={!can.retry}
          title="Run the failed (or unfinished) items again"
          onClick={() => void jobCommand('retryJob', job.id)}
        >
          Retry failed
        </button>
      </div>
      {failed > 0 && (
        <button
          className="failed-toggle"
          data-testid="job-failed-toggle"
          aria-expanded={failedOpen}
          onClick={() =>
            failedOpen
              ? useAppStore.getState().setFailedList(job.id, null)
              : void loadFailedItems(job.id)
          }
        >
          <ChevronRightIcon size={14} className="failed-chevron" />
          {formatCount(failed)} failed {failed === 1 ? 'file' : 'files'}
        </button>
      )}
      {failedOpen && <FailedList jobId={job.id} />}
    </article>
  );
});
