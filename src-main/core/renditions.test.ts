import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../test-support/temp-dir.ts';
import { PYRAMID_MANIFEST } from '../../src-shared/render-task.ts';
import { Renditions, renditionSize } from './renditions.ts';

const tempDir = useTempDir('albumen-renditions-');

describe('Renditions', () => {
  it('makes a rendition once, however many ask at once, then serves the file', async () => {
    const r = new Renditions(join(tempDir(), 'r'), 10_000);
    let made = 0;
    const make = async (path: string) => {
      made++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      writeFileSync(path, Buffer.alloc(100));
      return true;
    };
    const all = await Promise.all([r.get('1-v1-10x10.jpg', make), r.get('1-v1-10x10.jpg', make)]);
    expect(made).toBe(1);
    expect(all[0]).toEqual(all[1]);
    expect(await r.get('1-v1-10x10.jpg', make)).toMatchObject({ bytes: 100 });
    expect(made).toBe(1);
  });

  it('returns null when the render fails, and tries again on the next ask', async () => {
    const r = new Renditions(join(tempDir(), 'r'), 10_000);
    let tries = 0;
    const failing = () => {
      tries++;
      return Promise.resolve(false);
    };
    expect(await r.get('2-v1-10x10.jpg', failing)).toBeNull();
    expect(await r.get('2-v1-10x10.jpg', failing)).toBeNull();
    expect(tries).toBe(2);
  });

  it('keeps within its bound (in disk blocks), dropping the least recently shown first, and old temporary files', async () => {
    const dir = join(tempDir(), 'r');
    const r = new Renditions(dir, 10_240);
    const write = (bytes: number) => (path: string) => {
      writeFileSync(path, Buffer.alloc(bytes));
      return Promise.resolve(true);
    };
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    await r.get('a.jpg', write(4096));
    await r.get('b.jpg', write(4096));
    utimesSync(join(dir, 'a.jpg'), t(1), t(1));
    utimesSync(join(dir, 'b.jpg'), t(2), t(2));
    await r.get('a.jpg', write(4096)); // shown again: now the most recent
    writeFileSync(join(dir, 'c.jpg.0123456789abcdef.tmp'), 'left by a killed render');
    utimesSync(join(dir, 'c.jpg.0123456789abcdef.tmp'), t(0), t(0));
    await r.get('d.jpg', write(4096));
    expect(readdirSync(dir).sort()).toEqual(['a.jpg', 'd.jpg']);
    expect(existsSync(join(dir, 'b.jpg'))).toBe(false);
  });
});

/** Writes a pyramid folder as the worker does: a tile, then the manifest. */
const pyramid = (bytes: number) => (dir: string) => {
  mkdirSync(join(dir, 'tiles_files', '0'), { recursive: true });
  writeFileSync(join(dir, 'tiles_files', '0', '0_0.jpeg'), Buffer.alloc(bytes));
  const manifest = {
    width: 1,
    height: 1,
    tileSize: 512,
    maxLevel: 0,
    format: 'jpeg',
    bytes,
    tiles: 1,
  };
  writeFileSync(join(dir, PYRAMID_MANIFEST), JSON.stringify(manifest));
  return Promise.resolve(true);
};

