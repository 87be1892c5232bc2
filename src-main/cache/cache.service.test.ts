import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { openNodeCore } from '../core/compose-node.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { writePhotos } from '../test-support/fixtures.ts';

const tempDir = useTempDir('albumen-cache-');

/** Every regular file below `dir` with its size (links not followed). */
function filesOnDisk(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, f), { throwIfNoEntry: false });
    if (st?.isFile()) out.set(join(dir, f), st.size);
  }
  return out;
}

/** Per-folder statistics must equal the files on disk. */
async function expectStatsMatchDisk(core: AlbumenCore): Promise<void> {
  for (const f of await core.cache.list()) {
    const disk = filesOnDisk(f.path);
    const bytes = [...disk.values()].reduce((a, b) => a + b, 0);
    expect({ folder: f.path, files: f.files, bytes: f.bytes }).toEqual({
      folder: f.path,
      files: disk.size,
      bytes,
    });
  }
}

async function importAll(core: AlbumenCore, paths: string[]): Promise<void> {
  const jobs = [];
  for (const p of paths) jobs.push(await core.importPath(p));
  await core.whenDone(jobs.map((j) => j.id));
}

const old = (path: string) => {
  const t = new Date(Date.now() - 30 * 86_400_000);
  utimesSync(path, t, t);
};

