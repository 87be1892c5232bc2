/**
 * Runs one sequence of operations against a fresh data folder: every
 * operation drives the real product (the CLI as processes, a short-lived core
 * for settings, the file system and the volumes under it), and after every
 * one the data folder is inspected against what the model knows. The model
 * knows little on purpose: which files are valid photos, which outputs it
 * deleted, which disk faults are on. Everything else is read back from the
 * store after each step.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { walkCollection } from '../library/walk.ts';
import { photoJpeg } from '../test-support/fixtures.ts';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import { Store } from '../store/store.ts';
import { filesBelow, inspectDataDir } from '../test-support/inspect-data-dir.ts';
import type { JobRow } from '../store/rows.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { CliProcess, sleep, waitGone } from './processes.ts';
import {
  emptyVolume,
  fillVolume,
  openSandbox,
  setReadOnly,
  type Sandbox,
  type Source,
} from './sandbox.ts';
import {
  SETTINGS_CHANGES,
  describeOp,
  type Action,
  type CrashAt,
  type DiskFault,
  type Op,
  type SourceChange,
  type Timed,
} from './ops.ts';
import { classify, type KnownIssueId } from './known-issues.ts';

/** Counts across sequences, printed by the fuzzer. */
export interface Figures {
  sequences: number;
  operations: Record<string, number>;
  faults: Record<string, number>;
  /** Fault kinds not injected for lack of privileges (mounts). */
  skipped: Record<string, number>;
  /** After-step inspections that found every invariant holding. */
  checksPassed: number;
  /** Separate invariants those inspections checked. */
  invariantsChecked: number;
  /** Problems matching a known, reported issue (tolerated unless strict). */
  known: Record<string, number>;
}

export function newFigures(): Figures {
  return {
    sequences: 0,
    operations: {},
    faults: {},
    skipped: {},
    checksPassed: 0,
    invariantsChecked: 0,
    known: {},
  };
}

function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

export interface WorldOptions {
  sources: Source[];
  /** Where sandboxes are made. */
  base: string;
  /** Use tmpfs volumes when privileged (default true). */
  mount?: boolean;
  figures?: Figures;
  /** Known issues whose problems are counted, not failed. */
  tolerate?: readonly KnownIssueId[];
  log?: (line: string) => void;
}

/** What a sequence did and found. */
export interface SequenceResult {
  /** Problems of the first step that had any (empty when all held). */
  problems: string[];
  /** Index of that step; ops.length is the final phase. */
  failedAt: number | null;
  /** One line per step: the operation and how it went. */
  steps: string[];
}

/** How long a processing command may take when nothing should hold it up. */
const RUN_DEADLINE_MS = 45_000;
/** …and when a full disk or a size limit may keep it waiting for room. */
const BLOCKED_DEADLINE_MS = 6_000;
/** How long a short command (pause, cache add…) may take. */
const SHORT_DEADLINE_MS = 30_000;
/** How long `albumen serve` may take to follow watched changes by itself. */
const WATCH_FOLLOW_MS = 10_000;
/** How long a render host may outlive its owner. */
const HOST_GRACE_MS = 5_000;

export class FaultWorld {
  readonly sb: Sandbox;
  private readonly o: WorldOptions;
  private readonly figures: Figures;
  private readonly deleted = new Set<string>();
  private readonly valid: Map<string, Set<string>>;
  private readonly faults = { 'cache-full': false, 'cache-readonly': false, 'data-full': false };
  private readonly steps: string[] = [];
  private readonly extraProblems: string[] = [];
  /** The last processing command ended by itself (no kill since). */
  private cleanEnd = false;
  /**
   * The sources of this sequence: folder collections are copies of their own,
   * which `edit` changes as a user would; archives are shared (never changed).
   */
  private readonly sources: Source[];
  /** Entry path (by root) → the image id it must keep: a moved or renamed photo. */
  private readonly keepsId = new Map<string, Map<string, number>>();
  private added = 0;
  /** Whether the library's `watchFolders` setting is on (a serve session must then follow). */
  private watching = true;
  /** Folder sources whose root is away now (renamed: an unplugged drive), with their image count. */
  private readonly unplugged = new Map<string, number>();