describe('Renditions: tile pyramids', () => {
  it('makes a pyramid once, finds its tiles, and counts it whole against the bound', async () => {
    const dir = join(tempDir(), 'r');
    const r = new Renditions(dir, 10_240);
    let made = 0;
    const make = (bytes: number) => (d: string) => {
      made++;
      return pyramid(bytes)(d);
    };
    const [a, b] = await Promise.all([
      r.getPyramid('a.tiles', make(4096)),
      r.getPyramid('a.tiles', make(4096)),
    ]);
    expect(made).toBe(1);
    expect(a).toEqual(b);
    expect(a?.pyramid).toMatchObject({ bytes: 4096, format: 'jpeg' });
    const tile = r.pyramidFile('a.tiles', () => 'tiles_files/0/0_0.jpeg');
    expect(tile).toMatchObject({ bytes: 4096 });
    expect(r.pyramidFile('a.tiles', () => null)).toBeNull();
    expect(r.pyramidFile('a.tiles', () => 'tiles_files/0/1_0.jpeg')).toBeNull();
    expect(r.pyramidFile('none.tiles', () => 'tiles_files/0/0_0.jpeg')).toBeNull();

    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    utimesSync(join(dir, 'a.tiles', PYRAMID_MANIFEST), t(1), t(1));
    await r.get('b.jpg', (p) => {
      writeFileSync(p, Buffer.alloc(4096));
      return Promise.resolve(true);
    });
    // A folder a killed render left (no manifest), old: removed; the oldest pyramid too.
    mkdirSync(join(dir, 'c.tiles.0123456789ab.tmp', 'tiles_files'), { recursive: true });
    utimesSync(join(dir, 'c.tiles.0123456789ab.tmp'), t(0), t(0));
    await r.getPyramid('d.tiles', pyramid(4096));
    expect(readdirSync(dir).sort()).toEqual(['b.jpg', 'd.tiles']);
    expect(r.pyramidFile('a.tiles', () => 'tiles_files/0/0_0.jpeg')).toBeNull();
  });
});

describe('Renditions: pyramids in use', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

  it('keeps the pyramid whose tiles are being served, and the folder of one being made', async () => {
    const dir = join(tempDir(), 'r');
    const r = new Renditions(dir, 2 * 4096);
    await r.getPyramid('a.tiles', pyramid(4096));
    await r.getPyramid('b.tiles', pyramid(4096));
    utimesSync(join(dir, 'a.tiles', PYRAMID_MANIFEST), t(1), t(1));
    utimesSync(join(dir, 'b.tiles', PYRAMID_MANIFEST), t(2), t(2));
    // a is on screen: its tiles are asked for.
    expect(r.pyramidFile('a.tiles', () => 'tiles_files/0/0_0.jpeg')).not.toBeNull();
    // c is being made, slowly; its temporary folder is old.
    let finish = () => {};
    const slow = r.getPyramid('c.tiles', (final) => {
      const temp = `${final}.0123456789ab.tmp`;
      mkdirSync(temp);
      utimesSync(temp, t(0), t(0));
      return new Promise<boolean>((resolve) => {
        finish = () => {
          rmSync(temp, { recursive: true });
          void pyramid(4096)(final).then(resolve);
        };
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.trim();
    expect(readdirSync(dir).sort()).toEqual(['a.tiles', 'b.tiles', 'c.tiles.0123456789ab.tmp']);
    finish();
    await slow;
    // Over the bound now: b goes (last shown longest ago), not a.
    expect(readdirSync(dir).sort()).toEqual(['a.tiles', 'c.tiles']);
  });

  it('never takes a torn manifest for a pyramid', async () => {
    const dir = join(tempDir(), 'r');
    const r = new Renditions(dir, 1 << 20);
    mkdirSync(join(dir, 'x.tiles'), { recursive: true });
    writeFileSync(join(dir, 'x.tiles', PYRAMID_MANIFEST), '{"width": 10, "hei');
    let made = 0;
    const got = await r.getPyramid('x.tiles', (final) => {
      made++;
      rmSync(final, { recursive: true });
      return pyramid(4096)(final);
    });
    expect(made).toBe(1);
    expect(got?.pyramid.bytes).toBe(4096);
  });
});

describe('renditionSize', () => {
  it('keeps an ordinary image its own size, and a huge one its shape within the bound', () => {
    expect(renditionSize(6000, 4000, 64_000_000)).toEqual({ width: 6000, height: 4000 });
    const pano = renditionSize(20_000, 10_000, 64_000_000);
    expect(pano.width * pano.height).toBeLessThanOrEqual(64_000_000);
    expect(pano.width * pano.height).toBeGreaterThan(63_000_000);
    expect(Math.abs(pano.width / pano.height - 2)).toBeLessThan(0.001);
    expect(renditionSize(100_000, 1, 1000)).toEqual({ width: 1000, height: 1 });
  });
});