describe('cache folders', () => {
  it('spreads ten collections over two folders; statistics equal the files on disk', async () => {
    const root = tempDir();
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      const second = await core.cache.add(join(root, 'cache2'));
      expect(second.enabled).toBe(true);
      const folders = [];
      for (let i = 1; i <= 10; i++) {
        const dir = join(root, `col${i}`);
        await writePhotos(dir, 2, { width: 320, height: 240 });
        folders.push(dir);
      }
      await core.start();
      await importAll(core, folders);
      const list = await core.cache.list();
      expect(list).toHaveLength(2);
      for (const f of list) {
        expect(f.files).toBeGreaterThan(0);
        expect(f.collections).toBeGreaterThan(0);
        expect(f.lastGeneratedAt).not.toBeNull();
      }
      expect(list[0]!.collections + list[1]!.collections).toBe(10);
      await expectStatsMatchDisk(core);
    } finally {
      await core.close();
    }
  });

  it('reconcile reports exactly the deleted outputs and the stray files, fixes them, and a job remakes the outputs', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 6, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      await core.start();
      await importAll(core, [photos]);
      const [folder] = await core.cache.list();
      const files = [...filesOnDisk(folder!.path).keys()].sort();
      const gone = [files[0]!, files[3]!];
      for (const f of gone) unlinkSync(f);
      const strays = [
        join(folder!.path, '1', 'thumbnail', '0', '999-0123456789abcdef.jpg'),
        join(folder!.path, '1', 'thumbnail', '0', '5-0123456789abcdef.jpg.abc123.tmp'),
      ];
      for (const s of strays) {
        writeFileSync(s, 'stray');
        old(s);
      }
      // The user's own files in a cache folder are never Albumen's to delete.
      const mine = [join(folder!.path, 'notes.txt'), join(folder!.path, 'Pictures', 'wedding.jpg')];
      mkdirSync(join(folder!.path, 'Pictures'));
      for (const m of mine) {
        writeFileSync(m, 'mine');
        old(m);
      }

      const dry = await core.cache.reconcile(true);
      expect(dry.missing.sort()).toEqual(gone.sort());
      expect(dry.paths.sort()).toEqual(strays.sort());
      expect(dry.files).toBe(2);
      // A dry run changes nothing.
      expect(existsSync(strays[0]!)).toBe(true);

      const fixed = await core.cache.reconcile(false);
      expect(fixed.missing.sort()).toEqual(gone.sort());
      expect(fixed.paths.sort()).toEqual(strays.sort());
      for (const s of strays) expect(existsSync(s)).toBe(false);
      for (const m of mine) expect(existsSync(m)).toBe(true);
      expect((await core.cache.cleanup({ dryRun: true, all: true })).paths).toEqual([]);
      for (const m of mine) unlinkSync(m);

      const [job] = core.jobs();
      await core.whenDone([job!.id]);
      for (const f of gone) expect(existsSync(f)).toBe(true);
      const again = await core.cache.reconcile(true);
      expect(again).toMatchObject({ files: 0, missing: [] });
      await expectStatsMatchDisk(core);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  });

  it('cleanup deletes only unreferenced files inside the folder, never through links, and the dry run predicts it', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 3, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      await core.start();
      await importAll(core, [photos]);
      const [folder] = await core.cache.list();
      const outputs = [...filesOnDisk(folder!.path).keys()];
      // Sentinels beside the folder, reachable through links from inside it.
      const outside = join(root, 'outside');
      mkdirSync(outside);
      const sentinel = join(outside, 'sentinel.jpg');
      writeFileSync(sentinel, 'keep me');
      old(sentinel);
      writeFileSync(join(root, 'beside.jpg'), 'keep me too');
      symlinkSync(sentinel, join(folder!.path, 'link-to-file.jpg'));
      symlinkSync(outside, join(folder!.path, 'link-to-dir'));
      const orphanOld = join(folder!.path, '1', 'cache', '0', '77-0123456789abcdef.jpg');
      const orphanNew = join(folder!.path, '1', 'cache', '0', '78-0123456789abcdef.jpg');
      writeFileSync(orphanOld, 'x'.repeat(100));
      old(orphanOld);
      writeFileSync(orphanNew, 'y'.repeat(50));

      const dry = await core.cache.cleanup({ dryRun: true });
      expect(dry.paths).toEqual([orphanOld]);
      const done = await core.cache.cleanup({ dryRun: false });
      expect(done.files).toBe(dry.files);
      expect(done.bytes).toBe(dry.bytes);
      expect(done.paths).toEqual(dry.paths);
      expect(existsSync(orphanOld)).toBe(false);
      // Younger than the grace period even with `all`: it may still be being written.
      expect((await core.cache.cleanup({ dryRun: true, all: true })).paths).toEqual([]);
      expect(existsSync(orphanNew)).toBe(true);
      expect(existsSync(sentinel)).toBe(true);
      expect(existsSync(join(root, 'beside.jpg'))).toBe(true);
      for (const o of outputs) expect(existsSync(o)).toBe(true);
      expect(existsSync(join(root, 'data', 'library.db'))).toBe(true);
      expect(statSync(join(folder!.path, 'link-to-dir')).isDirectory()).toBe(true);
    } finally {
      await core.close();
    }
  });

  it('refuses folders that overlap another cache folder or hold the database', async () => {
    const root = tempDir();
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      await expect(core.cache.add(join(root, 'data', 'cache', 'inner'))).rejects.toThrow(
        /overlaps/,
      );
      await expect(core.cache.add(join(root, 'data'))).rejects.toThrow(/overlaps|database/);
      await expect(core.cache.add(root)).rejects.toThrow(/overlaps|database/);
    } finally {
      await core.close();
    }
  });

  it('counts stale outputs after a settings change and regenerates them', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 4, { width: 640, height: 480 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      await core.start();
      await importAll(core, [photos]);
      expect(core.cache.stale(core.currentHashes()).files).toBe(0);
      core.settingsStore.update({ render: { cache: { maxWidth: 400, maxHeight: 400 } } });
      const stale = core.cache.stale(core.currentHashes());
      expect(stale.files).toBe(4);
      expect(stale.byCollection).toEqual([
        { collectionId: 1, name: 'p', files: 4, bytes: stale.bytes },
      ]);
      await importAll(core, [photos]);
      expect(core.cache.stale(core.currentHashes()).files).toBe(0);
      await expectStatsMatchDisk(core);
    } finally {
      await core.close();
    }
  });

  it('moves files to a folder on rebalance and when a folder is removed', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 3, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      await core.start();
      await importAll(core, [photos]);
      const b = await core.cache.add(join(root, 'b'));
      await core.cache.setEnabled(1, false);
      const dry = await core.cache.rebalance(true);
      expect(dry.files).toBe(6);
      const moved = await core.cache.rebalance(false);
      expect(moved.files).toBe(6);
      const list = await core.cache.list();
      expect(list.find((f) => f.id === b.id)).toMatchObject({ files: 6 });
      expect(list.find((f) => f.id === 1)).toMatchObject({ files: 0, bytes: 0 });
      await expectStatsMatchDisk(core);
      // Served from their new place.
      const img = core.allImages(1)[0]!;
      expect(core.outputFile(img.id, 'thumbnail')?.path.startsWith(join(root, 'b'))).toBe(true);
      await core.cache.setEnabled(1, true);
      const r = await core.cache.remove(b.id, 1);
      expect(r.moved).toBe(6);
      await expectStatsMatchDisk(core);
      expect((await core.cache.list()).map((f) => f.id)).toEqual([1]);
    } finally {
      await core.close();
    }
  });
});

