import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Variant } from '../src-shared/domain.ts';
import { estimateJpegQuality } from '../src-shared/jpeg-quality.ts';
import { hasTile, levelSize, tileRelPath, type PyramidInfo } from '../src-shared/deep-zoom.ts';
import { CONTENT_HASH, NO_META, PYRAMID_MANIFEST } from '../src-shared/render-task.ts';
import { blockImage, meanDifference, noiseImage } from '../src-shared/test-support/images.ts';
import { endRawReader } from './raw-preview.ts';
import type { RenderInput, RenderRequest, RenderResult } from '../src-shared/render-task.ts';
import type { VariantSettings } from '../src-shared/settings.ts';
import render, {
  CHECKER_CELL,
  checkerShade,
  failureFromSharpError,
  shortForItsPixels,
} from './render.task.ts';

let dir = '';
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'albumen-render-'));
});
afterAll(async () => {
  await endRawReader();
  rmSync(dir, { recursive: true, force: true });
});

const CACHE: VariantSettings = { maxWidth: 1920, maxHeight: 1080, format: 'jpeg', quality: 85 };
const THUMB: VariantSettings = { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 80 };

/** A fresh output folder and a request writing both variants into it. */
function request(
  input: RenderInput,
  settings: Partial<Record<Variant, VariantSettings>> = { cache: CACHE, thumbnail: THUMB },
): { req: RenderRequest; out: string } {
  const out = join(dir, `out-${++n}`);
  const outputs = Object.entries(settings).map(([variant, s]) => ({
    variant: variant as Variant,
    finalPath: join(out, variant, `img.${s.format === 'jpeg' ? 'jpg' : 'webp'}`),
    settings: s,
  }));
  return {
    req: { label: `image-${n}`, input, outputs, maxPixels: 100_000_000, timeoutSeconds: 30 },
    out,
  };
}

function file(name: string, bytes: Uint8Array | string): RenderInput {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { kind: 'file', path };
}

function noise(width: number, height: number, channels: 3 | 4 = 3): Sharp {
  return noiseImage(width, height, channels, 30);
}

