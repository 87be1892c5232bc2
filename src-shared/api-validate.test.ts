import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  COMMAND_SCHEMAS,
  COMMANDS,
  type AppApi,
  type CommandName,
  type CommandParams,
  type CommandValue,
  type ImportResult,
} from './api.ts';
import { isCommand, parseCommand, resultProblem, validateCommand } from './api-validate.ts';
import type { JobView } from './domain.ts';
import { DEFAULT_SETTINGS, SETTINGS_RANGES } from './settings.ts';

/** One well-formed call of every command (the test below insists on one each). */
const VALID: { [K in CommandName]: CommandParams<K> } = {
  importPaths: { paths: ['/home/u/Pictures', 'C:\\Photos\\a.cbz'] },
  listCollections: {},
  listImages: { collectionId: 1, offset: 0, limit: 1000 },
  getImage: { imageId: 3 },
  deepZoom: { imageId: 3 },
  listJobs: { offset: 10_000_000, limit: 1 },
  failedItems: { jobId: 2, offset: 0, limit: 50 },
  pauseJob: { jobId: 1 },
  resumeJob: { jobId: 1 },
  cancelJob: { jobId: 1 },
  retryJob: { jobId: Number.MAX_SAFE_INTEGER },
  pauseAll: {},
  resumeAll: {},
  getSettings: {},
  updateSettings: {
    render: {
      thumbnail: { maxWidth: SETTINGS_RANGES.size.min, format: 'webp' },
      cache: { quality: SETTINGS_RANGES.quality.max },
    },
    limits: { timeoutSeconds: 3600 },
    workers: 0,
    keepRunningInTray: false,
  },
  listCacheFolders: {},
  addCacheFolder: { path: '/mnt/cache', limitBytes: null },
  removeCacheFolder: { id: 2, moveTo: null },
  updateCacheFolder: { id: 2, enabled: false, limitBytes: 2 ** 30 },
  reconcileCache: { dryRun: true },
  cleanupCache: { dryRun: false, olderThanDays: 0, all: true },
  rebalanceCache: { dryRun: true },
  rescanCollections: { collectionIds: [] },
  removeCollection: { collectionId: 3, keepFiles: false },
  staleOutputs: {},
  regenerateStale: {},
  setCollectionWatch: { collectionId: 2, watch: null },
};

describe('the command list', () => {
  it('is the schema table, with a valid sample for each command', () => {
    expect([...COMMANDS].sort()).toEqual(Object.keys(COMMAND_SCHEMAS).sort());
    expect([...COMMANDS].sort()).toEqual(Object.keys(VALID).sort());
    expect(COMMANDS).toContain('importPaths');
    expect(COMMANDS.length).toBe(27);
  });

  it('knows only its own names, never an inherited property', () => {
    expect(isCommand('listJobs')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'ListJobs', '']) {
      expect(isCommand(name), name).toBe(false);
    }
    expect(isCommand(7)).toBe(false);
    expect(isCommand(null)).toBe(false);
  });

  it('derives the types from the schemas', () => {
    expectTypeOf<CommandParams<'listJobs'>>().toEqualTypeOf<{ offset: number; limit: number }>();
    expectTypeOf<CommandParams<'listCollections'>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<CommandValue<'listJobs'>>().toEqualTypeOf<JobView[]>();
    expectTypeOf<CommandValue<'importPaths'>>().toEqualTypeOf<ImportResult>();
    expectTypeOf<CommandValue<'retryJob'>>().toEqualTypeOf<number>();
    expectTypeOf<AppApi['pauseJob']>().parameters.toEqualTypeOf<[{ jobId: number }]>();
  });
});

