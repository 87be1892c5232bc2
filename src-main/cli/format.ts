import {
  STAGES,
  isSpacePause,
  type FailedItemView,
  type JobView,
  type StageView,
} from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';

/**
 * C0 and C1 controls and DEL, which a terminal may act on instead of showing,
 * and the Unicode bidirectional controls and line separators, which reorder or
 * break what follows them on the line ("photo\u202Egpj.exe" would show as
 * "photoexe.jpg").
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (a file name, an error message) made safe to print: every
 * control character, newlines and the ESC that starts an escape sequence
 * included, is shown as a visible escape (`\x1b`, `\n`), so a name can neither
 * drive the terminal nor fake a line of output.
 */
export function printable(text: string): string {
  return text.replace(CONTROLS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    if (code > 0xff) return '\\u' + code.toString(16).padStart(4, '0');
    return '\\x' + code.toString(16).padStart(2, '0');
  });
}

/**
 * JSON as the CLI prints it. JSON.stringify escapes C0 controls but leaves DEL,
 * C1 controls and the Unicode line separators raw: those are escaped as well
 * (the value parses back the same).
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

/**
 * What a job waits for, when it is not done and not paused by the user:
 * `process` when nothing processes the library (no live process holds its lock),
 * `room` when a folder does not take writes (full, read-only, or the database's
 * disk is full; `job.waitingFor` says which in words); null otherwise.
 */
export function waitingFor(job: JobView, processing: boolean): 'process' | 'room' | null {
  if (isTerminal(job.status) || job.pauseReason === 'user') return null;
  if (!processing) return 'process';
  return job.waitingFor !== null ? 'room' : null;
}

/** The job's state in words: its stored status unless nothing is working on it. */
export function shownStatus(job: JobView, processing = true): string {
  if (job.status === 'running' && !processing) return 'waiting for a process';
  if (job.paused && isSpacePause(job.pauseReason)) return 'paused for room';
  return job.status.replace(/_/g, ' ');
}

/** Said once under a list where a job waits for a process. */
export const START_A_PROCESS =
  'nothing is processing this library now: start `albumen run` (or open the Albumen app) to go on';

/** The job as `--json` prints it (a stable shape for scripts). */
export function jobJson(job: JobView, failed: FailedItemView[], processing = true) {
  const stages = Object.fromEntries(
    STAGES.map((s) => {
      const v = job.stages[s];
      return [
        s,
        {
          status: v.status,
          total: v.total,
          done: v.done,
          skipped: v.skipped,
          failed: v.failed,
          pending: v.pending,
          running: v.running,
        },
      ];
    }),
  );
  return {
    id: job.id,
    status: job.status,
    collection: {
      id: job.collectionId,
      name: job.collectionName,
      kind: job.collectionKind,
      root: job.root,
    },
    waitingFor: waitingFor(job, processing),
    /** What it waits for, in words (which folder, how much is free). */
    waitingDetail: waitingFor(job, processing) === 'room' ? job.waitingFor : null,
    error: job.error,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    stages,
    failed: failed.map((f) => ({ path: f.path, stage: f.stage, code: f.code, message: f.message })),
  };
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function bar(v: StageView, width: number): string {
  const finished = v.done + v.skipped + v.failed;
  const frac = v.total ? finished / v.total : v.status === 'completed' ? 1 : 0;
  const full = Math.round(frac * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** One terminal line per stage: bar, counts, rate, ETA and current file. */
export function stageLine(name: string, v: StageView, columns: number): string {
  const finished = v.done + v.skipped + v.failed;
  const counts = `${finished}/${v.total}${v.status === 'running' && name === 'scan' ? '+' : ''}`;
  const extra = [v.skipped ? `${v.skipped} skipped` : '', v.failed ? `${v.failed} failed` : '']
    .filter(Boolean)
    .join(', ');
  const rate = v.rate > 0 ? `${v.rate.toFixed(1)}/s` : '';
  const eta = v.pending + v.running > 0 ? `ETA ${duration(v.etaSeconds)}` : v.status;
  let line = `  ${name.padEnd(9)} ${bar(v, 24)} ${counts.padStart(11)} ${rate.padStart(8)} ${eta.padEnd(10)} ${extra}`;
  if (v.current && v.pending + v.running > 0) line += `  ${printable(v.current)}`;
  return line.length > columns ? line.slice(0, columns - 1) + '…' : line;
}

/** A job's header line. */
export function jobHeader(job: JobView, processing = true): string {
  return `job ${job.id} ${printable(job.collectionName)} (${job.collectionKind}) — ${shownStatus(job, processing)}`;
}

/** A plain one-line progress report, for logs and non-terminals. */
export function plainLine(job: JobView, processing = true): string {
  const parts = STAGES.map((s) => {
    const v = job.stages[s];
    return `${s} ${v.done + v.skipped + v.failed}/${v.total}`;
  });
  return `job ${job.id} ${shownStatus(job, processing)}: ${parts.join(', ')}`;
}

/** What the user reads when a job ends. */
export function summary(
  job: JobView,
  failed: FailedItemView[],
  totalFailed: number,
  processing = true,
): string {
  const lines = [jobHeader(job, processing)];
  for (const s of STAGES) {
    const v = job.stages[s];
    lines.push(
      `  ${s.padEnd(9)} ${v.done} done, ${v.skipped} skipped, ${v.failed} failed of ${v.total}`,
    );
  }
  if (job.error) lines.push(`  error: ${job.error.code}: ${printable(job.error.message)}`);
  if (failed.length) {
    lines.push(`  failed items (${totalFailed}):`);
    for (const f of failed)
      lines.push(
        `    ${f.code.padEnd(16)} ${f.stage.padEnd(9)} ${printable(f.path)} — ${printable(f.message)}`,
      );
    if (totalFailed > failed.length)
      lines.push(`    … and ${totalFailed - failed.length} more (albumen job ${job.id})`);
  }
  return lines.join('\n');
}
