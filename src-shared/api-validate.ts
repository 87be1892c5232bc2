import type { ApiError, CommandName } from './api.ts';
import { COMMANDS } from './api.ts';

/** A check of one value; returns an error text or null. */
type Check = (v: unknown) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const id: Check = (v) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0
    ? null
    : 'must be a positive whole number';
const count =
  (max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max
      ? null
      : `must be a whole number from 0 to ${max}`;
const paths: Check = (v) => {
  if (!Array.isArray(v) || v.length === 0 || v.length > 1000)
    return 'must be a list of 1 to 1000 paths';
  for (const p of v) {
    if (typeof p !== 'string' || p.trim() === '' || p.length > 4096 || p.includes('\0')) {
      return 'must contain only non-empty paths';
    }
  }
  return null;
};
const optional =
  (c: Check): Check =>
  (v) =>
    v === undefined ? null : c(v);
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const path: Check = (v) =>
  typeof v === 'string' && v.trim() !== '' && v.length <= 4096 && !v.includes('\0')
    ? null
    : 'must be a non-empty path';
const nullable =
  (c: Check): Check =>
  (v) =>
    v === null ? null : c(v);
const int =
  (lo: number, hi: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi
      ? null
      : `must be a whole number from ${lo} to ${hi}`;
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? null : `must be one of ${values.join(', ')}`;

/** An object with exactly these keys (unknown keys are refused, so typos surface). */
const shape =
  (fields: Record<string, Check>): Check =>
  (v) => {
    if (!isObject(v)) return 'must be an object';
    for (const k of Object.keys(v)) if (!(k in fields)) return `has an unknown field "${k}"`;
    for (const [k, check] of Object.entries(fields)) {
      const problem = check(v[k]);
      if (problem) return `${k} ${problem}`;
    }
    return null;
  };

const variantPatch = optional(
  shape({
    maxWidth: optional(int(16, 16384)),
    maxHeight: optional(int(16, 16384)),
    format: optional(oneOf('jpeg', 'webp')),
    quality: optional(int(1, 100)),
  }),
);

const none = shape({});
const job = shape({ jobId: id });
const page = { offset: count(10_000_000), limit: int(1, 1000) };

const SCHEMAS: Record<CommandName, Check> = {
  importPaths: shape({ paths }),
  listCollections: none,
  listImages: shape({ collectionId: id, ...page }),
  getImage: shape({ imageId: id }),
  listJobs: shape(page),
  failedItems: shape({ jobId: id, ...page }),
  pauseJob: job,
  resumeJob: job,
  cancelJob: job,
  retryJob: job,
  pauseAll: none,
  resumeAll: none,
  getSettings: none,
  updateSettings: shape({
    render: optional(shape({ thumbnail: variantPatch, cache: variantPatch })),
    limits: optional(
      shape({
        maxPixels: optional(int(1, 2 ** 40)),
        maxFileBytes: optional(int(1, 2 ** 45)),
        timeoutSeconds: optional(int(1, 3600)),
      }),
    ),
    workers: optional(int(0, 64)),
    keepRunningInTray: optional(bool),
  }),
  listCacheFolders: none,
  addCacheFolder: shape({ path, limitBytes: optional(nullable(int(1, 2 ** 50))) }),
  removeCacheFolder: shape({ id, moveTo: nullable(id) }),
  updateCacheFolder: shape({
    id,
    enabled: optional(bool),
    limitBytes: optional(nullable(int(1, 2 ** 50))),
  }),
  reconcileCache: shape({ dryRun: bool }),
  cleanupCache: shape({
    dryRun: bool,
    olderThanDays: optional(int(0, 36500)),
    all: optional(bool),
  }),
  rebalanceCache: shape({ dryRun: bool }),
  staleOutputs: none,
  regenerateStale: shape({ collectionId: optional(id) }),
};

/** True when `name` is a command of the contract. */
export function isCommand(name: unknown): name is CommandName {
  return typeof name === 'string' && (COMMANDS as readonly string[]).includes(name);
}

/**
 * Checks a command's name and parameters as they arrive from a UI; returns the
 * error to send back, or null when the call is well-formed.
 */
export function validateCommand(name: unknown, params: unknown): ApiError | null {
  if (!isCommand(name))
    return { code: 'INVALID_INPUT', message: `unknown command "${String(name)}"` };
  const problem = SCHEMAS[name](params ?? {});
  return problem ? { code: 'INVALID_INPUT', message: `${name}: ${problem}` } : null;
}
