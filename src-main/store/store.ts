import { openDatabase, type Db } from './database.ts';
import { installWriteGate } from './write-gate.ts';
import { CacheFoldersRepo } from './cache-folders.repo.ts';
import { CollectionsRepo } from './collections.repo.ts';
import { FileDeletionsRepo } from './file-deletions.repo.ts';
import { FailuresRepo } from './failures.repo.ts';
import { DiagnosticsRepo } from './diagnostics.repo.ts';
import { ImagesRepo } from './images.repo.ts';
import { ItemsRepo } from './items.repo.ts';
import { JobsRepo } from './jobs.repo.ts';
import { OutputsRepo } from './outputs.repo.ts';
import { SettingsRepo } from './settings.repo.ts';

/**
 * The database's disk is full (SQLITE_FULL): nothing can be recorded until
 * space returns. Not any image's fault; callers wait instead of failing work.
 */
export class StoreFullError extends Error {
  override name = 'StoreFullError';
  readonly code = 'DISK_FULL';
}

function isFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'SQLITE_FULL' || (err instanceof Error && /database or disk is full/.test(err.message))
  );
}

/** Every repository of the store. Reads work anywhere; writes only inside `transition`. */
export interface Repos {
  readonly cacheFolders: CacheFoldersRepo;
  readonly collections: CollectionsRepo;
  readonly images: ImagesRepo;
  readonly items: ItemsRepo;
  readonly jobs: JobsRepo;
  readonly outputs: OutputsRepo;
  readonly settings: SettingsRepo;
  readonly diagnostics: DiagnosticsRepo;
  readonly fileDeletions: FileDeletionsRepo;
  readonly failures: FailuresRepo;
}

/** What a transition's body gets: the repositories and the transition's one clock reading. */
export interface Tx extends Repos {
  /** The time of this transition, the same for every row it writes. */
  readonly now: number;
}

/**
 * The durable store: a SQLite file, its repositories (which own all SQL), and
 * the one write path. `transition` is the only way to change state: it opens
 * a `BEGIN IMMEDIATE` transaction, runs the change, re-derives the status of
 * every job whose flags or counters changed (the write gate records them by
 * trigger, so no change can forget it), and commits. A write outside a
 * transition is refused by the database itself.
 */
export class Store implements Repos {
  readonly cacheFolders: CacheFoldersRepo;
  readonly collections: CollectionsRepo;
  readonly images: ImagesRepo;
  readonly items: ItemsRepo;
  readonly jobs: JobsRepo;
  readonly outputs: OutputsRepo;
  readonly settings: SettingsRepo;
  readonly diagnostics: DiagnosticsRepo;
  readonly fileDeletions: FileDeletionsRepo;
  readonly failures: FailuresRepo;
  /** The repositories as one object, spread into each transition's `tx`. */
  private readonly repos: Repos;
  private readonly db: Db;
  private readonly file: string;
  private readonly clock: () => number;
  private readonly gate: ReturnType<typeof installWriteGate>;
  private depth = 0;

  constructor(db: Db, opts: { clock?: () => number } = {}) {
    this.db = db;
    this.file = db.name;
    this.clock = opts.clock ?? Date.now;
    this.gate = installWriteGate(db);
    this.cacheFolders = new CacheFoldersRepo(db);
    this.collections = new CollectionsRepo(db);
    this.images = new ImagesRepo(db);
    this.items = new ItemsRepo(db);
    this.jobs = new JobsRepo(db);
    this.outputs = new OutputsRepo(db);
    this.settings = new SettingsRepo(db);
    this.diagnostics = new DiagnosticsRepo(db);
    this.fileDeletions = new FileDeletionsRepo(db);
    this.failures = new FailuresRepo(db);
    const { cacheFolders, collections, images, items, jobs, outputs, settings, diagnostics } = this;
    this.repos = {
      cacheFolders,
      collections,
      images,
      items,
      jobs,
      outputs,
      settings,
      diagnostics,
      fileDeletions: this.fileDeletions,
      failures: this.failures,
    };
  }

  /** The store's clock (what a transition's `now` reads). */
  now(): number {
    return this.clock();
  }

  /** Opens (creating and migrating if needed) the store file. */
  static open(file: string, opts: { clock?: () => number } = {}): Store {
    return new Store(openDatabase(file), opts);
  }

  /**
   * Runs `change` as one write transaction and re-derives the status of every
   * job it touched before the commit. Synchronous by design: a transaction
   * never spans an `await`. A transition inside another joins it.
   */
  transition<T>(change: (tx: Tx) => T): T {
    if (this.depth > 0) return this.run(change);
    try {
      return this.db
        .transaction(() => {
          this.gate.open();
          const result = this.run(change);
          this.rederiveTouched();
          this.gate.close();
          return result;
        })
        .immediate();
    } catch (err) {
      if (!isFull(err)) throw err;
      throw new StoreFullError(
        `the library database ${this.file} cannot grow: its disk is full (nothing is lost; work waits for space)`,
      );
    }
  }

  private run<T>(change: (tx: Tx) => T): T {
    this.depth++;
    try {
      const tx: Tx = { ...this.repos, now: this.clock() };
      const result = change(tx);
      if (result instanceof Promise) {
        throw new Error('a transition must be synchronous (no await inside a transaction)');
      }
      return result;
    } finally {
      this.depth--;
    }
  }

  private rederiveTouched(): void {
    const t = this.clock();
    for (let ids = this.gate.takeTouched(); ids.length; ids = this.gate.takeTouched()) {
      for (const id of ids) this.jobs.rederive(id, t);
    }
  }

  close(): void {
    this.db.close();
  }
}
