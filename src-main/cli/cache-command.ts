import { formatBytes } from '../../src-shared/format-bytes.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import type { CacheFolderStats, CleanupReport } from '../cache/cache.service.ts';
import { jsonText, printable } from './format.ts';

/** Output of the CLI (injected for tests). */
export interface CacheIo {
  out: (s: string) => void;
}

/** A mistake in a `cache` command's arguments. */
export class CacheUsageError extends Error {}

export const CACHE_USAGE = `  cache list                    cache folders with usage, limit and free space
  cache stats                   the same, plus outputs made with older settings
  cache add PATH [--limit SIZE] register a cache folder (SIZE like 500M, 20G)
  cache remove ID [--move-to ID] remove a folder, moving its files or letting them be remade
  cache limit ID SIZE|none      set or clear a folder's size limit
  cache enable ID | disable ID  allow or stop new outputs in a folder
  cache reconcile [--dry-run]   compare folders with the library and fix the drift
  cache cleanup [--dry-run] [--older-than DAYS | --all]
                                delete files no output refers to (default: older than 7 days)
  cache rebalance [--dry-run]   move outputs into their collection's folder
  cache regenerate [COLLECTION] remake outputs made with older settings`;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses "500M", "20G", "1.5T" or a byte count. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined)
    throw new CacheUsageError(`"${text}" is not a size (try 500M or 20G)`);
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new CacheUsageError(`"${text}" is not a usable size`);
  return n;
}

function id(text: string | undefined, what = 'a cache folder id'): number {
  const n = Number(text);
  if (!text || !Number.isInteger(n) || n <= 0)
    throw new CacheUsageError(`expected ${what}, got "${text ?? ''}"`);
  return n;
}

function folderJson(f: CacheFolderStats) {
  return {
    id: f.id,
    path: f.path,
    enabled: f.enabled,
    limitBytes: f.limitBytes,
    bytes: f.bytes,
    files: f.files,
    collections: f.collections,
    freeBytes: f.freeBytes,
    state: f.state,
    lastGeneratedAt: f.lastGeneratedAt === null ? null : new Date(f.lastGeneratedAt).toISOString(),
    lastCleanupAt: f.lastCleanupAt === null ? null : new Date(f.lastCleanupAt).toISOString(),
  };
}

function folderLine(f: CacheFolderStats): string {
  const limit = f.limitBytes === null ? 'no limit' : `limit ${formatBytes(f.limitBytes)}`;
  const used = f.limitBytes ? ` (${Math.round((f.bytes / f.limitBytes) * 100)} %)` : '';
  return (
    `${String(f.id).padStart(3)}  ${f.state.padEnd(8)} ${formatBytes(f.bytes).padStart(8)}${used}, ` +
    `${f.files} files, ${f.collections} collections, ${limit}, ${formatBytes(f.freeBytes)} free on disk  ${printable(f.path)}`
  );
}

function reportLines(verb: string, r: CleanupReport, io: CacheIo): void {
  const what = r.dryRun ? `would ${verb}` : `${verb}d`;
  io.out(`${what} ${r.files} files, ${formatBytes(r.bytes)}`);
  for (const p of r.paths.slice(0, 50)) io.out(`  ${printable(p)}`);
  if (r.paths.length > 50) io.out(`  … and ${r.paths.length - 50} more`);
}

/** `albumen cache …`; returns the exit code. */
export async function cacheCommand(
  core: AlbumenCore,
  args: string[],
  opts: {
    json: boolean;
    dryRun: boolean;
    limit?: string;
    moveTo?: string;
    olderThan?: string;
    all: boolean;
  },
  io: CacheIo,
): Promise<number> {
  const [sub, ...rest] = args;
  const print = (v: unknown) => io.out(jsonText(v));
  switch (sub ?? '') {
    case 'list':
    case 'stats': {
      const list = await core.cache.list();
      const stale = core.cache.stale(core.currentHashes());
      if (opts.json) {
        print(sub === 'list' ? list.map(folderJson) : { folders: list.map(folderJson), stale });
        return 0;
      }
      for (const f of list) io.out(folderLine(f));
      if (sub === 'stats' || stale.files) {
        io.out(`stale outputs (older settings): ${stale.files} files, ${formatBytes(stale.bytes)}`);
        for (const c of stale.byCollection)
          io.out(
            `  ${printable(c.name)} (collection ${c.collectionId}): ${c.files} files, ${formatBytes(c.bytes)}`,
          );
      }
      return 0;
    }
    case 'add': {
      if (!rest[0]) throw new CacheUsageError('cache add needs a PATH');
      const f = await core.cache.add(rest[0], opts.limit ? parseSize(opts.limit) : null);
      if (opts.json) print(folderJson(f));
      else io.out(`added cache folder ${f.id}: ${printable(f.path)}`);
      return 0;
    }
    case 'remove': {
      const r = await core.cache.remove(id(rest[0]), opts.moveTo ? id(opts.moveTo) : null);
      if (opts.json) print(r);
      else
        io.out(
          r.moved
            ? `removed; ${r.moved} files moved`
            : `removed; ${r.requeued} outputs will be made again (albumen run)`,
        );
      return 0;
    }
    case 'limit': {
      if (!rest[1]) throw new CacheUsageError('cache limit needs an ID and a SIZE (or none)');
      const f = await core.cache.setLimit(
        id(rest[0]),
        rest[1] === 'none' ? null : parseSize(rest[1]),
      );
      if (opts.json) print(folderJson(f));
      else io.out(folderLine(f));
      return 0;
    }
    case 'enable':
    case 'disable': {
      const f = await core.cache.setEnabled(id(rest[0]), sub === 'enable');
      if (opts.json) print(folderJson(f));
      else io.out(folderLine(f));
      return 0;
    }
    case 'reconcile': {
      const r = await core.cache.reconcile(opts.dryRun);
      if (opts.json) print(r);
      else {
        io.out(
          `${r.dryRun ? 'missing' : 'missing (queued to be made again)'}: ${r.missing.length} outputs`,
        );
        for (const p of r.missing.slice(0, 50)) io.out(`  ${printable(p)}`);
        reportLines('delete', r, io);
      }
      return 0;
    }
    case 'cleanup': {
      if (opts.all && opts.olderThan) throw new CacheUsageError('use either --all or --older-than');
      const days = opts.olderThan === undefined ? undefined : Number(opts.olderThan);
      if (days !== undefined && !(Number.isFinite(days) && days >= 0)) {
        throw new CacheUsageError('--older-than takes a number of days');
      }
      const r = await core.cache.cleanup({
        dryRun: opts.dryRun,
        olderThanDays: days,
        all: opts.all,
      });
      if (opts.json) print(r);
      else reportLines('delete', r, io);
      return 0;
    }
    case 'rebalance': {
      const r = await core.cache.rebalance(opts.dryRun);
      if (opts.json) print(r);
      else reportLines('move', r, io);
      return 0;
    }
    case 'regenerate': {
      const only = rest[0] ? id(rest[0], 'a collection id') : null;
      const jobs = await core.regenerate(only ?? undefined);
      if (opts.json) print(jobs.map((j) => ({ id: j.id, collection: j.collectionName })));
      else
        io.out(
          jobs.length
            ? `queued ${jobs.length} jobs (albumen run processes them)`
            : 'nothing is stale',
        );
      return 0;
    }
    default:
      throw new CacheUsageError(`unknown cache command "${sub ?? ''}"`);
  }
}
