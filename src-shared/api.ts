/**
 * The one contract between the UI and the core: commands and pushed events
 * (`AppEvent`). Each command's parameters and result are declared once, as
 * valibot schemas in `COMMAND_SCHEMAS`; the command list, the TypeScript types
 * (`AppApi`, `CommandParams`, `CommandValue`) and the core's checks of
 * incoming calls (api-validate.ts) all derive from them. The Electron preload,
 * the browser host's WebSocket and the renderer's client adapt this one
 * declaration.
 */
import * as v from 'valibot';
import {
  ERROR_CODES,
  IMAGE_ORDERS,
  JOB_STATUSES,
  PAUSE_REASONS,
  STAGES,
  WATCH_STATES,
  type FailedItemView,
  type StageName,
  type JobView,
  type StageView,
  type Variant,
} from './domain.ts';
import { bool, count, id, obj, path, whole } from './schema.ts';
import { coreSettingsEntries, coreSettingsPatchEntries } from './settings.ts';

// ---------------------------------------------------------------- values

const text = v.string();
const num = v.number();
const nullableNum = v.nullable(num);

/** An error as it crosses the boundary: a code from the closed list and a readable message. */
export const ApiErrorSchema = obj({ code: v.picklist(ERROR_CODES), message: text });
export type ApiError = v.InferOutput<typeof ApiErrorSchema>;

/** Every command's answer. Raw exceptions never cross the boundary. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** The schema of a command's whole answer, given that of its value. */
export function apiResultSchema<T extends v.GenericSchema>(value: T) {
  return v.variant('ok', [
    v.strictObject({ ok: v.literal(true), value }),
    v.strictObject({ ok: v.literal(false), error: ApiErrorSchema }),
  ]);
}

const jobStatus = v.picklist(JOB_STATUSES);

const StageViewSchema: v.GenericSchema<StageView> = obj({
  total: count,
  pending: count,
  running: count,
  done: count,
  skipped: count,
  failed: count,
  status: jobStatus,
  rate: num,
  etaSeconds: nullableNum,
  current: v.nullable(text),
});

/** A job as the UI sees it (the type is the domain's `JobView`; the schema must match it). */
export const JobViewSchema: v.GenericSchema<JobView> = obj({
  id,
  collectionId: id,
  collectionName: text,
  collectionKind: v.picklist(['folder', 'archive']),
  kind: v.picklist(['import', 'rescan']),
  root: text,
  status: jobStatus,
  scanFinished: v.boolean(),
  paused: v.boolean(),
  pauseReason: v.nullable(v.picklist(PAUSE_REASONS)),
  waitingFor: v.nullable(text),
  createdAt: num,
  updatedAt: num,
  finishedAt: nullableNum,
  error: v.nullable(ApiErrorSchema),
  stages: obj({
    scan: StageViewSchema,
    thumbnail: StageViewSchema,
    cache: StageViewSchema,
  } satisfies Record<StageName, unknown>),
});

/** A failed item with its reason (the domain's `FailedItemView`). */
export const FailedItemViewSchema: v.GenericSchema<FailedItemView> = obj({
  itemId: id,
  imageId: id,
  path: text,
  stage: v.picklist(STAGES),
  code: v.picklist(ERROR_CODES),
  message: text,
  attempts: count,
});

/**
 * What an import did: a job per imported path, and why the others were not
 * imported; `notes` says what an import did other than start a new collection
 * (a rescan of a folder already there, a folder inside a collection, …).
 */
export const ImportResultSchema = obj({
  jobs: v.array(JobViewSchema),
  notes: v.array(text),
  failed: v.array(obj({ path: text, error: ApiErrorSchema })),
});
export type ImportResult = v.InferOutput<typeof ImportResultSchema>;

/** A collection in the library sidebar. */
export const CollectionViewSchema = obj({
  id,
  name: text,
  kind: v.picklist(['folder', 'archive']),
  root: text,
  /** Images whose header was read successfully. */
  imageCount: count,
  /** The newest job of the collection, if any. */
  job: v.nullable(obj({ id, status: jobStatus, progress: num, failed: count })),
  /** Since when (ms since the epoch) its folder or archive cannot be reached; null online. */
  offlineSince: v.nullable(count),
  /** When a walk last reached it (null before the first one finished). */
  lastSeenAt: v.nullable(count),
  /** Its own watch setting; null follows the library's (`watchFolders`). */
  watch: v.nullable(v.boolean()),
  /** Whether it follows the disk, as its own setting or the library's says. */
  watched: v.boolean(),
  /** How it follows the disk now, and why when it cannot be watched. */
  watchState: v.picklist(WATCH_STATES),
  watchDetail: v.nullable(text),
});
export type CollectionView = v.InferOutput<typeof CollectionViewSchema>;