  constructor(o: WorldOptions) {
    this.o = o;
    this.figures = o.figures ?? newFigures();
    this.sb = openSandbox(o.base, { mount: o.mount ?? true });
    this.sources = o.sources.map((s) => {
      if (!isFolder(s.path)) return s;
      const copy = join(this.sb.root, 'sources', s.name);
      mkdirSync(dirname(copy), { recursive: true });
      // cp -a: the bad files include links (a loop among them) that must stay links.
      execFileSync('cp', ['-a', s.path, copy]);
      return { ...s, path: copy };
    });
    this.valid = new Map(this.sources.map((s) => [s.path, new Set(s.valid)]));
  }

  close(): void {
    this.sb.close();
  }

  private get base(): string[] {
    return ['--data-dir', this.sb.dataDir];
  }

  // ---- reading the store --------------------------------------------------------------

  /** Reads the store (safe beside a running process: WAL readers never block). */
  private read<T>(f: (s: Store) => T): T {
    const s = Store.open(join(this.sb.dataDir, 'library.db'));
    try {
      return f(s);
    } finally {
      s.close();
    }
  }

  private jobs(): JobRow[] {
    try {
      return this.read((s) => s.jobs.page(1000, 0)).sort((a, b) => a.id - b.id);
    } catch {
      return [];
    }
  }

  private folders() {
    try {
      return this.read((s) => s.cacheFolders.list());
    } catch {
      return [];
    }
  }

  private extraFolderId(): number | undefined {
    return this.folders().find((f) => f.path === this.sb.cacheDir)?.id;
  }

  /** Output files on disk now, in a stable order. */
  private outputFiles(): string[] {
    const dirs = [join(this.sb.dataDir, 'cache'), this.sb.cacheDir];
    return dirs
      .flatMap((d) => filesBelow(d))
      .filter((f) => /\/(thumbnail|cache)\/\d+\/\d+-[0-9a-f]+\.\w+$/.test(f))
      .sort();
  }

  // ---- processes ----------------------------------------------------------------------

  private log(line: string): void {
    this.o.log?.(line);
  }

  /** Runs a short CLI command to its end. */
  private async short(args: string[], env: Record<string, string> = {}): Promise<string> {
    const p = new CliProcess([...args, ...this.base], env);
    const timer = setTimeout(() => p.kill(), SHORT_DEADLINE_MS);
    const exit = await p.exited;
    clearTimeout(timer);
    await this.reap(p);
    if (p.killedByTest)
      this.extraProblems.push(
        `albumen ${args.join(' ')} hung: killed after ${SHORT_DEADLINE_MS} ms`,
      );
    const how = exit.signal ?? `exit ${exit.code}`;
    if (
      exit.code === 2 &&
      !this.anyDiskFault() &&
      !/INVALID_INPUT|NOT_FOUND|not |cannot|must/.test(p.stderr)
    ) {
      this.extraProblems.push(`albumen ${args.join(' ')} failed: ${p.stderr.trim()}`);
    }
    return `${args[0]}${args[1] && !args[1].startsWith('-') ? ' ' + args[1] : ''}: ${how}${exit.code === 2 ? ` (${firstLine(p.stderr)})` : ''}`;
  }

  /** Waits for the render host (and anything else below) to end after its owner did. */
  private async reap(p: CliProcess): Promise<void> {
    const left = await waitGone(p.descendants, HOST_GRACE_MS);
    if (left.length) {
      this.extraProblems.push(
        `render host ${left.join(', ')} outlived its owner ${p.pid} by more than ${HOST_GRACE_MS} ms`,
      );
    }
  }

  private anyDiskFault(): boolean {
    return Object.values(this.faults).some(Boolean);
  }

  /**
   * A full disk, a size limit or a read-only cache folder may keep a run waiting
   * (its jobs pause DISK_FULL or READ_ONLY and resume once the folder takes writes).
   */
  private mayBlock(): boolean {
    return (
      this.faults['cache-full'] ||
      this.faults['data-full'] ||
      this.faults['cache-readonly'] ||
      this.folders().some((f) => f.limitBytes !== null)
    );
  }

