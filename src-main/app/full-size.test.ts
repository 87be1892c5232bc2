/**
 * "100 %" shows the source's own pixels for every format: the viewer's
 * original of a TIFF, a JPEG XL or a camera RAW (which a browser cannot show)
 * is a full-size JPEG our decoder renders on demand; a huge one is bounded.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { rawFile } from '../../src-shared/test-support/raw-files.ts';
import { TILE_SIZE } from '../../src-shared/deep-zoom.ts';
import {
  blockImage,
  meanDifference,
  noiseImage as noise,
} from '../../src-shared/test-support/images.ts';
import { withImported } from '../test-support/imported.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir('albumen-full-size-');

describe('full-size originals for formats a browser cannot show', () => {
  it('renders a TIFF, a JPEG XL and a RAW at their own size, once, and serves a JPEG as it is', async () => {
    const root = tempDir();
    const dir = join(root, 'photos');
    mkdirSync(dir);
    writeFileSync(join(dir, 'scan.tiff'), await noise(3000, 2000).tiff().toBuffer());
    copyFileSync(
      join(import.meta.dirname, '../../src-worker/test-fixtures/quadrants.jxl'),
      join(dir, 'art.jxl'),
    );
    const preview = await noise(2400, 1600).jpeg().toBuffer();
    writeFileSync(
      join(dir, 'shot.nef'),
      rawFile({ kind: 'nef', preview, width: 2400, height: 1600, orientation: 6 }),
    );
    writeFileSync(join(dir, 'photo.jpg'), await noise(2500, 1500).jpeg().toBuffer());

    await withImported(join(root, 'data'), dir, async ({ service, byName }) => {
      const id = (name: string) => byName.get(name)!.id;
      const sizes: Record<string, string> = {};
      for (const name of ['scan.tiff', 'art.jxl', 'shot.nef']) {
        const target = await service.resolveMedia('source', id(name));
        if (target?.kind !== 'file') throw new Error(`${name}: no full-size file`);
        expect(target.mime).toBe('image/jpeg');
        const meta = await sharp(readFileSync(target.path)).metadata();
        sizes[name] = `${meta.format} ${meta.width}x${meta.height}`;
      }
      // The cache image is 1920 wide; these are the sources' own pixels (the RAW upright).
      expect(sizes).toEqual({
        'scan.tiff': 'jpeg 3000x2000',
        'art.jxl': 'jpeg 120x80',
        'shot.nef': 'jpeg 1600x2400',
      });

      // Asked again, the same file is served: not rendered twice.
      const first = await service.resolveMedia('source', id('scan.tiff'));
      const again = await service.resolveMedia('source', id('scan.tiff'));
      if (first?.kind !== 'file' || again?.kind !== 'file') throw new Error('no file');
      expect(again.path).toBe(first.path);
      expect(statSync(again.path).ino).toBe(statSync(first.path).ino);

      // A JPEG is served as itself.
      expect(await service.resolveMedia('source', id('photo.jpg'))).toMatchObject({
        kind: 'stream',
        mime: 'image/jpeg',
      });
    });
  }, 120_000);

  it("never serves one photo's rendition for another after the library is made anew", async () => {
    const root = tempDir();
    const data = join(root, 'data');
    const colourServed = async (colour: string) => {
      const dir = join(root, colour);
      mkdirSync(dir);
      const background = colour === 'red' ? '#ff0000' : '#0000ff';
      const tiff = await sharp({ create: { width: 800, height: 600, channels: 3, background } })
        .tiff()
        .toBuffer();
      writeFileSync(join(dir, 'scan.tiff'), tiff);
      let rgb = '';
      await withImported(data, dir, async ({ service, byName }) => {
        const target = await service.resolveMedia('source', byName.get('scan.tiff')!.id);
        if (target?.kind !== 'file') throw new Error('no full-size file');
        const { data: px } = await sharp(readFileSync(target.path))
          .extract({ left: 400, top: 300, width: 1, height: 1 })
          .raw()
          .toBuffer({ resolveWithObject: true });
        rgb = [...px.subarray(0, 3)].map((v) => (v > 128 ? 1 : 0)).join('');
      });
      return rgb;
    };
    expect(await colourServed('red')).toBe('100');
    // The library starts again (deleted, or restored from an older copy): ids
    // are given out again, and the renditions folder is still there.
    for (const f of ['library.db', 'library.db-wal', 'library.db-shm']) {
      rmSync(join(data, f), { force: true });
    }
    expect(await colourServed('blue')).toBe('001');
  }, 120_000);
});

describe('deep zoom: the tiles of an image too large for one rendition', () => {
  it('makes a pyramid once, serves each of its tiles by number and nothing else, and makes it anew for a changed file', async () => {
    const root = tempDir();
    const dir = join(root, 'panoramas');
    mkdirSync(dir);
    const W = 3000;
    const H = 1400;
    const source = join(dir, 'pano.tiff');
    writeFileSync(source, await blockImage(W, H).tiff({ compression: 'lzw' }).toBuffer());

    await withImported(join(root, 'data'), dir, async ({ service, byName, core }) => {
      const id = byName.get('pano.tiff')!.id;
      const tile = (level: number, col: number, row: number) =>
        service.resolveMedia('tile', id, { level, col, row });
      // No tiles before the pyramid is asked for.
      expect(await tile(12, 0, 0)).toBeNull();

      const asked = await Promise.all([
        service.call('deepZoom', { imageId: id }),
        service.call('deepZoom', { imageId: id }),
      ]);
      const zoom = asked[0];
      if (!zoom.ok) throw new Error(zoom.error.message);
      expect(asked[1]).toEqual(zoom);
      expect(zoom.value).toMatchObject({
        width: W,
        height: H,
        tileSize: TILE_SIZE,
        maxLevel: 12,
        format: 'jpeg',
      });

      // A tile at full size is that part of the source.
      const t = await tile(12, 2, 1);
      if (t?.kind !== 'file') throw new Error('no tile');
      expect(t.mime).toBe('image/jpeg');
      const crop = await sharp(source)
        .extract({ left: 2 * TILE_SIZE, top: TILE_SIZE, width: TILE_SIZE, height: TILE_SIZE })
        .png()
        .toBuffer();
      expect(await meanDifference(readFileSync(t.path), crop)).toBeLessThan(4);
      // The edge tile is cut to the image; none past it, nor past the top level.
      const edge = await tile(12, 5, 2);
      if (edge?.kind !== 'file') throw new Error('no edge tile');
      expect(await sharp(edge.path).metadata()).toMatchObject({
        width: W - 5 * TILE_SIZE,
        height: H - 2 * TILE_SIZE,
      });
      expect(await tile(12, 6, 0)).toBeNull();
      expect(await tile(12, 0, 3)).toBeNull();
      expect(await tile(13, 0, 0)).toBeNull();
      expect(await tile(0, 0, 0)).toMatchObject({ kind: 'file' });
      // Unknown images have no tiles and no pyramid.
      expect(
        await service.resolveMedia('tile', id + 1000, { level: 0, col: 0, row: 0 }),
      ).toBeNull();
      expect(await service.call('deepZoom', { imageId: id + 1000 })).toMatchObject({
        ok: false,
        error: { code: 'NOT_FOUND' },
      });

      // The file changes: its old tiles are not served, the pyramid is made anew.
      writeFileSync(source, await blockImage(W, H, 64).tiff().toBuffer());
      const rescans = core.rescan([byName.get('pano.tiff')!.collectionId]);
      await core.whenDone(rescans.map((j) => j.id));
      expect(await tile(12, 2, 1)).toBeNull();
      const again = await service.call('deepZoom', { imageId: id });
      if (!again.ok) throw new Error(again.error.message);
      expect(again.value.key).not.toBe(zoom.value.key);
      const fresh = await tile(12, 2, 1);
      if (fresh?.kind !== 'file') throw new Error('no tile');
      expect(fresh.path).not.toBe(t.path);
      // A tile is found by the key it is asked with: an old key never gets the
      // new version's tile (a viewer still laying out the old pyramid).
      const at = { level: 12, col: 2, row: 1 };
      const byKey = async (key: string) => {
        const r = await service.resolveMedia('tile', id, at, key);
        return r?.kind === 'file' ? r.path : null;
      };
      expect(await byKey(again.value.key)).toBe(fresh.path);
      expect(await byKey(zoom.value.key)).not.toBe(fresh.path);
      for (const bad of ['', 'v1', '../v1-0123456789abcdef', `${again.value.key}/x`, 'v1-XYZ']) {
        expect(await byKey(bad), bad).toBeNull();
      }
    });
  }, 120_000);

  it('says why when an image has no pyramid', async () => {
    const root = tempDir();
    const dir = join(root, 'broken');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'cut.jpg'),
      (await noise(800, 600).jpeg().toBuffer()).subarray(0, 3000),
    );
    await withImported(join(root, 'data'), dir, async ({ service, byName }) => {
      const r = await service.call('deepZoom', { imageId: byName.get('cut.jpg')!.id });
      expect(r).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
      if (!r.ok) expect(r.error.message).toMatch(/cannot be shown now/);
    });
  }, 60_000);
});
