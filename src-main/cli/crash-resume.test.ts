import { describe, expect, it } from 'vitest';
import { existsSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { useTempDir } from '../test-support/temp-dir.ts';
import { writePhotos } from '../test-support/fixtures.ts';
import { filesBelow, inspectDataDir } from '../test-support/inspect-data-dir.ts';
import { runCli } from '../test-support/cli-run.ts';

const tempDir = useTempDir('albumen-crash-');

const cli = runCli;

describe('kill -9 at any instant, then restart', () => {
  it('finishes the job with exactly one output per image, no temp files, nothing redone', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    const N = 200;
    await writePhotos(photos, N, { width: 480, height: 360 });
    const dataDir = join(root, 'data');
    const base = ['--data-dir', dataDir];

    // Each step is one process that must die by SIGKILL at its crash point.
    const steps: { args: string[]; env?: Record<string, string>; killAfterMs?: number }[] = [
      {
        args: ['import', photos, '--wait', ...base],
        env: { ALBUMEN_CRASH_AT: 'mid-scan-batch:1' },
      },
      { args: ['run', ...base], env: { ALBUMEN_CRASH_AT: 'after-temp-write:7' } },
      { args: ['run', ...base], env: { ALBUMEN_CRASH_AT: 'after-rename:9' } },
      { args: ['run', ...base], env: { ALBUMEN_CRASH_AT: 'in-transaction:11' } },
      { args: ['run', ...base], env: { ALBUMEN_CRASH_AT: 'after-temp-write:23' } },
      // Random instants (seeded, so a failure can be replayed).
      ...[0.31, 0.58, 0.12, 0.77].map((r) => ({
        args: ['run', ...base],
        killAfterMs: 250 + Math.round(r * 900),
      })),
    ];
    let randomKills = 0;
    let previous = new Map<string, string>();
    for (const [i, step] of steps.entries()) {
      const r = await cli(step.args, step.env, step.killAfterMs);
      if (step.killAfterMs !== undefined && r.code === 0) {
        // The job finished before this instant: nothing left to interrupt.
      } else {
        expect(r.signal, `step ${i} should have been killed: ${r.stderr}`).toBe('SIGKILL');
        if (step.killAfterMs !== undefined) randomKills++;
      }
      const report = inspectDataDir(dataDir);
      for (const [id, identity] of previous) {
        expect(report.done.get(id), `output ${id} was made again (step ${i})`).toBe(identity);
      }
      previous = report.done;
      expect(report.problems, `step ${i}`).toEqual([]);
    }

    expect(randomKills).toBeGreaterThan(0);
    const final = await cli(['run', ...base]);
    expect(final.code, final.stderr).toBe(0);
    const shown = await cli(['job', '1', '--json', ...base]);
    expect(shown.code, shown.stderr).toBe(0);
    const j = JSON.parse(shown.stdout) as {
      status: string;
      stages: Record<string, { done: number; skipped: number; total: number }>;
    };
    expect(j.status).toBe('completed');
    expect(j.stages.thumbnail!.total).toBe(N);
    expect(j.stages.cache!.done + j.stages.cache!.skipped).toBe(N);
    const report = inspectDataDir(dataDir, { idle: true });
    for (const [id, identity] of previous) expect(report.done.get(id)).toBe(identity);
    expect(report.problems).toEqual([]);

    const cacheDir = join(dataDir, 'cache');
    const files = filesBelow(cacheDir).map((f) => relative(cacheDir, f));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files.filter((f) => f.includes('/thumbnail/'))).toHaveLength(N);
    expect(files.filter((f) => f.includes('/cache/'))).toHaveLength(N);
  }, 300_000);
});

describe('kill -9 between dropping a missing output and requeueing its item', () => {
  it('loses nothing: the output is remade on the next run', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 6, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    const base = ['--data-dir', dataDir];
    expect((await cli(['import', photos, '--wait', ...base])).code).toBe(0);
    const cacheDir = join(dataDir, 'cache');
    const victims = filesBelow(cacheDir)
      .filter((f) => f.includes('/thumbnail/'))
      .slice(0, 2);
    for (const v of victims) unlinkSync(v);

    const killed = await cli(['cache', 'reconcile', ...base], {
      ALBUMEN_CRASH_AT: 'between-drop-and-requeue:1',
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    // The drop and the requeue are one transition: the kill undid both.
    expect(inspectDataDir(dataDir).problems.filter((p) => !p.includes('has no file'))).toEqual([]);

    expect((await cli(['cache', 'reconcile', ...base])).code).toBe(0);
    const run = await cli(['run', ...base]);
    expect(run.code, run.stderr).toBe(0);
    for (const v of victims) expect(existsSync(v)).toBe(true);
    expect(inspectDataDir(dataDir, { idle: true }).problems).toEqual([]);
  }, 120_000);
});
