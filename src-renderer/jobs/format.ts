/**
 * How jobs and collections read in the UI: status words, progress numbers,
 * rates, times left, and which buttons a job's status allows.
 */
import type { CollectionView } from '../../src-shared/api.ts';
import {
  type JobStatus,
  type JobView,
  type PauseReason,
  type StageCounters,
  type StageView,
} from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';

const STATUS_WORDS: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  paused: 'Paused',
  completed: 'Completed',
  completed_with_errors: 'Completed with errors',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export function statusLabel(status: JobStatus): string {
  return STATUS_WORDS[status];
}

/** Why a paused job is paused, as its chip says it. */
const PAUSE_WORDS: Record<PauseReason, string> = {
  user: 'Paused',
  DISK_FULL: 'Paused · disk full',
  READ_ONLY: 'Paused · folder read-only',
  SOURCE_OFFLINE: 'Waiting · collection offline',
};

/**
 * A job's chip: its status, or why it is paused, or that it waits (the
 * database's disk is full) though it is not paused.
 */
export function jobChip(job: Pick<JobView, 'status' | 'pauseReason' | 'waitingFor'>): string {
  if (job.status === 'paused') return PAUSE_WORDS[job.pauseReason ?? 'user'];
  if (job.waitingFor !== null && !isTerminal(job.status)) return 'Waiting · disk full';
  return statusLabel(job.status);
}

/** Items per second: "12.3/s" below 100, whole numbers above; "—" when idle. */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return '—';
  if (rate < 100) return `${rate.toFixed(1)}/s`;
  return `${formatCount(Math.round(rate))}/s`;
}