  /**
   * A processing command (run, import --wait): performs the timed actions while
   * it runs, kills it at `killAtMs`, or waits for its end (interrupting it with
   * SIGINT past the deadline, as a user's Ctrl-C).
   */
  private async processing(
    args: string[],
    opts: { crashAt?: CrashAt; killAtMs?: number; during?: Timed[] },
  ): Promise<string> {
    const env: Record<string, string> = opts.crashAt ? { ALBUMEN_CRASH_AT: opts.crashAt } : {};
    const blocked = this.mayBlock();
    let heldUp = blocked;
    const p = new CliProcess([...args, ...this.base], env);
    const killer = opts.killAtMs === undefined ? null : setTimeout(() => p.kill(), opts.killAtMs);
    const deadline = blocked ? BLOCKED_DEADLINE_MS : RUN_DEADLINE_MS;
    let interrupted = false;
    const stop = (ms: number) =>
      setTimeout(() => {
        interrupted = true;
        p.interrupt();
      }, ms);
    let limit = deadline;
    let stopper = stop(limit);
    const hard = setTimeout(() => p.kill(), deadline + 15_000);
    const notes: string[] = [];
    try {
      for (const t of opts.during ?? []) {
        const wait = p.startedAt + t.atMs - Date.now();
        if (wait > 0) await Promise.race([sleep(wait), p.exited]);
        if (!p.alive) break;
        notes.push(await this.act(t.action, p));
      }
      // A fault switched on while it runs (a data volume that fills) may hold it up
      // too: it is then given the shorter deadline of a run waiting for room.
      if (!heldUp && this.mayBlock()) {
        heldUp = true;
        clearTimeout(stopper);
        limit = BLOCKED_DEADLINE_MS;
        stopper = stop(limit);
      }
      await p.exited;
    } finally {
      if (killer) clearTimeout(killer);
      clearTimeout(stopper);
      clearTimeout(hard);
    }
    const exit = await p.exited;
    await this.reap(p);
    let how: string;
    if (p.killedByTest && !interrupted) {
      how = 'killed at a random instant';
      bump(this.figures.faults, 'kill at a random instant');
      this.cleanEnd = false;
    } else if (exit.signal === 'SIGKILL') {
      how = `died at ${opts.crashAt ?? 'an unknown point'}`;
      bump(this.figures.faults, `kill at ${opts.crashAt?.split(':')[0] ?? 'unknown'}`);
      this.cleanEnd = false;
      if (!opts.crashAt) this.extraProblems.push(`albumen ${args[0]} died by SIGKILL nobody sent`);
    } else if (interrupted) {
      how = `interrupted after ${limit} ms (${exit.signal ?? `exit ${exit.code}`})`;
      this.cleanEnd = false;
      if (p.killedByTest) this.extraProblems.push(`albumen ${args[0]} ignored SIGINT for 15 s`);
      else if (!heldUp) {
        this.extraProblems.push(
          `albumen ${args[0]} did not finish within ${limit} ms with no fault that could hold it up`,
        );
      }
    } else {
      how = `exit ${exit.code}`;
      this.cleanEnd = exit.code === 0 || exit.code === 1;
      if (exit.code === 2) {
        how += ` (${firstLine(p.stderr)})`;
        if (!this.anyDiskFault()) {
          this.extraProblems.push(`albumen ${args.join(' ')} failed: ${p.stderr.trim()}`);
        }
      }
    }
    return [`${how} after ${Date.now() - p.startedAt} ms`, ...notes].join('; ');
  }

  // ---- actions --------------------------------------------------------------------------

  private async act(a: Action, p: CliProcess | null): Promise<string> {
    switch (a.act) {
      case 'control': {
        const jobs = this.jobs();
        if (!jobs.length) return `${a.command}: no job`;
        const j = jobs[a.job % jobs.length]!;
        return this.short([a.command, String(j.id)]);
      }
      case 'delete-output':
        return this.deleteOutputs(a.pick, 1);
      case 'stop-host': {
        const host = p?.host();
        if (!host) return 'stop-host: no host yet';
        bump(this.figures.faults, 'SIGSTOP of the render host');
        process.kill(host, 'SIGSTOP');
        try {
          await Promise.race([sleep(a.ms), p!.exited]);
        } finally {
          try {
            process.kill(host, 'SIGCONT');
          } catch {
            // already gone
          }
        }
        return `stopped host ${a.ms} ms`;
      }
      case 'reconcile':
        return this.short(['cache', 'reconcile']);
      case 'import': {
        const s = this.sources[a.collection % this.sources.length]!;
        return this.short(['import', s.path]);
      }
      case 'disk':
        return this.disk(a.fault, a.on);
      case 'edit':
        return this.editSource(a.collection, a.change, a.pick);
      case 'unplug':
        return this.unplug(a.collection, a.on);
    }
  }

  /** Where an unplugged source's folder waits to come back. */
  private static away(path: string): string {
    return `${path} (unplugged)`;
  }

