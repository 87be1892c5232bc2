import Database from 'better-sqlite3';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';

/**
 * The lock itself: an SQLite file that the holder keeps in an exclusive
 * transaction. SQLite takes it with the operating system's file locks, which the
 * kernel drops the moment the holder dies (kill -9, crash, power of the process),
 * so there is no stale lock to detect and no pid to trust.
 */
export const LOCK_DB_FILE = 'albumen.lock.db';
/** Who holds the lock: written beside it by the holder once it has the lock. */
export const LOCK_HOLDER_FILE = 'albumen.lock';

/** How long taking the lock waits for a process that is just probing or letting go. */
const DEFAULT_WAIT_MS = 1000;

/** The process that holds a data folder's lock, as it recorded itself. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  /** When it took the lock (ms since the epoch). */
  since: number;
}

/** Raised when another live process already processes this data folder. */
export class LockedError extends Error {
  override name = 'LockedError';
  /** The holder's record; null when it has not written it (yet). */
  readonly holder: LockHolder | null;
  constructor(message: string, holder: LockHolder | null) {
    super(message);
    this.holder = holder;
  }
}

function commandLine(): string {
  const [exe = 'node', script, ...args] = process.argv;
  const words = [basename(script && !script.startsWith('-') ? script : exe), ...args];
  const text = words.join(' ');
  return text.length > 200 ? text.slice(0, 199) + '…' : text;
}

function readHolder(dataDir: string): LockHolder | null {
  try {
    const v = JSON.parse(
      readFileSync(join(dataDir, LOCK_HOLDER_FILE), 'utf8'),
    ) as Partial<LockHolder>;
    if (
      typeof v.pid === 'number' &&
      typeof v.host === 'string' &&
      typeof v.command === 'string' &&
      typeof v.since === 'number'
    ) {
      return { pid: v.pid, host: v.host, command: v.command, since: v.since };
    }
  } catch {
    // Missing, or a pid file of an older version: nothing known about the holder.
  }
  return null;
}

function lockedMessage(holder: LockHolder | null): string {
  const who = holder
    ? `: pid ${holder.pid} on ${holder.host}, started as "${holder.command}", ` +
      `processing since ${new Date(holder.since).toISOString()}.`
    : ' (it has not recorded which one yet).';
  const kill = holder ? `, or kill ${holder.pid}` : '';
  return (
    `Another Albumen process is already processing this library${who} ` +
    `Its jobs go on there. Wait for it to finish, or stop it (Ctrl-C in its terminal, ` +
    `quit the app${kill}) and try again.`
  );
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED';
}

/**
 * An exclusive claim on a data folder by the one process that runs its jobs,
 * so start-up recovery never takes back items another live process is running.
 * Taking it is atomic (SQLite decides between racing processes), and a holder
 * that died holds nothing. Returns the release function.
 */
export function acquireProcessLock(dataDir: string, opts: { waitMs?: number } = {}): () => void {
  const db = new Database(join(dataDir, LOCK_DB_FILE), { timeout: opts.waitMs ?? DEFAULT_WAIT_MS });
  try {
    // Nothing is ever written: no journal file either.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (!isBusy(err)) throw err;
    const holder = readHolder(dataDir);
    throw new LockedError(lockedMessage(holder), holder);
  }
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: commandLine(),
    since: Date.now(),
  };
  const record = join(dataDir, LOCK_HOLDER_FILE);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    // The record goes first, while the lock is still ours: a successor's record stays.
    const r = readHolder(dataDir);
    if (r && r.pid === me.pid && r.since === me.since) {
      try {
        unlinkSync(record);
      } catch {
        // Already gone.
      }
    }
    try {
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  };
  try {
    const tmp = `${record}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(me) + '\n');
    renameSync(tmp, record);
  } catch (err) {
    release();
    throw err;
  }
  return release;
}

/**
 * Whether a live process holds the data folder's lock now, and who (as it
 * recorded itself). Asks SQLite for a moment's shared lock, which a holder's
 * exclusive one refuses; it never blocks a process that is taking the lock.
 */
export function processLockState(
  dataDir: string,
): { held: false } | { held: true; holder: LockHolder | null } {
  const file = join(dataDir, LOCK_DB_FILE);
  if (!existsSync(file)) return { held: false };
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN' && !existsSync(file)) {
      return { held: false };
    }
    throw err;
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return { held: false };
  } catch (err) {
    if (!isBusy(err)) throw err;
    return { held: true, holder: readHolder(dataDir) };
  } finally {
    db.close();
  }
}