describe('parseCommand', () => {
  it.each(COMMANDS.map((c) => [c] as const))('accepts a well-formed %s', (command) => {
    expect(validateCommand(command, VALID[command])).toBeNull();
  });

  it('hands on a fresh object with only the declared fields, not the caller’s', () => {
    const params = { offset: 0, limit: 10 };
    const r = parseCommand('listJobs', params);
    expect(r).toEqual({ ok: true, command: 'listJobs', params: { offset: 0, limit: 10 } });
    expect(r.ok && r.params).not.toBe(params);
  });

  it('treats missing parameters as {} (a bare call of a command without any)', () => {
    expect(validateCommand('listCollections', undefined)).toBeNull();
    expect(validateCommand('getSettings', null)).toBeNull();
  });

  /** Hostile or careless calls, each with the part of the message that names the field. */
  const REFUSED: [string, unknown, unknown, string][] = [
    ['unknown command', 'nope', {}, 'unknown command "nope"'],
    ['inherited name', '__proto__', {}, 'unknown command "__proto__"'],
    ['constructor', 'constructor', {}, 'unknown command "constructor"'],
    ['non-string name', 42, {}, 'unknown command "42"'],
    ['negative offset', 'listJobs', { offset: -1, limit: 10 }, 'listJobs: offset must be'],
    ['offset too far', 'listJobs', { offset: 10_000_001, limit: 10 }, 'offset must be'],
    ['limit 0', 'listJobs', { offset: 0, limit: 0 }, 'listJobs: limit must be'],
    ['limit too big', 'listJobs', { offset: 0, limit: 1001 }, 'limit must be'],
    ['fractional limit', 'listJobs', { offset: 0, limit: 1.5 }, 'limit must be'],
    [
      'an extra field',
      'listJobs',
      { offset: 0, limit: 10, extra: 1 },
      'extra is not a known field',
    ],
    ['a missing field', 'listJobs', { limit: 10 }, 'listJobs: offset is missing'],
    ['id as text', 'pauseJob', { jobId: '1' }, 'pauseJob: jobId must be a positive whole number'],
    ['id 0', 'pauseJob', { jobId: 0 }, 'jobId must be a positive whole number'],
    ['id NaN', 'pauseJob', { jobId: NaN }, 'jobId must be a positive whole number'],
    ['id Infinity', 'pauseJob', { jobId: Infinity }, 'jobId must be a positive whole number'],
    ['unsafe id', 'pauseJob', { jobId: 2 ** 53 }, 'jobId must be a positive whole number'],
    ['no paths', 'importPaths', { paths: [] }, 'importPaths: paths must be a list of 1 to 1000'],
    ['paths not a list', 'importPaths', { paths: '/etc' }, 'paths must be a list'],
    [
      'too many paths',
      'importPaths',
      { paths: Array.from({ length: 1001 }, (_, i) => `/p${i}`) },
      'paths must be a list of 1 to 1000',
    ],
    ['a NUL byte', 'importPaths', { paths: ['/ok', 'a\0b'] }, 'paths.1 must be a non-empty path'],
    ['a blank path', 'importPaths', { paths: ['  '] }, 'paths.0 must be a non-empty path'],
    ['a very long path', 'importPaths', { paths: ['/' + 'a'.repeat(4096)] }, 'paths.0 must be'],
    ['a number as path', 'importPaths', { paths: [1] }, 'paths.0 must be a non-empty path'],
    ['null parameters', 'listImages', null, 'listImages: collectionId is missing'],
    ['a list as parameters', 'listCollections', [], 'listCollections: must be an object'],
    ['text as parameters', 'listJobs', 'offset=0', 'listJobs: must be an object'],
    ['a field on {}', 'getSettings', { x: 1 }, 'getSettings: x is not a known field'],
    [
      'a prototype key from JSON',
      'pauseJob',
      JSON.parse('{"jobId":1,"__proto__":{"admin":true}}'),
      '__proto__ is not a known field',
    ],
    [
      'quality 500',
      'updateSettings',
      { render: { thumbnail: { quality: 500 } } },
      'updateSettings: render.thumbnail.quality must be a whole number from 1 to 100',
    ],
    [
      'an unknown format',
      'updateSettings',
      { render: { cache: { format: 'png' } } },
      'render.cache.format must be one of jpeg, webp',
    ],
    [
      'a typo in a nested group',
      'updateSettings',
      { render: { thumbnail: { maxWidht: 300 } } },
      'render.thumbnail.maxWidht is not a known field',
    ],
    ['an unknown variant', 'updateSettings', { render: { poster: {} } }, 'render.poster is not'],
    ['a list as a group', 'updateSettings', { render: [] }, 'render must be an object'],
    [
      'workers 65',
      'updateSettings',
      { workers: 65 },
      'workers must be a whole number from 0 to 64',
    ],
    ['workers -1', 'updateSettings', { workers: -1 }, 'workers must be'],
    ['zero pixels', 'updateSettings', { limits: { maxPixels: 0 } }, 'limits.maxPixels must be'],
    ['tray as text', 'updateSettings', { keepRunningInTray: 'yes' }, 'must be true or false'],
    ['zero limit', 'addCacheFolder', { path: '/c', limitBytes: 0 }, 'limitBytes must be'],
    ['no path', 'addCacheFolder', { limitBytes: null }, 'addCacheFolder: path is missing'],
    ['moveTo missing', 'removeCacheFolder', { id: 1 }, 'moveTo is missing'],
    ['moveTo 0', 'removeCacheFolder', { id: 1, moveTo: 0 }, 'moveTo must be a positive'],
    ['dryRun as 1', 'reconcileCache', { dryRun: 1 }, 'reconcileCache: dryRun must be true or'],
    [
      'a century and a day',
      'cleanupCache',
      { dryRun: true, olderThanDays: 36501 },
      'olderThanDays must be a whole number from 0 to 36500',
    ],
    ['collection 0', 'regenerateStale', { collectionId: 0 }, 'collectionId must be a positive'],
  ];

  it.each(REFUSED)('refuses %s, saying which field', (_what, command, params, message) => {
    const r = parseCommand(command, params);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('INVALID_INPUT');
    expect(!r.ok && r.error.message).toContain(message);
  });
});

