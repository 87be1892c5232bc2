import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { useTempDir } from '../test-support/temp-dir.ts';
import { writePhotos } from '../test-support/fixtures.ts';

const tempDir = useTempDir('albumen-crash-');
const BIN = fileURLToPath(new URL('../../bin/albumen.js', import.meta.url));

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; with `killAfterMs`, sends SIGKILL at that instant. */
function cli(
  args: string[],
  env: Record<string, string> = {},
  killAfterMs?: number,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer =
      killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
}

/** Done items with their output files' identity, to prove none is redone later. */
function doneSnapshot(dataDir: string): Map<number, string> {
  const file = join(dataDir, 'library.db');
  const snap = new Map<number, string>();
  if (!existsSync(file)) return snap;
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT it.id, it.attempts, o.rel_path FROM items it
         JOIN outputs o ON o.image_id = it.image_id AND o.variant = it.stage
         WHERE it.state = 'done' AND it.stage <> 'scan'`,
      )
      .all() as { id: number; attempts: number; rel_path: string }[];
    for (const r of rows) {
      const st = statSync(join(dataDir, 'cache', r.rel_path));
      snap.set(r.id, `${r.attempts}:${st.ino}:${st.mtimeMs}`);
    }
  } finally {
    db.close();
  }
  return snap;
}

function countersMatchItems(dataDir: string): boolean {
  const db = new Database(join(dataDir, 'library.db'), { readonly: true });
  try {
    const bad = db
      .prepare(
        `SELECT s.job_id FROM stages s LEFT JOIN (
           SELECT job_id, stage, count(*) AS n, sum(state = 'done') AS d, sum(state = 'pending') AS p,
                  sum(state = 'running') AS r, sum(state = 'skipped') AS k, sum(state = 'failed') AS f
           FROM items GROUP BY job_id, stage) c ON c.job_id = s.job_id AND c.stage = s.stage
         WHERE s.total <> coalesce(c.n, 0) OR s.done <> coalesce(c.d, 0) OR s.pending <> coalesce(c.p, 0)
            OR s.running <> coalesce(c.r, 0) OR s.skipped <> coalesce(c.k, 0) OR s.failed <> coalesce(c.f, 0)`,
      )
      .all();
    return bad.length === 0;
  } finally {
    db.close();
  }
}

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
    let previous = new Map<number, string>();
    for (const [i, step] of steps.entries()) {
      const r = await cli(step.args, step.env, step.killAfterMs);
      if (step.killAfterMs !== undefined && r.code === 0) {
        // The job finished before this instant: nothing left to interrupt.
      } else {
        expect(r.signal, `step ${i} should have been killed: ${r.stderr}`).toBe('SIGKILL');
        if (step.killAfterMs !== undefined) randomKills++;
      }
      const now = doneSnapshot(dataDir);
      for (const [id, identity] of previous) {
        expect(now.get(id), `item ${id} was redone after being done (step ${i})`).toBe(identity);
      }
      previous = now;
      expect(countersMatchItems(dataDir)).toBe(true);
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
    const now = doneSnapshot(dataDir);
    for (const [id, identity] of previous) expect(now.get(id)).toBe(identity);

    const files = filesBelow(join(dataDir, 'cache'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files.filter((f) => f.includes('/thumbnail/'))).toHaveLength(N);
    expect(files.filter((f) => f.includes('/cache/'))).toHaveLength(N);
    expect(countersMatchItems(dataDir)).toBe(true);
  }, 300_000);
});
