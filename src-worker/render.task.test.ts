import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Variant } from '../src-shared/domain.ts';
import { estimateJpegQuality } from '../src-shared/jpeg-quality.ts';
import type { RenderInput, RenderRequest, RenderResult } from '../src-shared/render-task.ts';
import type { VariantSettings } from '../src-shared/settings.ts';
import render, { failureFromSharpError } from './render.task.ts';

let dir = '';
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'albumen-render-'));
});
afterAll(() => {
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
  return sharp({
    create: {
      width,
      height,
      channels,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 30 },
    },
  });
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
    const input = file('big.jpg', await noise(4000, 3000).jpeg({ quality: 90 }).toBuffer());
    const { req, out } = request(input);
    const result = expectOk(await render(req));

    expect(result.source).toEqual({
      format: 'jpeg',
      width: 4000,
      height: 3000,
      orientation: 1,
      quality: 90,
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

  it('flattens transparency onto white for JPEG', async () => {
    const png = await sharp({
      create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const result = expectOk(await render(request(file('clear.png', png)).req));
    const { data } = await sharp(output(result, 'cache').path)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)].every((v) => v > 250)).toBe(true);
  });

  it('renders nothing but still reads the source when no output is requested', async () => {
    const input = file('none.png', await noise(64, 32).png().toBuffer());
    const { req } = request(input, {});
    expect(await render(req)).toMatchObject({ ok: true, source: { width: 64 }, outputs: [] });
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