const nullableInt = v.nullable(count);

/** One image of the grid or the viewer. */
export const ImageViewSchema = obj({
  id,
  collectionId: id,
  entryPath: text,
  name: text,
  width: nullableInt,
  height: nullableInt,
  format: v.nullable(text),
  /** Which outputs exist now (the UI shows a placeholder until the thumbnail does). */
  has: obj({ thumbnail: v.boolean(), cache: v.boolean() } satisfies Record<Variant, unknown>),
  /** File size in bytes and modified time (ms since the epoch). */
  size: count,
  mtimeMs: num,
  /**
   * When it was taken (ms since the epoch): from its EXIF, else (takenFrom
   * 'file') the file's modified time.
   */
  takenAt: num,
  takenFrom: v.picklist(['exif', 'file']),
  /** The date taken as the camera wrote it, and its UTC offset ('+02:00') if it wrote one. */
  takenLocal: v.nullable(text),
  takenOffset: v.nullable(text),
  make: v.nullable(text),
  model: v.nullable(text),
  lens: v.nullable(text),
  focalLength: nullableNum,
  aperture: nullableNum,
  exposureTime: nullableNum,
  iso: nullableNum,
  latitude: nullableNum,
  longitude: nullableNum,
  /** From its XMP: rating −1 (rejected) to 5, and colour label. */
  xmpRating: nullableNum,
  xmpLabel: v.nullable(text),
  /** Frames of an animation or pages of a TIFF; null for a single image. */
  pages: v.nullable(count),
  /** True for an animated GIF or WebP (more than one frame); durationMs is one loop. */
  animated: v.boolean(),
  durationMs: v.nullable(count),
});
export type ImageView = v.InferOutput<typeof ImageViewSchema>;

export const ImagePageSchema = obj({
  total: count,
  offset: count,
  items: v.array(ImageViewSchema),
});
export type ImagePage = v.InferOutput<typeof ImagePageSchema>;

/**
 * What `media` URLs may name: an output variant, the original image, or one
 * tile of its deep-zoom pyramid (see deep-zoom.ts).
 */
export type MediaKind = Variant | 'source' | 'tile';

/** An image's deep-zoom pyramid, ready: its tiles are `tile` media with `key` as version. */
export const DeepZoomViewSchema = obj({
  width: count,
  height: count,
  tileSize: count,
  maxLevel: count,
  format: v.picklist(['jpeg', 'webp']),
  key: text,
});
export type DeepZoomView = v.InferOutput<typeof DeepZoomViewSchema>;

/** A cache folder with its statistics (the Cache page). */
export const CacheFolderViewSchema = obj({
  id,
  path: text,
  enabled: v.boolean(),
  limitBytes: nullableInt,
  bytes: count,
  files: count,
  collections: count,
  freeBytes: nullableInt,
  diskBytes: nullableInt,
  lastGeneratedAt: nullableNum,
  lastCleanupAt: nullableNum,
  state: v.picklist(['ok', 'full', 'disabled', 'missing']),
});
export type CacheFolderView = v.InferOutput<typeof CacheFolderViewSchema>;

const cacheReportEntries = {
  dryRun: v.boolean(),
  files: count,
  bytes: count,
  paths: v.array(text),
};

/** What a cleanup or rebalance found (dry run) or did. */
export const CacheReportSchema = obj(cacheReportEntries);
export type CacheReport = v.InferOutput<typeof CacheReportSchema>;

/** What a reconcile found or fixed: orphan files, and outputs whose files were gone. */
export const ReconcileReportViewSchema = obj({ ...cacheReportEntries, missing: v.array(text) });
export type ReconcileReportView = v.InferOutput<typeof ReconcileReportViewSchema>;

/** Outputs made with older settings. */
export const StaleViewSchema = obj({
  files: count,
  bytes: count,
  byCollection: v.array(obj({ collectionId: id, name: text, files: count, bytes: count })),
});
export type StaleView = v.InferOutput<typeof StaleViewSchema>;

