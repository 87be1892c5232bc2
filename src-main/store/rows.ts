import type { PhotoMeta } from '../../src-shared/render-task.ts';
/**
 * The store's records as the rest of the core sees them: plain typed objects,
 * mapped from the rows by the repositories. No SQL types leave the store.
 */
import type {
  CollectionKind,
  Failure,
  PauseReason,
  ItemState,
  JobStatus,
  StageCounters,
  StageName,
  Variant,
  JobKind,
} from '../../src-shared/domain.ts';

/** A folder inside a collection where another drive was mounted: its path and device. */
export interface MountPoint {
  path: string;
  dev: number;
}

export interface CollectionRow {
  id: number;
  kind: CollectionKind;
  root: string;
  name: string;
  cacheFolderId: number;
  createdAt: number;
  /** A removal began (the next step deletes it): hidden from every list. */
  removing: boolean;
  /** That removal keeps the collection's output files on disk. */
  keepFilesOnRemoval: boolean;
  /** Since when its root cannot be reached (an unplugged drive); null when online. */
  offlineSince: number | null;
  /** When a walk last reached its root. */
  lastSeenAt: number | null;
  /** Watched for changes: true or false as the user set it, null to follow the global setting. */
  watch: boolean | null;
  /** The device its root was on when a walk last reached it (null before the first). */
  rootDev: number | null;
  /** When the last walk of it that finished began (null before the first). */
  walkedAt: number | null;
  /** Folders inside it that were another drive's mount point at the last walk. */
  mounts: MountPoint[];
}

export interface CacheFolderRow {
  id: number;
  path: string;
  enabled: boolean;
  limitBytes: number | null;
  bytes: number;
  files: number;
  lastGeneratedAt: number | null;
  lastCleanupAt: number | null;
}

export type { PauseReason } from '../../src-shared/domain.ts';

export interface JobRow {
  id: number;
  kind: JobKind;
  /** Requests to walk again so far; a walk begun before the latest does not end the scan. */
  walkRequests: number;
  collectionId: number;
  status: JobStatus;
  started: boolean;
  scanFinished: boolean;
  paused: boolean;
  pauseReason: PauseReason | null;
  /** For a system pause: what the job waits for, in words. */
  pauseDetail: string | null;
  cancelled: boolean;
  error: Failure | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export type StageRow = StageCounters & { status: JobStatus };

/** An image of a collection; format and size are null until its header was read. */
export interface ImageRow {
  id: number;
  collectionId: number;
  entryPath: string;
  size: number;
  mtimeMs: number;
  format: string | null;
  width: number | null;
  height: number | null;
  orientation: number | null;
  /** Size plus a hash of sampled blocks (an archive entry: its CRC); null until known. */
  fingerprint: string | null;
  /** The CONTENT_HASH of the whole file, from the decode that rendered it; null until then. */
  contentHash: string | null;
  /** Bumped each time the file changes in place. */
  version: number;
  /** When a rescan did not find it; null while it is in the library. */
  goneAt: number | null;
  /** What its EXIF and XMP say (all null until a decode read them). */
  meta: PhotoMeta;
}

/** An output file as recorded after its rename. */
export interface OutputRecord {
  variant: Variant;
  settingsHash: string;
  cacheFolderId: number;
  relPath: string;
  bytes: number;
  width: number;
  height: number;
}

export interface OutputRow extends OutputRecord {
  id: number;
  imageId: number;
  /** The image's version it was made from; older than the image's means outdated. */
  sourceVersion: number;
}

export interface ItemRow {
  id: number;
  jobId: number;
  stage: StageName;
  imageId: number;
  state: ItemState;
  attempts: number;
  crashes: number;
  error: Failure | null;
}

/** A file found by the scan, as the store records it. */
export interface ScannedEntry {
  entryPath: string;
  size: number;
  mtimeMs: number;
  failure: Failure | null;
  /**
   * Known for files that are new or changed, and for every archive entry (from
   * the walk; see SourceReader.fingerprint).
   */
  fingerprint?: string | null;
  /**
   * A new path whose content is that of this image, whose own file is gone: the
   * image moves here (checked again inside the transition).
   */
  movedFrom?: number;
}

/** A scan item claimed for probing. */
export interface ScanWork {
  itemId: number;
  imageId: number;
  entryPath: string;
}

/** The render items of one image in one job: decoded once, written per variant. */
export interface RenderUnit {
  jobId: number;
  imageId: number;
  collectionId: number;
  entryPath: string;
  /** The version of the file when the unit was picked (its outputs are made from it). */
  version: number;
  /** How many suspect events (decoder crash, timeout) happened with this image in flight. */
  crashes: number;
  /** Runs alone: a failure met beside other decodes is being confirmed. */
  solo: boolean;
  items: { id: number; variant: Variant }[];
}

/** A file that a transition made unreferenced; deleted after it commits. */
export interface Unreferenced {
  cacheFolderId: number;
  relPath: string;
}

/** An item that was running when the previous process died. */
export interface InterruptedItem {
  itemId: number;
  jobId: number;
  stage: StageName;
  imageId: number;
  collectionId: number;
}

/** A stage whose counters disagreed with its item rows. */
export interface CounterDrift {
  jobId: number;
  stage: StageName;
  stored: StageCounters;
  actual: StageCounters;
}
