import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { assertNodeVersion } from '../node-version.ts';
import { defaultDataDir } from '../core/data-dir.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { STAGES, isSpacePause, type JobView, type StageName } from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import {
  START_A_PROCESS,
  jobHeader,
  jobJson,
  jsonText,
  plainLine,
  printable,
  stageLine,
  summary,
  waitingFor,
} from './format.ts';
import { CACHE_USAGE, CacheUsageError, cacheCommand } from './cache-command.ts';

const USAGE = `Usage: albumen <command> [options]

Commands:
  import PATH...     import folders or ZIP/CBZ archives (one job each)
      --wait         process the jobs now, with live progress, until they end
  rescan [COLLECTION...]  walk collections again (all by default): new, changed,
                     moved and deleted files are followed; --wait as for import
  remove COLLECTION  remove a collection and its previews from the library (the
                     photos themselves are never touched)
      --keep-outputs leave its preview files in the cache folder
  collections        list collections (COLLECTION is an id or a root path)
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

Exit codes: 0 completed, 1 completed with errors (or failed, cancelled), 2 usage error,
3 runtime error (the library cannot be opened or processed), 4 stopped with jobs paused.`;

/** Exit codes (documented in the usage text and the README). */
const EXIT = {
  ok: 0,
  /** A job completed with errors, failed or was cancelled. */
  errors: 1,
  /** A mistake in the command line or an unusable argument. */
  usage: 2,
  /** The library cannot be opened or processed: corrupt database, not a folder, locked. */
  runtime: 3,
  /** `run` / `import --wait` stopped: what is left is paused, nothing can run. */
  paused: 4,
} as const;

/** A mistake in the command line; exits with 2 after the usage text. */
class UsageError extends Error {}

/** An argument that names something unusable (a missing folder); exits with 2. */
class InputError extends Error {}

/** The library cannot be used (already said in words); exits with 3. */
class RuntimeError extends Error {}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  columns: number;
}

/** Escapes control characters line by line: a last guard on what reaches the terminal. */
const guarded = (s: string) => s.split('\n').map(printable).join('\n') + '\n';

const realIo: Io = {
  out: (s) => process.stdout.write(guarded(s)),
  err: (s) => process.stderr.write(guarded(s)),
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns || 100,
};

async function openCore(dataDir: string): Promise<AlbumenCore> {
  // Loaded after the Node check: the store's native module crashes on old Node.
  const { openNodeCore } = await import('../core/compose-node.ts');
  try {
    return openNodeCore({ dataDir });
  } catch (err) {
    throw new RuntimeError(`cannot open the library in ${dataDir}: ${whyNotOpened(err)}`);
  }
}

/** The reason a library could not be opened, in words, with what to do. */
function whyNotOpened(err: unknown): string {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'EEXIST' || code === 'ENOTDIR')
    return 'it is a file, not a folder (--data-dir names the library folder)';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return `no permission to write there (${code})`;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return (
      `library.db is damaged or not an Albumen database (${code}); ` +
      'move it away to start an empty library, or put back a copy'
    );
  return oneLine(err);
}

/** An error as one line: its code (if any) and message. */
function oneLine(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  return `${code && !message.startsWith(code) ? `${code}: ` : ''}${message}`;
}