  /**
   * A folder collection's root goes away (renamed, as an unplugged drive looks)
   * or comes back. While away, nothing of it may be removed from the library.
   */
  private unplug(collection: number, on: boolean): string {
    const s = this.folderSource(collection);
    if (!s) return 'unplug: no folder collection';
    return this.setAway(s, on);
  }

  /** The folder sources (those away too), picked by an index taken modulo their number. */
  private folderSource(pick: number): Source | undefined {
    const folders = this.sources.filter((s) => this.unplugged.has(s.path) || isFolder(s.path));
    return folders[pick % Math.max(1, folders.length)];
  }

  private setAway(s: Source, on: boolean): string {
    if (this.unplugged.has(s.path) === on) return `${s.name} already ${on ? 'away' : 'back'}`;
    if (on) {
      const id = this.collectionIdOf(s.path);
      const images = id === undefined ? -1 : this.read((st) => st.images.idsOf(id).length);
      renameSync(s.path, FaultWorld.away(s.path));
      this.unplugged.set(s.path, images);
      bump(this.figures.faults, 'root away');
      return `${s.name} unplugged`;
    }
    renameSync(FaultWorld.away(s.path), s.path);
    this.unplugged.delete(s.path);
    return `${s.name} plugged back`;
  }

  /**
   * While a collection's root is away: every image it had is still there (none
   * gone or removed), and none of its jobs failed for it.
   */
  private offlineKeepsAll(): string[] {
    const problems: string[] = [];
    for (const [path, images] of this.unplugged) {
      const id = this.collectionIdOf(path);
      if (id === undefined) continue; // removed by the user, or never imported
      this.figures.invariantsChecked += 2;
      const now = this.read((st) => st.images.idsOf(id).length);
      if (images >= 0 && now < images) {
        problems.push(`${basename(path)} is away: it had ${images} images and has ${now}`);
      }
      for (const j of this.jobs()) {
        if (j.collectionId === id && j.status === 'failed') {
          problems.push(
            `${basename(path)} is away: its job ${j.id} failed (${j.error?.code ?? '?'}: ${j.error?.message ?? ''}) instead of waiting`,
          );
        }
      }
    }
    return problems;
  }

  /**
   * `albumen serve` watches while photos change and roots go and come. Unless
   * it is killed, the library must then follow the disk by itself — no rescan
   * asked for — within WATCH_FOLLOW_MS, before it is stopped with SIGINT.
   */
  private async watchSession(op: { during: Timed[]; kill: boolean }): Promise<string> {
    const p = new CliProcess(['serve', '--port', '0', ...this.base], {});
    const hard = setTimeout(() => p.kill(), RUN_DEADLINE_MS + 15_000);
    const notes: string[] = [];
    try {
      const t0 = Date.now();
      while (p.alive && !p.stdout.includes('http://') && Date.now() - t0 < SHORT_DEADLINE_MS) {
        await sleep(50);
      }
      if (!p.alive || !p.stdout.includes('http://')) {
        p.kill();
        await p.exited;
        await this.reap(p);
        if (!this.anyDiskFault())
          this.extraProblems.push(`albumen serve did not start: ${firstLine(p.stderr)}`);
        this.cleanEnd = false;
        return `serve did not start (${firstLine(p.stderr)})`;
      }
      const started = Date.now();
      for (const t of op.during) {
        const wait = started + t.atMs - Date.now();
        if (wait > 0) await Promise.race([sleep(wait), p.exited]);
        if (!p.alive) break;
        notes.push(await this.act(t.action, p));
      }
      if (op.kill) {
        p.kill();
        await p.exited;
        await this.reap(p);
        bump(this.figures.faults, 'kill of albumen serve');
        this.cleanEnd = false;
        return ['killed', ...notes].join('; ');
      }
      let follow = this.watching
        ? 'not checked (a disk fault may hold it up)'
        : 'not checked (watching is off)';
      if (this.watching && !this.mayBlock() && p.alive) {
        const t1 = Date.now();
        let left = await this.notFollowed();
        while (left.length && p.alive && Date.now() - t1 < WATCH_FOLLOW_MS) {
          await sleep(200);
          left = await this.notFollowed();
        }
        if (left.length) {
          this.extraProblems.push(
            `albumen serve did not follow the disk within ${WATCH_FOLLOW_MS} ms: ${left.join('; ')}`,
          );
        }
        follow = `followed in ${Date.now() - t1} ms`;
        bump(this.figures.operations, 'watched changes followed');
      }
      p.interrupt();
      const exit = await p.exited;
      await this.reap(p);
      this.cleanEnd = exit.code === 0;
      if (exit.code !== 0 && !p.killedByTest && !this.anyDiskFault()) {
        this.extraProblems.push(
          `albumen serve stopped with ${exit.signal ?? `exit ${exit.code}`}: ${firstLine(p.stderr)}`,
        );
      }
      return [`${follow}; stopped (${exit.signal ?? `exit ${exit.code}`})`, ...notes].join('; ');
    } finally {
      clearTimeout(hard);
    }
  }