function listFiles(folder: string): string[] {
  try {
    return readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function expectOk(result: RenderResult): Extract<RenderResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result;
}

function output(result: RenderResult, variant: Variant) {
  const o = expectOk(result).outputs.find((x) => x.variant === variant);
  if (!o) throw new Error(`no ${variant} output`);
  return o;
}

describe('render', () => {
  it('writes both variants of a large JPEG from one decode, inside their boxes', async () => {
    const bytes = await noise(4000, 3000).jpeg({ quality: 90 }).toBuffer();
    const input = file('big.jpg', bytes);
    const { req, out } = request(input);
    const result = expectOk(await render(req));

    expect(result.source).toEqual({
      format: 'jpeg',
      width: 4000,
      height: 3000,
      orientation: 1,
      quality: 90,
      // Every byte of the file, hashed as a scan would to break a fingerprint tie.
      contentHash: createHash(CONTENT_HASH).update(bytes).digest('hex'),
      meta: NO_META,
    });
    const cache = output(result, 'cache');
    const thumb = output(result, 'thumbnail');
    expect([cache.width, cache.height]).toEqual([1440, 1080]);
    expect([thumb.width, thumb.height]).toEqual([300, 225]);
    for (const o of [cache, thumb]) {
      const bytes = readFileSync(o.path);
      expect(bytes.length).toBe(o.bytes);
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', o.width, o.height]);
    }
    expect(listFiles(out).sort()).toEqual(['img.jpg', 'img.jpg']);
  });

  it('never enlarges a small image', async () => {
    const input = file('small.png', await noise(200, 100).png().toBuffer());
    const result = expectOk(await render(request(input).req));
    expect(result.source).toMatchObject({ format: 'png', width: 200, height: 100, quality: null });
    for (const o of result.outputs) expect([o.width, o.height]).toEqual([200, 100]);
  });

  it('applies EXIF orientation and writes no orientation tag', async () => {
    const jpeg = await noise(400, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const result = expectOk(await render(request(file('rotated.jpg', jpeg)).req));
    expect(result.source).toMatchObject({ width: 200, height: 400, orientation: 6 });
    expect([output(result, 'cache').width, output(result, 'cache').height]).toEqual([200, 400]);
    expect([output(result, 'thumbnail').width, output(result, 'thumbnail').height]).toEqual([
      150, 300,
    ]);
    for (const o of result.outputs) {
      const meta = await sharp(o.path).metadata();
      expect([meta.width, meta.height]).toEqual([o.width, o.height]);
      expect(meta.orientation).toBeUndefined();
      expect(meta.exif).toBeUndefined();
    }
  });

  it('renders from a buffer', async () => {
    const data = new Uint8Array(await noise(800, 600).jpeg({ quality: 70 }).toBuffer());
    const result = expectOk(await render(request({ kind: 'buffer', data }).req));
    expect(result.source).toMatchObject({ format: 'jpeg', width: 800, height: 600, quality: 70 });
    expect([output(result, 'thumbnail').width, output(result, 'thumbnail').height]).toEqual([
      300, 225,
    ]);
  });

  it('never encodes the cache image above the source quality (thumbnails keep theirs)', async () => {
    const input = file('q60.jpg', await noise(1000, 800).jpeg({ quality: 60 }).toBuffer());
    const result = expectOk(await render(request(input).req));
    expect(result.source.quality).toBe(60);
    expect(estimateJpegQuality(readFileSync(output(result, 'cache').path))).toBeLessThanOrEqual(60);
    expect(estimateJpegQuality(readFileSync(output(result, 'thumbnail').path))).toBe(80);
  });

  it('records an AVIF source as avif, not as the HEIF container libvips names it', async () => {
    const input = file('photo.avif', await noise(320, 240).avif({ quality: 50 }).toBuffer());
    const result = expectOk(await render(request(input).req));
    expect(result.source).toMatchObject({ format: 'avif', width: 320, height: 240 });
  });

  it('writes WebP outputs', async () => {
    const input = file('for-webp.jpg', await noise(1000, 500).jpeg().toBuffer());
    const webp: VariantSettings = { ...THUMB, format: 'webp' };
    const result = expectOk(await render(request(input, { thumbnail: webp }).req));
    const meta = await sharp(output(result, 'thumbnail').path).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 300, 150]);
  });

  it.each([
    ['greyscale', () => noise(300, 200).toColourspace('b-w').jpeg().toBuffer()],
    ['CMYK', () => noise(300, 200).toColourspace('cmyk').jpeg().toBuffer()],
    ['16-bit', () => noise(300, 200).toColourspace('rgb16').png().toBuffer()],
  ])('turns a %s source into 8-bit sRGB outputs', async (_name, make) => {
    const result = expectOk(await render(request(file(`colour-${++n}`, await make())).req));
    for (const o of result.outputs) {
      const meta = await sharp(o.path).metadata();
      expect([meta.space, meta.channels, meta.depth, meta.hasProfile]).toEqual([
        'srgb',
        3,
        'uchar',
        false,
      ]);
    }
  });

  it.each([
    [100, 70],
    [640, 400],
  ])(
    'draws the checkerboard behind the clear pixels of a %i × %i JPEG output and keeps the opaque ones',
    async (width, height) => {
      // Clear on the left, opaque red on the right; sizes that are no multiple
      // of the pattern's period (which must start at the top left), and one
      // that the thumbnail shrinks (the pattern is drawn at the output's size).
      const rgba = Buffer.alloc(width * height * 4);
      for (let i = 0; i < width * height; i++) {
        if (i % width >= width / 2) rgba.set([200, 40, 30, 255], i * 4);
      }
      const png = await sharp(rgba, { raw: { width, height, channels: 4 } })
        .png()
        .toBuffer();
      const result = expectOk(await render(request(file(`half-clear-${width}.png`, png)).req));
      for (const variant of ['cache', 'thumbnail'] as const) {
        const { data, info } = await sharp(output(result, variant).path)
          .raw()
          .toBuffer({ resolveWithObject: true });
        const [w, h] = [info.width, info.height];
        expect([w, h]).toEqual([output(result, variant).width, output(result, variant).height]);
        let worst = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            // JPEG rings a little at the edges of the cells and of the red.
            if (x % CHECKER_CELL === 0 || x % CHECKER_CELL === CHECKER_CELL - 1) continue;
            if (y % CHECKER_CELL === 0 || y % CHECKER_CELL === CHECKER_CELL - 1) continue;
            if (Math.abs(x - w / 2) <= 2) continue;
            const shade = checkerShade(x, y);
            const want = x < w / 2 ? [shade, shade, shade] : [200, 40, 30];
            for (let c = 0; c < 3; c++) {
              const got = data[(y * w + x) * 3 + c] ?? 0;
              worst = Math.max(worst, Math.abs(got - (want[c] ?? 0)));
            }
          }
        }
        // The two shades differ by 38: a plain or shifted backdrop is off by 19 or more.
        expect(worst, `${variant} ${w} × ${h}`).toBeLessThanOrEqual(14);
      }
    },
  );

  describe('transparent images smaller than a checkerboard period', () => {
    /** RGBA pixels: clear, except an opaque blue diagonal. */
    function clearWithDiagonal(w: number, h: number): Buffer {
      const rgba = Buffer.alloc(w * h * 4);
      for (let i = 0; i < Math.min(w, h); i++) rgba.set([20, 40, 220, 255], (i * w + i) * 4);
      return rgba;
    }

    /**
     * Compared pixel by pixel with what should show: the checkerboard, and the
     * ink on the diagonal. JPEG rings around a one-pixel line, so the measure is
     * the mean error over the checkerboard pixels (a flat grey between the two
     * shades is off by about 19 everywhere) and the ink's mean colour.
     */
    async function expectRendered(
      name: string,
      bytes: Buffer,
      w: number,
      h: number,
      ink: 'blue' | 'grey' = 'blue',
    ) {
      const result = expectOk(await render(request(file(name, bytes)).req));
      for (const o of result.outputs) {
        expect([o.width, o.height]).toEqual([w, h]);
        const { data, info } = await sharp(o.path).raw().toBuffer({ resolveWithObject: true });
        const c = info.channels;
        let error = 0;
        let board = 0;
        const inked = [0, 0, 0];
        let onDiagonal = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const p = [...data.subarray((y * w + x) * c, (y * w + x) * c + 3)];
            if (x === y) {
              p.forEach((v, i) => (inked[i]! += v));
              onDiagonal++;
            } else if (Math.abs(x - y) >= 2) {
              for (const v of p) error += Math.abs(v - checkerShade(x, y));
              board += 3;
            }
          }
        }
        const [r, , b] = inked.map((v) => v / onDiagonal) as [number, number, number];
        if (ink === 'blue') expect(b - r, `${o.variant}: the diagonal is blue`).toBeGreaterThan(40);
        else
          expect(Math.max(...inked) / onDiagonal, `${o.variant}: dark diagonal`).toBeLessThan(170);
        if (board)
          expect(error / board, `${o.variant}: mean error on the checkerboard`).toBeLessThan(8);
      }
    }

    it.each([
      [1, 1],
      [3, 40],
      [40, 3],
      [15, 15],
      [16, 15],
      [7, 16],
      [17, 9],
    ])('renders a %i × %i PNG with alpha', async (w, h) => {
      const raw = { raw: { width: w, height: h, channels: 4 as const } };
      const png = await sharp(clearWithDiagonal(w, h), raw).png().toBuffer();
      await expectRendered(`clear-${w}x${h}.png`, png, w, h);
    });

    it('renders a palette PNG with a transparent index, a grey PNG with alpha and a GIF with transparency', async () => {
      const raw = { raw: { width: 12, height: 5, channels: 4 as const } };
      const palette = await sharp(clearWithDiagonal(12, 5), raw).png({ palette: true }).toBuffer();
      expect(await sharp(palette).metadata()).toMatchObject({ isPalette: true, hasAlpha: true });
      await expectRendered('clear-palette.png', palette, 12, 5);

      const greyAlpha = Buffer.alloc(9 * 14 * 2);
      for (let i = 0; i < 9; i++) greyAlpha.set([90, 255], (i * 9 + i) * 2);
      const grey = await sharp(greyAlpha, { raw: { width: 9, height: 14, channels: 2 } })
        .toColourspace('b-w')
        .png()
        .toBuffer();
      expect(await sharp(grey).metadata()).toMatchObject({ channels: 2, hasAlpha: true });
      await expectRendered('clear-grey.png', grey, 9, 14, 'grey');

      const gif = await sharp(clearWithDiagonal(13, 6), {
        raw: { width: 13, height: 6, channels: 4 },
      })
        .gif()
        .toBuffer();
      expect(await sharp(gif).metadata()).toMatchObject({ format: 'gif', hasAlpha: true });
      await expectRendered('clear.gif', gif, 13, 6);
    });
  });

  describe('real-looking images of every format', () => {
    /** Smooth gradients, a little grain and a hard-edged disc, like a photo. */
    function photo(w: number, h: number): Sharp {
      const px = Buffer.alloc(w * h * 3);
      let seed = 7;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const grain = (seed % 13) - 6;
          const inDisc = (x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (h * 0.2) ** 2;
          const i = (y * w + x) * 3;
          px[i] = inDisc ? 230 : 60 + Math.round((150 * x) / w) + grain;
          px[i + 1] = inDisc ? 200 : 90 + Math.round(60 * Math.sin(y / 40)) + grain;
          px[i + 2] = inDisc ? 40 : 160 - Math.round((100 * y) / h) + grain;
        }
      }
      return sharp(px, { raw: { width: w, height: h, channels: 3 } });
    }
    /** One colour over 12 MP: the most a decoder can squeeze, near the size bound. */
    const flat = () =>
      sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#6b8e23' } });

    it.each([
      ['baseline JPEG', 'jpeg', () => photo(1200, 800).jpeg({ quality: 88 }).toBuffer()],
      ['progressive JPEG', 'jpeg', () => photo(1200, 800).jpeg({ progressive: true }).toBuffer()],
      ['mozjpeg JPEG', 'jpeg', () => photo(1200, 800).jpeg({ mozjpeg: true }).toBuffer()],
      [
        '4:4:4 JPEG',
        'jpeg',
        () => photo(1200, 800).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer(),
      ],
      ['CMYK JPEG', 'jpeg', () => photo(1200, 800).toColourspace('cmyk').jpeg().toBuffer()],
      ['16-bit PNG', 'png', () => photo(900, 600).toColourspace('rgb16').png().toBuffer()],
      ['palette PNG', 'png', () => photo(900, 600).png({ palette: true }).toBuffer()],
      ['interlaced PNG', 'png', () => photo(900, 600).png({ progressive: true }).toBuffer()],
      ['WebP', 'webp', () => photo(1200, 800).webp().toBuffer()],
      ['GIF', 'gif', () => photo(600, 400).gif().toBuffer()],
      ['TIFF', 'tiff', () => photo(900, 600).tiff().toBuffer()],
      [
        'JPEG-compressed TIFF',
        'tiff',
        () => photo(900, 600).tiff({ compression: 'jpeg' }).toBuffer(),
      ],
    ])('renders a %s', async (name, format, make) => {
      const bytes = await make();
      const source = await sharp(bytes).metadata();
      const result = expectOk(await render(request(file(`real-${++n}`, bytes)).req));
      expect(result.source).toMatchObject({ format, width: source.width, height: source.height });
      const thumb = output(result, 'thumbnail');
      expect(Math.max(thumb.width, thumb.height)).toBe(300);
      // The disc and the gradient came through: not a flat fill.
      const stats = await sharp(thumb.path).stats();
      for (const channel of stats.channels) expect(channel.stdev, name).toBeGreaterThan(15);
    });

    it.each([
      ['JPEG with optimised tables', () => flat().jpeg({ quality: 50, optimiseCoding: true })],
      ['progressive mozjpeg', () => flat().jpeg({ mozjpeg: true })],
      ['progressive JPEG', () => flat().jpeg({ progressive: true, optimiseCoding: true })],
      ['PNG at maximum compression', () => flat().png({ compressionLevel: 9 })],
    ])('renders a one-colour %s, however small it compresses', async (_name, make) => {
      const bytes = await make().toBuffer();
      const result = expectOk(await render(request(file(`flat-${++n}`, bytes)).req));
      const { dominant } = await sharp(output(result, 'cache').path).stats();
      for (const [got, want] of [
        [dominant.r, 0x6b],
        [dominant.g, 0x8e],
        [dominant.b, 0x23],
      ] as const) {
        expect(Math.abs(got - want)).toBeLessThanOrEqual(16);
      }
    });
  });

  it('records the frames and loop length of an animation and the pages of a TIFF; outputs are the first frame', async () => {
    const frame = (r: number, g: number, b: number) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g, b } } })
        .png()
        .toBuffer();
    const frames = [await frame(255, 0, 0), await frame(0, 255, 0), await frame(0, 0, 255)];
    const joined = () => sharp(frames, { join: { animated: true } });
    for (const [name, bytes] of [
      [
        'anim.gif',
        await joined()
          .gif({ delay: [100, 200, 300], loop: 0 })
          .toBuffer(),
      ],
      [
        'anim.webp',
        await joined()
          .webp({ delay: [100, 200, 300], loop: 0 })
          .toBuffer(),
      ],
    ] as const) {
      const result = expectOk(await render(request(file(name, bytes)).req));
      expect(result.source.meta, name).toMatchObject({ pages: 3, durationMs: 600 });
      const { data } = await sharp(output(result, 'thumbnail').path).raw().toBuffer({
        resolveWithObject: true,
      });
      expect(
        [...data.subarray(0, 3)].map((v) => Math.round(v / 64)),
        name,
      ).toEqual([4, 0, 0]);
    }
    const tiff = await sharp(frames, { join: { animated: true } })
      .tiff()
      .toBuffer();
    const paged = expectOk(await render(request(file('pages.tif', tiff)).req));
    expect(paged.source.meta).toMatchObject({ pages: 3, durationMs: null });
    const still = expectOk(
      await render(request(file('still.gif', await sharp(frames[0]).gif().toBuffer())).req),
    );
    expect(still.source.meta).toMatchObject({ pages: null, durationMs: null });
  });

  it('renders a phone HEIC (HEVC) with libheif: upright pixels, its EXIF read, the pixel limit kept', async () => {
    // 96 × 64: red, green / blue, white quadrants; EXIF from an "iPhone 15 Pro".
    const heic = readFileSync(join(import.meta.dirname, 'test-fixtures', 'quadrants.heic'));
    for (const input of [file('IMG_0001.HEIC', heic), { kind: 'buffer', data: heic } as const]) {
      const result = expectOk(await render(request(input).req));
      expect(result.source).toMatchObject({ format: 'heic', width: 96, height: 64 });
      expect(result.source.meta).toMatchObject({
        make: 'Apple',
        model: 'iPhone 15 Pro',
        takenLocal: '2024:06:01 12:30:45',
        takenOffset: '+02:00',
      });
      const thumb = output(result, 'thumbnail');
      const { data, info } = await sharp(thumb.path).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([96, 64]);
      const at = (x: number, y: number) => [
        ...data.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3),
      ];
      const near = (got: number[], want: number[]) =>
        got.every((v, i) => Math.abs(v - (want[i] ?? 0)) < 40);
      expect(near(at(20, 12), [255, 0, 0]), at(20, 12).join()).toBe(true);
      expect(near(at(75, 12), [0, 255, 0]), at(75, 12).join()).toBe(true);
      expect(near(at(20, 50), [0, 0, 255]), at(20, 50).join()).toBe(true);
      expect(near(at(75, 50), [255, 255, 255]), at(75, 50).join()).toBe(true);
    }
    const { req, out } = request(file('big.heic', heic));
    req.maxPixels = 96 * 64 - 1;
    expect(await render(req)).toMatchObject({ ok: false, code: 'TOO_MANY_PIXELS' });
    expect(listFiles(out)).toEqual([]);
    // Cut short: a failure with a code, nothing written, no crash.
    const cut = request(file('cut.heic', heic.subarray(0, Math.floor(heic.length * 0.6))));
    expect(await render(cut.req)).toMatchObject({ ok: false, code: 'CORRUPT' });
    expect(listFiles(cut.out)).toEqual([]);
  });

  it('renders nothing but still reads the source when no output is requested', async () => {
    const input = file('none.png', await noise(64, 32).png().toBuffer());
    const { req } = request(input, {});
    expect(await render(req)).toMatchObject({ ok: true, source: { width: 64 }, outputs: [] });
  });
});

