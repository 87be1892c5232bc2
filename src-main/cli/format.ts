import {
  STAGES,
  type FailedItemView,
  type JobView,
  type StageView,
} from '../../src-shared/domain.ts';

/** The job as `--json` prints it (a stable shape for scripts). */
export function jobJson(job: JobView, failed: FailedItemView[]) {
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
  if (v.current && v.pending + v.running > 0) line += `  ${v.current}`;
  return line.length > columns ? line.slice(0, columns - 1) + '…' : line;
}

/** A job's header line. */
export function jobHeader(job: JobView): string {
  return `job ${job.id} ${job.collectionName} (${job.collectionKind}) — ${job.status.replace(/_/g, ' ')}`;
}

/** A plain one-line progress report, for logs and non-terminals. */
export function plainLine(job: JobView): string {
  const parts = STAGES.map((s) => {
    const v = job.stages[s];
    return `${s} ${v.done + v.skipped + v.failed}/${v.total}`;
  });
  return `job ${job.id} ${job.status}: ${parts.join(', ')}`;
}

/** What the user reads when a job ends. */
export function summary(job: JobView, failed: FailedItemView[], totalFailed: number): string {
  const lines = [jobHeader(job)];
  for (const s of STAGES) {
    const v = job.stages[s];
    lines.push(
      `  ${s.padEnd(9)} ${v.done} done, ${v.skipped} skipped, ${v.failed} failed of ${v.total}`,
    );
  }
  if (job.error) lines.push(`  error: ${job.error.code}: ${job.error.message}`);
  if (failed.length) {
    lines.push(`  failed items (${totalFailed}):`);
    for (const f of failed)
      lines.push(`    ${f.code.padEnd(16)} ${f.stage.padEnd(9)} ${f.path} — ${f.message}`);
    if (totalFailed > failed.length)
      lines.push(`    … and ${totalFailed - failed.length} more (albumen job ${job.id})`);
  }
  return lines.join('\n');
}
