import { homedir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { LibraryError } from '../library/library-error.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import type { ImageRow } from '../store/rows.ts';
import type {
  ApiError,
  ApiResult,
  AppApi,
  AppEvent,
  AppSettings,
  AppSettingsPatch,
  CollectionView,
  CommandName,
  CommandParams,
  CommandValue,
  ImageView,
  MediaKind,
} from '../../src-shared/api.ts';
import { parseCommand } from '../../src-shared/api-validate.ts';
import { isErrorCode, STAGES, type JobView } from '../../src-shared/domain.ts';
import { isAnimation } from '../../src-shared/formats.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { parseTileRef, type TileNumbers } from '../../src-shared/deep-zoom.ts';
import { outputMime, rasterMime } from './media-policy.ts';

/** What a media request resolves to: a generated file, or the original's bytes. */
export type MediaTarget =
  | { kind: 'file'; path: string; size: number; mime: string }
  | { kind: 'stream'; stream: NodeJS.ReadableStream; size: number; mime: string };

/**
 * The MIME type for an image format as the scan recorded it, from the allow-list
 * of raster types the UI may be served (see media-policy.ts); null for any
 * other format (SVG, TIFF, HEIC, unknown), which is then not served. Never
 * derived from a file name: a name says nothing about the bytes.
 */
export function mimeOf(format: string | null | undefined): string | null {
  return rasterMime(format);
}

/** A media request's parts, as parsed: a kind, a plain id, and a tile's numbers for a tile. */
export interface MediaRequestParts {
  kind: MediaKind;
  imageId: number;
  tile?: TileNumbers;
}

/**
 * Parses a media request's parts; null for anything that is not a known kind
 * and a plain id, with a tile reference (see deep-zoom.ts) for a tile and
 * only then.
 */
export function parseMediaRequest(
  kind: string,
  id: string,
  tileRef?: string,
): MediaRequestParts | null {
  if (kind !== 'thumbnail' && kind !== 'cache' && kind !== 'source' && kind !== 'tile') return null;
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return null;
  const imageId = Number(id);
  if (!Number.isSafeInteger(imageId)) return null;
  if (kind !== 'tile') return tileRef === undefined ? { kind, imageId } : null;
  const tile = tileRef === undefined ? null : parseTileRef(tileRef);
  return tile && { kind, imageId, tile };
}

function fail(code: ApiError['code'], message: string): { ok: false; error: ApiError } {
  return { ok: false, error: { code, message } };
}

/** Turns any thrown value into an ApiError; only codes from the closed list cross. */
/**
 * A path typed or dropped in the UI: `~` is the user's home folder; anything
 * else must be absolute, since the UI has no working directory of its own
 * (the CLI resolves relative paths against its own).
 */
export function absoluteFromUi(path: string): string {
  const p = path.trim();
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) return join(homedir(), p.slice(1));
  if (!isAbsolute(p)) {
    throw new LibraryError(
      'INVALID_INPUT',
      `${p}: give the folder's full path (like /home/me/Pictures or ~/Pictures); a relative path has nothing to be relative to here`,
    );
  }
  return p;
}

export function toApiError(err: unknown): ApiError {
  const code: unknown = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { code: isErrorCode(code) ? code : 'INTERNAL', message };
}

/**
 * The AppApi implemented over the core: every command validated, every error
 * mapped to a code, events fanned out. The Electron IPC and the browser host
 * pass what arrives to `handle`, which checks it against the contract's
 * schemas; typed callers (the desktop shell, tests) use `call`. Nothing else
 * reaches the core from a UI.
 */
