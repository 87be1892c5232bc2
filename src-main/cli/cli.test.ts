import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from './main.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { writePhotos } from '../test-support/fixtures.ts';

const tempDir = useTempDir('albumen-cli-');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (s) => (out += s + '\n'),
    err: (s) => (err += s + '\n'),
    isTTY: false,
    columns: 100,
  });
  return { code, out, err };
}

interface JobJson {
  id: number;
  status: string;
  stages: Record<
    'scan' | 'thumbnail' | 'cache',
    { status: string; total: number; done: number; skipped: number; failed: number }
  >;
  failed: { path: string; stage: string; code: string; message: string }[];
}

describe('albumen CLI', () => {
  it('exits 2 with the usage for unknown commands and bad ids', async () => {
    const dataDir = join(tempDir(), 'data');
    for (const args of [[], ['frobnicate'], ['job', 'abc'], ['pause'], ['import'], ['--bogus']]) {
      const r = await run([...args, '--data-dir', dataDir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/albumen:|Usage:/);
    }
  });

  it('exits 2 without the usage for a path that does not exist', async () => {
    const root = tempDir();
    const r = await run(['import', join(root, 'missing'), '--data-dir', join(root, 'data')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot import .*missing: NOT_FOUND/);
    expect(r.err).not.toMatch(/Usage:/);
  });

  it('imports with --wait --json: exit 0 and the documented shape when all is well', async () => {
    const root = tempDir();
    await writePhotos(join(root, 'p'), 3, { width: 320, height: 240 });
    const r = await run([
      'import',
      join(root, 'p'),
      '--wait',
      '--json',
      '--data-dir',
      join(root, 'data'),
    ]);
    expect(r.code, r.err).toBe(0);
    const job = JSON.parse(r.out) as JobJson;
    expect(job.status).toBe('completed');
    for (const s of ['scan', 'thumbnail', 'cache'] as const) {
      expect(job.stages[s]).toMatchObject({
        status: 'completed',
        total: 3,
        done: 3,
        skipped: 0,
        failed: 0,
      });
    }
    expect(job.failed).toEqual([]);
  });

  it('exits 1 with a summary naming each failed file when a job completes with errors', async () => {
    const root = tempDir();
    await writePhotos(join(root, 'p'), 2, { width: 320, height: 240 });
    writeFileSync(join(root, 'p', 'broken.jpg'), 'not a jpeg');
    const dataDir = join(root, 'data');
    const r = await run(['import', join(root, 'p'), '--wait', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/completed with errors/);
    expect(r.out).toMatch(/UNSUPPORTED\s+scan\s+broken\.jpg/);

    const shown = await run(['job', '1', '--json', '--data-dir', dataDir]);
    const job = JSON.parse(shown.out) as JobJson;
    expect(job.failed).toEqual([
      {
        path: 'broken.jpg',
        stage: 'scan',
        code: 'UNSUPPORTED',
        message: expect.any(String) as string,
      },
    ]);
    expect(shown.code).toBe(1);
  });

  it('queues without --wait; pause, resume, cancel and jobs act on the store; run processes the rest', async () => {
    const root = tempDir();
    await writePhotos(join(root, 'p'), 2, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    const queued = await run(['import', join(root, 'p'), '--data-dir', dataDir]);
    expect(queued.code).toBe(0);
    expect(queued.out).toMatch(/job 1: .* \(queued/);
    expect((await run(['pause', '1', '--data-dir', dataDir])).out).toMatch(/job 1: paused/);
    const list = JSON.parse(
      (await run(['jobs', '--json', '--data-dir', dataDir])).out,
    ) as JobJson[];
    expect(list.map((j) => j.status)).toEqual(['paused']);
    // A paused job is not processed by `run`.
    expect((await run(['run', '--data-dir', dataDir])).out).toMatch(/nothing to do/);
    expect((await run(['resume', '1', '--data-dir', dataDir])).out).toMatch(/job 1: resumed/);
    const done = await run(['run', '--json', '--data-dir', dataDir]);
    expect(done.code).toBe(0);
    expect((JSON.parse(done.out) as JobJson).status).toBe('completed');
    expect((await run(['cancel', '1', '--data-dir', dataDir])).out).toMatch(
      /not cancelled \(it is completed\)/,
    );
  });
});

describe('albumen cache', () => {
  it('lists, adds, limits, reconciles and cleans up with the documented JSON shapes', async () => {
    const root = tempDir();
    await writePhotos(join(root, 'p'), 2, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    expect((await run(['import', join(root, 'p'), '--wait', '--data-dir', dataDir])).code).toBe(0);

    const added = await run([
      'cache',
      'add',
      join(root, 'c2'),
      '--limit',
      '20M',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(added.code, added.err).toBe(0);
    const list = JSON.parse(
      (await run(['cache', 'list', '--json', '--data-dir', dataDir])).out,
    ) as Record<string, unknown>[];
    expect(list).toHaveLength(2);
    for (const f of list) {
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining([
          'id',
          'path',
          'enabled',
          'limitBytes',
          'bytes',
          'files',
          'collections',
          'freeBytes',
        ]),
      );
    }
    expect(list[0]).toMatchObject({ id: 1, files: 4, collections: 1, limitBytes: null });
    expect(list[1]).toMatchObject({ id: 2, files: 0, limitBytes: 20 * 1024 * 1024 });

    const limited = await run(['cache', 'limit', '2', 'none', '--json', '--data-dir', dataDir]);
    expect((JSON.parse(limited.out) as { limitBytes: unknown }).limitBytes).toBeNull();

    const rec = JSON.parse(
      (await run(['cache', 'reconcile', '--dry-run', '--json', '--data-dir', dataDir])).out,
    ) as object;
    expect(rec).toEqual({ dryRun: true, files: 0, bytes: 0, paths: [], missing: [] });
    const clean = JSON.parse(
      (await run(['cache', 'cleanup', '--dry-run', '--json', '--data-dir', dataDir])).out,
    ) as object;
    expect(clean).toEqual({ dryRun: true, files: 0, bytes: 0, paths: [] });

    expect((await run(['cache', 'limit', '2', 'lots', '--data-dir', dataDir])).code).toBe(2);
    expect((await run(['cache', 'frob', '--data-dir', dataDir])).code).toBe(2);
    const overlap = await run(['cache', 'add', join(dataDir, 'cache', 'x'), '--data-dir', dataDir]);
    expect(overlap.code).toBe(2);
    expect(overlap.err).toMatch(/overlaps/);
  });
});
