/**
 * The library follows the disk: a rescan (here, importing the folder again)
 * classifies every file as new, unchanged, changed, deleted or moved, on real
 * photos through the real pool, and keeps every finished preview it can.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { basename, join } from 'node:path';
import { openNodeCore } from './compose-node.ts';
import { Store } from '../store/store.ts';
import { WALK_SLACK_MS } from '../jobs/job-transitions.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { photoJpeg, writePhotos } from '../test-support/fixtures.ts';
import { filesBelow, importAndWait, snapshot, until } from '../test-support/library-state.ts';

const tempDir = useTempDir('albumen-rescan-');

describe('rescan', () => {
  it('follows adds, deletes, edits, moves and renames, keeping the previews of moved photos', async () => {
    const root = tempDir();
    const a = join(root, 'A');
    const b = join(root, 'B');
    await writePhotos(a, 16, { width: 320, height: 240 });
    mkdirSync(b);
    writeFileSync(join(b, 'b1.jpg'), await photoJpeg(300, 200));
    const dataDir = join(root, 'data');
    const core = openNodeCore({ dataDir, logFile: null, pollMs: 200 });
    try {
      const first = await importAndWait(core, a);
      expect(first.status).toBe('completed');
      const colA = first.collectionId;
      const colB = (await importAndWait(core, b)).collectionId;
      const before = snapshot(core, colA);
      expect(before.byPath.size).toBe(16);
      const cacheFiles = filesBelow(join(dataDir, 'cache'));

      // The changes a user makes between two sessions.
      for (let i = 1; i <= 5; i++) {
        writeFileSync(join(a, `new${i}.jpg`), await photoJpeg(200 + i * 10, 150));
      }
      for (const n of [1, 2, 3]) unlinkSync(join(a, `photo${n}.jpg`));
      for (const n of [4, 5]) {
        writeFileSync(join(a, `photo${n}.jpg`), await photoJpeg(250, 180, { quality: 70 + n }));
      }
      mkdirSync(join(a, 'sub'));
      for (const n of [6, 7, 8, 9])
        renameSync(join(a, `photo${n}.jpg`), join(a, 'sub', `photo${n}.jpg`));
      renameSync(join(a, 'photo10.jpg'), join(a, 'renamed.jpg'));
      renameSync(join(a, 'photo11.jpg'), join(b, 'from-a.jpg'));

      // Both collections are rescanned together, as at start-up.
      const jobB = await core.importPath(b);
      const jobA = await core.importPath(a);
      const [doneB, doneA] = await core.whenDone([jobB.id, jobA.id]);
      expect(doneA!.status).toBe('completed');
      expect(doneB!.status).toBe('completed');

      const after = snapshot(core, colA);
      const afterB = snapshot(core, colB);
      // Images equal the files on disk.
      expect([...after.byPath.keys()].sort()).toEqual(
        filesBelow(a).map((f) => f.split('\\').join('/')),
      );
      expect([...afterB.byPath.keys()].sort()).toEqual(['b1.jpg', 'from-a.jpg']);

      // Moved and renamed: same id, the very same output files.
      const moves: [string, string, Map<string, number>][] = [
        ['photo6.jpg', 'sub/photo6.jpg', after.byPath],
        ['photo7.jpg', 'sub/photo7.jpg', after.byPath],
        ['photo8.jpg', 'sub/photo8.jpg', after.byPath],
        ['photo9.jpg', 'sub/photo9.jpg', after.byPath],
        ['photo10.jpg', 'renamed.jpg', after.byPath],
        ['photo11.jpg', 'from-a.jpg', afterB.byPath],
      ];
      for (const [from, to, map] of moves) {
        const id = before.byPath.get(from)!;
        expect(map.get(to), `${from} → ${to}`).toBe(id);
        const files = map === after.byPath ? after.files : afterB.files;
        expect(files.get(id), `${from} → ${to}`).toEqual(before.files.get(id));
      }
      // Modified in place: same id, new output files (new inode or mtime).
      for (const n of [4, 5]) {
        const id = before.byPath.get(`photo${n}.jpg`)!;
        expect(after.byPath.get(`photo${n}.jpg`)).toBe(id);
        const was = before.files.get(id)!;
        const now = after.files.get(id)!;
        expect(now).toHaveLength(2);
        for (const f of now) expect(was).not.toContain(f);
      }
      // Deleted: their images and output files are gone.
      const cacheNow = filesBelow(join(dataDir, 'cache'));
      for (const n of [1, 2, 3]) {
        const id = before.byPath.get(`photo${n}.jpg`)!;
        expect(core.image(id)).toBeUndefined();
        for (const f of cacheFiles.filter(
          (p) => p.includes(`${id}-`) && p.split(/[\\/]/).pop()!.startsWith(`${id}-`),
        )) {
          expect(cacheNow).not.toContain(f);
        }
      }
      // Only the 5 new and 2 modified photos were rendered.
      expect(doneA!.stages.thumbnail.done).toBe(7);
      expect(doneB!.stages.thumbnail.total).toBe(0);
      expect(cacheNow.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(core.checkInvariants()).toEqual([]);

      // A second rescan finds nothing and makes no item rows.
      const [still] = await core.whenDone([(await core.importPath(a)).id]);
      expect(still!.stages.scan.total + still!.stages.thumbnail.total).toBe(0);
      // Finished jobs keep their counts, not a row per item: nothing failed, so
      // no item row is left at all, however many times the folders were scanned.
      const store = Store.open(join(dataDir, 'library.db'));
      try {
        expect(store.items.countAll()).toBe(0);
      } finally {
        store.close();
      }
      expect(core.job(first.id)!.stages.thumbnail).toMatchObject({ total: 16, done: 16 });
    } finally {
      await core.close();
    }
  }, 120_000);

  it('reads a file changed while its scan was under way again, and never leaves a done item without outputs', async () => {
    const root = tempDir();
    const a = join(root, 'A');
    await writePhotos(a, 3, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 200 });
    try {
      const first = await importAndWait(core, a);
      // The same job walks again (as after a pause, or a kill mid-scan) and the
      // file changed meanwhile: found by the hostile review of the foundations.
      writeFileSync(join(a, 'photo1.jpg'), await photoJpeg(80, 60));
      const again = await importAndWait(core, a);
      expect(again.status).toBe('completed');
      const img = core.allImages(first.collectionId).find((i) => i.entryPath === 'photo1.jpg')!;
      expect(img.width).toBe(80);
      expect(core.outputsOf(img.id)).toHaveLength(2);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('keeps one finished rescan that found nothing per collection, not one per rescan', async () => {
    const root = tempDir();
    const a = join(root, 'photos');
    await writePhotos(a, 2, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 100 });
    try {
      const first = await importAndWait(core, a);
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [job] = core.rescan([first.collectionId]);
        const [done] = await core.whenDone([job!.id]);
        expect(done!.status).toBe('completed');
        expect(done!.stages.scan.total + done!.stages.thumbnail.total).toBe(0);
        ids.push(job!.id);
      }
      // The import keeps its counts; of the empty rescans only the newest is left.
      expect(core.jobs().map((j) => j.id)).toEqual([ids[2], first.id]);
      writeFileSync(join(a, 'new.jpg'), await photoJpeg(300, 200));
      const [found] = core.rescan([first.collectionId]);
      await core.whenDone([found!.id]);
      const [empty] = core.rescan([first.collectionId]);
      await core.whenDone([empty!.id]);
      // A rescan that found something keeps its counts.
      expect(core.jobs().map((j) => j.id)).toEqual([empty!.id, found!.id, first.id]);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('takes a collection whose folder went away offline, keeps everything, and brings it back', async () => {
    const root = tempDir();
    const a = join(root, 'on a drive');
    await writePhotos(a, 4, { width: 320, height: 240 });
    const core = openNodeCore({
      dataDir: join(root, 'data'),
      logFile: null,
      pollMs: 100,
      spaceCheckMs: 200,
    });
    try {
      const first = await importAndWait(core, a);
      const id = first.collectionId;
      const before = snapshot(core, id);
      renameSync(a, `${a} (unplugged)`);
      const [job] = core.rescan([id]);
      await until(
        'the job waits for its offline collection',
        () => core.job(job!.id)!.pauseReason === 'SOURCE_OFFLINE',
        5000,
      );
      const waiting = core.job(job!.id)!;
      expect(waiting.status).toBe('paused');
      // Either way of saying the root is away (CI once saw "is empty" here).
      expect(waiting.waitingFor).toMatch(
        /is not reachable|is empty \(a drive that is not mounted\?\)/,
      );
      expect(
        core.collections().find((c) => c.collection.id === id)?.collection.offlineSince,
      ).not.toBeNull();
      // Offline is not deleted: every image and every preview is still there.
      expect(snapshot(core, id)).toEqual(before);

      renameSync(`${a} (unplugged)`, a);
      const [done] = await core.whenDone([job!.id]);
      expect(done!.status).toBe('completed');
      expect(
        core.collections().find((c) => c.collection.id === id)?.collection.offlineSince,
      ).toBeNull();
      expect(snapshot(core, id)).toEqual(before);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('keeps a photo moved to another collection when the collection it left is rescanned first', async () => {
    const root = tempDir();
    const a = join(root, 'A');
    const b = join(root, 'B');
    await writePhotos(a, 3, { width: 320, height: 240 });
    mkdirSync(b);
    writeFileSync(join(b, 'b1.jpg'), await photoJpeg(300, 200));
    const dataDir = join(root, 'data');
    const core = openNodeCore({ dataDir, logFile: null, pollMs: 100, watch: false });
    try {
      const colA = (await importAndWait(core, a)).collectionId;
      const colB = (await importAndWait(core, b)).collectionId;
      const before = snapshot(core, colA);
      const moved = before.byPath.get('photo2.jpg')!;
      renameSync(join(a, 'photo2.jpg'), join(b, 'from-a.jpg'));
      unlinkSync(join(a, 'photo3.jpg'));
      // B's import walked it just now: a walk of A that begins a moment later is
      // taken as one with B's; this one begins well after.
      await until(
        "B's last walk is not A's",
        () => Date.now() > core.collection(colB)!.walkedAt! + WALK_SLACK_MS + 200,
        WALK_SLACK_MS + 2000,
      );
      const deleted = before.byPath.get('photo3.jpg')!;
      // The collection it left, alone: both images are gone from it, and kept
      // (hidden, with their outputs) while B was not walked since.
      const [jobA] = core.rescan([colA]);
      await core.whenDone([jobA!.id]);
      expect([...snapshot(core, colA).byPath.keys()]).toEqual(['photo1.jpg']);
      expect(core.image(moved)?.goneAt).not.toBeNull();
      expect(core.outputsOf(moved)).toHaveLength(2);
      // Then the one it went to: the photo is found there, with its id and files.
      const [jobB] = core.rescan([colB]);
      const [doneB] = await core.whenDone([jobB!.id]);
      expect(doneB!.stages.thumbnail.total).toBe(0);
      const afterB = snapshot(core, colB);
      expect(afterB.byPath.get('from-a.jpg')).toBe(moved);
      expect(afterB.files.get(moved)).toEqual(before.files.get(moved));
      // Every collection walked since: the deleted one goes, with its files.
      expect(core.image(deleted)).toBeUndefined();
      await until(
        'its outputs are deleted',
        () =>
          !filesBelow(join(dataDir, 'cache')).some((p) => basename(p).startsWith(`${deleted}-`)),
        5000,
      );
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('tells moved files whose sampled blocks are alike apart by their whole content', async () => {
    const root = tempDir();
    const a = join(root, 'scans');
    mkdirSync(a);
    // Two uncompressed scans of the same size that differ only in a band far from
    // the three blocks a fingerprint samples (start, middle, end), with one time.
    const side = 512;
    const band = (seed: number) => {
      const px = Buffer.alloc(side * side * 3, 128);
      px.fill(seed, 100 * side * 3, 150 * side * 3);
      return sharp(px, { raw: { width: side, height: side, channels: 3 } })
        .tiff({ compression: 'none' })
        .toBuffer();
    };
    const [x, y] = await Promise.all([band(20), band(230)]);
    expect(x.length).toBe(y.length);
    const when = new Date('2024-05-01T10:00:00Z');
    for (const [name, data] of [
      ['x.tif', x],
      ['y.tif', y],
    ] as const) {
      writeFileSync(join(a, name), data);
      utimesSync(join(a, name), when, when);
    }
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 100 });
    try {
      const id = (await importAndWait(core, a)).collectionId;
      const before = snapshot(core, id);
      const [xs, ys] = core.allImages(id, 10).map((img) => img.fingerprint);
      expect(xs).toBe(ys); // the sampled fingerprints cannot tell them apart
      // Both moved, y to the place the walk comes to first.
      mkdirSync(join(a, 'sorted'));
      renameSync(join(a, 'y.tif'), join(a, 'sorted', '1.tif'));
      renameSync(join(a, 'x.tif'), join(a, 'sorted', '2.tif'));
      const [job] = core.rescan([id]);
      const [done] = await core.whenDone([job!.id]);
      expect(done!.status).toBe('completed');
      const after = snapshot(core, id);
      expect(after.byPath.get('sorted/1.tif')).toBe(before.byPath.get('y.tif'));
      expect(after.byPath.get('sorted/2.tif')).toBe(before.byPath.get('x.tif'));
      // Moved, not made again: the same output files.
      expect(after.files).toEqual(before.files);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('empties a folder whose photos were all deleted instead of taking it offline', async () => {
    const root = tempDir();
    const a = join(root, 'flat');
    await writePhotos(a, 3, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    const core = openNodeCore({ dataDir, logFile: null, pollMs: 100, spaceCheckMs: 200 });
    try {
      const id = (await importAndWait(core, a)).collectionId;
      expect(snapshot(core, id).byPath.size).toBe(3);
      // Every photo deleted, the folder kept: on the disk it was walked on, an
      // empty root is an empty folder, not the mount point of an absent drive.
      for (const n of [1, 2, 3]) unlinkSync(join(a, `photo${n}.jpg`));
      const [job] = core.rescan([id]);
      // Waits at most 10 s: a collection taken offline would wait for ever.
      await until(
        'the rescan ends or waits',
        () => core.job(job!.id)!.status !== 'running' && core.job(job!.id)!.status !== 'queued',
        10_000,
      );
      expect(core.job(job!.id)!.waitingFor).toBeNull();
      expect(core.job(job!.id)!.status).toBe('completed');
      const c = core.collections().find((x) => x.collection.id === id)!.collection;
      expect(c.offlineSince).toBeNull();
      expect(snapshot(core, id).byPath.size).toBe(0);
      await until(
        'the outputs are deleted',
        () => filesBelow(join(dataDir, 'cache')).length === 0,
        5000,
      );
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('follows changes on disk by itself while it runs, watched', async () => {
    const root = tempDir();
    const a = join(root, 'watched');
    await writePhotos(a, 3, { width: 320, height: 240 });
    const core = openNodeCore({
      dataDir: join(root, 'data'),
      logFile: null,
      pollMs: 100,
      watch: true,
      watchDebounceMs: 200,
    });
    const names = (id: number) =>
      core
        .allImages(id)
        .map((i) => i.entryPath)
        .sort();
    try {
      const first = await importAndWait(core, a);
      const id = first.collectionId;
      writeFileSync(join(a, 'new.jpg'), await photoJpeg(300, 200));
      const shown = await until(
        'a new photo appears',
        () => core.allImages(id).some((i) => i.entryPath === 'new.jpg' && i.format !== null),
        5000,
      );
      const img = core.allImages(id).find((i) => i.entryPath === 'new.jpg')!;
      await until('its thumbnail is made', () => core.outputsOf(img.id).length === 2, 5000);
      unlinkSync(join(a, 'photo1.jpg'));
      renameSync(join(a, 'photo2.jpg'), join(a, 'moved.jpg'));
      await until(
        'the delete and the rename show',
        () => names(id).join() === ['moved.jpg', 'new.jpg', 'photo3.jpg'].join(),
        5000,
      );
      expect(shown).toBeLessThan(3000);
    } finally {
      await core.close();
    }
  }, 60_000);
});
