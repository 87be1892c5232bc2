/**
 * An archive follows its file: a ZIP rewritten between two sessions is walked
 * again and each entry is classified by its name and CRC-32 (not its DOS
 * time), on real photos in real ZIPs through the real pool.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { openNodeCore } from './compose-node.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { photoJpeg } from '../test-support/fixtures.ts';
import { filesBelow, importAndWait, snapshot, until } from '../test-support/library-state.ts';
import { withPaddingSegments, zipOf } from '../library/test-fixtures.ts';

const tempDir = useTempDir('albumen-archive-rescan-');

/** The JPEG grown to exactly `size` bytes by one padding segment after its SOI. */
function padTo(jpeg: Buffer, size: number): Buffer {
  const padded = withPaddingSegments(jpeg, size - jpeg.length - 4);
  expect(padded.length).toBe(size);
  return padded;
}

describe('rescan of an archive', () => {
  it('keeps entries matched by name and CRC, follows renames, remakes replaced ones', async () => {
    const root = tempDir();
    const zip = join(root, 'album.cbz');
    const dataDir = join(root, 'data');
    const then = new Date('2020-01-02T03:04:06Z');
    const later = new Date('2024-05-06T07:08:10Z');

    const keep = await photoJpeg(320, 240);
    const renamed = await photoJpeg(300, 220);
    const removed = await photoJpeg(280, 200);
    const original = await photoJpeg(260, 180);
    // The replacement has the same size and DOS time as the first version: only
    // its CRC tells them apart (it is portrait, so its previews show which it is).
    const [first, second] = [await photoJpeg(240, 160), await photoJpeg(160, 240)];
    const size = Math.max(first.length, second.length) + 64;
    const replacedBefore = padTo(first, size);
    const replacedAfter = padTo(second, size);
    expect((await sharp(replacedAfter).metadata()).width).toBe(160);

    writeFileSync(
      zip,
      await zipOf([
        { name: 'keep.jpg', data: keep, mtime: then },
        { name: 'original.jpg', data: original, mtime: then },
        { name: 'rename-me.jpg', data: renamed, mtime: then },
        { name: 'remove.jpg', data: removed, mtime: then },
        { name: 'replace.jpg', data: replacedBefore, mtime: then },
      ]),
    );

    const core = openNodeCore({ dataDir, logFile: null, pollMs: 200 });
    try {
      const imported = await importAndWait(core, zip);
      expect(imported.status).toBe('completed');
      const col = imported.collectionId;
      const before = snapshot(core, col);
      expect(before.byPath.size).toBe(5);
      const removedId = before.byPath.get('remove.jpg')!;
      const removedFiles = core.outputsOf(removedId).map((o) => o.path);
      expect(removedFiles).toHaveLength(2);

      // The zip written again, as a tool does: every other entry gets a new DOS time.
      writeFileSync(
        zip,
        await zipOf([
          // A copy of an entry that stays, sorted before it: a new image, not a move.
          { name: 'a-copy.jpg', data: original, mtime: later },
          { name: 'added.jpg', data: await photoJpeg(200, 150), mtime: later },
          { name: 'keep.jpg', data: keep, mtime: later },
          { name: 'original.jpg', data: original, mtime: later },
          { name: 'replace.jpg', data: replacedAfter, mtime: then },
          { name: 'sub/renamed.jpg', data: renamed, mtime: later },
        ]),
      );
      utimesSync(zip, later, later);

      const [job] = core.rescan([col]);
      const [done] = await core.whenDone([job!.id]);
      expect(done!.status).toBe('completed');
      const after = snapshot(core, col);

      // The images are exactly the archive's entries.
      expect([...after.byPath.keys()].sort()).toEqual([
        'a-copy.jpg',
        'added.jpg',
        'keep.jpg',
        'original.jpg',
        'replace.jpg',
        'sub/renamed.jpg',
      ]);
      // Same name and CRC, new DOS time: the same image and the very same files.
      for (const [from, to] of [
        ['keep.jpg', 'keep.jpg'],
        ['original.jpg', 'original.jpg'],
        // Renamed inside the archive: same id, same files, nothing made again.
        ['rename-me.jpg', 'sub/renamed.jpg'],
      ] as const) {
        const id = before.byPath.get(from)!;
        expect(after.byPath.get(to), `${from} → ${to}`).toBe(id);
        expect(after.files.get(id), `${from} → ${to}`).toEqual(before.files.get(id));
        expect(after.files.get(id)).toHaveLength(2);
      }
      // The copy is an image of its own.
      const copyId = after.byPath.get('a-copy.jpg')!;
      expect([...before.byPath.values()]).not.toContain(copyId);
      expect(after.files.get(copyId)).toHaveLength(2);
      expect(after.files.get(after.byPath.get('added.jpg')!)).toHaveLength(2);

      // Same name, size and time, another CRC: a new version, its previews made again.
      const replacedId = before.byPath.get('replace.jpg')!;
      expect(after.byPath.get('replace.jpg')).toBe(replacedId);
      const image = core.image(replacedId)!;
      expect([image.width, image.height, image.version]).toEqual([160, 240, 2]);
      const now = after.files.get(replacedId)!;
      expect(now).toHaveLength(2);
      for (const f of now) expect(before.files.get(replacedId)).not.toContain(f);
      for (const o of core.outputsOf(replacedId)) {
        const m = await sharp(o.path).metadata();
        expect(m.height, o.variant).toBeGreaterThan(m.width);
      }

      // Removed: the image is gone, and its files once the deletions are drained.
      expect(core.image(removedId)).toBeUndefined();
      await until(
        'the removed entry’s files are deleted',
        () => !removedFiles.some(existsSync),
        5000,
      );

      // Only the replaced, the added and the copied entries were read and rendered.
      expect(done!.stages.scan.total).toBe(3);
      expect(done!.stages.thumbnail).toMatchObject({ total: 3, done: 3 });
      expect(done!.stages.cache).toMatchObject({ total: 3, done: 3 });
      // The cache holds the current outputs and nothing else.
      const cache = join(dataDir, 'cache');
      const outputs = [...after.byPath.values()].flatMap((id) =>
        core.outputsOf(id).map((o) => o.path),
      );
      expect(filesBelow(cache).map((f) => join(cache, f))).toEqual(outputs.sort());
      expect(core.checkInvariants()).toEqual([]);

      // Walked again unchanged: nothing to do at all.
      const [still] = await core.whenDone([core.rescan([col])[0]!.id]);
      const s = still!.stages;
      expect(s.scan.total + s.thumbnail.total + s.cache.total).toBe(0);
      expect(snapshot(core, col)).toEqual(after);
    } finally {
      await core.close();
    }
  }, 120_000);
});