/** An image row as the UI sees it. */
function toImage(r: ImageRow & { has: ImageView['has'] }): ImageView {
  return {
    id: r.id,
    collectionId: r.collectionId,
    entryPath: r.entryPath,
    name: basename(r.entryPath),
    width: r.width,
    height: r.height,
    format: r.format,
    has: r.has,
    size: r.size,
    mtimeMs: r.mtimeMs,
    takenAt: r.meta.takenAt ?? r.mtimeMs,
    takenFrom: r.meta.takenAt === null ? 'file' : 'exif',
    takenLocal: r.meta.takenLocal,
    takenOffset: r.meta.takenOffset,
    make: r.meta.make,
    model: r.meta.model,
    lens: r.meta.lens,
    focalLength: r.meta.focalLength,
    aperture: r.meta.aperture,
    exposureTime: r.meta.exposureTime,
    iso: r.meta.iso,
    latitude: r.meta.latitude,
    longitude: r.meta.longitude,
    xmpRating: r.meta.rating,
    xmpLabel: r.meta.label,
    pages: r.meta.pages,
    animated: isAnimation(r.format, r.meta.pages),
    durationMs: r.meta.durationMs,
  };
}

export class AppService {
  private readonly core: AlbumenCore;
  private readonly listeners = new Set<(e: AppEvent) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly statusOf = new Map<number, string>();
  readonly api: AppApi;

