/**
 * Following the disk, beyond a rescan: watched collections going offline and
 * back by themselves (a renamed root, an unmounted drive), the watch settings
 * (per collection and library-wide, with the rescan at start), and imports
 * that overlap collections already in the library — never the same file twice.
 * Real photos, real pool, real watcher.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openNodeCore, type NodeCoreOptions } from './compose-node.ts';
import type { AlbumenCore } from './albumen-core.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { photoJpeg, writePhotos } from '../test-support/fixtures.ts';
import { canMount, keepFiles, mountTmpfs } from '../test-support/mounts.ts';
import { importAndWait, snapshot, until } from '../test-support/library-state.ts';

const tempDir = useTempDir('albumen-watch-');

function openCore(dataDir: string, extra: Partial<NodeCoreOptions> = {}): AlbumenCore {
  return openNodeCore({
    dataDir,
    logFile: null,
    pollMs: 100,
    spaceCheckMs: 200,
    watch: true,
    watchDebounceMs: 150,
    ...extra,
  });
}

/** Image id → its output files' identities (inode and mtime), for "kept, not remade". */
const outputIdentity = (core: AlbumenCore, collectionId: number) =>
  snapshot(core, collectionId).files;

const offlineSince = (core: AlbumenCore, id: number) => core.collection(id)?.offlineSince ?? null;