describe('render: deep-zoom pyramid', () => {
  /** Puts a level's tiles back together, as the viewer draws them. */
  async function assemble(dirPath: string, info: PyramidInfo, level: number): Promise<Buffer> {
    const size = levelSize(info, level);
    const parts = [];
    for (let row = 0; row * info.tileSize < size.height; row++) {
      for (let col = 0; col * info.tileSize < size.width; col++) {
        parts.push({
          input: join(dirPath, tileRelPath(level, col, row, info.format)),
          left: col * info.tileSize,
          top: row * info.tileSize,
        });
      }
    }
    return sharp({ create: { ...size, channels: 3, background: '#000' } })
      .composite(parts)
      .png()
      .toBuffer();
  }

  it('writes every tile of every level, upright, and nothing else, its manifest last', async () => {
    const upright = await blockImage(1100, 700).png().toBuffer();
    // Stored turned, as a camera held upright writes it, with orientation 6.
    const stored = await sharp(upright)
      .rotate(270)
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { req, out } = request(file('turned.jpg', stored), {});
    const folder = join(out, 'img.tiles');
    const result = expectOk(
      await render({ ...req, pyramid: { dir: folder, tileSize: 256, quality: 90 } }),
    );
    const info = result.pyramid;
    if (!info) throw new Error('no pyramid');
    expect(info).toMatchObject({ width: 1100, height: 700, maxLevel: 11, format: 'jpeg' });
    expect(JSON.parse(readFileSync(join(folder, PYRAMID_MANIFEST), 'utf8'))).toEqual(info);
    // Every tile the numbers say there is, and no other file.
    const expected = [PYRAMID_MANIFEST];
    for (let level = 0; level <= info.maxLevel; level++) {
      const size = levelSize(info, level);
      for (let row = 0; row * 256 < size.height; row++) {
        for (let col = 0; col * 256 < size.width; col++) {
          expect(hasTile(info, { level, col, row })).toBe(true);
          expected.push(tileRelPath(level, col, row, 'jpeg'));
        }
      }
      expect(hasTile(info, { level, col: Math.ceil(size.width / 256), row: 0 })).toBe(false);
    }
    const written = readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(folder.length + 1));
    expect(written.sort()).toEqual(expected.sort());
    expect(info.tiles).toBe(expected.length - 1);
    // No temporary folder left beside it.
    expect(readdirSync(out)).toEqual(['img.tiles']);
    // The top level is the upright picture; level 10 is it at half size.
    expect(await meanDifference(await assemble(folder, info, 11), upright)).toBeLessThan(4);
    const half = await sharp(upright).resize(550, 350).png().toBuffer();
    expect(await meanDifference(await assemble(folder, info, 10), half)).toBeLessThan(12);
    // Read as the stored pixels, it would be far off.
    const unturned = await sharp(stored).rotate(90).png().toBuffer();
    expect(await meanDifference(unturned, upright)).toBeLessThan(4);
    const mirrored = await sharp(upright).flop().png().toBuffer();
    expect(await meanDifference(await assemble(folder, info, 11), mirrored)).toBeGreaterThan(40);
  });

  it('writes a transparent image over the checkerboard, a HEIC from its own decoder too', async () => {
    // Left half clear, right half opaque red.
    const px = Buffer.alloc(600 * 300 * 4);
    for (let i = 0; i < 600 * 300; i++) {
      if (i % 600 >= 300) px.set([255, 0, 0, 255], i * 4);
    }
    const png = await sharp(px, { raw: { width: 600, height: 300, channels: 4 } })
      .png()
      .toBuffer();
    const { req, out } = request(file('alpha.png', png), {});
    const result = expectOk(
      await render({
        ...req,
        pyramid: { dir: join(out, 'a.tiles'), tileSize: 256, quality: 95 },
      }),
    );
    expect(result.pyramid).toMatchObject({ width: 600, height: 300, format: 'jpeg' });
    const edge = join(out, 'a.tiles', tileRelPath(10, 2, 1, 'jpeg'));
    expect(await sharp(edge).metadata()).toMatchObject({
      width: 600 - 512,
      height: 300 - 256,
      hasAlpha: false,
    });
    // Opaque tiles: the checkerboard where the image is clear, the image elsewhere.
    const { data } = await sharp(join(out, 'a.tiles', tileRelPath(10, 0, 0, 'jpeg')))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [
      ...data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3),
    ];
    const near = (got: number[], want: number[]) =>
      got.every((v, i) => Math.abs(v - (want[i] ?? 0)) < 12);
    expect(near(at(3, 3), [255, 255, 255]), String(at(3, 3))).toBe(true);
    expect(near(at(CHECKER_CELL + 3, 3), [0xd9, 0xd9, 0xd9]), String(at(11, 3))).toBe(true);
    expect(near(at(250, 100), [0xd9, 0xd9, 0xd9]) || near(at(250, 100), [255, 255, 255])).toBe(
      true,
    );
    const red = await sharp(join(out, 'a.tiles', tileRelPath(10, 1, 0, 'jpeg')))
      .extract({ left: 100, top: 100, width: 1, height: 1 })
      .raw()
      .toBuffer();
    expect(near([...red], [255, 0, 0])).toBe(true);

    const heic = readFileSync(join(import.meta.dirname, 'test-fixtures/quadrants.heic'));
    const h = request(file('q.heic', heic), {});
    const made = expectOk(
      await render({
        ...h.req,
        pyramid: { dir: join(h.out, 'h.tiles'), tileSize: 64, quality: 90 },
      }),
    );
    expect(made.pyramid).toMatchObject({ format: 'jpeg', maxLevel: 7 });
  });

  it('replaces a folder of that name that is no whole pyramid (a removal cut short)', async () => {
    const { req, out } = request(file('again.png', await noise(300, 200).png().toBuffer()), {});
    const folder = join(out, 'p.tiles');
    mkdirSync(join(folder, 'tiles_files', '9'), { recursive: true });
    writeFileSync(join(folder, 'tiles_files', '9', 'left-over.jpeg'), 'x');
    writeFileSync(join(folder, PYRAMID_MANIFEST), ''); // torn
    const r = expectOk(
      await render({ ...req, pyramid: { dir: folder, tileSize: 256, quality: 80 } }),
    );
    expect(r.pyramid).toMatchObject({ width: 300, height: 200 });
    expect(JSON.parse(readFileSync(join(folder, PYRAMID_MANIFEST), 'utf8'))).toEqual(r.pyramid);
    expect(listFiles(join(folder, 'tiles_files', '9'))).not.toContain('left-over.jpeg');
    expect(readdirSync(out)).toEqual(['p.tiles']);
  });

  it('leaves no folder behind when the pyramid cannot be made', async () => {
    const { req, out } = request(file('bad.jpg', Buffer.from('not a jpeg at all')), {});
    const r = await render({
      ...req,
      pyramid: { dir: join(out, 'x.tiles'), tileSize: 256, quality: 80 },
    });
    expect(r.ok).toBe(false);
    expect(listFiles(out)).toEqual([]);
  });
});

