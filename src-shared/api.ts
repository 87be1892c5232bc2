/**
 * The one contract between the UI and the core: commands (`AppApi`) and pushed
 * events (`AppEvent`). The Electron preload, the browser host's WebSocket and
 * the renderer's client all adapt this one declaration.
 */
import type {
  CollectionKind,
  ErrorCode,
  FailedItemView,
  JobStatus,
  JobView,
  Variant,
} from './domain.ts';
import type { CoreSettings } from './settings.ts';

/** An error as it crosses the boundary: a code from the closed list and a readable message. */
export interface ApiError {
  code: ErrorCode;
  message: string;
}

/** Every command's answer. Raw exceptions never cross the boundary. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** What an import did: a job per imported path, and why the others were not imported. */
export interface ImportResult {
  jobs: JobView[];
  failed: { path: string; error: ApiError }[];
}

/** A collection in the library sidebar. */
export interface CollectionView {
  id: number;
  name: string;
  kind: CollectionKind;
  root: string;
  /** Images whose header was read successfully. */
  imageCount: number;
  /** The newest job of the collection, if any. */
  job: { id: number; status: JobStatus; progress: number; failed: number } | null;
}

/** One image of the grid or the viewer. */
export interface ImageView {
  id: number;
  collectionId: number;
  entryPath: string;
  name: string;
  width: number | null;
  height: number | null;
  format: string | null;
  /** Which outputs exist now (the UI shows a placeholder until the thumbnail does). */
  has: Record<Variant, boolean>;
}

export interface ImagePage {
  total: number;
  offset: number;
  items: ImageView[];
}

/** What `media` URLs may name: an output variant, or the original image. */
export type MediaKind = Variant | 'source';

/** A cache folder with its statistics (the Cache page). */
export interface CacheFolderView {
  id: number;
  path: string;
  enabled: boolean;
  limitBytes: number | null;
  bytes: number;
  files: number;
  collections: number;
  freeBytes: number | null;
  diskBytes: number | null;
  lastGeneratedAt: number | null;
  lastCleanupAt: number | null;
  state: 'ok' | 'full' | 'disabled' | 'missing';
}

/** What a cleanup or rebalance found (dry run) or did. */
export interface CacheReport {
  dryRun: boolean;
  files: number;
  bytes: number;
  paths: string[];
}

/** What a reconcile found or fixed: orphan files, and outputs whose files were gone. */
export interface ReconcileReportView extends CacheReport {
  missing: string[];
}

/** Outputs made with older settings. */
export interface StaleView {
  files: number;
  bytes: number;
  byCollection: { collectionId: number; name: string; files: number; bytes: number }[];
}

/** Partial settings update, nested groups merge. */
export interface SettingsPatch {
  render?: {
    thumbnail?: Partial<CoreSettings['render']['thumbnail']>;
    cache?: Partial<CoreSettings['render']['cache']>;
  };
  limits?: Partial<CoreSettings['limits']>;
  workers?: number;
}

/** UI-level settings besides the core's. */
export interface AppSettings extends CoreSettings {
  /** Keep processing in the tray when the window closes (desktop only). */
  keepRunningInTray: boolean;
}

export type AppSettingsPatch = SettingsPatch & { keepRunningInTray?: boolean };