/** UI-level settings besides the core's. */
export const AppSettingsSchema = obj({
  ...coreSettingsEntries,
  /** Keep processing in the tray when the window closes (desktop only). */
  keepRunningInTray: v.boolean(),
});
export type AppSettings = v.InferOutput<typeof AppSettingsSchema>;

/** A partial settings update: nested groups merge; ranges are the core's (settings.ts). */
export const AppSettingsPatchSchema = obj({
  ...coreSettingsPatchEntries,
  keepRunningInTray: v.optional(bool),
});
export type AppSettingsPatch = v.InferOutput<typeof AppSettingsPatchSchema>;
/** The core's part of a settings update. */
export type SettingsPatch = Omit<AppSettingsPatch, 'keepRunningInTray'>;

// ---------------------------------------------------------------- commands

/** How far a page of a list may start, and how long it may be. */
const page = { offset: whole({ min: 0, max: 10_000_000 }), limit: whole({ min: 1, max: 1000 }) };
/** The parameters of a command that takes none: `{}` and nothing else. */
const none: v.GenericSchema<Record<string, never>> = obj({});
const job = obj({ jobId: id });
const bytesLimit = v.optional(v.nullable(whole({ min: 1, max: 2 ** 50 })));
const paths = v.pipe(
  v.array(path, 'must be a list of 1 to 1000 paths'),
  v.minLength(1, 'must be a list of 1 to 1000 paths'),
  v.maxLength(1000, 'must be a list of 1 to 1000 paths'),
);

/** A command's parameter and result schemas. */
function command<P extends v.GenericSchema, R extends v.GenericSchema>(params: P, result: R) {
  return { params, result };
}

/**
 * Every command: what it takes and what it answers. Every parameter object is
 * checked against its schema on the core side (unknown fields are refused).
 */
export const COMMAND_SCHEMAS = {
  /** Imports folders or ZIP/CBZ archives chosen by the user: one job each. */
  /** Fails only when no path could be imported; otherwise lists the ones that failed. */
  importPaths: command(obj({ paths }), ImportResultSchema),
  listCollections: command(none, v.array(CollectionViewSchema)),
  listImages: command(
    obj({
      collectionId: id,
      ...page,
      /** Date taken, name (natural, the default), size or modified time; ties by name. */
      sort: v.optional(v.picklist(IMAGE_ORDERS)),
      descending: v.optional(v.boolean()),
    }),
    ImagePageSchema,
  ),
  getImage: command(obj({ imageId: id }), ImageViewSchema),
  /**
   * Makes (once, in the render pool) the deep-zoom tile pyramid of an image
   * and answers when it is ready: seconds for a 100-megapixel image.
   */
  deepZoom: command(obj({ imageId: id }), DeepZoomViewSchema),
  listJobs: command(obj(page), v.array(JobViewSchema)),
  failedItems: command(obj({ jobId: id, ...page }), v.array(FailedItemViewSchema)),
  /** True when the job was running or queued and is now paused. */
  pauseJob: command(job, v.boolean()),
  resumeJob: command(job, v.boolean()),
  cancelJob: command(job, v.boolean()),
  /** The number of items queued again. */
  retryJob: command(job, count),
  /** The number of jobs paused. */
  pauseAll: command(none, count),
  resumeAll: command(none, count),
  getSettings: command(none, AppSettingsSchema),
  updateSettings: command(AppSettingsPatchSchema, AppSettingsSchema),
  listCacheFolders: command(none, v.array(CacheFolderViewSchema)),
  addCacheFolder: command(obj({ path, limitBytes: bytesLimit }), CacheFolderViewSchema),
  /** Removes a folder; its files move to `moveTo`, or (null) are deleted and made again. */
  removeCacheFolder: command(
    obj({ id, moveTo: v.nullable(id) }),
    obj({ moved: count, requeued: count }),
  ),
  updateCacheFolder: command(
    obj({ id, enabled: v.optional(bool), limitBytes: bytesLimit }),
    CacheFolderViewSchema,
  ),
  reconcileCache: command(obj({ dryRun: bool }), ReconcileReportViewSchema),
  cleanupCache: command(
    obj({
      dryRun: bool,
      olderThanDays: v.optional(whole({ min: 0, max: 36500 })),
      all: v.optional(bool),
    }),
    CacheReportSchema,
  ),
  rebalanceCache: command(obj({ dryRun: bool }), CacheReportSchema),
  staleOutputs: command(none, StaleViewSchema),
  /** Starts jobs that remake stale outputs: of one collection, or of all. */
  regenerateStale: command(obj({ collectionId: v.optional(id) }), v.array(JobViewSchema)),
  /** Rescans collections (all when `collectionIds` is empty): one job each. */
  rescanCollections: command(
    obj({ collectionIds: v.pipe(v.array(id), v.maxLength(10_000)) }),
    v.array(JobViewSchema),
  ),
  /**
   * Removes a collection from the library with its previews (or, with
   * `keepFiles`, leaving its output files on disk). The user's files are never
   * touched.
   */
  removeCollection: command(
    obj({ collectionId: id, keepFiles: v.optional(bool) }),
    obj({ images: count, files: count }),
  ),
  /** Sets whether a collection follows the disk (null: as the library's setting says). */
  setCollectionWatch: command(
    obj({ collectionId: id, watch: v.nullable(bool) }),
    CollectionViewSchema,
  ),
};