/** Mounting a small tmpfs needs root (CI runs as root); elsewhere this test is skipped. */
const canMount = process.getuid?.() === 0;

describe('a full cache folder', () => {
  // Skipped when not root: mounting the small tmpfs that fills up needs root.
  it.skipIf(!canMount)(
    'pauses the job with DISK_FULL, leaves no partial file, and completes once space is freed',
    async () => {
      const root = tempDir();
      const mnt = join(root, 'small');
      mkdirSync(mnt);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]);
      const core = openNodeCore({
        dataDir: join(root, 'data'),
        logFile: null,
        spaceCheckMs: 200,
        minFreeBytes: () => 0,
      });
      try {
        const photos = join(root, 'p');
        await writePhotos(photos, 24, { width: 1600, height: 1200 });
        const small = await core.cache.add(join(mnt, 'cache'));
        await core.cache.setEnabled(1, false);
        expect((await core.cache.list()).find((f) => f.id === small.id)?.enabled).toBe(true);
        const filler = join(mnt, 'filler.bin');
        writeFileSync(filler, Buffer.alloc(5 * 1024 * 1024));
        await core.start();
        const job = await core.importPath(photos);
        await expect
          .poll(() => core.job(job.id)?.pauseReason, { timeout: 60_000, interval: 100 })
          .toBe('DISK_FULL');
        expect(core.job(job.id)?.status).toBe('paused');
        expect(core.failedItems(job.id)).toEqual([]);
        // Wait for in-flight renders to settle, then look for partial files.
        await new Promise((r) => setTimeout(r, 500));
        const partial = [...filesOnDisk(join(mnt, 'cache')).keys()].filter((f) =>
          f.endsWith('.tmp'),
        );
        expect(partial).toEqual([]);
        await expectStatsMatchDisk(core);

        unlinkSync(filler);
        const [done] = await core.whenDone([job.id]);
        expect(done!.status).toBe('completed');
        expect(done!.stages.cache.done).toBe(24);
        await expectStatsMatchDisk(core);
      } finally {
        await core.close();
        execFileSync('umount', ['-l', mnt]);
      }
    },
  );
});

