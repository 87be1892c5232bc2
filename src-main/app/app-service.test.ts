import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNodeCore } from '../core/compose-node.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { AppService } from './app-service.ts';
import { writePhotos } from '../test-support/fixtures.ts';
import { COMMANDS, type ApiResult, type CommandName } from '../../src-shared/api.ts';
import { resultProblem } from '../../src-shared/api-validate.ts';

let root: string;
let core: AlbumenCore;
let service: AppService;
let collectionId: number;
let jobId: number;
let imageId: number;
/** Every answer the tests saw, checked against the contract's result schemas at the end. */
const answers: [CommandName, ApiResult<unknown>][] = [];

/** `service.call`, recording the answer; typed end to end, no casts. */
const call: AppService['call'] = async (command, params) => {
  const r = await service.call(command, params);
  answers.push([command, r]);
  return r;
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'albumen-service-'));
  await writePhotos(join(root, 'photos'), 3, { width: 640, height: 480 });
  core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
  await core.start();
  service = new AppService(core);
});

afterAll(async () => {
  service.dispose();
  await core.close();
  rmSync(root, { recursive: true, force: true });
});

describe('AppService.call: every command, typed, on a real core', () => {
  it('imports, lists and pages', async () => {
    const imported = await call('importPaths', { paths: [join(root, 'photos')] });
    expect(imported.ok).toBe(true);
    if (!imported.ok) return;
    const job = imported.value.jobs[0]!;
    jobId = job.id;
    collectionId = job.collectionId;
    await core.whenDone([jobId]);

    const collections = await call('listCollections', {});
    expect(collections.ok && collections.value.map((c) => c.imageCount)).toEqual([3]);
    const images = await call('listImages', { collectionId, offset: 0, limit: 10 });
    expect(images.ok && images.value.total).toBe(3);
    imageId = images.ok ? images.value.items[0]!.id : 0;
    const image = await call('getImage', { imageId });
    expect(image.ok && image.value.has).toEqual({ thumbnail: true, cache: true });
    const zoom = await call('deepZoom', { imageId });
    expect(zoom.ok && zoom.value.format).toBe('jpeg');
    expect(await call('deepZoom', { imageId: 987_654 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    const jobs = await call('listJobs', { offset: 0, limit: 10 });
    expect(jobs.ok && jobs.value[0]!.status).toBe('completed');
    const failed = await call('failedItems', { jobId, offset: 0, limit: 10 });
    expect(failed).toEqual({ ok: true, value: [] });
  });

  it('acts on jobs, and says NOT_FOUND for one that does not exist', async () => {
    expect(await call('pauseJob', { jobId })).toEqual({ ok: true, value: false });
    expect(await call('resumeJob', { jobId })).toEqual({ ok: true, value: false });
    expect(await call('cancelJob', { jobId })).toEqual({ ok: true, value: false });
    expect((await call('retryJob', { jobId })).ok).toBe(true);
    expect((await call('pauseAll', {})).ok).toBe(true);
    expect((await call('resumeAll', {})).ok).toBe(true);
    const missing = await call('pauseJob', { jobId: 987_654 });
    expect(missing).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'no job 987654' } });
  });

  it('reads and changes settings, refusing a value out of range with INVALID_INPUT', async () => {
    const before = await call('getSettings', {});
    expect(before.ok && before.value.keepRunningInTray).toBe(true);
    const changed = await call('updateSettings', {
      render: { thumbnail: { maxWidth: 200, maxHeight: 200 } },
      keepRunningInTray: false,
    });
    expect(changed.ok && changed.value.render.thumbnail.maxWidth).toBe(200);
    expect(changed.ok && changed.value.keepRunningInTray).toBe(false);
    // `call` trusts its types; the core's own check (the same schema) still refuses.
    const refused = await call('updateSettings', { render: { cache: { quality: 0 } } });
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: 'render.cache.quality must be a whole number from 1 to 100',
      },
    });
  });

  it('runs the cache commands', async () => {
    const extra = join(root, 'cache2');
    mkdirSync(extra);
    const added = await call('addCacheFolder', { path: extra, limitBytes: null });
    expect(added.ok && added.value.path).toBe(extra);
    const id = added.ok ? added.value.id : 0;
    const updated = await call('updateCacheFolder', { id, enabled: false, limitBytes: 2 ** 30 });
    expect(updated.ok && [updated.value.enabled, updated.value.limitBytes]).toEqual([
      false,
      2 ** 30,
    ]);
    expect((await call('listCacheFolders', {})).ok).toBe(true);
    expect((await call('reconcileCache', { dryRun: true })).ok).toBe(true);
    expect((await call('cleanupCache', { dryRun: true, olderThanDays: 0 })).ok).toBe(true);
    expect((await call('rebalanceCache', { dryRun: true })).ok).toBe(true);
    expect((await call('removeCacheFolder', { id, moveTo: null })).ok).toBe(true);
    // The thumbnail size changed above: the old thumbnails are stale.
    const stale = await call('staleOutputs', {});
    expect(stale.ok && stale.value.byCollection.map((c) => c.collectionId)).toEqual([collectionId]);
    const remade = await call('regenerateStale', { collectionId });
    expect(remade.ok && remade.value.length).toBe(1);
    if (remade.ok) await core.whenDone(remade.value.map((j) => j.id));
  });

  it('rescans and removes collections, and says NOT_FOUND for one that does not exist', async () => {
    const rescanned = await call('rescanCollections', { collectionIds: [] });
    expect(rescanned.ok && rescanned.value.map((j) => [j.collectionId, j.kind])).toEqual([
      [collectionId, 'rescan'],
    ]);
    if (rescanned.ok) await core.whenDone(rescanned.value.map((j) => j.id));
    expect(await call('rescanCollections', { collectionIds: [987_654] })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'no collection 987654' },
    });
    await writePhotos(join(root, 'other'), 2, { width: 320, height: 240 });
    const other = await call('importPaths', { paths: [join(root, 'other')] });
    const otherJob = other.ok ? other.value.jobs[0]! : null;
    if (otherJob) await core.whenDone([otherJob.id]);
    const otherId = otherJob?.collectionId ?? 0;
    const removed = await call('removeCollection', { collectionId: otherId });
    expect(removed).toEqual({ ok: true, value: { images: 2, files: 4 } });
    const left = await call('listCollections', {});
    expect(left.ok && left.value.map((c) => c.id)).toEqual([collectionId]);
    expect((await call('removeCollection', { collectionId: otherId })).ok).toBe(false);
  });

  it('sets a collection not to be watched, and says what an import of a known folder did', async () => {
    const off = await call('setCollectionWatch', { collectionId, watch: false });
    // This core does not watch (like the CLI), but the user's choice is what shows.
    expect(off.ok && [off.value.watch, off.value.watched, off.value.watchState]).toEqual([
      false,
      false,
      'off',
    ]);
    const back = await call('setCollectionWatch', { collectionId, watch: null });
    expect(back.ok && [back.value.watch, back.value.watched, back.value.watchState]).toEqual([
      null,
      true,
      'inactive',
    ]);
    expect((await call('setCollectionWatch', { collectionId: 987_654, watch: true })).ok).toBe(
      false,
    );
    const photos = join(root, 'photos');
    const again = await call('importPaths', { paths: [photos] });
    expect(again.ok && again.value.notes).toEqual([
      `${photos} is already in the library; rescanning it`,
    ]);
    if (again.ok) await core.whenDone(again.value.jobs.map((j) => j.id));
  });

  it('expands ~ and refuses a relative path from the UI with a clear message', async () => {
    const home = process.env.HOME;
    process.env.HOME = root;
    try {
      const again = await call('importPaths', { paths: ['~/photos'] });
      expect(again.ok && again.value.jobs.map((j) => [j.root, j.kind])).toEqual([
        [join(root, 'photos'), 'rescan'],
      ]);
      if (again.ok) await core.whenDone(again.value.jobs.map((j) => j.id));
    } finally {
      process.env.HOME = home;
    }
    const relative = await call('importPaths', { paths: ['photos'] });
    expect(relative.ok).toBe(false);
    expect(!relative.ok && relative.error.code).toBe('INVALID_INPUT');
    expect(!relative.ok && relative.error.message).toMatch(/full path/);
  });

  it('answered every command, each answer of the shape its result schema declares', () => {
    expect([...new Set(answers.map(([c]) => c))].sort()).toEqual([...COMMANDS].sort());
    for (const [command, result] of answers) {
      expect(resultProblem(command, result), `${command}: ${JSON.stringify(result)}`).toBeNull();
    }
  });
});

