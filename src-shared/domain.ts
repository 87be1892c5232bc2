/**
 * Domain vocabulary shared by every layer: stages, item states, job statuses,
 * the closed list of error codes, and the shapes that describe jobs to a UI.
 */

/** The three stages of an import job, in the order they run. */
export const STAGES = ['scan', 'thumbnail', 'cache'] as const;
export type StageName = (typeof STAGES)[number];

/** The generated outputs of an image. Each has a stage of the same name. */
export const VARIANTS = ['thumbnail', 'cache'] as const;
export type Variant = (typeof VARIANTS)[number];

/** Life of one (stage, image) item: pending → running → done | skipped | failed. */
export const ITEM_STATES = ['pending', 'running', 'done', 'skipped', 'failed'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

export const JOB_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'completed_with_errors',
  'cancelled',
  'failed',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Per-stage counters. Invariant: total = pending + running + done + skipped + failed. */
export interface StageCounters {
  total: number;
  pending: number;
  running: number;
  done: number;
  skipped: number;
  failed: number;
}

export const EMPTY_COUNTERS: Readonly<StageCounters> = Object.freeze({
  total: 0,
  pending: 0,
  running: 0,
  done: 0,
  skipped: 0,
  failed: 0,
});

export type CollectionKind = 'folder' | 'archive';

/**
 * Why a job is paused: by the user; DISK_FULL when its cache folder or the data
 * folder has no room; READ_ONLY when its cache folder cannot be written;
 * SOURCE_OFFLINE when its collection's folder or archive cannot be reached (an
 * unplugged drive). All but the first resume by themselves.
 */
export const PAUSE_REASONS = ['user', 'DISK_FULL', 'READ_ONLY', 'SOURCE_OFFLINE'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

/**
 * How a collection follows the disk: watched; its watcher being set up;
 * rescanned every few minutes because it cannot be watched (a network drive,
 * too many watches); not watched by the user's choice; offline; or not
 * watched by this process at all (the CLI's `run`).
 */
export const WATCH_STATES = [
  'watching',
  'starting',
  'polling',
  'off',
  'offline',
  'inactive',
] as const;
export type WatchState = (typeof WATCH_STATES)[number];

/** True for the pauses the system made and undoes by itself. */
export function isSpacePause(reason: PauseReason | null): boolean {
  return reason === 'DISK_FULL' || reason === 'READ_ONLY';
}

/** A stage of a job as the UI and the CLI see it. */
export interface StageView extends StageCounters {
  status: JobStatus;
  /** Items finished (done, skipped or failed) per second over the last few seconds. */
  rate: number;
  /** Seconds left at the current rate, or null when unknown. */
  etaSeconds: number | null;
  /** Entry path of the item most recently started in this stage. */
  current: string | null;
}

/** A job as the UI and the CLI see it. */
/** What a job was started for: a first import, or a rescan of a collection already known. */
export type JobKind = 'import' | 'rescan';

export interface JobView {
  id: number;
  kind: JobKind;
  collectionId: number;
  collectionName: string;
  collectionKind: CollectionKind;
  root: string;
  status: JobStatus;
  scanFinished: boolean;
  paused: boolean;
  /** Why it is paused: by the user, or waiting for a folder to take writes again. */
  pauseReason: PauseReason | null;
  /**
   * What the job waits for, in words, when it is not progressing through no
   * choice of the user ("the cache folder /x is read-only"); null otherwise.
   */
  waitingFor: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Set when the whole job failed (for example an unreadable archive). */
  error: { code: ErrorCode; message: string } | null;
  stages: Record<StageName, StageView>;
}

/** A failed item with its reason. */
export interface FailedItemView {
  itemId: number;
  imageId: number;
  path: string;
  stage: StageName;
  code: ErrorCode;
  message: string;
  attempts: number;
}

/** The closed list of reasons an item or a job can fail. */
export const ERROR_CODES = [
  'UNSUPPORTED',
  'CORRUPT',
  'TRUNCATED',
  'TOO_MANY_PIXELS',
  'FILE_TOO_LARGE',
  'IO_ERROR',
  'NOT_FOUND',
  'NOT_REGULAR_FILE',
  'SYMLINK_LOOP',
  'DANGLING_LINK',
  /** A symbolic link whose real target is outside the collection's folder (not followed). */
  'LINK_OUTSIDE_ROOT',
  'PERMISSION_DENIED',
  'DECODER_CRASH',
  'TIMEOUT',
  'INVALID_ENTRY_NAME',
  'NESTED_ARCHIVE',
  'COMPRESSION_BOMB',
  'ARCHIVE_CORRUPT',
  'DISK_FULL',
  'INVALID_INPUT',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** An expected failure with a code from the closed list and a readable message. */
export interface Failure {
  code: ErrorCode;
  message: string;
}

/** Orders of a collection's images: date taken, name (natural), size, modified time. */
export const IMAGE_ORDERS = ['taken', 'name', 'size', 'modified'] as const;
export type ImageOrder = (typeof IMAGE_ORDERS)[number];