describe('render failures', () => {
  async function expectFailure(input: RenderInput, code: string): Promise<string> {
    const { req, out } = request(input);
    const result = await render(req);
    if (result.ok) throw new Error('expected a failure');
    expect(result.code).toBe(code);
    expect(result.message.length).toBeGreaterThan(0);
    expect(listFiles(out)).toEqual([]);
    return result.message;
  }

  it('reports a truncated JPEG as TRUNCATED', async () => {
    const jpeg = await noise(1200, 900).jpeg().toBuffer();
    const message = await expectFailure(
      file('truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length * 0.4))),
      'TRUNCATED',
    );
    expect(message).toMatch(/premature end/);
  });

  it('reports a JPEG or PNG cut anywhere as TRUNCATED, whatever libvips calls it', async () => {
    const jpeg = await noise(800, 600).jpeg().toBuffer();
    const png = await noise(400, 300).png().toBuffer();
    for (const [name, data] of [
      ['cut.jpg', jpeg],
      ['cut.png', png],
    ] as const) {
      for (const fraction of [0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 0.98]) {
        const cut = data.subarray(0, Math.floor(data.length * fraction));
        const { req } = request(file(`${fraction}-${name}`, cut));
        const result = await render(req);
        expect(result.ok ? 'ok' : result.code, `${name} cut at ${fraction}`).toBe('TRUNCATED');
      }
    }
  });

  describe('a header that claims more pixels than the file can hold', () => {
    /** `jpeg` with the size in its frame header replaced. */
    function claimingSize(jpeg: Buffer, width: number, height: number): Buffer {
      const out = Buffer.from(jpeg);
      for (let i = 2; i + 9 < out.length; i += 2 + out.readUInt16BE(i + 2)) {
        if (out[i + 1] === 0xc0 || out[i + 1] === 0xc2) {
          out.writeUInt16BE(height, i + 5);
          out.writeUInt16BE(width, i + 7);
          return out;
        }
      }
      throw new Error('no frame header');
    }

    function pngChunk(type: string, data: Buffer): Buffer {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return Buffer.concat([length, body, crc]);
    }

    /** A well-formed PNG (end chunk included) whose pixel data is a few rows of a 16000 × 16000 image. */
    function lyingPng(): Buffer {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(16_000, 0);
      ihdr.writeUInt32BE(16_000, 4);
      ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
      const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(16_000 * 3, 0x80)]);
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        pngChunk('IHDR', ihdr),
        pngChunk('IDAT', deflateSync(Buffer.concat([row, row, row]))),
        pngChunk('IEND', Buffer.alloc(0)),
      ]);
    }

    const tiny = () =>
      sharp({ create: { width: 64, height: 48, channels: 3, background: '#8a7f70' } });

    it.each([
      ['baseline JPEG', async () => claimingSize(await tiny().jpeg().toBuffer(), 16_000, 16_000)],
      [
        'progressive JPEG',
        async () =>
          claimingSize(await tiny().jpeg({ progressive: true }).toBuffer(), 16_000, 16_000),
      ],
      [
        'greyscale JPEG',
        async () => claimingSize(await tiny().greyscale().jpeg().toBuffer(), 9000, 7000),
      ],
      ['PNG', () => Promise.resolve(lyingPng())],
    ])('fails a %s of a few hundred bytes as TRUNCATED and writes nothing', async (name, make) => {
      const bytes = await make();
      expect(bytes.length).toBeLessThan(1000);
      for (const input of [
        file(`lying-${++n}`, bytes),
        { kind: 'buffer' as const, data: new Uint8Array(bytes) },
      ]) {
        const { req, out } = request(input);
        req.maxPixels = 268_402_689; // the default limit, which 16000 × 16000 is under
        const result = await render(req);
        expect(result.ok ? 'done' : result.code, name).toBe('TRUNCATED');
        expect(!result.ok && result.message).toMatch(/cannot hold the \d+ × \d+ pixels/);
        expect(listFiles(out)).toEqual([]);
      }
    });

    it('measures the bound from the frame header and the file size', () => {
      const head = claimingSize(
        Buffer.from([
          0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
        ]),
        4000,
        3000,
      );
      // 4:2:0: 500 × 375 luma blocks and twice 250 × 188 chroma blocks, one bit each.
      const min = Math.ceil((500 * 375 + 2 * 250 * 188) / 8);
      expect(shortForItsPixels(head, min)).toBeNull();
      expect(shortForItsPixels(head, min - 1)).toMatch(/4000 × 3000/);
      expect(shortForItsPixels(new Uint8Array([1, 2, 3]), 3)).toBeNull();
    });
  });

  it('tolerates corrupt scan data that decoders only warn about', async () => {
    const jpeg = await noise(1200, 900).jpeg().toBuffer();
    const start = Math.floor(jpeg.length / 2);
    for (let i = 0; i < 2000; i++) jpeg[start + i * 7] = 0xff;
    await expect(sharp(jpeg, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow(
      /Corrupt JPEG/,
    );
    expectOk(await render(request(file('warned.jpg', jpeg)).req));
  });

  it('reports a text file as UNSUPPORTED', async () => {
    await expectFailure(file('notes.txt', 'not an image at all\n'), 'UNSUPPORTED');
  });

  it('names the format it has no decoder for, and reads a file by its content whatever its name', async () => {
    const unsupported = async (name: string, bytes: Uint8Array | string) => {
      const { req, out } = request(file(name, bytes));
      req.label = `folder/${name}`;
      const result = await render(req);
      if (!result.ok) expect(listFiles(out)).toEqual([]);
      return result.ok ? 'rendered' : `${result.code}: ${result.message}`;
    };
    const tiffHead = Buffer.concat([Buffer.from('II*\0\x08\0\0\0', 'latin1'), Buffer.alloc(64)]);
    expect(await unsupported('IMG_0001.CR2', tiffHead)).toBe(
      'UNSUPPORTED: CR2 RAW: no embedded JPEG preview to show; the sensor data is not decoded here',
    );
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
      Buffer.alloc(64),
    ]);
    expect(await unsupported('IMG_0002.HEIC', heic)).toMatch(/^CORRUPT: HEIC: /);
    // A Photoshop header: a format with no decoder here, named.
    const psd = Buffer.alloc(64);
    psd.write('8BPS', 0, 'latin1');
    psd.writeUInt16BE(1, 4);
    psd.writeUInt16BE(3, 12);
    psd.writeUInt32BE(10, 14);
    psd.writeUInt32BE(10, 18);
    psd.writeUInt16BE(8, 22);
    psd.writeUInt16BE(3, 24);
    expect(await unsupported('layers.psd', psd)).toBe(
      'UNSUPPORTED: Photoshop (PSD): no decoder for this format here',
    );
    // A minimal 1 × 1 24-bit BMP, which libvips here cannot read: decoded by our own reader.
    const bmp = Buffer.alloc(58);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(58, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(1, 18);
    bmp.writeInt32LE(1, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    expect(await unsupported('scan.bmp', bmp)).toBe('rendered');
    expect(await unsupported('notes.jpg', 'some notes\n')).toBe(
      'UNSUPPORTED: not a JPEG image (as its name says), nor one in a supported format',
    );
    // The decoder decides by content: a PNG named .jxl (or .cr2) is a PNG.
    const png = await noise(40, 30).png().toBuffer();
    expect(await unsupported('misnamed.jxl', png)).toBe('rendered');
    const jpeg = await noise(40, 30).jpeg().toBuffer();
    expect(await unsupported('preview.CR2', jpeg)).toBe('rendered');
  });

  it('reports an empty file or buffer as TRUNCATED', async () => {
    await expectFailure(file('empty.jpg', ''), 'TRUNCATED');
    await expectFailure({ kind: 'buffer', data: new Uint8Array(0) }, 'TRUNCATED');
  });

  it('refuses a pixel bomb before decoding it', async () => {
    const png = Buffer.from(
      await sharp({ create: { width: 16, height: 16, channels: 3, background: 'red' } })
        .png()
        .toBuffer(),
    );
    png.writeUInt32BE(60_000, 16); // IHDR width
    png.writeUInt32BE(60_000, 20); // IHDR height
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29); // IHDR CRC over type + data
    expect(await sharp(png, { limitInputPixels: false }).metadata()).toMatchObject({
      width: 60_000,
      height: 60_000,
    });
    await expectFailure(file('bomb.png', png), 'TOO_MANY_PIXELS');
  });

  it('reports a corrupt header as CORRUPT with the decoder message', async () => {
    const jpeg = await noise(300, 200).jpeg().toBuffer();
    jpeg.fill(0x42, 200, 400);
    const message = await expectFailure(file('corrupt.jpg', jpeg), 'CORRUPT');
    expect(message).toMatch(/^could not decode: .*Huffman/);
  });

  it('reports a vanished file and a folder', async () => {
    await expectFailure({ kind: 'file', path: join(dir, 'missing.jpg') }, 'NOT_FOUND');
    await expectFailure({ kind: 'file', path: dir }, 'NOT_REGULAR_FILE');
  });

  it('removes its temporary and renamed files when a later write fails', async () => {
    const input = file('ok.jpg', await noise(600, 400).jpeg().toBuffer());
    const { req, out } = request(input);
    const blocked = req.outputs[1];
    if (!blocked) throw new Error('two outputs expected');
    mkdirSync(blocked.finalPath, { recursive: true }); // rename onto a folder fails
    const result = await render(req);
    expect(result).toMatchObject({ ok: false, code: 'NOT_REGULAR_FILE' });
    expect(listFiles(out)).toEqual([]);
  });
});