  /**
   * What keeps the library from following the disk now: a folder collection
   * whose images differ from its files, or an unfinished job of a collection
   * that is there (one whose root is away waits, as it must).
   */
  private async notFollowed(): Promise<string[]> {
    const problems = await this.libraryFollowsDisk();
    const away = new Set(
      [...this.unplugged.keys()].map((p) => this.collectionIdOf(p)).filter((x) => x !== undefined),
    );
    for (const j of this.jobs()) {
      if (!isTerminal(j.status) && !away.has(j.collectionId)) {
        problems.push(`job ${j.id} is ${j.status}`);
      }
    }
    return problems;
  }

  private deleteOutputs(pick: number, count: number): string {
    const files = this.outputFiles();
    if (!files.length) return 'delete-output: none to delete';
    const gone: string[] = [];
    for (let i = 0; i < count && files.length; i++) {
      const [f] = files.splice((pick + i * 7) % files.length, 1);
      try {
        unlinkSync(f!);
        this.deleted.add(f!);
        gone.push(f!.slice(this.sb.root.length));
        bump(this.figures.faults, 'delete an output file');
      } catch {
        // a read-only folder: nothing deleted
      }
    }
    return `deleted ${gone.join(', ') || 'nothing'}`;
  }

  private disk(fault: DiskFault, on: boolean): string {
    const volume = fault === 'data-full' ? this.sb.dataVolume : this.sb.cacheVolume;
    if (!volume) {
      bump(this.figures.skipped, fault);
      return `${fault}: skipped (cannot mount)`;
    }
    if (this.faults[fault] === on) return `${fault} already ${on ? 'on' : 'off'}`;
    const ro =
      fault !== 'cache-readonly' && volume === this.sb.cacheVolume && this.faults['cache-readonly'];
    if (ro) setReadOnly(volume, false);
    try {
      if (fault === 'cache-readonly') setReadOnly(volume, on);
      else if (on) fillVolume(volume);
      else emptyVolume(volume);
    } finally {
      if (ro) setReadOnly(volume, true);
    }
    this.faults[fault] = on;
    if (on) bump(this.figures.faults, fault);
    return `${fault} ${on ? 'on' : 'off'}`;
  }

  // ---- operations -----------------------------------------------------------------------

  /** Performs one operation; returns how it went. */
  async perform(op: Op): Promise<string> {
    bump(this.figures.operations, op.op);
    switch (op.op) {
      case 'import': {
        const s = this.sources[op.collection % this.sources.length]!;
        // A folder that is away cannot be imported: refused (NOT_FOUND), as it must be.
        if (this.unplugged.has(s.path)) return this.short(['import', s.path]);
        if (!op.wait && !op.crashAt && op.killAtMs === undefined && !op.during?.length) {
          return this.short(['import', s.path]);
        }
        return this.processing(['import', s.path, ...(op.wait ? ['--wait'] : [])], op);
      }
      case 'run':
        return this.processing(['run'], op);
      case 'control':
        return this.act({ act: 'control', command: op.command, job: op.job }, null);
      case 'delete-output':
        return this.deleteOutputs(op.pick, op.count);
      case 'reconcile':
        if (!op.crashAt && op.killAtMs === undefined) return this.short(['cache', 'reconcile']);
        return this.processing(['cache', 'reconcile'], op);
      case 'settings':
        return this.settings(op.patch);
      case 'regenerate':
        return this.short(['cache', 'regenerate']);
      case 'cache-add': {
        if (this.extraFolderId() !== undefined) return 'cache add: already added';
        return this.short([
          'cache',
          'add',
          this.sb.cacheDir,
          ...(op.limit ? ['--limit', op.limit] : []),
        ]);
      }
      case 'cache-remove': {
        const id = this.extraFolderId();
        if (id === undefined) return 'cache remove: no extra folder';
        const def = this.folders().find((f) => f.path !== this.sb.cacheDir)?.id;
        return this.short([
          'cache',
          'remove',
          String(id),
          ...(op.moveTo && def ? ['--move-to', String(def)] : []),
        ]);
      }
      case 'cache-limit': {
        const f = this.folders().find(
          (x) => (x.path === this.sb.cacheDir) === (op.folder === 'extra'),
        );
        if (!f) return `cache limit: no ${op.folder} folder`;
        return this.short(['cache', 'limit', String(f.id), op.size]);
      }
      case 'disk':
        return this.disk(op.fault, op.on);
      case 'edit':
        return this.editSource(op.collection, op.change, op.pick);
      case 'rescan':
        return this.processing(['rescan', '--wait'], op);
      case 'remove': {
        const s = this.sources[op.collection % this.sources.length]!;
        const id = this.collectionIdOf(s.path);
        if (id === undefined) return `remove: ${s.name} is not in the library`;
        this.keepsId.delete(s.path);
        if (!op.crashAt) return this.short(['remove', String(id)]);
        return this.processing(['remove', String(id)], op);
      }
      case 'unplug':
        return this.unplug(op.collection, op.on);
      case 'watch':
        return this.watchSession(op);
    }
  }