/** The commands. Every parameter object is validated on the core side. */
export interface AppApi {
  /** Imports folders or ZIP/CBZ archives chosen by the user: one job each. */
  /** Fails only when no path could be imported; otherwise lists the ones that failed. */
  importPaths: (p: { paths: string[] }) => Promise<ApiResult<ImportResult>>;
  listCollections: (p: Record<string, never>) => Promise<ApiResult<CollectionView[]>>;
  listImages: (p: {
    collectionId: number;
    offset: number;
    limit: number;
  }) => Promise<ApiResult<ImagePage>>;
  getImage: (p: { imageId: number }) => Promise<ApiResult<ImageView>>;
  listJobs: (p: { offset: number; limit: number }) => Promise<ApiResult<JobView[]>>;
  failedItems: (p: {
    jobId: number;
    offset: number;
    limit: number;
  }) => Promise<ApiResult<FailedItemView[]>>;
  pauseJob: (p: { jobId: number }) => Promise<ApiResult<boolean>>;
  resumeJob: (p: { jobId: number }) => Promise<ApiResult<boolean>>;
  cancelJob: (p: { jobId: number }) => Promise<ApiResult<boolean>>;
  retryJob: (p: { jobId: number }) => Promise<ApiResult<number>>;
  pauseAll: (p: Record<string, never>) => Promise<ApiResult<number>>;
  resumeAll: (p: Record<string, never>) => Promise<ApiResult<number>>;
  getSettings: (p: Record<string, never>) => Promise<ApiResult<AppSettings>>;
  updateSettings: (p: AppSettingsPatch) => Promise<ApiResult<AppSettings>>;
  listCacheFolders: (p: Record<string, never>) => Promise<ApiResult<CacheFolderView[]>>;
  addCacheFolder: (p: {
    path: string;
    limitBytes?: number | null;
  }) => Promise<ApiResult<CacheFolderView>>;
  /** Removes a folder; its files move to `moveTo`, or (null) are deleted and made again. */
  removeCacheFolder: (p: {
    id: number;
    moveTo: number | null;
  }) => Promise<ApiResult<{ moved: number; requeued: number }>>;
  updateCacheFolder: (p: {
    id: number;
    enabled?: boolean;
    limitBytes?: number | null;
  }) => Promise<ApiResult<CacheFolderView>>;
  reconcileCache: (p: { dryRun: boolean }) => Promise<ApiResult<ReconcileReportView>>;
  cleanupCache: (p: {
    dryRun: boolean;
    olderThanDays?: number;
    all?: boolean;
  }) => Promise<ApiResult<CacheReport>>;
  rebalanceCache: (p: { dryRun: boolean }) => Promise<ApiResult<CacheReport>>;
  staleOutputs: (p: Record<string, never>) => Promise<ApiResult<StaleView>>;
  /** Starts jobs that remake stale outputs: of one collection, or of all. */
  regenerateStale: (p: { collectionId?: number }) => Promise<ApiResult<JobView[]>>;
}

export type CommandName = keyof AppApi;
export type CommandParams<K extends CommandName> = Parameters<AppApi[K]>[0];
export type CommandValue<K extends CommandName> =
  Awaited<ReturnType<AppApi[K]>> extends ApiResult<infer T> ? T : never;

/** The list of commands, for adapters that build one function per command. */
export const COMMANDS = [
  'importPaths',
  'listCollections',
  'listImages',
  'getImage',
  'listJobs',
  'failedItems',
  'pauseJob',
  'resumeJob',
  'cancelJob',
  'retryJob',
  'pauseAll',
  'resumeAll',
  'getSettings',
  'updateSettings',
  'listCacheFolders',
  'addCacheFolder',
  'removeCacheFolder',
  'updateCacheFolder',
  'reconcileCache',
  'cleanupCache',
  'rebalanceCache',
  'staleOutputs',
  'regenerateStale',
] as const satisfies readonly CommandName[];

/** Events pushed from the core to every UI. */
export type AppEvent =
  | { type: 'job'; job: JobView }
  | { type: 'output'; collectionId: number; imageId: number; variant: Variant }
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
  mediaUrl(kind: MediaKind, imageId: number, version?: string | number): string;
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

/** A media URL's path: `/<kind>/<imageId>`, the same in the protocol and the browser host. */
export function mediaPath(kind: MediaKind, imageId: number, version?: string | number): string {
  return `/${kind}/${imageId}${version === undefined ? '' : `?v=${encodeURIComponent(String(version))}`}`;
}

/**
 * What the Electron preload exposes as `window.albumen`: one function per
 * command, the event subscription and the drop-path helper.
 */
export type PreloadApi = { readonly [K in CommandName]: AppApi[K] } & {
  onEvent(listener: (e: AppEvent) => void): () => void;
  /** `webUtils.getPathForFile` for a dropped File; '' when it has none. */
  pathForFile(file: File): string;
};