describe('failureFromSharpError', () => {
  const errno = (code: string) =>
    Object.assign(new Error(`${code}: boom, open '/x/y.jpg'`), {
      code,
      syscall: 'open',
      path: '/x/y.jpg',
    });

  it.each([
    ['Input file contains unsupported image format', 'UNSUPPORTED'],
    ['Input buffer contains unsupported image format', 'UNSUPPORTED'],
    ['Input image exceeds pixel limit', 'TOO_MANY_PIXELS'],
    ['VipsJpeg: premature end of JPEG image', 'TRUNCATED'],
    ['VipsJpeg: Premature end of input file', 'TRUNCATED'],
    ['tiff2vips: unexpected end of file', 'TRUNCATED'],
    ['Input Buffer is empty', 'TRUNCATED'],
    ['timeout: 79% complete\nVipsImage: killed for image "temp-38"', 'TIMEOUT'],
    ['Input file is missing: /x/y.jpg', 'NOT_FOUND'],
    ['vipspng: libpng read error', 'CORRUPT'],
  ])('maps "%s" to %s', (message, code) => {
    expect(failureFromSharpError(new Error(message)).code).toBe(code);
  });

  it.each([
    ['ENOENT', 'NOT_FOUND'],
    ['EACCES', 'PERMISSION_DENIED'],
    ['ENOSPC', 'DISK_FULL'],
    ['EDQUOT', 'DISK_FULL'],
    ['EIO', 'IO_ERROR'],
  ])('maps file-system error %s to %s', (code, expected) => {
    const failure = failureFromSharpError(errno(code));
    expect(failure.code).toBe(expected);
    expect(failure.message).toContain('/x/y.jpg');
  });

  it('keeps only the first line of a decoder message', () => {
    expect(failureFromSharpError(new Error('VipsJpeg: Bogus marker\nmore\nmore'))).toEqual({
      code: 'CORRUPT',
      message: 'could not decode: VipsJpeg: Bogus marker',
    });
  });
});