  private collectionIdOf(root: string): number | undefined {
    return this.read((s) => s.collections.list().find((c) => c.root === root)?.id);
  }

  /** The id of the image at `entryPath` of the collection rooted at `root`, if any. */
  private imageIdAt(root: string, entryPath: string): number | undefined {
    return this.read((s) => {
      const c = s.collections.list().find((x) => x.root === root);
      const img = c && s.images.byPath(c.id, entryPath);
      return img && img.goneAt === null ? img.id : undefined;
    });
  }

  /**
   * Changes a photo of a folder collection behind the app's back: adds a new
   * one, deletes, rewrites, moves into a subfolder or renames one. What the
   * model then expects: the valid photos follow, and a moved or renamed photo
   * keeps its image id (once the library has it) through the next rescans.
   */
  private async editSource(
    collection: number,
    change: SourceChange,
    pick: number,
  ): Promise<string> {
    const s = this.folderSource(collection);
    if (!s) return 'edit: no folder collection';
    if (this.unplugged.has(s.path)) return `edit ${s.name}: it is unplugged`;
    const valid = this.valid.get(s.path)!;
    const keeps = this.keepsId.get(s.path) ?? new Map<string, number>();
    this.keepsId.set(s.path, keeps);
    const abs = (entry: string) => join(s.path, ...entry.split('/'));
    if (change === 'add') {
      const name = `added-${++this.added}.jpg`;
      writeFileSync(abs(name), await photoJpeg(200 + this.added * 8, 150));
      valid.add(name);
      return `edit ${s.name}: added ${name}`;
    }
    const list = [...valid].sort();
    const f = list[pick % Math.max(1, list.length)];
    if (!f) return `edit ${s.name}: no photo to ${change}`;
    if (change === 'delete') {
      unlinkSync(abs(f));
      valid.delete(f);
      keeps.delete(f);
      return `edit ${s.name}: deleted ${f}`;
    }
    if (change === 'modify') {
      writeFileSync(abs(f), await photoJpeg(180 + (pick % 50) * 4, 140, { quality: 75 }));
      // Its content changed: found at the same path, but no longer recognised if it moves.
      keeps.delete(f);
      return `edit ${s.name}: rewrote ${f}`;
    }
    if (change === 'move-across') return this.moveAcross(s, f);
    const to =
      change === 'move'
        ? f.startsWith('sub/')
          ? basename(f).replace(/^/, 'up-')
          : `sub/${basename(f)}`
        : `${dirname(f) === '.' ? '' : `${dirname(f)}/`}renamed-${++this.added}-${basename(f)}`;
    mkdirSync(dirname(abs(to)), { recursive: true });
    renameSync(abs(f), abs(to));
    const id = keeps.get(f) ?? this.imageIdAt(s.path, f);
    keeps.delete(f);
    if (id !== undefined) keeps.set(to, id);
    valid.delete(f);
    valid.add(to);
    return `edit ${s.name}: ${change}d ${f} to ${to}${id === undefined ? '' : ` (image ${id})`}`;
  }