/** A collection named on the command line: its id, or its root path (resolved). */
function collectionOf(core: AlbumenCore, arg: string): number {
  const list = core.collections().map((c) => c.collection);
  const n = Number(arg);
  if (/^\d+$/.test(arg) && list.some((c) => c.id === n)) return n;
  const root = resolvePath(arg);
  const found = list.find((c) => c.root === root || c.root === arg);
  if (!found) {
    throw new InputError(`no collection ${arg} (albumen collections lists them)`);
  }
  return found.id;
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
        'keep-outputs': { type: 'boolean', default: false },
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
      'rescan',
      'remove',
      'collections',
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
    if (command === 'remove' && args.length !== 1)
      throw new UsageError('remove needs one COLLECTION (an id or a root path)');
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
      case 'rescan': {
        const ids = args.map((a) => collectionOf(core!, a));
        const jobs = core.rescan(ids);
        if (values.wait !== true) {
          if (json) printJson(core, jobs, io);
          else
            for (const j of jobs)
              io.out(
                `job ${j.id}: rescan of ${printable(j.root)} (queued; albumen run processes it)`,
              );
          return EXIT.ok;
        }
        const outcome = await processUntil(core, () => jobs.map((j) => j.id), json, io);
        return report(core, outcome, json, io);
      }
      case 'remove': {
        const id = collectionOf(core, args[0]!);
        const gone = await core.removeCollection(id, {
          keepFiles: values['keep-outputs'] === true,
        });
        if (json) io.out(jsonText({ collectionId: id, ...gone }));
        else
          io.out(
            `removed collection ${id} ${printable(gone.root)}: ${gone.images} images, ` +
              `${gone.files} preview files ${values['keep-outputs'] ? 'left in the cache folder' : 'deleted'}; ` +
              'the photos themselves were not touched',
          );
        return EXIT.ok;
      }
      case 'collections': {
        const list = core.collections();
        if (json) {
          io.out(
            jsonText(
              list.map(({ collection: c, imageCount }) => ({
                id: c.id,
                name: c.name,
                root: c.root,
                kind: c.kind,
                images: imageCount,
              })),
            ),
          );
        } else if (!list.length) io.out('no collections');
        else
          for (const { collection: c, imageCount } of list)
            io.out(
              `collection ${c.id} ${printable(c.root)} (${c.kind}): ${imageCount} images` +
                (c.offlineSince === null
                  ? ''
                  : `, offline since ${new Date(c.offlineSince).toISOString()}`),
            );
        return EXIT.ok;
      }
      case 'run':
        return await runCommand(core, json, io);
      case 'jobs': {
        const jobs = core.jobs();
        const live = core.processedBy() !== null;
        if (json) io.out(jsonText(jobs.map((j) => jobJson(j, [], live))));
        else if (!jobs.length) io.out('no jobs');
        else {
          for (const j of jobs) io.out(plainLine(j, live) + `  ${printable(j.root)}`);
          if (jobs.some((j) => waitingFor(j, live) === 'process')) io.out(START_A_PROCESS);
        }
        return EXIT.ok;
      }
      case 'job': {
        const id = parseId(args[0]);
        const job = core.job(id);
        if (!job) throw new InputError(`no job ${id} (albumen jobs lists them)`);
        const live = core.processedBy() !== null;
        printResult(core, job, json, io, live);
        if (!json && waitingFor(job, live) === 'process') io.out(START_A_PROCESS);
        return exitCodeOf([job]);
      }
      default: {
        const id = parseId(args[0]);
        if (!core.job(id)) throw new InputError(`no job ${id} (albumen jobs lists them)`);
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
        if (json) {
          const live = core.processedBy() !== null;
          io.out(jsonText(jobJson(core.job(id)!, core.failedItems(id), live)));
        }
        return EXIT.ok;
      }
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof CacheUsageError) {
      io.err(`albumen: ${printable(err.message)}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (err instanceof InputError || (err as Error).name === 'CacheError') {
      // A cache folder request the library refused (overlapping, unknown id).
      io.err(`albumen: ${printable(oneLine(err))}`);
      return EXIT.usage;
    }
    if (err instanceof RuntimeError || (err as Error).name === 'LockedError') {
      io.err(`albumen: ${printable((err as Error).message)}`);
      return EXIT.runtime;
    }
    io.err(`albumen: ${printable(oneLine(err))}`);
    return EXIT.runtime;
  } finally {
    try {
      await core?.close();
    } catch {
      // Closing a library that failed midway: the error above is the one to report.
    }
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
  const notes: (string | null)[] = [];
  for (const p of paths) {
    try {
      const r = await core.importWithNote(p);
      jobs.push(r.job);
      notes.push(r.note);
    } catch (err) {
      throw new InputError(`cannot import ${p}: ${oneLine(err)}`);
    }
  }
  if (!json) for (const n of notes) if (n) io.err(printable(n));
  if (!wait) {
    if (json) printJson(core, jobs, io);
    else
      for (const j of jobs)
        io.out(
          j.kind === 'rescan'
            ? `job ${j.id}: ${printable(j.root)}: rescan queued (albumen run processes it)`
            : `job ${j.id}: ${printable(j.root)} (queued; albumen run processes it)`,
        );
    return EXIT.ok;
  }
  const outcome = await processUntil(core, () => jobs.map((j) => j.id), json, io);
  return report(core, outcome, json, io);
}

async function runCommand(core: AlbumenCore, json: boolean, io: Io): Promise<number> {
  const seen = new Set<number>();
  const outcome = await processUntil(
    core,
    () => {
      // Every unfinished job, paused ones included (a job waiting for room is
      // waited for; one paused by the user is said so), and jobs added meanwhile.
      for (const id of core.unfinishedJobIds()) seen.add(id);
      return [...seen];
    },
    json,
    io,
    // What the start-up check of output files requeues is work of this run too.
    { untilOutputsChecked: true },
  );
  if (!outcome.jobs.length) {
    if (json) printJson(core, [], io);
    else io.out('nothing to do: no unfinished job');
    return EXIT.ok;
  }
  return report(core, outcome, json, io);
}

/** Prints the jobs' results and why it stopped early; returns the exit code. */
function report(core: AlbumenCore, outcome: Outcome, json: boolean, io: Io): number {
  if (json) printJson(core, outcome.jobs, io);
  else for (const j of outcome.jobs) printResult(core, core.job(j.id) ?? j, false, io);
  if (!outcome.paused.length) return exitCodeOf(outcome.jobs);
  for (const j of outcome.paused) {
    if (j.pauseReason === 'SOURCE_OFFLINE') {
      io.err(
        `albumen: job ${j.id} waits for its collection: ${printable(j.waitingFor ?? '')}; ` +
          'it goes on by itself in the app or `albumen serve` once it is back, or with `albumen rescan`',
      );
      continue;
    }
    io.err(
      `albumen: job ${j.id} is paused (by albumen pause, the app or another process), ` +
        `so nothing is left to run; \`albumen resume ${j.id}\` lets it go on`,
    );
  }
  return EXIT.paused;
}

