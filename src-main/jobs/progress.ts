import type { StageCounters, StageName } from '../../src-shared/domain.ts';

const WINDOW_MS = 10_000;

interface Sample {
  t: number;
  finished: number;
}

/**
 * Live rate, ETA and current item per (job, stage), kept in memory beside the
 * durable counters: derived from successive counter readings, never stored.
 */
export class ProgressTracker {
  private readonly samples = new Map<string, Sample[]>();
  private readonly current = new Map<string, string>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /** Notes the entry path most recently started in a stage. */
  started(jobId: number, stage: StageName, entryPath: string): void {
    this.current.set(`${jobId}:${stage}`, entryPath);
  }

  /** Adds a reading of the counters and returns the stage's rate (items/s) and ETA (s). */
  observe(
    jobId: number,
    stage: StageName,
    c: StageCounters,
  ): { rate: number; etaSeconds: number | null; current: string | null } {
    const key = `${jobId}:${stage}`;
    const t = this.clock();
    const finished = c.done + c.skipped + c.failed;
    const list = this.samples.get(key) ?? [];
    if (list.length === 0 || list[list.length - 1]!.finished !== finished)
      list.push({ t, finished });
    while (list.length > 2 && t - list[0]!.t > WINDOW_MS) list.shift();
    this.samples.set(key, list);
    const first = list[0]!;
    const dt = (t - first.t) / 1000;
    const rate = dt > 0.2 ? (finished - first.finished) / dt : 0;
    const left = c.pending + c.running;
    const etaSeconds = rate > 0 && left > 0 ? left / rate : left === 0 ? 0 : null;
    const active = c.running > 0 || c.pending > 0;
    return { rate, etaSeconds, current: active ? (this.current.get(key) ?? null) : null };
  }

  forget(jobId: number): void {
    for (const key of [...this.samples.keys()])
      if (key.startsWith(`${jobId}:`)) this.samples.delete(key);
    for (const key of [...this.current.keys()])
      if (key.startsWith(`${jobId}:`)) this.current.delete(key);
  }
}
