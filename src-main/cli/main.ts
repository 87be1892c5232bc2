import { parseArgs } from 'node:util';
import { assertNodeVersion } from '../node-version.ts';
import { defaultDataDir } from '../core/data-dir.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { STAGES, type JobView, type StageName } from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { jobHeader, jobJson, plainLine, stageLine, summary } from './format.ts';
import { CACHE_USAGE, CacheUsageError, cacheCommand } from './cache-command.ts';

const USAGE = `Usage: albumen <command> [options]

Commands:
  import PATH...     import folders or ZIP/CBZ archives (one job each)
      --wait         process the jobs now, with live progress, until they end
  run                process every unfinished job until none is left
  serve              run Albumen in a browser: serves the UI on 127.0.0.1
      --port N       port to listen on (default: a free one)
  jobs               list jobs
  job ID             show one job with its failed items
  pause ID | resume ID | cancel ID | retry ID
${CACHE_USAGE}

Options:
  --data-dir DIR     library folder (default: ${defaultDataDir()})
  --json             machine-readable output
  -h, --help         this help

Exit codes: 0 completed, 1 completed with errors (or failed, cancelled), 2 usage error.`;

/** A mistake in the command line; exits with 2 after the usage text. */
class UsageError extends Error {}

/** An argument that names something unusable (a missing folder); exits with 2. */
class InputError extends Error {}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  columns: number;
}

const realIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns || 100,
};

async function openCore(dataDir: string): Promise<AlbumenCore> {
  // Loaded after the Node check: the store's native module crashes on old Node.
  const { openNodeCore } = await import('../core/compose-node.ts');
  return openNodeCore({ dataDir });
}

function parseId(v: string | undefined): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n <= 0)
    throw new UsageError(`expected a job id, got "${v ?? ''}"`);
  return n;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: string[], io: Io = realIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        wait: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        port: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        limit: { type: 'string' },
        'move-to': { type: 'string' },
        'older-than': { type: 'string' },
      },
    });
  } catch (err) {
    io.err(`albumen: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command || command === 'help') {
    (command || values.help ? io.out : io.err)(USAGE);
    return command || values.help ? 0 : 2;
  }
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const json = values.json === true;
  let core: AlbumenCore | null = null;
  try {
    const known = [
      'import',
      'run',
      'serve',
      'jobs',
      'job',
      'pause',
      'resume',
      'cancel',
      'retry',
      'cache',
    ];
    if (!known.includes(command)) throw new UsageError(`unknown command "${command}"`);
    if (command === 'serve') {
      const port = Number(values.port ?? '0');
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError('--port must be a number from 0 to 65535');
      }
      const { serve } = await import('../host/serve.ts');
      await serve({ port, dataDir, out: io.out });
      return 0;
    }
    if (command === 'import' && args.length === 0)
      throw new UsageError('import needs at least one PATH');
    if (['job', 'pause', 'resume', 'cancel', 'retry'].includes(command)) parseId(args[0]);
    core = await openCore(dataDir);
    switch (command) {
      case 'cache':
        return await cacheCommand(
          core,
          args,
          {
            json,
            dryRun: values['dry-run'] === true,
            all: values.all === true,
            limit: values.limit,
            moveTo: values['move-to'],
            olderThan: values['older-than'],
          },
          io,
        );
      case 'import':
        return await importCommand(core, args, values.wait === true, json, io);
      case 'run':
        return await runCommand(core, json, io);
      case 'jobs': {
        const jobs = core.jobs();
        if (json)
          io.out(
            JSON.stringify(
              jobs.map((j) => jobJson(j, [])),
              null,
              2,
            ),
          );
        else if (!jobs.length) io.out('no jobs');
        else for (const j of jobs) io.out(plainLine(j) + `  ${j.root}`);
        return 0;
      }
      case 'job': {
        const id = parseId(args[0]);
        const job = core.job(id);
        if (!job) throw new UsageError(`no job ${id}`);
        printResult(core, job, json, io);
        return exitCodeOf([job]);
      }
      default: {
        const id = parseId(args[0]);
        if (!core.job(id)) throw new UsageError(`no job ${id}`);
        if (command === 'retry') {
          const n = core.retry(id);
          io.out(`job ${id}: ${n} failed items will be retried (albumen run processes them)`);
        } else {
          const done =
            { pause: 'paused', resume: 'resumed', cancel: 'cancelled' }[command] ?? command;
          const changed =
            command === 'pause'
              ? core.pause(id)
              : command === 'resume'
                ? core.resume(id)
                : core.cancel(id);
          io.out(`job ${id}: ${changed ? done : `not ${done} (it is ${core.job(id)?.status})`}`);
        }
        if (json) io.out(JSON.stringify(jobJson(core.job(id)!, core.failedItems(id)), null, 2));
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof CacheUsageError) {
      io.err(`albumen: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof InputError) {
      io.err(`albumen: ${err.message}`);
      return 2;
    }
    const code = (err as { code?: string }).code;
    io.err(`albumen: ${code ? `${code}: ` : ''}${(err as Error).message}`);
    return 2;
  } finally {
    await core?.close();
  }
}

