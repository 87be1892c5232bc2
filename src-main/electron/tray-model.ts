/**
 * What the tray shows, computed from the jobs alone: the tooltip, the menu's
 * items and whether closing the window leaves the app in the tray. The tray
 * adapter only renders this.
 */
import { type JobView } from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';

/** The tray menu's entries, by what they do. */
export type TrayAction = 'pauseAll' | 'resumeAll' | 'show' | 'quit';

/** One row of the tray menu. */
export type TrayItem =
  | { type: 'info'; label: string }
  | { type: 'action'; action: TrayAction; label: string; enabled: boolean }
  | { type: 'separator' };

/** The tray as it should look now. */
export interface TrayModel {
  tooltip: string;
  items: TrayItem[];
}

/** Whole numbers grouped by thousands with a thin space ("1 234"), the same in every locale. */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** Images of a job: found by the scan so far, and those every stage is finished with. */
export function imageProgress(job: JobView): { finished: number; total: number } {
  const { scan, thumbnail, cache } = job.stages;
  const ended = (s: typeof scan) => s.done + s.skipped + s.failed;
  // An image the scan could not read gets no render items: it is finished.
  // Every other image is finished once both of its renders are.
  const finished = scan.failed + Math.min(ended(thumbnail), ended(cache));
  const total = Math.max(scan.total, finished);
  return { finished: Math.min(finished, total), total };
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${formatCount(n)} ${n === 1 ? one : many}`;

/** Jobs still to finish: queued, running or paused. */
export function activeJobs(jobs: readonly JobView[]): JobView[] {
  return jobs.filter((j) => !isTerminal(j.status));
}

/**
 * The tray's tooltip and menu. The progress line is a menu item as well as
 * the tooltip, because Linux tray hosts (AppIndicator) show no tooltips.
 */
export function trayModel(jobs: readonly JobView[]): TrayModel {
  const active = activeJobs(jobs);
  const paused = active.filter((j) => j.paused || j.status === 'paused').length;
  const working = active.length - paused;
  let status: string;
  if (active.length === 0) {
    status = 'no jobs running';
  } else {
    let finished = 0;
    let total = 0;
    for (const j of active) {
      const p = imageProgress(j);
      finished += p.finished;
      total += p.total;
    }
    const percent = total ? Math.floor((finished / total) * 100) : 0;
    const counts = [
      working ? `${plural(working, 'job')} running` : '',
      paused ? (working ? `${formatCount(paused)} paused` : `${plural(paused, 'job')} paused`) : '',
    ].filter(Boolean);
    status = `${counts.join(', ')}, ${percent} % (${formatCount(finished)} / ${plural(total, 'image')})`;
  }
  return {
    tooltip: `Albumen — ${status}`,
    items: [
      { type: 'info', label: status.charAt(0).toUpperCase() + status.slice(1) },
      { type: 'separator' },
      { type: 'action', action: 'pauseAll', label: 'Pause all', enabled: working > 0 },
      { type: 'action', action: 'resumeAll', label: 'Resume all', enabled: paused > 0 },
      { type: 'separator' },
      { type: 'action', action: 'show', label: 'Show window', enabled: true },
      { type: 'action', action: 'quit', label: 'Quit Albumen', enabled: true },
    ],
  };
}

/**
 * What closing the last window does: stay in the tray while jobs are still to
 * finish and the user wants that (`keepRunningInTray`), else quit. On macOS an
 * app conventionally stays open without windows, so it always stays.
 */
export function afterLastWindowClosed(
  keepRunningInTray: boolean,
  jobs: readonly JobView[],
  platform: NodeJS.Platform,
): 'stay' | 'quit' {
  if (platform === 'darwin') return 'stay';
  return keepRunningInTray && activeJobs(jobs).length > 0 ? 'stay' : 'quit';
}