  /**
   * Moves photo `f` of source `s` into another folder source that is there. A
   * photo moved between two collections of the library keeps its image id.
   */
  private moveAcross(s: Source, f: string): string {
    const dest = this.sources.find(
      (o) => o !== s && !this.unplugged.has(o.path) && isFolder(o.path) && this.valid.has(o.path),
    );
    if (!dest) return `edit ${s.name}: no other folder to move ${f} to`;
    const to = `across-${++this.added}-${basename(f)}`;
    renameSync(join(s.path, ...f.split('/')), join(dest.path, to));
    const keeps = this.keepsId.get(s.path);
    const id = keeps?.get(f) ?? this.imageIdAt(s.path, f);
    keeps?.delete(f);
    this.valid.get(s.path)!.delete(f);
    this.valid.get(dest.path)!.add(to);
    // Only between collections: one not imported yet takes the photo in as new.
    const into = this.collectionIdOf(dest.path) !== undefined && id !== undefined;
    if (into) {
      const destKeeps = this.keepsId.get(dest.path) ?? new Map<string, number>();
      this.keepsId.set(dest.path, destKeeps);
      destKeeps.set(to, id);
    }
    bump(this.figures.operations, 'moves between collections');
    return `edit ${s.name}: moved ${f} to ${dest.name}/${to}${into ? ` (image ${id})` : ''}`;
  }

  /**
   * After the final run: each folder collection's images are exactly the
   * files a walk finds, and every moved or renamed photo kept its image id.
   */
  private async libraryFollowsDisk(): Promise<string[]> {
    const problems: string[] = [];
    for (const s of this.sources) {
      if (this.unplugged.has(s.path) || !isFolder(s.path)) continue;
      const id = this.collectionIdOf(s.path);
      if (id === undefined) continue;
      const onDisk: string[] = [];
      for await (const batch of walkCollection(
        { kind: 'folder', root: s.path },
        { batchSize: 500, limits: DEFAULT_SETTINGS.limits },
      )) {
        for (const e of batch) onDisk.push(e.entryPath);
      }
      const inLibrary = this.read((st) => st.images.page(id, 100_000, 0).map((i) => i.entryPath));
      const missing = onDisk.filter((p) => !inLibrary.includes(p));
      const ghosts = inLibrary.filter((p) => !onDisk.includes(p));
      if (missing.length)
        problems.push(`${s.name}: files not in the library: ${missing.join(', ')}`);
      if (ghosts.length) problems.push(`${s.name}: images without a file: ${ghosts.join(', ')}`);
      for (const [entry, want] of this.keepsId.get(s.path) ?? []) {
        const got = this.imageIdAt(s.path, entry);
        if (got !== undefined && got !== want) {
          problems.push(
            `${s.name}: ${entry} was moved or renamed from image ${want}, but is image ${got}`,
          );
        }
      }
    }
    this.figures.invariantsChecked += 2;
    return problems;
  }

  /** A settings change through a short-lived core (never while a CLI process runs). */
  private async settings(name: keyof typeof SETTINGS_CHANGES): Promise<string> {
    const { openNodeCore } = await import('../core/compose-node.ts');
    try {
      const core = openNodeCore({ dataDir: this.sb.dataDir, logFile: null });
      try {
        core.settingsStore.update(structuredClone(SETTINGS_CHANGES[name]));
        this.watching = core.settings().watchFolders;
      } finally {
        await core.close();
      }
      return `settings ${name}`;
    } catch (err) {
      if (!this.anyDiskFault()) this.extraProblems.push(`settings ${name} failed: ${String(err)}`);
      return `settings ${name}: ${String(err)}`;
    }
  }

  // ---- checks ---------------------------------------------------------------------------

  /** Inspects the data folder; returns the step's problems (known issues taken out). */
  check(opts: { final?: boolean } = {}): string[] {
    let problems: string[] = this.extraProblems.splice(0);
    problems.push(...this.offlineKeepsAll());
    // SQLite cannot even open a WAL database on a full disk (it makes its -shm
    // file): no process runs now, so the filler steps aside for the inspection.
    const refill = this.faults['data-full'] && this.sb.dataVolume;
    if (refill) emptyVolume(refill);
    try {
      const r0 = inspectDataDir(this.sb.dataDir, {
        deleted: this.deleted,
        valid: this.valid,
        final: opts.final,
      });
      problems.push(...r0.problems);
      this.figures.invariantsChecked += r0.checked;
      // Idle: the last processing command ended by itself and left every job terminal.
      const idle = this.cleanEnd && r0.jobs.every((j) => isTerminal(j.status));
      if (idle || opts.final) {
        this.figures.invariantsChecked += 4;
        if (r0.temps.length)
          problems.push(`temporary files left once idle: ${r0.temps.join(', ')}`);
        if (r0.orphans.length)
          problems.push(`files without output rows once idle: ${r0.orphans.join(', ')}`);
        if (r0.queued) problems.push(`${r0.queued} files still queued for deletion once idle`);
        if (r0.gone) problems.push(`${r0.gone} gone images not deleted once idle`);
      }
    } catch (err) {
      problems.push(`inspection failed: ${String(err)}`);
    } finally {
      if (refill) fillVolume(refill);
    }
    const { failing, known } = classify(problems, this.o.tolerate ?? []);
    for (const k of known) bump(this.figures.known, k);
    problems = failing;
    if (!problems.length) this.figures.checksPassed++;
    return problems;
  }