describe('watched collections go offline and come back by themselves', () => {
  it('shows a collection whose root was renamed away offline within 2 s, keeps everything, and brings it back', async () => {
    const root = tempDir();
    const a = join(root, 'photos');
    await writePhotos(a, 3, { width: 320, height: 240 });
    const core = openCore(join(root, 'data'));
    try {
      const id = (await importAndWait(core, a)).collectionId;
      await until('watched', () => core.watchState(id).state === 'watching', 5000);
      const before = outputIdentity(core, id);
      renameSync(a, `${a} (away)`);
      const took = await until('offline', () => offlineSince(core, id) !== null, 2000);
      expect(took).toBeLessThan(2000);
      expect(core.watchState(id).state).toBe('offline');
      expect(outputIdentity(core, id)).toEqual(before);
      renameSync(`${a} (away)`, a);
      await until('online again', () => offlineSince(core, id) === null, 5000);
      const job = core.collections().find((c) => c.collection.id === id)!.job!;
      await core.whenDone([job.id]);
      expect(outputIdentity(core, id)).toEqual(before);
      await until('watched again', () => core.watchState(id).state === 'watching', 5000);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 60_000);

  it.skipIf(!canMount)(
    'shows a collection on an unmounted drive offline, even unwatched, and back when it is mounted again',
    async () => {
      const root = tempDir();
      const mountPoint = join(root, 'drive');
      const drive = mountTmpfs(mountPoint, 64 * 1024 * 1024);
      const core = openCore(join(root, 'data'));
      try {
        const photos = join(mountPoint, 'DCIM');
        await writePhotos(photos, 3, { width: 320, height: 240 });
        // The collection is the drive itself: unmounted, its mount point is an empty folder.
        const id = (await importAndWait(core, mountPoint)).collectionId;
        // Not watched: the regular look at every root notices it (no watcher event needed).
        core.setCollectionWatch(id, false);
        const before = outputIdentity(core, id);
        // Keep the files to put back: a tmpfs forgets them when unmounted.
        const saved = keepFiles(photos);
        drive.unmount();
        const took = await until('offline', () => offlineSince(core, id) !== null, 2000);
        expect(took).toBeLessThan(2000);
        expect(core.allImages(id)).toHaveLength(3);
        expect(outputIdentity(core, id)).toEqual(before);

        const again = mountTmpfs(mountPoint, 64 * 1024 * 1024);
        try {
          saved.putBack();
          await until('online again', () => offlineSince(core, id) === null, 5000);
          const job = core.collections().find((c) => c.collection.id === id)!.job!;
          await core.whenDone([job.id]);
          expect(outputIdentity(core, id)).toEqual(before);
          expect(core.checkInvariants()).toEqual([]);
        } finally {
          await core.close();
          again.unmount();
        }
      } finally {
        await core.close();
        drive.unmount();
      }
    },
    60_000,
  );
});

describe('an unplugged drive whose mount point is not empty', () => {
  it.skipIf(!canMount)(
    'takes the collection offline, not empty, when its mount folder holds other files',
    async () => {
      const root = tempDir();
      const mnt = join(root, 'drive');
      mkdirSync(mnt);
      // On the mount folder itself, hidden by the drive while it is mounted.
      writeFileSync(join(mnt, '.keep'), '');
      writeFileSync(join(mnt, 'notes.txt'), 'written while the drive was out');
      const drive = mountTmpfs(mnt, 64 * 1024 * 1024);
      const core = openCore(join(root, 'data'), { watch: false });
      try {
        await writePhotos(mnt, 3, { width: 320, height: 240 });
        const id = (await importAndWait(core, mnt)).collectionId;
        const before = snapshot(core, id);
        drive.unmount();
        const [job] = core.rescan([id]);
        await until(
          'the job waits for its offline collection',
          () => core.job(job!.id)!.pauseReason === 'SOURCE_OFFLINE',
          5000,
        );
        expect(core.job(job!.id)!.waitingFor).toMatch(/another drive/);
        expect(offlineSince(core, id)).not.toBeNull();
        expect(snapshot(core, id)).toEqual(before);
      } finally {
        await core.close();
        drive.unmount();
      }
    },
    60_000,
  );
});

describe('a drive mounted inside a collection', () => {
  it.skipIf(!canMount)(
    'keeps the images of a drive unmounted inside a collection, and finds them unchanged when it is back',
    async () => {
      const root = tempDir();
      const a = join(root, 'library');
      await writePhotos(a, 2, { width: 320, height: 240 });
      const card = join(a, 'card');
      const drive = mountTmpfs(card, 64 * 1024 * 1024);
      const core = openCore(join(root, 'data'), { watch: false });
      try {
        await writePhotos(card, 3, { width: 300, height: 200 });
        const id = (await importAndWait(core, a)).collectionId;
        const before = snapshot(core, id);
        expect(before.byPath.size).toBe(5);
        const saved = keepFiles(card);
        // The card is unplugged: its mount point is an empty folder on the
        // library's disk. Its images are offline, not deleted; a photo deleted
        // beside it is.
        drive.unmount();
        expect(readdirSync(card)).toEqual([]);
        unlinkSync(join(a, 'photo2.jpg'));
        const [job] = core.rescan([id]);
        const [done] = await core.whenDone([job!.id]);
        expect(done!.status).toBe('completed');
        const during = snapshot(core, id);
        expect([...during.byPath.keys()].sort()).toEqual([
          'card/photo1.jpg',
          'card/photo2.jpg',
          'card/photo3.jpg',
          'photo1.jpg',
        ]);
        for (const [path, imageId] of during.byPath) {
          expect(during.files.get(imageId), path).toEqual(before.files.get(imageId));
        }
        // Plugged in again: a rescan finds the card's photos as they were.
        const again = mountTmpfs(card, 64 * 1024 * 1024);
        try {
          saved.putBack();
          const [back] = core.rescan([id]);
          const [ended] = await core.whenDone([back!.id]);
          expect(ended!.stages.thumbnail.total).toBe(0);
          expect(snapshot(core, id)).toEqual(during);
          expect(core.checkInvariants()).toEqual([]);
        } finally {
          await core.close();
          again.unmount();
        }
      } finally {
        await core.close();
        drive.unmount();
      }
    },
    60_000,
  );
});

describe('back online at start', () => {
  it('resumes a collection whose root came back as processing starts, not at the first space check', async () => {
    // Found by the fuzzer (seed 808, fourth sequence, with unplug and watch):
    // a short `albumen run` or `rescan --wait` ended (exit 4) before the first
    // space check, which alone brought collections back, so one never did.
    const root = tempDir();
    const a = join(root, 'photos');
    await writePhotos(a, 2, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    const slow = { watch: false, spaceCheckMs: 60_000 };
    let core = openCore(dataDir, slow);
    const id = (await importAndWait(core, a)).collectionId;
    renameSync(a, `${a} (away)`);
    const [job] = core.rescan([id]);
    await until('offline', () => core.job(job!.id)?.pauseReason === 'SOURCE_OFFLINE', 5000);
    await core.close();

    renameSync(`${a} (away)`, a);
    core = openCore(dataDir, slow);
    try {
      await core.start();
      expect(offlineSince(core, id)).toBeNull();
      expect(core.job(job!.id)?.paused).toBe(false);
      const [done] = await core.whenDone([job!.id]);
      expect(done!.status).toBe('completed');
    } finally {
      await core.close();
    }
  }, 60_000);
});

describe('watch settings', () => {
  it('follows a collection only while it is watched, and walks it when watching is turned on', async () => {
    const root = tempDir();
    const a = join(root, 'photos');
    await writePhotos(a, 2, { width: 320, height: 240 });
    const core = openCore(join(root, 'data'));
    const names = (id: number) => core.allImages(id).map((i) => i.entryPath);
    try {
      const id = (await importAndWait(core, a)).collectionId;
      await until('watched', () => core.watchState(id).state === 'watching', 5000);
      core.setCollectionWatch(id, false);
      expect(core.watchState(id)).toEqual({ state: 'off', detail: null });
      writeFileSync(join(a, 'unseen.jpg'), await photoJpeg(300, 200));
      await new Promise((r) => setTimeout(r, 1500));
      expect(names(id)).not.toContain('unseen.jpg');
      // On again: walked at once, for what changed while it was not watched.
      core.setCollectionWatch(id, true);
      await until('the change shows', () => names(id).includes('unseen.jpg'), 5000);
      await until('watched', () => core.watchState(id).state === 'watching', 5000);
      expect(core.collection(id)?.watch).toBe(true);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('rescans a folder on a network drive instead of watching it, and says so', async () => {
    const root = tempDir();
    const a = join(root, 'on the NAS');
    await writePhotos(a, 2, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    let core = openCore(dataDir);
    const id = (await importAndWait(core, a)).collectionId;
    await core.close();
    writeFileSync(join(a, 'added meanwhile.jpg'), await photoJpeg(300, 200));
    // A network file system (NFS, SMB…) cannot be mounted here: statfs's answer stands in.
    core = openCore(dataDir, { remoteFileSystem: (p) => Promise.resolve(p === a ? 'NFS' : null) });
    try {
      await core.start();
      await until('polled', () => core.watchState(id).state === 'polling', 5000);
      expect(core.watchState(id).detail).toBe(
        'on a network drive (NFS), whose changes make no events; rescanned every 5 minutes',
      );
      // Walked at once, since changes may have been missed.
      await until(
        'walked',
        () => core.allImages(id).some((i) => i.entryPath === 'added meanwhile.jpg'),
        5000,
      );
    } finally {
      await core.close();
    }
  }, 60_000);

  it('rescans watched collections at start, and none when watching is off library-wide', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    const a = join(root, 'photos');
    await writePhotos(a, 2, { width: 320, height: 240 });
    let core = openCore(dataDir);
    const id = (await importAndWait(core, a)).collectionId;
    await core.updateSettings({ watchFolders: false });
    expect(core.watchState(id).state).toBe('off');
    await core.close();

    writeFileSync(join(a, 'while-closed.jpg'), await photoJpeg(300, 200));
    core = openCore(dataDir);
    try {
      await core.start();
      expect(core.unfinishedJobIds()).toEqual([]);
      await new Promise((r) => setTimeout(r, 800));
      expect(core.allImages(id).map((i) => i.entryPath)).not.toContain('while-closed.jpg');
    } finally {
      await core.close();
    }

    core = openCore(dataDir);
    try {
      await core.updateSettings({ watchFolders: true });
      await core.start();
      // Walked once its watcher is ready.
      const before = core.jobs()[0]!.id;
      // Found among all jobs: it may finish between two looks.
      await until('a rescan at start', () => core.jobs()[0]!.id > before, 5000);
      const job = core.jobs()[0]!;
      expect(job.kind).toBe('rescan');
      await core.whenDone([job.id]);
      expect(core.allImages(id).map((i) => i.entryPath)).toContain('while-closed.jpg');
    } finally {
      await core.close();
    }
  }, 60_000);
});

describe('imports that overlap the library', () => {
  it('takes the collections inside a newly imported folder in, keeping their ids and previews', async () => {
    const root = tempDir();
    const parent = join(root, 'Pictures');
    const inner = join(parent, '2024', 'Trip');
    await writePhotos(inner, 3, { width: 320, height: 240 });
    await writePhotos(join(parent, 'loose'), 1, { width: 320, height: 240 });
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 100 });
    try {
      const innerId = (await importAndWait(core, inner)).collectionId;
      const before = [...outputIdentity(core, innerId).entries()];
      expect(before).toHaveLength(3);

      const r = await core.importWithNote(parent);
      expect(r.note).toBe(
        `${parent} contains the collection “Trip”: it is now part of this one, with 3 images and their previews`,
      );
      const [done] = await core.whenDone([r.job.id]);
      expect(done!.status).toBe('completed');
      // One collection now, each file once; the inner photos kept id and files, none made again.
      expect(core.collections().map((c) => c.collection.root)).toEqual([parent]);
      expect(core.collection(innerId)).toBeUndefined();
      const after = outputIdentity(core, done!.collectionId);
      for (const [imageId, files] of before) expect(after.get(imageId)).toEqual(files);
      expect(
        core
          .allImages(done!.collectionId)
          .map((i) => i.entryPath)
          .sort(),
      ).toEqual([
        '2024/Trip/photo1.jpg',
        '2024/Trip/photo2.jpg',
        '2024/Trip/photo3.jpg',
        'loose/photo1.jpg',
      ]);
      expect(done!.stages.thumbnail.total).toBe(1); // only the loose photo
      expect(core.checkInvariants()).toEqual([]);

      // A folder inside a collection: that collection is rescanned, nothing new is made.
      const sub = await core.importWithNote(join(parent, '2024'));
      expect(sub.note).toBe(
        `${join(parent, '2024')} is inside the collection “Pictures” (${parent}); rescanning that collection instead`,
      );
      expect(sub.job.collectionId).toBe(done!.collectionId);
      await core.whenDone([sub.job.id]);
      expect(core.collections()).toHaveLength(1);
    } finally {
      await core.close();
    }
  }, 60_000);
});

describe('a walk that cannot be trusted declares nothing gone', () => {
  /** A collection with photos in `b` behind `count` files in `a` (the walk takes a while). */
  async function slowCollection(root: string, count: number) {
    const c = join(root, 'C');
    await writePhotos(join(c, 'b'), 3, { width: 320, height: 240 });
    mkdirSync(join(c, 'a'));
    // Empty files: walked like photos, failed at once by the scan (nothing to render).
    for (let i = 0; i < count; i++) writeFileSync(join(c, 'a', `f${i}.jpg`), '');
    return c;
  }

  /**
   * Starts a rescan and calls `meanwhile` once its walk has recorded a batch
   * (the files of `a` are touched first, so that the walk records each one).
   */
  async function rescanWith(core: AlbumenCore, c: string, id: number, meanwhile: () => void) {
    const later = new Date(Date.now() + 60_000);
    for (const f of readdirSync(join(c, 'a'))) utimesSync(join(c, 'a', f), later, later);
    const [job] = core.rescan([id]);
    await until('the walk under way', () => core.job(job!.id)!.stages.scan.total > 0, 10_000);
    expect(core.job(job!.id)!.scanFinished).toBe(false);
    meanwhile();
    return job!.id;
  }

  it('makes a collection whose root went away under the walk offline, and keeps every image', async () => {
    const root = tempDir();
    const c = await slowCollection(root, 2000);
    // The root goes away in the middle of the rescan's first batch: the walk
    // then goes on over a tree that is not there (nothing left to probe).
    let unplugAt = -1;
    const core = openCore(join(root, 'data'), {
      watch: false,
      spaceCheckMs: 60_000,
      crash: (point) => {
        if (point === 'mid-scan-batch' && --unplugAt === 0) renameSync(c, `${c} (away)`);
      },
    });
    try {
      const id = (await importAndWait(core, c)).collectionId;
      const before = outputIdentity(core, id);
      unplugAt = 1;
      const [job] = core.rescan([id]);
      await until('offline', () => offlineSince(core, id) !== null, 10_000);
      expect(core.job(job!.id)!.pauseReason).toBe('SOURCE_OFFLINE');
      expect(outputIdentity(core, id)).toEqual(before);
      expect(core.allImages(id, 10_000)).toHaveLength(2003);
      expect(core.checkInvariants()).toEqual([]);
    } finally {
      await core.close();
    }
  }, 120_000);

  it('finds a folder moved behind the walk where it went, with its previews', async () => {
    const root = tempDir();
    const c = await slowCollection(root, 4000);
    const core = openCore(join(root, 'data'), { watch: false, spaceCheckMs: 60_000 });
    try {
      const id = (await importAndWait(core, c)).collectionId;
      const ids = new Map(core.allImages(id, 10_000).map((i) => [i.entryPath, i.id]));
      const before = outputIdentity(core, id);
      const jobId = await rescanWith(core, c, id, () => {
        // '0' sorts before 'a': the walk has passed where the folder goes.
        mkdirSync(join(c, '0'));
        renameSync(join(c, 'b'), join(c, '0', 'b'));
      });
      const [done] = await core.whenDone([jobId]);
      for (const n of [1, 2, 3]) {
        const img = core.allImages(id, 10_000).find((i) => i.entryPath === `0/b/photo${n}.jpg`);
        expect(img?.id).toBe(ids.get(`b/photo${n}.jpg`));
        expect(outputIdentity(core, id).get(img!.id)).toEqual(before.get(img!.id));
      }
      expect(done!.stages.thumbnail.total).toBe(0); // nothing made again
    } finally {
      await core.close();
    }
  }, 120_000);

  it('does not give a retouched copy of the same size the previews of the original it replaced', async () => {
    const root = tempDir();
    const s = join(root, 'S');
    mkdirSync(s);
    // Uncompressed and the same size: the sampled blocks cannot tell them apart.
    const w = 600;
    const plain = Buffer.alloc(w * w * 3, 128);
    const retouched = Buffer.from(plain);
    // Rows 100–150: clear of the three sampled blocks (start, middle, end).
    for (let y = 100; y < 150; y++) retouched.fill(0, (y * w + 250) * 3, (y * w + 350) * 3);
    const sharp = (await import('sharp')).default;
    const tiff = (raw: Buffer) =>
      sharp(raw, { raw: { width: w, height: w, channels: 3 } })
        .tiff({ compression: 'none' })
        .toBuffer();
    writeFileSync(join(s, 'a.tif'), await tiff(plain));
    const core = openCore(join(root, 'data'), { watch: false });
    try {
      const id = (await importAndWait(core, s)).collectionId;
      const original = core.allImages(id)[0]!;
      writeFileSync(join(s, 'final.tif'), await tiff(retouched));
      unlinkSync(join(s, 'a.tif'));
      const [job] = core.rescan([id]);
      const [done] = await core.whenDone([job!.id]);
      const final = core.allImages(id).find((i) => i.entryPath === 'final.tif')!;
      expect(final.id).not.toBe(original.id);
      expect(done!.stages.thumbnail.done).toBe(1);
    } finally {
      await core.close();
    }
  }, 60_000);
});

describe('overlaps are judged by real paths', () => {
  it('takes a folder reached through a link for the collection it is, and refuses to take in an offline one', async () => {
    const root = tempDir();
    const a = join(root, 'A');
    await writePhotos(a, 2, { width: 320, height: 240 });
    const { symlinkSync } = await import('node:fs');
    symlinkSync(a, join(root, 'link to A'));
    const core = openCore(join(root, 'data'), { watch: false });
    try {
      const id = (await importAndWait(core, a)).collectionId;
      const again = await core.importWithNote(join(root, 'link to A'));
      expect(again.job.collectionId).toBe(id);
      expect(again.note).toBe(`${a} is already in the library; rescanning it`);
      await core.whenDone([again.job.id]);

      // An offline collection inside a folder being imported: its files would look deleted.
      const inner = join(root, 'P', 'drive');
      await writePhotos(inner, 1, { width: 320, height: 240 });
      const innerId = (await importAndWait(core, inner)).collectionId;
      renameSync(inner, `${inner} (away)`);
      const [j] = core.rescan([innerId]);
      await until('offline', () => offlineSince(core, innerId) !== null, 5000);
      await expect(core.importWithNote(join(root, 'P'))).rejects.toThrow(
        /contains the offline collection “drive”.*bring it back online or remove it first/,
      );
      expect(core.collection(innerId)).toBeDefined();
      expect(core.job(j!.id)!.pauseReason).toBe('SOURCE_OFFLINE');
    } finally {
      await core.close();
    }
  }, 60_000);
});
