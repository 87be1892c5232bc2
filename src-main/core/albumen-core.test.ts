import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { openNodeCore } from './compose-node.ts';
import type { AlbumenCore } from './albumen-core.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { filesBelow, importAndWait } from '../test-support/library-state.ts';
import {
  patchZipNames,
  photoJpeg,
  writeBadFiles,
  writePhotos,
  zipOf,
} from '../test-support/fixtures.ts';
import { STAGES, type JobView } from '../../src-shared/domain.ts';

const tempDir = useTempDir('albumen-core-');

async function withCore<T>(
  dataDir: string,
  fn: (core: AlbumenCore) => Promise<T>,
  poolEnv?: Record<string, string>,
): Promise<T> {
  const core = openNodeCore({ dataDir, poolEnv, logFile: null, pollMs: 200 });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

function expectCountersEqualItems(core: AlbumenCore): void {
  expect(core.checkInvariants()).toEqual([]);
}

describe('AlbumenCore on real images', () => {
  it('imports a folder of photos and bad files: good ones done, bad ones failed with codes', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    const names = await writePhotos(photos, 6);
    writeFileSync(join(photos, 'portrait.jpg'), await photoJpeg(600, 400, { orientation: 6 }));
    writeFileSync(join(photos, 'big.jpg'), await photoJpeg(4000, 3000));
    const bad = await writeBadFiles(join(photos, 'bad'));
    writeFileSync(join(photos, '.hidden.jpg'), await photoJpeg(10, 10));
    writeFileSync(join(photos, 'readme.txt'), 'not an image');
    const dataDir = join(root, 'data');

    await withCore(dataDir, async (core) => {
      const job = await importAndWait(core, photos);
      expect(job.status).toBe('completed_with_errors');
      const good = names.length + 3; // + portrait, big, really-a-png
      expect(job.stages.thumbnail.done).toBe(good - 0);
      expect(job.stages.cache.done).toBe(good);
      const failed = core.failedItems(job.id);
      const byPath = new Map(failed.map((f) => [f.path, f.code]));
      for (const [name, code] of Object.entries(bad)) {
        expect(byPath.get(`bad/${name}`), name).toBe(code);
      }
      for (const f of failed) expect(f.message.length).toBeGreaterThan(5);
      expectCountersEqualItems(core);

      // Exactly one thumbnail and one cache file per good image, within bounds, oriented.
      const cache = join(dataDir, 'cache');
      const files = filesBelow(cache);
      expect(files.filter((f) => f.includes('/thumbnail/'))).toHaveLength(good);
      expect(files.filter((f) => f.includes('/cache/'))).toHaveLength(good);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      for (const f of files) {
        const m = await sharp(join(cache, f)).metadata();
        if (f.includes('/thumbnail/')) {
          expect(Math.max(m.width, m.height)).toBeLessThanOrEqual(300);
        } else {
          expect(m.width).toBeLessThanOrEqual(1920);
          expect(m.height).toBeLessThanOrEqual(1080);
        }
      }
      const portrait = files.filter((f) => f.includes('/cache/'));
      const dims = await Promise.all(portrait.map((f) => sharp(join(cache, f)).metadata()));
      // The EXIF-rotated 600×400 photo is stored upright as 400×600.
      expect(dims.some((d) => d.width === 400 && d.height === 600)).toBe(true);
    });
  });

  it('a re-import of an unchanged folder reads and writes nothing and makes no item rows, fast', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 40, { width: 320, height: 240 });
    const dataDir = join(root, 'data');
    await withCore(dataDir, async (core) => {
      const first = await importAndWait(core, photos);
      expect(first.status).toBe('completed');
      const cache = join(dataDir, 'cache');
      const before = new Map(filesBelow(cache).map((f) => [f, statSync(join(cache, f)).mtimeMs]));
      const t0 = performance.now();
      const second = await importAndWait(core, photos);
      const elapsed = performance.now() - t0;
      expect(second.id).not.toBe(first.id);
      expect(second.status).toBe('completed');
      // Nothing changed on disk, and every output is current: no item at all.
      expect(second.stages.scan).toMatchObject({ total: 0 });
      expect(second.stages.thumbnail).toMatchObject({ total: 0 });
      expect(second.stages.cache).toMatchObject({ total: 0 });
      const after = new Map(filesBelow(cache).map((f) => [f, statSync(join(cache, f)).mtimeMs]));
      expect(after).toEqual(before);
      // 40 images; the budget is 1 s per 1000 images (plus start-up slack).
      expect(elapsed).toBeLessThan(1000);
      expectCountersEqualItems(core);
    });
  });

  it('regenerates outputs made with other settings and removes the stale files', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 3, { width: 800, height: 600 });
    const dataDir = join(root, 'data');
    await withCore(dataDir, async (core) => {
      await importAndWait(core, photos);
      const cache = join(dataDir, 'cache');
      const old = filesBelow(cache).filter((f) => f.includes('/thumbnail/'));
      core.settingsStore.update({ render: { thumbnail: { maxWidth: 200, maxHeight: 200 } } });
      const again = await importAndWait(core, photos);
      expect(again.stages.thumbnail).toMatchObject({ done: 3, skipped: 0 });
      // The cache images are current: nothing to do for them.
      expect(again.stages.cache).toMatchObject({ total: 0 });
      const thumbs = filesBelow(cache).filter((f) => f.includes('/thumbnail/'));
      expect(thumbs).toHaveLength(3);
      expect(thumbs.some((f) => old.includes(f))).toBe(false);
      for (const f of thumbs) {
        const m = await sharp(join(cache, f)).metadata();
        expect(Math.max(m.width, m.height)).toBe(200);
      }
      expect(core.cacheFolders()[0]).toMatchObject({ files: 6 });
    });
  });

  it('fails an image that crashes the decoder with DECODER_CRASH; the rest completes', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 8, { width: 320, height: 240 });
    writeFileSync(join(photos, 'boom.jpg'), await photoJpeg(320, 240));
    const dataDir = join(root, 'data');
    await withCore(
      dataDir,
      async (core) => {
        const job = await importAndWait(core, photos);
        expect(job.status).toBe('completed_with_errors');
        expect(job.stages.thumbnail).toMatchObject({ total: 9, done: 8, failed: 1 });
        const failed = core.failedItems(job.id);
        expect(failed.map((f) => [f.path, f.code])).toEqual([
          ['boom.jpg', 'DECODER_CRASH'],
          ['boom.jpg', 'DECODER_CRASH'],
        ]);
        expect(failed[0]!.attempts).toBeLessThanOrEqual(2);
        expectCountersEqualItems(core);
      },
      { ALBUMEN_TEST_CRASH_MARKER: 'boom' },
    );
  });

  it('imports a CBZ in natural page order and writes nothing outside the cache for ../ names', async () => {
    const root = tempDir();
    const page = await photoJpeg(300, 400);
    const names = ['page10.jpg', 'page2.jpg', 'page1.jpg', 'xx/evil.jpg', 'page11.jpg'];
    let zip = await zipOf(names.map((n) => [n, page]));
    zip = patchZipNames(zip, 'xx/evil.jpg', '../evil.jpg');
    const cbz = join(root, 'comic.cbz');
    writeFileSync(cbz, zip);
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    await withCore(dataDir, async (core) => {
      const job = await importAndWait(core, cbz);
      expect(job.status).toBe('completed_with_errors');
      expect(job.stages.cache.done).toBe(4);
      const failed = core.failedItems(job.id);
      expect(failed.map((f) => f.code)).toEqual(['INVALID_ENTRY_NAME']);
      const order = core
        .allImages(job.collectionId)
        .filter((i) => i.format !== null)
        .map((i) => i.entryPath);
      expect(order).toEqual(['page1.jpg', 'page2.jpg', 'page10.jpg', 'page11.jpg']);
    });
    // Nothing beside the archive or the data folder appeared.
    expect(readdirSync(root).sort()).toEqual(['comic.cbz', 'data']);
    expect(
      filesBelow(join(root, 'data')).every(
        (f) => !relative(dataDir, join(dataDir, f)).startsWith('..'),
      ),
    ).toBe(true);
  });

  it('reports every stage with counters equal to the items while a job runs', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    await writePhotos(photos, 30, { width: 1200, height: 900 });
    await withCore(join(root, 'data'), async (core) => {
      const seen: JobView[] = [];
      core.onJobChanged((j) => seen.push(j));
      await importAndWait(core, photos);
      expect(seen.length).toBeGreaterThan(3);
      for (const v of seen) {
        for (const s of STAGES) {
          const c = v.stages[s];
          expect(c.pending + c.running + c.done + c.skipped + c.failed).toBe(c.total);
        }
      }
      const last = seen[seen.length - 1]!;
      expect(last.status).toBe('completed');
      // Thumbnails started before the scan had finished or right as it did.
      expect(
        seen.some((v) => v.stages.thumbnail.total > 0 && v.stages.thumbnail.status !== 'completed'),
      ).toBe(true);
    });
  });
});