  constructor(core: AlbumenCore) {
    this.core = core;
    this.api = this.makeApi();
    this.unsubscribe.push(
      core.onJobChanged((job) => {
        this.emit({ type: 'job', job });
        if (this.statusOf.get(job.id) !== job.status) {
          this.statusOf.set(job.id, job.status);
          this.emit({ type: 'collections' });
        }
      }),
      core.onOutputReady((o) =>
        this.emit({
          type: 'output',
          collectionId: o.collectionId,
          imageId: o.imageId,
          variant: o.variant,
          // What the decode learnt (size, date, camera, frames) reaches the grid with it.
          image: this.imageView(o.imageId),
        }),
      ),
      core.onCollectionsChanged(() => this.emit({ type: 'collections' })),
      core.onLog((e) => {
        if (e.level === 'warn' || e.level === 'error') {
          this.emit({ type: 'log', level: e.level, message: e.message, time: e.time });
        }
      }),
    );
  }

  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.listeners.clear();
  }

  /** Subscribes to every pushed event; returns the unsubscribe function. */
  onEvent(listener: (e: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One image as the UI sees it, with the outputs it has now. */
  private imageView(imageId: number): ImageView | undefined {
    const img = this.core.image(imageId);
    if (!img) return undefined;
    return toImage({
      ...img,
      has: {
        thumbnail: this.core.outputFile(imageId, 'thumbnail') !== null,
        cache: this.core.outputFile(imageId, 'cache') !== null,
      },
    });
  }

  private emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.core.log.log('error', `event listener failed: ${String(err)}`);
      }
    }
  }

  /**
   * Runs a command arriving from outside (IPC, WebSocket): unknown names and
   * malformed parameters are refused with INVALID_INPUT; a well-formed call
   * runs as `call` with the parameters the schema produced.
   */
  async handle(command: unknown, params: unknown): Promise<ApiResult<unknown>> {
    const parsed = parseCommand(command, params);
    if (!parsed.ok) return parsed;
    return this.call(parsed.command, parsed.params);
  }

  /**
   * Runs a command from typed code in this process (the desktop shell, tests):
   * the types stand for the parameter check; exceptions become coded errors.
   */
  async call<K extends CommandName>(
    command: K,
    params: CommandParams<K>,
  ): Promise<ApiResult<CommandValue<K>>> {
    try {
      return await this.api[command](params);
    } catch (err) {
      const error = toApiError(err);
      if (error.code === 'INTERNAL') this.core.log.log('error', `${command}: ${String(err)}`);
      return { ok: false, error };
    }
  }

  private settings(): AppSettings {
    return { ...this.core.settings(), ...this.core.uiSettings() };
  }

  private collectionView(c: ReturnType<AlbumenCore['collections']>[number]): CollectionView {
    const j: JobView | undefined = c.job;
    let job: CollectionView['job'] = null;
    if (j) {
      const total = STAGES.reduce((n, s) => n + j.stages[s].total, 0);
      const finished = STAGES.reduce(
        (n, s) => n + j.stages[s].done + j.stages[s].skipped + j.stages[s].failed,
        0,
      );
      job = {
        id: j.id,
        status: j.status,
        progress: isTerminal(j.status) ? 1 : total ? finished / total : 0,
        failed: STAGES.reduce((n, s) => n + j.stages[s].failed, 0),
      };
    }
    return {
      id: c.collection.id,
      name: c.collection.name,
      kind: c.collection.kind,
      root: c.collection.root,
      imageCount: c.imageCount,
      job,
      offlineSince: c.collection.offlineSince,
      lastSeenAt: c.collection.lastSeenAt,
      watch: c.collection.watch,
      watched: this.core.watches(c.collection),
      ...this.watchOf(c.collection.id),
    };
  }

  private watchOf(id: number): Pick<CollectionView, 'watchState' | 'watchDetail'> {
    const w = this.core.watchState(id);
    return { watchState: w.state, watchDetail: w.detail };
  }

  private makeApi(): AppApi {
    const core = this.core;
    const ok = <T>(value: T): Promise<ApiResult<T>> => Promise.resolve({ ok: true, value });
    const jobExists = (jobId: number) => core.job(jobId) !== undefined;
    return {
      importPaths: async ({ paths }) => {
        const jobs: JobView[] = [];
        const notes: string[] = [];
        const failed: { path: string; error: ApiError }[] = [];
        for (const path of paths) {
          try {
            const r = await core.importWithNote(absoluteFromUi(path));
            jobs.push(r.job);
            if (r.note) notes.push(r.note);
          } catch (err) {
            failed.push({ path, error: toApiError(err) });
          }
        }
        this.emit({ type: 'collections' });
        if (!jobs.length) {
          const only = failed.length === 1 ? failed[0]!.error : null;
          return only
            ? { ok: false, error: only }
            : fail('INVALID_INPUT', failed.map((f) => `${f.path}: ${f.error.message}`).join('; '));
        }
        return { ok: true, value: { jobs, notes, failed } };
      },
      listCollections: () => ok(core.collections().map((c) => this.collectionView(c))),
      listImages: ({ collectionId, offset, limit, sort, descending }) => {
        if (!core.collection(collectionId))
          return Promise.resolve(fail('NOT_FOUND', `no collection ${collectionId}`));
        const items = core
          .images(collectionId, limit, offset, sort, descending ? 'desc' : 'asc')
          .map(toImage);
        return ok({ total: core.imageCount(collectionId), offset, items });
      },
      getImage: ({ imageId }) => {
        const view = this.imageView(imageId);
        return view ? ok(view) : Promise.resolve(fail('NOT_FOUND', `no image ${imageId}`));
      },
      deepZoom: async ({ imageId }) => {
        if (!core.image(imageId)) return fail('NOT_FOUND', `no image ${imageId}`);
        const made = await core.deepZoom(imageId);
        return 'problem' in made ? fail('UNSUPPORTED', made.problem) : { ok: true, value: made };
      },
      listJobs: ({ offset, limit }) => ok(core.jobs(limit, offset)),
      failedItems: ({ jobId, offset, limit }) =>
        jobExists(jobId)
          ? ok(core.failedItems(jobId, limit, offset))
          : Promise.resolve(fail('NOT_FOUND', `no job ${jobId}`)),
      pauseJob: ({ jobId }) =>
        jobExists(jobId)
          ? ok(core.pause(jobId))
          : Promise.resolve(fail('NOT_FOUND', `no job ${jobId}`)),
      resumeJob: ({ jobId }) =>
        jobExists(jobId)
          ? ok(core.resume(jobId))
          : Promise.resolve(fail('NOT_FOUND', `no job ${jobId}`)),
      cancelJob: ({ jobId }) =>
        jobExists(jobId)
          ? ok(core.cancel(jobId))
          : Promise.resolve(fail('NOT_FOUND', `no job ${jobId}`)),
      retryJob: ({ jobId }) =>
        jobExists(jobId)
          ? ok(core.retry(jobId))
          : Promise.resolve(fail('NOT_FOUND', `no job ${jobId}`)),
      pauseAll: () => ok(core.pauseAll()),
      resumeAll: () => ok(core.resumeAll()),
      getSettings: () => ok(this.settings()),
      listCacheFolders: async () => ok(await core.cache.list()),
      addCacheFolder: async ({ path, limitBytes }) =>
        ok(await core.cache.add(path, limitBytes ?? null)),
      removeCacheFolder: async ({ id, moveTo }) => {
        const r = await core.cache.remove(id, moveTo);
        core.wake();
        return { ok: true, value: r };
      },
      updateCacheFolder: async ({ id, enabled, limitBytes }) => {
        if (limitBytes !== undefined) await core.cache.setLimit(id, limitBytes);
        if (enabled !== undefined) await core.cache.setEnabled(id, enabled);
        return ok((await core.cache.list()).find((f) => f.id === id)!);
      },
      reconcileCache: async ({ dryRun }) => {
        const r = await core.cache.reconcile(dryRun);
        if (!dryRun) core.wake();
        return { ok: true, value: r };
      },
      cleanupCache: async ({ dryRun, olderThanDays, all }) =>
        ok(await core.cache.cleanup({ dryRun, olderThanDays, all })),
      rebalanceCache: async ({ dryRun }) => ok(await core.cache.rebalance(dryRun)),
      staleOutputs: () => ok(core.cache.stale(core.currentHashes())),
      regenerateStale: async ({ collectionId }) => ok(await core.regenerate(collectionId)),
      rescanCollections: ({ collectionIds }) => {
        const jobs = core.rescan(collectionIds);
        this.emit({ type: 'collections' });
        return ok(jobs);
      },
      removeCollection: async ({ collectionId, keepFiles }) => {
        const gone = await core.removeCollection(collectionId, { keepFiles });
        this.emit({ type: 'collections' });
        return ok({ images: gone.images, files: gone.files });
      },
      setCollectionWatch: ({ collectionId, watch }) => {
        core.setCollectionWatch(collectionId, watch);
        const c = core.collections().find((x) => x.collection.id === collectionId);
        if (!c) return Promise.resolve(fail('NOT_FOUND', `no collection ${collectionId}`));
        this.emit({ type: 'collections' });
        return ok(this.collectionView(c));
      },
      updateSettings: async (patch: AppSettingsPatch) => {
        const { keepRunningInTray, ...corePatch } = patch;
        await core.updateSettings(corePatch);
        if (keepRunningInTray !== undefined) core.updateUiSettings({ keepRunningInTray });
        const settings = this.settings();
        this.emit({ type: 'settings', settings });
        return { ok: true, value: settings };
      },
    };
  }

  /**
   * Resolves a media request by id only: an output of the image, or (for the
   * viewer) its original. Never takes a path from the request.
   */
  async resolveMedia(
    kind: MediaKind,
    imageId: number,
    tile?: TileNumbers,
    version?: string | null,
  ): Promise<MediaTarget | null> {
    if (kind === 'tile') {
      // Only a tile of a pyramid our decoder made, found by its numbers and
      // the pyramid's key (the URL's version): never another version's tile.
      const file = tile && this.core.tileFile(imageId, tile, version ?? undefined);
      return file
        ? { kind: 'file', path: file.path, size: file.bytes, mime: `image/${file.format}` }
        : null;
    }
    if (kind === 'source') {
      // Only an original whose scan recorded a raster format, and that our own
      // decoder rendered (an output made from its current version), is served,
      // as that format: a file the decoder rejected never reaches the browser's
      // decoders. Any other format (an SVG among them: it is never served as
      // itself) is served as a full-size JPEG our decoder made from it.
      if (!this.core.decoderAccepted(imageId)) return null;
      const mime = mimeOf(this.core.image(imageId)?.format);
      if (!mime) {
        // A format the browser cannot show (TIFF, HEIC, RAW, JPEG XL, SVG):
        // its own pixels, rendered full size by our decoder, as a JPEG.
        const full = await this.core.fullSize(imageId);
        return full && { kind: 'file', path: full.path, size: full.bytes, mime: 'image/jpeg' };
      }
      const opened = await this.core.openSource(imageId);
      if (!opened) return null;
      return { kind: 'stream', stream: opened.stream, size: opened.size, mime };
    }
    const file = this.core.outputFile(imageId, kind);
    const mime = file && outputMime(file.path);
    if (!file || !mime) return null;
    return { kind: 'file', path: file.path, size: file.bytes, mime };
  }
}
