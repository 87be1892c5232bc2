import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const BIN = fileURLToPath(new URL('../../bin/albumen.js', import.meta.url));

/** A real `albumen` process; `result` resolves when it exits. */
interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stderr matches `re` (rejects if the process exits first). */
  waitForErr: (re: RegExp, timeoutMs?: number) => Promise<void>;
  result: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Processes a failed test left running (one that hangs is the failure). */
const running = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
});

function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of watchers) w();
  });
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    },
  );
  const waitForErr = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`no ${re} on stderr in ${timeoutMs} ms: ${stderr}`));
      }, timeoutMs);
      const check = () => {
        if (!re.test(stderr)) return;
        watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      watchers.add(check);
      void result.then(() => {
        if (watchers.delete(check)) {
          clearTimeout(timer);
          reject(new Error(`exited before ${re}: ${stderr}`));
        }
      });
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitForErr, result };
}

/** Runs `albumen ARGS` as its own process to the end. */
function cli(args: string[], env: Record<string, string> = {}) {
  const p = spawnCli(args, env);
  p.child.stdin.end();
  return p.result;
}

/** Within `ms`, or the test fails instead of hanging. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms),
    ),
  ]);
}

/** Any control character but the newline that ends a line. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

interface JobJson {
  id: number;
  status: string;
  waitingFor: string | null;
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
    // The decoder decides: the scan passes it on, and both renders fail it.
    expect(r.out).toMatch(/UNSUPPORTED\s+thumbnail\s+broken\.jpg/);

    const shown = await run(['job', '1', '--json', '--data-dir', dataDir]);
    const job = JSON.parse(shown.out) as JobJson;
    expect(job.failed.toSorted((a, b) => a.stage.localeCompare(b.stage))).toEqual(
      (['cache', 'thumbnail'] as const).map((stage) => ({
        path: 'broken.jpg',
        stage,
        code: 'UNSUPPORTED',
        message: 'not a JPEG image (as its name says), nor one in a supported format',
      })),
    );
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
    // A paused job is not processed by `run`, which says so instead of waiting for it.
    const idle = await run(['run', '--data-dir', dataDir]);
    expect(idle.code).toBe(4);
    expect(idle.err).toMatch(/job 1 is paused .*albumen resume 1/);
    expect((await run(['resume', '1', '--data-dir', dataDir])).out).toMatch(/job 1: resumed/);
    const done = await run(['run', '--json', '--data-dir', dataDir]);
    expect(done.code).toBe(0);
    expect((JSON.parse(done.out) as JobJson).status).toBe('completed');
    expect((await run(['cancel', '1', '--data-dir', dataDir])).out).toMatch(
      /not cancelled \(it is completed\)/,
    );
  });
});

describe('albumen CLI as a process: waiting, errors, output', () => {
  /**
   * A library whose default cache folder is over its limit (1 byte): the next
   * import's job waits for room, inside a process that holds the library.
   */
  async function fullLibrary(root: string): Promise<string> {
    const dataDir = join(root, 'data');
    await writePhotos(join(root, 'first'), 1, { width: 320, height: 240 });
    await writePhotos(join(root, 'p'), 3, { width: 320, height: 240 });
    expect((await cli(['import', join(root, 'first'), '--wait', '--data-dir', dataDir])).code).toBe(
      0,
    );
    expect((await cli(['cache', 'limit', '1', '1', '--data-dir', dataDir])).code).toBe(0);
    return dataDir;
  }

  /** Resolves once `albumen jobs --json` shows job `id` paused (for room, here). */
  async function untilPaused(dataDir: string, id: number): Promise<void> {
    for (;;) {
      const r = await cli(['jobs', '--json', '--data-dir', dataDir]);
      const jobs = JSON.parse(r.stdout) as JobJson[];
      if (jobs.find((x) => x.id === id)?.status === 'paused') return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const ROOM_LINE =
    /job 2 waits: the cache folder .*cache is at its limit \(.* used of its 1 B limit, \d.* free on its disk\)/;

  it('waits for room with one line naming the folder and its free space, and goes on when room returns', async () => {
    const root = tempDir();
    const dataDir = await fullLibrary(root);
    const waiting = spawnCli(['import', join(root, 'p'), '--wait', '--data-dir', dataDir]);
    await waiting.waitForErr(ROOM_LINE);

    // Meanwhile the library is held: `run` exits 3 naming the holder, without the usage.
    const refused = await cli(['run', '--data-dir', dataDir]);
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`pid ${waiting.child.pid} on `);
    expect(refused.stderr).toMatch(/started as "albumen\.js import .*", processing since \d{4}-/);
    expect(refused.stderr).toMatch(/stop it \(.*kill \d+\)/);
    expect(refused.stderr).not.toMatch(/Usage:/);
    // And `jobs` shows the job waiting for room, not for a process.
    const shown = JSON.parse(
      (await cli(['jobs', '--json', '--data-dir', dataDir])).stdout,
    ) as JobJson[];
    expect(shown.map((j) => [j.status, j.waitingFor])).toEqual([
      ['paused', 'room'],
      ['completed', null],
    ]);

    expect((await cli(['cache', 'limit', '1', 'none', '--data-dir', dataDir])).code).toBe(0);
    const done = await within(30_000, 'import --wait after room returned', waiting.result);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/job 2 p \(folder\) — completed/);
    expect(done.stderr.match(new RegExp(ROOM_LINE, 'g'))).toHaveLength(1);
  }, 120_000);

  it('stops with exit 4 when another process pauses the job it waits for', async () => {
    const root = tempDir();
    const dataDir = await fullLibrary(root);
    const waiting = spawnCli(['import', join(root, 'p'), '--wait', '--data-dir', dataDir]);
    // Waiting for room, as the store tells any process.
    await within(30_000, 'job 2 paused for room', untilPaused(dataDir, 2));
    expect((await cli(['pause', '2', '--data-dir', dataDir])).stdout).toMatch(/job 2: paused/);
    const stopped = await within(15_000, 'import --wait after pause', waiting.result);
    expect(stopped.code).toBe(4);
    expect(stopped.stderr).toMatch(/job 2 is paused .*`albumen resume 2`/);

    // `import --wait` of the paused job's collection says so at once too.
    const again = await within(
      15_000,
      'import --wait of a paused job',
      cli(['import', join(root, 'p'), '--wait', '--data-dir', dataDir]),
    );
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/job 2 is paused/);

    expect((await cli(['resume', '2', '--data-dir', dataDir])).code).toBe(0);
    expect((await cli(['cache', 'limit', '1', 'none', '--data-dir', dataDir])).code).toBe(0);
    const finished = await within(30_000, 'run', cli(['run', '--data-dir', dataDir]));
    expect(finished.code, finished.stderr).toBe(0);
  }, 120_000);

  it('shows a running job whose process died as waiting for a process, and how to start one', async () => {
    const root = tempDir();
    await writePhotos(join(root, 'p'), 4, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    const killed = await cli(['import', join(root, 'p'), '--wait', '--data-dir', dataDir], {
      ALBUMEN_CRASH_AT: 'after-rename:2',
    });
    expect(killed.code).toBeNull();
    const list = await cli(['jobs', '--data-dir', dataDir]);
    expect(list.stdout).toMatch(/^job 1 waiting for a process: /m);
    expect(list.stdout).toMatch(/start `albumen run` \(or open the Albumen app\)/);
    const one = await cli(['job', '1', '--data-dir', dataDir]);
    expect(one.stdout).toMatch(/job 1 p \(folder\) — waiting for a process/);
    const json = JSON.parse(
      (await cli(['jobs', '--json', '--data-dir', dataDir])).stdout,
    ) as JobJson[];
    expect(json.map((j) => [j.status, j.waitingFor])).toEqual([['running', 'process']]);
    expect((await cli(['run', '--data-dir', dataDir])).code).toBe(0);
    expect((await cli(['jobs', '--data-dir', dataDir])).stdout).toMatch(/^job 1 completed: /m);
  }, 120_000);

  it('says in one line that a job does not exist, without the usage text', async () => {
    const dataDir = join(tempDir(), 'data');
    for (const args of [
      ['job', '99'],
      ['pause', '99'],
    ]) {
      const r = await cli([...args, '--data-dir', dataDir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe('albumen: no job 99 (albumen jobs lists them)');
    }
  }, 60_000);

  it('escapes control characters from file names and messages, plain and --json', async () => {
    const root = tempDir();
    const evil = 'x\x1b[2J\x1b]0;owned\x07\u009b31m\x7f\u202egpj.exe\nFAKE.jpg';
    const folder = join(root, 'p\x1b[31m');
    await writePhotos(folder, 1, { width: 320, height: 240 });
    writeFileSync(join(folder, evil), 'not a jpeg');
    const dataDir = join(root, 'data');
    const r = await cli(['import', folder, '--wait', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('job 1 p\\x1b[31m (folder)');
    expect(r.stdout).toContain('x\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x7f\\u202egpj.exe\\nFAKE.jpg');
    expect(r.stdout).not.toMatch(/^FAKE/m);

    const json = await cli(['job', '1', '--json', '--data-dir', dataDir]);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const job = JSON.parse(json.stdout) as JobJson & { collection: { name: string } };
    expect([...new Set(job.failed.map((f) => f.path))]).toEqual([evil]);
    expect(job.collection.name).toBe('p\x1b[31m');
    for (const args of [['jobs'], ['jobs', '--json'], ['cache', 'list']]) {
      const out = await cli([...args, '--data-dir', dataDir]);
      expect(out.stdout, args.join(' ')).not.toMatch(RAW_CONTROL);
    }

    // An error message naming a path: escaped as well, on one line.
    const missing = await cli(['import', join(root, 'gone\x1b[2J\nX'), '--data-dir', dataDir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(RAW_CONTROL);
    expect(missing.stderr).toContain('gone\\x1b[2J\\nX');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it('exits 3 with one line and no usage when the library cannot be opened', async () => {
    const root = tempDir();
    const corrupt = join(root, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(
      join(corrupt, 'library.db'),
      'this is not a database, just some text\n'.repeat(100),
    );
    const notDir = join(root, 'file');
    writeFileSync(notDir, 'a file');
    for (const [dataDir, why] of [
      [corrupt, /library\.db is damaged or not an Albumen database \(SQLITE_NOTADB\)/],
      [notDir, /it is a file, not a folder/],
    ] as const) {
      for (const args of [['jobs'], ['run'], ['import', root, '--wait']]) {
        const r = await cli([...args, '--data-dir', dataDir]);
        expect(r.code, `${args.join(' ')} ${dataDir}: ${r.stderr}`).toBe(3);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/^albumen: cannot open the library in /);
        expect(r.stderr).toMatch(why);
        expect(r.stderr).not.toMatch(/Usage:/);
      }
    }
  }, 120_000);
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