describe('settings ranges', () => {
  // The ranges are declared once (settings.ts); the API check follows them to the edge.
  const fields: [keyof typeof SETTINGS_RANGES, (n: number) => unknown][] = [
    ['size', (n) => ({ render: { thumbnail: { maxWidth: n } } })],
    ['size', (n) => ({ render: { cache: { maxHeight: n } } })],
    ['quality', (n) => ({ render: { cache: { quality: n } } })],
    ['workers', (n) => ({ workers: n })],
    ['maxPixels', (n) => ({ limits: { maxPixels: n } })],
    ['maxFileBytes', (n) => ({ limits: { maxFileBytes: n } })],
    ['timeoutSeconds', (n) => ({ limits: { timeoutSeconds: n } })],
  ];
  it.each(fields)('updateSettings takes exactly the %s range', (range, patch) => {
    const { min, max } = SETTINGS_RANGES[range];
    expect(validateCommand('updateSettings', patch(min))).toBeNull();
    expect(validateCommand('updateSettings', patch(max))).toBeNull();
    expect(validateCommand('updateSettings', patch(min - 1))).not.toBeNull();
    expect(validateCommand('updateSettings', patch(max + 1))).not.toBeNull();
    expect(validateCommand('updateSettings', patch(min + 0.5))).not.toBeNull();
  });
});

describe('resultProblem', () => {
  const stage = {
    total: 2,
    pending: 0,
    running: 0,
    done: 2,
    skipped: 0,
    failed: 0,
    status: 'completed' as const,
    rate: 0,
    etaSeconds: null,
    current: null,
  };
  const job: JobView = {
    id: 1,
    collectionId: 1,
    collectionName: 'photos',
    collectionKind: 'folder',
    kind: 'import',
    root: '/photos',
    status: 'completed',
    scanFinished: true,
    paused: false,
    pauseReason: null,
    waitingFor: null,
    createdAt: 1,
    updatedAt: 2,
    finishedAt: 3,
    error: null,
    stages: { scan: stage, thumbnail: stage, cache: stage },
  };

  it('accepts answers of the declared shape, and any coded error', () => {
    expect(resultProblem('listJobs', { ok: true, value: [job] })).toBeNull();
    expect(resultProblem('retryJob', { ok: true, value: 0 })).toBeNull();
    expect(
      resultProblem('getSettings', {
        ok: true,
        value: { ...DEFAULT_SETTINGS, keepRunningInTray: true },
      }),
    ).toBeNull();
    expect(
      resultProblem('pauseJob', { ok: false, error: { code: 'NOT_FOUND', message: 'no job 9' } }),
    ).toBeNull();
  });

  it('names what does not fit', () => {
    expect(resultProblem('listJobs', { ok: true, value: [{ ...job, status: 'done' }] })).toMatch(
      /^value\.0\.status/,
    );
    expect(resultProblem('listJobs', { ok: true, value: [{ ...job, secret: 1 }] })).toBe(
      'value.0.secret is not a known field',
    );
    expect(
      resultProblem('listJobs', {
        ok: true,
        value: [{ ...job, stages: { ...job.stages, cache: { ...stage, done: -1 } } }],
      }),
    ).toMatch(/^value\.0\.stages\.cache\.done/);
    expect(resultProblem('retryJob', { ok: true, value: true })).toMatch(/^value /);
    expect(resultProblem('pauseJob', { ok: false, error: { code: 'OOPS', message: '' } })).toMatch(
      /^error\.code/,
    );
    expect(resultProblem('pauseJob', { ok: true })).toMatch(/value/);
  });
});
