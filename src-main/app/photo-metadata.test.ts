/**
 * What photos say about themselves reaches the contract: getImage returns the
 * date taken, camera and lens read at decode, and listImages sorts by date
 * taken (the file's time where a photo names none), name, size and modified
 * time, both ways.
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openNodeCore } from '../core/compose-node.ts';
import { withImported } from '../test-support/imported.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { AppService } from './app-service.ts';

const tempDir = useTempDir('albumen-photo-meta-');

async function photo(width: number, exif?: Record<string, Record<string, string>>) {
  const img = sharp({
    create: {
      width,
      height: 100,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 120, sigma: 40 },
    },
  }).jpeg();
  return (exif ? img.withExif(exif) : img).toBuffer();
}

describe('photo metadata through the contract', () => {
  it('returns date taken, camera and lens, and sorts by each order', async () => {
    const root = tempDir();
    const dir = join(root, 'photos');
    mkdirSync(dir);
    const taken = (date: string, offset?: string) => ({
      IFD0: { Make: 'FUJIFILM', Model: 'X-T5' },
      IFD2: {
        DateTimeOriginal: date,
        ...(offset ? { OffsetTimeOriginal: offset } : {}),
        LensModel: 'XF35mmF1.4 R',
      },
    });
    // Names, sizes, dates and file times in four different orders.
    writeFileSync(join(dir, 'a10.jpg'), await photo(300, taken('2021:05:01 12:00:00', '+00:00')));
    writeFileSync(join(dir, 'a2.jpg'), await photo(100, taken('2019:01:01 08:00:00', '-05:00')));
    writeFileSync(join(dir, 'b.jpg'), await photo(200)); // no EXIF: its file time, 2020
    writeFileSync(join(dir, 'c.jpg'), await photo(50, taken('2022:12:24 20:00:00', '+01:00')));
    const at = (y: number) => new Date(Date.UTC(y, 0, 1));
    utimesSync(join(dir, 'a10.jpg'), at(2025), at(2025));
    utimesSync(join(dir, 'a2.jpg'), at(2024), at(2024));
    utimesSync(join(dir, 'b.jpg'), at(2020), at(2020));
    utimesSync(join(dir, 'c.jpg'), at(2026), at(2026));

    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 100 });
    const service = new AppService(core);
    try {
      const job = await core.importPath(dir);
      await core.start();
      await core.whenDone([job.id]);
      const names = async (sort?: 'taken' | 'name' | 'size' | 'modified', descending?: boolean) => {
        const r = await service.call('listImages', {
          collectionId: job.collectionId,
          offset: 0,
          limit: 10,
          ...(sort ? { sort } : {}),
          ...(descending !== undefined ? { descending } : {}),
        });
        if (!r.ok) throw new Error(r.error.message);
        return r.value.items.map((i) => i.name);
      };
      expect(await names()).toEqual(['a2.jpg', 'a10.jpg', 'b.jpg', 'c.jpg']);
      expect(await names('taken')).toEqual(['a2.jpg', 'b.jpg', 'a10.jpg', 'c.jpg']);
      expect(await names('taken', true)).toEqual(['c.jpg', 'a10.jpg', 'b.jpg', 'a2.jpg']);
      expect(await names('size')).toEqual(['c.jpg', 'a2.jpg', 'b.jpg', 'a10.jpg']);
      expect(await names('modified')).toEqual(['b.jpg', 'a2.jpg', 'a10.jpg', 'c.jpg']);
      expect(await names('name', true)).toEqual(['c.jpg', 'b.jpg', 'a10.jpg', 'a2.jpg']);

      const page = await service.call('listImages', {
        collectionId: job.collectionId,
        offset: 0,
        limit: 10,
      });
      if (!page.ok) throw new Error(page.error.message);
      const byName = new Map(page.value.items.map((i) => [i.name, i.id]));
      const a2 = await service.call('getImage', { imageId: byName.get('a2.jpg')! });
      expect(a2.ok && a2.value).toMatchObject({
        takenAt: Date.UTC(2019, 0, 1, 13, 0, 0),
        takenFrom: 'exif',
        takenLocal: '2019:01:01 08:00:00',
        takenOffset: '-05:00',
        make: 'FUJIFILM',
        model: 'X-T5',
        lens: 'XF35mmF1.4 R',
      });
      const b = await service.call('getImage', { imageId: byName.get('b.jpg')! });
      expect(b.ok && b.value).toMatchObject({
        takenAt: Date.UTC(2020, 0, 1),
        takenFrom: 'file',
        make: null,
      });
      const bad = await service.call('listImages', {
        collectionId: job.collectionId,
        offset: 0,
        limit: 10,
        sort: 'colour' as 'name',
      });
      expect(bad.ok).toBe(false);
    } finally {
      service.dispose();
      await core.close();
    }
  }, 60_000);

  it('says which images are animated, with frames and loop length, and reads a phone HEIC', async () => {
    const root = tempDir();
    const dir = join(root, 'photos');
    mkdirSync(dir);
    const frames = await Promise.all(
      ['#f00', '#0f0', '#00f', '#fff'].map((background) =>
        sharp({ create: { width: 32, height: 24, channels: 3, background } })
          .png()
          .toBuffer(),
      ),
    );
    const animated = sharp(frames, { join: { animated: true } });
    // Only the first frame gets the delay (sharp's way with one number); the
    // others have none, which browsers play as 100 ms each.
    writeFileSync(join(dir, 'anim.gif'), await animated.gif({ delay: 250, loop: 0 }).toBuffer());
    writeFileSync(join(dir, 'still.gif'), await sharp(frames[0]).gif().toBuffer());
    writeFileSync(
      join(dir, 'IMG_0001.HEIC'),
      readFileSync(join(import.meta.dirname, '../../src-worker/test-fixtures/quadrants.heic')),
    );
    await withImported(join(root, 'data'), dir, ({ job, byName }) => {
      expect(job.status).toBe('completed');
      expect(byName.get('anim.gif')).toMatchObject({ animated: true, pages: 4, durationMs: 550 });
      expect(byName.get('still.gif')).toMatchObject({ animated: false, pages: null });
      expect(byName.get('IMG_0001.HEIC')).toMatchObject({
        format: 'heic',
        width: 96,
        height: 64,
        has: { thumbnail: true, cache: true },
        make: 'Apple',
        takenFrom: 'exif',
      });
    });
  }, 60_000);
});