describe('cache folders under stress', () => {
  it('pauses a job whose folder is over its limit without spinning, and resumes when the limit rises', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 6, { width: 640, height: 480 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, spaceCheckMs: 100 });
    let warnings = 0;
    core.onLog((e) => {
      if (e.level === 'warn') warnings++;
    });
    try {
      await core.start();
      await importAll(core, [photos]);
      // Now over a tiny limit, then ask for everything again at other settings.
      await core.cache.setLimit(1, 1000);
      core.settingsStore.update({ render: { thumbnail: { maxWidth: 100, maxHeight: 100 } } });
      const job = await core.importPath(photos);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      await expect.poll(() => core.job(job.id)?.pauseReason, { timeout: 20_000 }).toBe('DISK_FULL');
      await new Promise((r) => setTimeout(r, 1000));
      clearInterval(timer);
      // The event loop stayed free and the log did not flood.
      expect(ticks).toBeGreaterThan(50);
      expect(warnings).toBeLessThan(20);
      expect(core.failedItems(job.id)).toEqual([]);
      await core.cache.setLimit(1, null);
      const [done] = await core.whenDone([job.id]);
      expect(done!.status).toBe('completed');
      expect(done!.stages.thumbnail.done).toBe(6);
    } finally {
      await core.close();
    }
  });

  it('keeps the outputs of an unreachable folder (offline is not missing) and does not remake them', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 3, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    let core = openNodeCore({ dataDir, logFile: null });
    const drive = join(root, 'drive');
    const second = await core.cache.add(join(drive, 'cache'));
    try {
      await core.cache.setEnabled(1, false);
      await core.start();
      await importAll(core, [photos]);
      expect((await core.cache.list()).find((f) => f.id === second.id)?.files).toBe(6);
    } finally {
      await core.close();
    }
    // The drive is unplugged: its mount point is there but empty.
    execFileSync('mv', [drive, `${drive}-away`]);
    mkdirSync(drive);
    core = openNodeCore({ dataDir, logFile: null });
    try {
      await core.start();
      await new Promise((r) => setTimeout(r, 500));
      const away = (await core.cache.list()).find((f) => f.id === second.id)!;
      expect(away).toMatchObject({ state: 'missing', files: 6 });
      expect((await core.cache.reconcile(false)).missing).toEqual([]);
      const again = await core.importPath(photos);
      const [done] = await core.whenDone([again.id]);
      // The outputs are recorded and current: the rescan has nothing to make.
      expect(done!.stages.cache).toMatchObject({ total: 0, done: 0 });
      expect((await core.cache.list()).find((f) => f.id === second.id)?.files).toBe(6);
    } finally {
      await core.close();
    }
  });

  it('remakes a missing output of a cancelled job in a new job, leaving the cancelled one cancelled', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 2, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null });
    try {
      await core.start();
      await importAll(core, [photos]);
      const first = core.jobs()[0]!;
      const [folder] = await core.cache.list();
      const victim = [...filesOnDisk(folder!.path).keys()][0]!;
      unlinkSync(victim);
      const r = await core.cache.reconcile(false);
      expect(r.missing).toEqual([victim]);
      const repair = core.jobs()[0]!;
      expect(repair.id).not.toBe(first.id);
      expect(core.job(first.id)?.status).toBe('completed');
      await core.whenDone([repair.id]);
      expect(existsSync(victim)).toBe(true);
      expect(core.job(repair.id)?.stages.scan.total).toBe(0);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  });
});

describe('start-up sweep', () => {
  it('removes old temporary files of interrupted writes, and nothing else', async () => {
    const root = tempDir();
    const photos = join(root, 'p');
    await writePhotos(photos, 2, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    let core = openNodeCore({ dataDir, logFile: null });
    try {
      await core.start();
      await importAll(core, [photos]);
    } finally {
      await core.close();
    }
    const cache = join(dataDir, 'cache');
    const dead = join(cache, '1', 'cache', '0', '1-0123456789abcdef.jpg.0a1b2c3d4e5f.tmp');
    const fresh = join(cache, '1', 'cache', '0', '2-0123456789abcdef.jpg.0a1b2c3d4e5f.tmp');
    const mine = join(cache, 'mine.tmp');
    for (const f of [dead, fresh, mine]) writeFileSync(f, 'x');
    old(dead);
    old(mine);
    const before = filesOnDisk(cache).size;
    core = openNodeCore({ dataDir, logFile: null });
    try {
      await core.start();
      await expect.poll(() => existsSync(dead), { timeout: 10_000 }).toBe(false);
      expect(existsSync(fresh)).toBe(true);
      expect(existsSync(mine)).toBe(true);
      expect(filesOnDisk(cache).size).toBe(before - 1);
    } finally {
      await core.close();
    }
  });
});
