/**
 * Watched folders: a maintained watcher (chokidar) per folder collection, so
 * that what a user does on disk while the app or `albumen serve` runs shows
 * up without a manual rescan. Chokidar over @parcel/watcher: it is plain
 * JavaScript (nothing native to build or to unpack from the desktop package),
 * it waits for a file's size to settle (`awaitWriteFinish`: a camera card
 * still being copied), and it falls back to polling on file systems whose
 * events are unreliable.
 *
 * Events are not acted on one by one: a collection's events are debounced into
 * one "changed" call, which the core turns into a rescan (cheap: unchanged
 * files are not read). A watcher that fails (too many watches, a network
 * drive) is closed and reported; the core then rescans that collection
 * periodically instead, and says so.
 */
import { sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface WatchOptions {
  /** Quiet time after the last event before `changed` is called. */
  debounceMs?: number;
  /** How long a file's size must stay the same before it counts as written. */
  stableMs?: number;
  /** Paths never watched (Albumen's data and cache folders). */
  excluded?: readonly string[];
}

export interface WatchEvents {
  /** Something changed below the collection's root (or the root itself went or came). */
  changed(collectionId: number): void;
  /** The watcher cannot follow this collection: rescan it periodically instead. */
  failed(collectionId: number, reason: string): void;
  /** The watcher is set up: from now on no change is missed. */
  ready?(collectionId: number): void;
}

interface Watched {
  root: string;
  watcher: FSWatcher;
  timer: NodeJS.Timeout | null;
}

export class CollectionWatcher {
  private readonly watched = new Map<number, Watched>();
  private readonly events: WatchEvents;
  private readonly opts: Required<WatchOptions>;

  constructor(events: WatchEvents, opts: WatchOptions = {}) {
    this.events = events;
    this.opts = {
      debounceMs: opts.debounceMs ?? 400,
      stableMs: opts.stableMs ?? 500,
      excluded: opts.excluded ?? [],
    };
  }

  /** The collections now watched. */
  ids(): number[] {
    return [...this.watched.keys()];
  }

  /** Watches a folder collection (again, if its root changed). */
  watch(collectionId: number, root: string): void {
    const current = this.watched.get(collectionId);
    if (current?.root === root) return;
    if (current) void this.unwatch(collectionId);
    const excluded = this.opts.excluded;
    const watcher = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      awaitWriteFinish: { stabilityThreshold: this.opts.stableMs, pollInterval: 100 },
      ignored: (path: string) => excluded.some((e) => path === e || path.startsWith(e + sep)),
    });
    const entry: Watched = { root, watcher, timer: null };
    const poke = () => {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        entry.timer = null;
        this.events.changed(collectionId);
      }, this.opts.debounceMs);
      entry.timer.unref();
    };
    watcher.on('all', poke);
    watcher.on('ready', () => this.events.ready?.(collectionId));
    watcher.on('error', (err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      void this.unwatch(collectionId);
      this.events.failed(collectionId, reason);
    });
    this.watched.set(collectionId, entry);
  }

  async unwatch(collectionId: number): Promise<void> {
    const w = this.watched.get(collectionId);
    if (!w) return;
    this.watched.delete(collectionId);
    if (w.timer) clearTimeout(w.timer);
    await w.watcher.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.ids().map((id) => this.unwatch(id)));
  }
}