/** Seconds left as "0:42", "12:05" or "1:02:03"; "—" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A moment in local time, short: "Nov 23, 21:05". */
export function formatMoment(ms: number): string {
  const d = new Date(ms);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${d.getDate()}, ${hh}:${mm}`;
}

/** Share of the outputs (thumbnails and view images) that are finished, 0–1. */
export function outputProgress(job: JobView): number {
  const t = job.stages.thumbnail;
  const c = job.stages.cache;
  const total = t.total + c.total;
  return total ? (finished(t) + finished(c)) / total : 0;
}

/** A whole count with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fractions of a stage's total that are done, skipped and failed (for the bar). */
export function stageFractions(c: StageCounters): {
  done: number;
  skipped: number;
  failed: number;
} {
  if (c.total <= 0) return { done: 0, skipped: 0, failed: 0 };
  return { done: c.done / c.total, skipped: c.skipped / c.total, failed: c.failed / c.total };
}

/** Finished items of a stage (done, skipped or failed). */
export function finished(c: StageCounters): number {
  return c.done + c.skipped + c.failed;
}

/** The share of a whole job that is finished, 0–1. */
export function jobProgress(job: JobView): number {
  if (isTerminal(job.status)) return 1;
  const stages = [job.stages.scan, job.stages.thumbnail, job.stages.cache];
  const total = stages.reduce((n, s) => n + s.total, 0);
  return total ? stages.reduce((n, s) => n + finished(s), 0) / total : 0;
}

/** Failed items over every stage. */
export function failedTotal(job: JobView): number {
  return job.stages.scan.failed + job.stages.thumbnail.failed + job.stages.cache.failed;
}

/** Whether a stage is moving now (only then do rate and time left mean something). */
export function stageActive(job: JobView, stage: StageView): boolean {
  return job.status === 'running' && !isTerminal(stage.status) && stage.status !== 'paused';
}

/** Which of a job's buttons can act on it now. */
export function jobActions(job: JobView): {
  pause: boolean;
  resume: boolean;
  cancel: boolean;
  retry: boolean;
} {
  const terminal = isTerminal(job.status);
  return {
    pause: job.status === 'running' || job.status === 'queued',
    resume: job.status === 'paused',
    cancel: !terminal,
    retry:
      terminal && (failedTotal(job) > 0 || job.status === 'cancelled' || job.status === 'failed'),
  };
}

/**
 * A fraction as a whole percentage, rounded down so that 100% means finished;
 * 0% for anything not a positive number (NaN included).
 */
export function percent(fraction: number): string {
  if (!(fraction > 0)) return '0%';
  if (fraction >= 1) return '100%';
  // 29 / 100 × 100 is 28.999…96 in binary floating point: drop that noise
  // before rounding down, or 29 of 100 done would read 28%.
  return `${Math.min(99, Math.floor(Math.round(fraction * 1e8) / 1e6))}%`;
}

/** The tone of a status chip. */
export function statusTone(status: JobStatus): 'active' | 'ok' | 'warn' | 'error' | 'muted' {
  switch (status) {
    case 'queued':
    case 'running':
      return 'active';
    case 'completed':
      return 'ok';
    case 'completed_with_errors':
    case 'paused':
      return 'warn';
    case 'failed':
      return 'error';
    case 'cancelled':
      return 'muted';
  }
}

/**
 * The state line of a collection in the sidebar: "Scanning…", "Generating 42%",
 * "Done", "Done · 3 errors", "Paused", "Failed: <message>". The full JobView,
 * when known, says whether the scan is still going and why a job failed.
 */
/** A moment as a collection's offline chip says it: the time today, else the date. */
function shortTime(ms: number): string {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export function collectionState(
  c: CollectionView,
  job: JobView | undefined,
): { text: string; tone: 'active' | 'ok' | 'warn' | 'error' | 'muted'; progress: number | null } {
  if (c.offlineSince !== null) {
    // Its folder or drive is away: browsable from the previews, nothing removed.
    const seen = c.lastSeenAt === null ? '' : ` · last seen ${shortTime(c.lastSeenAt)}`;
    return { text: `Offline${seen}`, tone: 'muted', progress: null };
  }
  const j = c.job;
  if (!j) return { text: 'Not processed', tone: 'muted', progress: null };
  const errors = j.failed === 1 ? '1 error' : `${formatCount(j.failed)} errors`;
  switch (j.status) {
    case 'queued':
      return { text: 'Queued', tone: 'active', progress: 0 };
    case 'running':
      if (job && !job.scanFinished) {
        return { text: 'Scanning…', tone: 'active', progress: null };
      }
      {
        const p = job ? outputProgress(job) : j.progress;
        return { text: `Generating ${percent(p)}`, tone: 'active', progress: p };
      }
    case 'paused':
      return {
        text: job ? jobChip(job) : 'Paused',
        tone: 'warn',
        progress: j.progress,
      };
    case 'completed':
      return { text: 'Done', tone: 'ok', progress: null };
    case 'completed_with_errors':
      return { text: `Done · ${errors}`, tone: 'warn', progress: null };
    case 'cancelled':
      return { text: 'Cancelled', tone: 'muted', progress: null };
    case 'failed':
      return {
        text: `Failed: ${job?.error?.message ?? 'see the jobs panel'}`,
        tone: 'error',
        progress: null,
      };
  }
}

/** How a collection follows the disk, in words: a short label and a longer explanation. */
export function watchLabel(c: Pick<CollectionView, 'watchState' | 'watchDetail' | 'kind'>): {
  text: string;
  title: string;
  tone: 'ok' | 'warn' | 'muted';
} {
  const what = c.kind === 'archive' ? 'archive' : 'folder';
  switch (c.watchState) {
    case 'watching':
      return {
        text: 'Watching for changes',
        title: `Photos added, changed, moved or deleted in this ${what} show up by themselves`,
        tone: 'ok',
      };
    case 'starting':
      return {
        text: 'Starting to watch…',
        title: `Setting up a watch of this ${what}`,
        tone: 'muted',
      };
    case 'polling':
      return {
        text: 'Rescanned every 5 min',
        title: `This ${what} cannot be watched: ${c.watchDetail ?? 'the watcher failed'}`,
        tone: 'warn',
      };
    case 'off':
      return {
        text: 'Not watched',
        title: `Changes in this ${what} show up after a rescan`,
        tone: 'muted',
      };
    case 'offline':
      return { text: 'Offline', title: `The ${what} cannot be reached`, tone: 'muted' };
    case 'inactive':
      return {
        text: 'Watched while the app runs',
        title: 'Changes are followed while the app or `albumen serve` runs',
        tone: 'muted',
      };
  }
}