describe('AlbumenCore: its own folders are never part of a collection', () => {
  it('imports a folder holding the data folder and a cache folder without making outputs of outputs', async () => {
    const photos = join(tempDir(), 'photos');
    await writePhotos(photos, 3, { width: 320, height: 240 });
    // Not hidden names: the walk would skip those anyway.
    const dataDir = join(photos, 'albumen-data');
    const extra = join(photos, 'extra-cache');
    await withCore(dataDir, async (core) => {
      await core.cache.add(extra);
      const first = await importAndWait(core, photos);
      expect(first.status).toBe('completed');
      // Imported again, the folder is scanned again, now with every output inside it.
      const again = await core.importPath(photos);
      const [second] = await core.whenDone([again.id]);
      expect(second!.status).toBe('completed');
      const paths = core.allImages(first.collectionId).map((i) => i.entryPath);
      expect(paths).toEqual(['photo1.jpg', 'photo2.jpg', 'photo3.jpg']);
      const outputs = [
        ...filesBelow(join(dataDir, 'cache')),
        ...filesBelow(extra).map((f) => `extra/${f}`),
      ].filter((f) => /\.(jpg|webp)$/.test(f));
      // One thumbnail and one cache image per photo, and nothing made from them.
      expect(outputs).toHaveLength(6);
      expectCountersEqualItems(core);
    });
  });

  it('refuses to import the data folder, a cache folder, anything inside them, or /proc', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    const extra = join(root, 'more-cache');
    await withCore(dataDir, async (core) => {
      await core.cache.add(extra);
      mkdirSync(join(dataDir, 'cache', 'inside'), { recursive: true });
      for (const path of [
        dataDir,
        join(dataDir, 'cache'),
        join(dataDir, 'cache', 'inside'),
        extra,
      ]) {
        const err: unknown = await core.importPath(path).catch((e: unknown) => e);
        expect(err, path).toMatchObject({ code: 'INVALID_INPUT' });
        expect((err as Error).message).toContain("Albumen's own data or cache folder");
      }
      await expect(core.importPath('/proc')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect(core.collections()).toEqual([]);
    });
  });
});