describe('AppService.handle: what arrives from outside', () => {
  it('refuses unknown commands and malformed parameters before the core sees them', async () => {
    const before = await service.call('listCollections', {});
    expect(await service.handle('dropTables', {})).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'unknown command "dropTables"' },
    });
    expect(await service.handle('importPaths', { paths: [join(root, 'photos'), ''] })).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'importPaths: paths.1 must be a non-empty path' },
    });
    const settings = await service.handle('updateSettings', {
      render: { thumbnail: { quality: 500 } },
    });
    expect(!settings.ok && settings.error.message).toBe(
      'updateSettings: render.thumbnail.quality must be a whole number from 1 to 100',
    );
    // Nothing was imported by the refused call.
    expect(await service.call('listCollections', {})).toEqual(before);
  });

  it('runs a well-formed call with the checked parameters', async () => {
    const r = await service.handle('listImages', { collectionId, offset: 1, limit: 1 });
    expect(resultProblem('listImages', r)).toBeNull();
    expect(r).toMatchObject({ ok: true, value: { total: 3, offset: 1 } });
  });

  it('turns an exception in a command into a coded error, never a throw', async () => {
    const file = join(root, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await service.handle('addCacheFolder', { path: file });
    expect(r.ok).toBe(false);
    expect(resultProblem('addCacheFolder', r)).toBeNull();
  });
});