async function importCommand(
  core: AlbumenCore,
  paths: string[],
  wait: boolean,
  json: boolean,
  io: Io,
): Promise<number> {
  const jobs: JobView[] = [];
  for (const p of paths) {
    try {
      jobs.push(await core.importPath(p));
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new InputError(
        `cannot import ${p}: ${code ? `${code}: ` : ''}${(err as Error).message}`,
      );
    }
  }
  if (!wait) {
    if (json) printJson(core, jobs, io);
    else for (const j of jobs) io.out(`job ${j.id}: ${j.root} (queued; albumen run processes it)`);
    return 0;
  }
  const done = await processUntil(core, () => jobs.map((j) => j.id), json, io);
  for (const j of done) if (!json) printResult(core, j, false, io);
  if (json) printJson(core, done, io);
  return exitCodeOf(done);
}

async function runCommand(core: AlbumenCore, json: boolean, io: Io): Promise<number> {
  const seen = new Map<number, JobView>();
  const done = await processUntil(
    core,
    () => {
      const ids = core.runnableJobIds();
      for (const id of ids) seen.set(id, core.job(id)!);
      return ids;
    },
    json,
    io,
  );
  void done;
  const finished = [...seen.keys()].map((id) => core.job(id)!).filter(Boolean);
  if (json) printJson(core, finished, io);
  else if (!finished.length) io.out('nothing to do: no unfinished job');
  else for (const j of finished) printResult(core, j, false, io);
  return exitCodeOf(finished);
}

/**
 * Starts processing and waits until the jobs named by `ids()` (asked again
 * after each round, so jobs added meanwhile count) are all terminal.
 */
async function processUntil(
  core: AlbumenCore,
  ids: () => number[],
  json: boolean,
  io: Io,
): Promise<JobView[]> {
  await core.start();
  const display = json ? null : new ProgressDisplay(io);
  const unsubscribe = display ? core.onJobChanged((j) => display.update(j)) : () => {};
  const unlog = core.onLog((e) => {
    if (e.level === 'error') io.err(`albumen: ${e.message}`);
  });
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    io.err('\nalbumen: stopping; unfinished items stay queued for the next run');
    void core.stop().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let result: JobView[] = [];
    for (;;) {
      const list = ids();
      if (!list.length) break;
      for (const id of list) display?.update(core.job(id)!);
      result = await core.whenDone(list);
      if (ids().every((id) => list.includes(id))) break;
    }
    display?.finish();
    return result;
  } finally {
    unsubscribe();
    unlog();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await core.stop();
  }
}

function printResult(core: AlbumenCore, job: JobView, json: boolean, io: Io): void {
  if (json) {
    io.out(JSON.stringify(jobJson(job, core.failedItems(job.id, 10_000)), null, 2));
    return;
  }
  const totalFailed = STAGES.reduce((n, s) => n + job.stages[s].failed, 0);
  io.out(summary(job, core.failedItems(job.id, 20), totalFailed));
}

function printJson(core: AlbumenCore, jobs: JobView[], io: Io): void {
  const list = jobs.map((j) => jobJson(core.job(j.id) ?? j, core.failedItems(j.id, 10_000)));
  io.out(JSON.stringify(list.length === 1 ? list[0] : list, null, 2));
}

function exitCodeOf(jobs: JobView[]): number {
  return jobs.every((j) => j.status === 'completed') ? 0 : 1;
}

/**
 * Live progress: redrawn bars on a terminal (at most ten times a second),
 * a plain line per job and second otherwise.
 */
class ProgressDisplay {
  private readonly io: Io;
  private readonly jobs = new Map<number, JobView>();
  private drawn = 0;
  private last = 0;
  private readonly lastPlain = new Map<number, string>();
  private readonly lastPlainAt = new Map<number, number>();

  constructor(io: Io) {
    this.io = io;
  }

  update(job: JobView): void {
    this.jobs.set(job.id, job);
    const t = Date.now();
    const terminal = isTerminal(job.status);
    if (this.io.isTTY) {
      if (t - this.last >= 100 || terminal) {
        this.last = t;
        this.draw();
      }
      return;
    }
    const line = plainLine(job);
    const lastAt = this.lastPlainAt.get(job.id) ?? 0;
    if (this.lastPlain.get(job.id) !== line && (t - lastAt >= 1000 || terminal)) {
      this.lastPlain.set(job.id, line);
      this.lastPlainAt.set(job.id, t);
      this.io.out(line);
    }
  }

  private draw(): void {
    const lines: string[] = [];
    for (const j of this.jobs.values()) {
      lines.push(jobHeader(j));
      for (const s of STAGES as readonly StageName[])
        lines.push(stageLine(s, j.stages[s], this.io.columns));
    }
    let text = this.drawn ? `\x1b[${this.drawn}A` : '';
    text += lines.map((l) => `\x1b[2K${l}`).join('\n');
    process.stdout.write(text + '\n');
    this.drawn = lines.length;
  }

  finish(): void {
    if (this.io.isTTY) this.draw();
  }
}

/** Entry point: checks Node first, then runs. */
export async function run(): Promise<void> {
  assertNodeVersion('albumen');
  process.exitCode = await main(process.argv.slice(2));
}
