/**
 * A folder that stops taking writes is never an image's fault: a read-only
 * cache folder, a full data folder and a database whose disk filled up each
 * pause the work with words saying what it waits for, and resume by itself
 * once the folder takes writes again. Needs tmpfs mounts (root on Linux, as
 * in CI); skipped elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { closeSync, fstatSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openNodeCore } from './compose-node.ts';
import type { AlbumenCore } from './albumen-core.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { writePhotos } from '../test-support/fixtures.ts';
import { canMount, mountTmpfs } from '../test-support/mounts.ts';
import { inspectDataDir } from '../test-support/inspect-data-dir.ts';
import type { JobView } from '../../src-shared/domain.ts';

const tempDir = useTempDir('albumen-disk-');

/** Fills the volume holding `dir` until writes fail, leaving about `leave` bytes. */
function fill(dir: string, leave = 0): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 7);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: the volume is full.
  } finally {
    closeSync(fd);
  }
  if (leave > 0) {
    const fd2 = openSync(file, 'r+');
    const { size } = fstatSync(fd2);
    ftruncateSync(fd2, Math.max(0, size - leave));
    closeSync(fd2);
  }
  return file;
}

function until(core: AlbumenCore, id: number, test: (j: JobView) => boolean, ms = 30_000) {
  return new Promise<JobView>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out; job is ${JSON.stringify(core.job(id))}`)),
      ms,
    );
    const check = () => {
      const j = core.job(id);
      if (j && test(j)) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(j);
      }
    };
    const poll = setInterval(check, 50);
  });
}

function failedTotal(j: JobView): number {
  return j.stages.scan.failed + j.stages.thumbnail.failed + j.stages.cache.failed;
}

describe.skipIf(!canMount)('folders that stop taking writes', () => {
  it('pauses on a read-only cache folder, says so, and resumes when it is writable again', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 24, { width: 640, height: 480 });
    const vol = mountTmpfs(join(root, 'vol'), 64 * 1024 * 1024);
    const core = openNodeCore({
      dataDir: join(root, 'data'),
      logFile: null,
      pollMs: 100,
      spaceCheckMs: 100,
    });
    try {
      const added = await core.cache.add(join(root, 'vol', 'cache'));
      await core.cache.setEnabled(1, false);
      const job = await core.importPath(photos);
      expect(core.collection(job.collectionId)?.cacheFolderId).toBe(added.id);
      vol.remount('ro');
      await core.start();
      const paused = await until(core, job.id, (j) => j.pauseReason === 'READ_ONLY');
      expect(paused.status).toBe('paused');
      expect(paused.waitingFor).toContain(join(root, 'vol', 'cache'));
      expect(paused.waitingFor).toContain('read-only');
      expect(failedTotal(paused)).toBe(0);
      vol.remount('rw');
      const [done] = await core.whenDone([job.id]);
      expect(done!.status).toBe('completed');
      expect(failedTotal(done!)).toBe(0);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
      vol.unmount();
    }
  });

  it('pauses DISK_FULL naming the data folder when its disk runs low, and resumes', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 24, { width: 640, height: 480 });
    const dataDir = join(root, 'data');
    const vol = mountTmpfs(dataDir, 32 * 1024 * 1024);
    const core = openNodeCore({
      dataDir,
      logFile: null,
      pollMs: 100,
      spaceCheckMs: 100,
      minFreeBytes: () => 8 * 1024 * 1024,
    });
    try {
      await core.cache.add(join(root, 'elsewhere'));
      await core.cache.setEnabled(1, false);
      const job = await core.importPath(photos);
      const filler = fill(dataDir, 4 * 1024 * 1024);
      await core.start();
      const paused = await until(core, job.id, (j) => j.pauseReason === 'DISK_FULL');
      expect(paused.waitingFor).toContain(`the data folder ${dataDir}`);
      expect(failedTotal(paused)).toBe(0);
      unlinkSync(filler);
      const [done] = await core.whenDone([job.id]);
      expect(done!.status).toBe('completed');
      expect(failedTotal(done!)).toBe(0);
    } finally {
      await core.close();
      vol.unmount();
    }
  });

  it('waits when the database itself cannot grow, loses nothing, and finishes once space returns', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 40, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    const vol = mountTmpfs(dataDir, 4 * 1024 * 1024);
    // No reserve: the disk fills under the database's feet.
    const core = openNodeCore({
      dataDir,
      logFile: null,
      pollMs: 100,
      spaceCheckMs: 100,
      minFreeBytes: () => 0,
    });
    try {
      await core.cache.add(join(root, 'elsewhere'));
      await core.cache.setEnabled(1, false);
      const job = await core.importPath(photos);
      let filler = '';
      core.onOutputReady(() => {
        if (!filler) filler = fill(dataDir);
      });
      await core.start();
      const waiting = await until(core, job.id, (j) => j.waitingFor !== null);
      expect(waiting.waitingFor).toContain('library database');
      expect(waiting.error).toBeNull();
      expect(failedTotal(waiting)).toBe(0);
      unlinkSync(filler);
      const [done] = await core.whenDone([job.id]);
      expect(done!.status).toBe('completed');
      expect(failedTotal(done!)).toBe(0);
      expect(done!.stages.thumbnail.done + done!.stages.thumbnail.skipped).toBe(40);
    } finally {
      await core.close();
      vol.unmount();
    }
    expect(inspectDataDir(dataDir).problems).toEqual([]);
  });
});