/** How a wait ended: the jobs as they are, and those left paused by the user. */
interface Outcome {
  jobs: JobView[];
  paused: JobView[];
}

/** Where a set of jobs stands: all done, some can run (or wait for room), or only paused ones left. */
function assess(views: JobView[]): 'done' | 'working' | 'room' | 'paused' {
  const open = views.filter((v) => !isTerminal(v.status));
  if (!open.length) return 'done';
  if (open.some((v) => !v.paused)) return 'working';
  return open.some((v) => isSpacePause(v.pauseReason)) ? 'room' : 'paused';
}

/** How often a waiting command looks at the store (other processes change it too). */
const POLL_MS = 250;

/**
 * Processes until the jobs named by `ids()` (asked again each time, so jobs
 * added meanwhile count) are all terminal, or only jobs paused by the user (or
 * another process) are left: then it stops rather than wait for nobody. A job
 * waiting for room in its cache folder is said so once, and waited for.
 */
async function processUntil(
  core: AlbumenCore,
  ids: () => number[],
  json: boolean,
  io: Io,
  opts: { untilOutputsChecked?: boolean } = {},
): Promise<Outcome> {
  const views = (): JobView[] =>
    ids()
      .map((id) => core.job(id))
      .filter((v): v is JobView => v !== undefined);
  const before = views();
  const first = assess(before);
  if (!opts.untilOutputsChecked && (first === 'done' || first === 'paused')) {
    return { jobs: before, paused: first === 'paused' ? openOf(before) : [] };
  }
  await core.start();
  let checked = !opts.untilOutputsChecked;
  void core.whenOutputsChecked().then(() => (checked = true));
  const display = json ? null : new ProgressDisplay(io);
  const unsubscribe = display ? core.onJobChanged((j) => display.update(j)) : () => {};
  const note = (line: string) => {
    display?.interrupt();
    io.err(`albumen: ${line}`);
  };
  const unlog = core.onLog((e) => {
    if (e.level === 'error') note(printable(e.message));
  });
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    note('stopping; unfinished items stay queued for the next run');
    void core.stop().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const told = new Map<number, string>();
    for (;;) {
      // Read before the views: what the check requeued is then in them.
      const complete = checked;
      const now = views();
      for (const v of now) display?.update(v);
      const state = assess(now);
      if (complete && (state === 'done' || state === 'paused')) {
        display?.finish();
        return { jobs: now, paused: state === 'paused' ? openOf(now) : [] };
      }
      // Said once per wait: again only when what it waits for changed.
      for (const v of now) {
        if (v.waitingFor === null) told.delete(v.id);
        else if (told.get(v.id) !== v.waitingFor) {
          told.set(v.id, v.waitingFor);
          note(
            `job ${v.id} waits: ${printable(v.waitingFor)}; it goes on by itself once that is solved`,
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    unsubscribe();
    unlog();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await core.stop();
  }
}

function openOf(views: JobView[]): JobView[] {
  return views.filter((v) => !isTerminal(v.status));
}

function printResult(
  core: AlbumenCore,
  job: JobView,
  json: boolean,
  io: Io,
  processing = true,
): void {
  if (json) {
    io.out(jsonText(jobJson(job, core.failedItems(job.id, 10_000), processing)));
    return;
  }
  const totalFailed = STAGES.reduce((n, s) => n + job.stages[s].failed, 0);
  io.out(summary(job, core.failedItems(job.id, 20), totalFailed, processing));
}

function printJson(core: AlbumenCore, jobs: JobView[], io: Io): void {
  const list = jobs.map((j) => jobJson(core.job(j.id) ?? j, core.failedItems(j.id, 10_000)));
  io.out(jsonText(list.length === 1 ? list[0] : list));
}

function exitCodeOf(jobs: JobView[]): number {
  return jobs.every((j) => j.status === 'completed') ? EXIT.ok : EXIT.errors;
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

  /** A note is printed below the bars: they are drawn afresh after it. */
  interrupt(): void {
    this.drawn = 0;
  }
}

/** Entry point: checks Node first, then runs. */
export async function run(): Promise<void> {
  assertNodeVersion('albumen');
  process.exitCode = await main(process.argv.slice(2));
}