type Commands = typeof COMMAND_SCHEMAS;
export type CommandName = keyof Commands;
/** A command's parameters (`{}` for the commands that take none). */
export type CommandParams<K extends CommandName> = v.InferOutput<Commands[K]['params']>;
/** What a command answers when it succeeds. */
export type CommandValue<K extends CommandName> = v.InferOutput<Commands[K]['result']>;

/** The commands as functions: what the AppService implements and the preload exposes. */
export type AppApi = {
  [K in CommandName]: (p: CommandParams<K>) => Promise<ApiResult<CommandValue<K>>>;
};

/** The list of commands, for adapters that build one function per command. */
export const COMMANDS: readonly CommandName[] = Object.freeze(
  Object.keys(COMMAND_SCHEMAS) as CommandName[],
);

/** Events pushed from the core to every UI. */
export type AppEvent =
  | { type: 'job'; job: JobView }
  | {
      type: 'output';
      collectionId: number;
      imageId: number;
      variant: Variant;
      /** The image as it is now: the decode may have learnt its size and metadata. */
      image?: ImageView;
    }
  | { type: 'collections' }
  | { type: 'settings'; settings: AppSettings }
  | { type: 'log'; level: 'warn' | 'error'; message: string; time: number };

/** The object the renderer talks to (`window.api` in Electron, its WebSocket twin in a browser). */
export interface AppBridge {
  call<K extends CommandName>(
    command: K,
    params: CommandParams<K>,
  ): Promise<ApiResult<CommandValue<K>>>;
  /** Subscribes to pushed events; returns the unsubscribe function. */
  onEvent(listener: (e: AppEvent) => void): () => void;
  /** A URL the renderer can put in an <img src> for an image's output or source. */
  mediaUrl(kind: MediaKind, imageId: number, version?: string | number, tile?: string): string;
  /** The path of a dropped file, where the platform can give it (Electron); else null. */
  pathForFile(file: unknown): string | null;
  /** Where the UI runs: the desktop app or a browser connected to a host. */
  readonly platform: 'electron' | 'browser';
}

/** IPC channel of commands: `ipcRenderer.invoke(IPC_CALL_CHANNEL, command, params)`. */
export const IPC_CALL_CHANNEL = 'albumen:call';
/** IPC channel of pushed events: `webContents.send(IPC_EVENT_CHANNEL, event)`. */
export const IPC_EVENT_CHANNEL = 'albumen:event';

/** The custom protocol that serves media by id in the desktop app. */
export const MEDIA_SCHEME = 'albumen-media';

/**
 * A media URL's path: `/<kind>/<imageId>`, and for a tile `/tile/<imageId>/<tileRef>`
 * (see deep-zoom.ts), the same in the protocol and the browser host.
 */
export function mediaPath(
  kind: MediaKind,
  imageId: number,
  version?: string | number,
  tile?: string,
): string {
  const query = version === undefined ? '' : `?v=${encodeURIComponent(String(version))}`;
  return `/${kind}/${imageId}${tile === undefined ? '' : `/${tile}`}${query}`;
}

/**
 * What the Electron preload exposes as `window.albumen`: one function per
 * command, the event subscription and the drop-path helper.
 */
export type PreloadApi = Readonly<AppApi> & {
  onEvent(listener: (e: AppEvent) => void): () => void;
  /** `webUtils.getPathForFile` for a dropped File; '' when it has none. */
  pathForFile(file: File): string;
};
