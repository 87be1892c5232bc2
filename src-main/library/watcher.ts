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
import { statfs } from 'node:fs/promises';
import { sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/**
 * File systems whose changes make no inotify events here (changes made by
 * other machines never reach this kernel), by their statfs magic number.
 */
const REMOTE_FILE_SYSTEMS = new Map<number, string>([
  [0x6969, 'NFS'],
  [0x517b, 'SMB'],
  [0xff534d42, 'CIFS'],
  [0xfe534d42, 'SMB2'],
  [0x65735546, 'FUSE (sshfs, rclone…)'],
  [0x5346414f, 'AFS'],
  [0x564c, 'NCP'],
  [0x01021997, '9P'],
]);

/** The kind of network file system `path` is on, or null for a local one (or when unknown). */
export async function remoteFileSystem(path: string): Promise<string | null> {
  const st = await statfs(path).catch(() => null);
  return st ? (REMOTE_FILE_SYSTEMS.get(st.type) ?? null) : null;
}

export interface WatchOptions {
  /** Quiet time after the last event before `changed` is called. */
  debounceMs?: number;
  /** Longest wait after an event before `changed` is called, quiet or not. */
  maxWaitMs?: number;
  /** How long a file's size must stay the same before it counts as written. */
  stableMs?: number;
  /** Paths never watched (Albumen's data and cache folders). */
  excluded?: readonly string[];
  /** Tells a network file system (default: by statfs; tests stand in for a network drive). */
  remoteFileSystem?: (path: string) => Promise<string | null>;
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
  /** When the first event not yet reported came (0: none pending). */
  firstEventAt: number;
}

export class CollectionWatcher {
  private readonly watched = new Map<number, Watched>();
  private readonly events: WatchEvents;
  private readonly opts: Required<WatchOptions>;

  constructor(events: WatchEvents, opts: WatchOptions = {}) {
    this.events = events;
    this.opts = {
      debounceMs: opts.debounceMs ?? 400,
      maxWaitMs: opts.maxWaitMs ?? 1500,
      stableMs: opts.stableMs ?? 500,
      excluded: opts.excluded ?? [],
      remoteFileSystem: opts.remoteFileSystem ?? remoteFileSystem,
    };
  }

  /** The collections now watched. */
  ids(): number[] {
    return [...this.watched.keys()];
  }

  /**
   * Watches a collection's folder or archive (again, if its root changed). On
   * a network file system it reports `failed` instead: a watcher there would
   * stay silent.
   */
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
    const entry: Watched = { root, watcher, timer: null, firstEventAt: 0 };
    const fire = () => {
      entry.timer = null;
      entry.firstEventAt = 0;
      this.events.changed(collectionId);
    };
    // Quiet for debounceMs, or at the latest maxWaitMs after the first event: a
    // long copy (10,000 files) shows up as it goes, not only once it ends.
    const poke = () => {
      const now = Date.now();
      if (entry.timer) clearTimeout(entry.timer);
      if (!entry.firstEventAt) entry.firstEventAt = now;
      const left = entry.firstEventAt + this.opts.maxWaitMs - now;
      entry.timer = setTimeout(fire, Math.max(0, Math.min(this.opts.debounceMs, left)));
      entry.timer.unref();
    };
    watcher.on('all', poke);
    watcher.on('ready', () => {
      if (this.watched.get(collectionId) === entry) this.events.ready?.(collectionId);
    });
    watcher.on('error', (err: unknown) => {
      if (this.watched.get(collectionId) !== entry) return;
      const reason = err instanceof Error ? err.message : String(err);
      void this.unwatch(collectionId);
      this.events.failed(collectionId, reason);
    });
    this.watched.set(collectionId, entry);
    void this.opts.remoteFileSystem(root).then((kind) => {
      if (!kind || this.watched.get(collectionId) !== entry) return;
      void this.unwatch(collectionId);
      this.events.failed(
        collectionId,
        `on a network drive (${kind}), whose changes make no events`,
      );
    });
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