  /**
   * The end of every sequence: faults stop (disks emptied and writable, no size
   * limit), jobs the user paused are resumed, and one `albumen run` must bring
   * every job to a terminal state with every valid photo's outputs made.
   */
  async finish(): Promise<string> {
    const notes: string[] = [];
    for (const s of this.sources)
      if (this.unplugged.has(s.path)) notes.push(this.setAway(s, false));
    for (const f of ['cache-readonly', 'cache-full', 'data-full'] as const) {
      if (this.faults[f]) notes.push(this.disk(f, false));
    }
    for (const f of this.folders()) {
      if (f.limitBytes !== null)
        notes.push(await this.short(['cache', 'limit', String(f.id), 'none']));
    }
    for (const j of this.jobs()) {
      if (j.paused && j.pauseReason === 'user' && !isTerminal(j.status)) {
        notes.push(await this.short(['resume', String(j.id)]));
      }
    }
    // A rescan of everything, as at start-up, so that the library follows the disk.
    notes.push(`final rescan: ${await this.processing(['rescan', '--wait'], {})}`);
    notes.push(`final run: ${await this.processing(['run'], {})}`);
    // Every job must be terminal now. Whatever is not is a problem; it is then
    // resumed and run once more, so that the outputs can still be checked.
    const left = this.jobs().filter((j) => !isTerminal(j.status));
    for (const j of left) {
      const pending = this.read((s) => {
        const st = s.jobs.stages(j.id);
        return st.scan.pending + st.thumbnail.pending + st.cache.pending;
      });
      this.extraProblems.push(
        j.paused
          ? `job ${j.id} is paused (${j.pauseReason ?? 'user'}: ${j.pauseDetail ?? ''}) after the final run; log: ${this.logTail(/offline|reachable|empty|not a folder|waits/)}`
          : `job ${j.id} is ${j.status} with ${pending} pending items after the final run: albumen run exited with work left`,
      );
      if (j.paused) notes.push(await this.short(['resume', String(j.id)]));
    }
    if (left.length) notes.push(`second final run: ${await this.processing(['run'], {})}`);
    this.extraProblems.push(...(await this.libraryFollowsDisk()));
    return notes.join('; ');
  }

  /** The last lines of the data folder's log that match `re` (for a problem's context). */
  private logTail(re: RegExp, n = 6): string {
    try {
      const lines = readFileSync(join(this.sb.dataDir, 'albumen.log'), 'utf8').split('\n');
      return (
        lines
          .filter((l) => re.test(l))
          .slice(-n)
          .join(' | ') || 'nothing'
      );
    } catch {
      return 'no log';
    }
  }

  record(i: number | 'final', op: string, outcome: string): void {
    const line = `${i === 'final' ? 'final' : `#${i}`} ${op} → ${outcome}`;
    this.steps.push(line);
    this.log(line);
  }

  get history(): string[] {
    return this.steps;
  }
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.slice(0, 200) ?? '';
}

/** Runs `ops` on a fresh data folder, checking after every step and at the end. */
export async function runSequence(ops: readonly Op[], o: WorldOptions): Promise<SequenceResult> {
  const w = new FaultWorld(o);
  const figures = o.figures;
  if (figures) figures.sequences++;
  try {
    for (const [i, op] of ops.entries()) {
      const outcome = await w.perform(op);
      w.record(i, describeOp(op), outcome);
      const problems = w.check();
      if (problems.length) return { problems, failedAt: i, steps: w.history };
    }
    const outcome = await w.finish();
    w.record('final', 'faults off, resume, run', outcome);
    const problems = w.check({ final: true });
    return { problems, failedAt: problems.length ? ops.length : null, steps: w.history };
  } finally {
    w.close();
  }
}
