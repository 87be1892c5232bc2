/**
 * The format corpus: one file of every kind a phone, a camera or the web
 * makes, built here (sharp, the RAW layouts of raw-files.ts, the HEIC fixture
 * from heif-enc), imported as a user would. Every file either has both outputs,
 * upright, or fails with a listed code and a reason; none fails at the scan
 * when the decoder can read it; and what getImage says of the date taken, the
 * camera and the lens is what ExifTool reports for the same file.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageView } from '../../src-shared/api.ts';
import {
  QUADRANTS,
  QUADRANTS_HEIGHT,
  QUADRANTS_WIDTH,
  quadrantsOf,
  storedQuadrants,
} from '../../src-shared/test-support/quadrants.ts';
import { rawFile } from '../../src-shared/test-support/raw-files.ts';
import { noiseImage as noise } from '../../src-shared/test-support/images.ts';
import { withImported } from '../test-support/imported.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir('albumen-corpus-');
const exiftool = new ExifTool({ maxProcs: 1 });
afterAll(() => exiftool.end());

/** What a file of the corpus must come to. */
type Expect =
  | { ok: true; width: number; height: number; upright?: boolean }
  | { code: 'UNSUPPORTED' | 'TOO_MANY_PIXELS'; message: RegExp };

const camera = (make: string, model: string, lens: string, date: string) => ({
  IFD0: { Make: make, Model: model },
  IFD2: { DateTimeOriginal: date, OffsetTimeOriginal: '+01:00', LensModel: lens },
});

/** A JPEG with `appBytes` of APP segments (Photoshop's extended XMP does this) before its frame. */
async function deepFrameJpeg(appBytes: number): Promise<Buffer> {
  const jpeg = await noise(320, 240).jpeg().toBuffer();
  const segments: Buffer[] = [];
  for (let left = appBytes; left > 0;) {
    const payload = Math.min(left, 65_533);
    const seg = Buffer.alloc(payload + 4, 0x20);
    seg.writeUInt16BE(0xffeb, 0); // APP11, as JUMBF and extended metadata use
    seg.writeUInt16BE(payload + 2, 2);
    segments.push(seg);
    left -= payload;
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/**
 * An Ultra HDR JPEG as Android phones write it: the SDR picture with an XMP
 * block of the gain-map namespace and an MPF index (APP2), and the gain map,
 * a second JPEG, after its end. A viewer shows the SDR picture.
 */
async function ultraHdr(primary: Buffer): Promise<Buffer> {
  const xmp = Buffer.from(
    'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/" hdrgm:Version="1.0"/></rdf:RDF></x:xmpmeta>',
    'latin1',
  );
  const gainMap = await sharp({
    create: { width: 30, height: 20, channels: 3, background: '#808080' },
  })
    .greyscale()
    .jpeg()
    .toBuffer();
  // MPF: "MPF\0", a little-endian TIFF header, the MP entry count (2) and their offsets.
  const mpf = Buffer.alloc(4 + 8 + 2 + 12 * 3 + 4 + 32);
  mpf.write('MPF\0', 0, 'latin1');
  mpf.write('II*\0', 4, 'latin1');
  mpf.writeUInt32LE(8, 8);
  mpf.writeUInt16LE(3, 12);
  mpf.writeUInt16LE(0xb000, 14); // MPFVersion
  mpf.writeUInt16LE(7, 16);
  mpf.writeUInt32LE(4, 18);
  mpf.write('0100', 22, 'latin1');
  mpf.writeUInt16LE(0xb001, 26); // NumberOfImages
  mpf.writeUInt16LE(4, 28);
  mpf.writeUInt32LE(1, 30);
  mpf.writeUInt32LE(2, 34);
  const segment = (marker: number, body: Buffer) => {
    const head = Buffer.from([0xff, marker, 0, 0]);
    head.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([head, body]);
  };
  return Buffer.concat([
    primary.subarray(0, 2),
    segment(0xe1, xmp),
    segment(0xe2, mpf),
    primary.subarray(2),
    gainMap,
  ]);
}

/** A BMP or ICO ImageMagick made (src-worker/test-fixtures/bitmaps/make.sh). */
function bitmapFixture(name: string): Buffer {
  return readFileSync(join(import.meta.dirname, '../../src-worker/test-fixtures/bitmaps', name));
}

/** A 24-bit BMP (BITMAPINFOHEADER, bottom-up rows). */
function bmp(width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * height, 0x80);
  b.fill(0, 0, 54);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * height, 34);
  return b;
}

/** An ICO holding one PNG, as favicons are written now. */
async function ico(size: number): Promise<Buffer> {
  const png = await noise(size, size, 4).png().toBuffer();
  const head = Buffer.alloc(22);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2);
  head.writeUInt16LE(1, 4);
  head.writeUInt8(size % 256, 6);
  head.writeUInt8(size % 256, 7);
  head.writeUInt16LE(1, 10);
  head.writeUInt16LE(32, 12);
  head.writeUInt32LE(png.length, 14);
  head.writeUInt32LE(22, 18);
  return Buffer.concat([head, png]);
}

describe('the format corpus', () => {
  it('gives every file both outputs or a listed failure, and the metadata ExifTool reads', async () => {
    const root = tempDir();
    const dir = join(root, 'corpus');
    mkdirSync(dir);
    const corpus: Record<string, [Uint8Array | string, Expect]> = {};
    const add = (name: string, bytes: Uint8Array | string, expected: Expect) => {
      corpus[name] = [bytes, expected];
    };
    const [W, H] = [QUADRANTS_WIDTH, QUADRANTS_HEIGHT];
    const upright = { ok: true, width: W, height: H, upright: true } as const;

    // JPEG: EXIF orientation, progressive, CMYK, Display P3, a frame header 8 MB in.
    add(
      'canon-o6.jpg',
      await sharp(await storedQuadrants(6))
        .withExif(camera('Canon', 'Canon EOS R5', 'RF24-70mm F2.8 L IS USM', '2024:03:09 10:11:12'))
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer(),
      upright,
    );
    add('progressive.jpg', await noise(640, 480).jpeg({ progressive: true }).toBuffer(), {
      ok: true,
      width: 640,
      height: 480,
    });
    add('cmyk.jpg', await noise(300, 200).toColourspace('cmyk').jpeg().toBuffer(), {
      ok: true,
      width: 300,
      height: 200,
    });
    add(
      'display-p3.jpg',
      await sharp(await storedQuadrants(1))
        .withIccProfile('p3')
        .jpeg()
        .toBuffer(),
      upright,
    );
    add('ultra-hdr.jpg', await ultraHdr(await storedQuadrants(1)), upright);
    add('deep-app-segments.jpg', await deepFrameJpeg(8 * 1024 * 1024), {
      ok: true,
      width: 320,
      height: 240,
    });
    // PNG: 16-bit, palette, alpha.
    add('deep.png', await noise(200, 100).toColourspace('rgb16').png().toBuffer(), {
      ok: true,
      width: 200,
      height: 100,
    });
    add('palette.png', await noise(200, 100).png({ palette: true }).toBuffer(), {
      ok: true,
      width: 200,
      height: 100,
    });
    add('alpha.png', await noise(150, 150, 4).png().toBuffer(), {
      ok: true,
      width: 150,
      height: 150,
    });
    add('photo.webp', await noise(400, 300).webp().toBuffer(), {
      ok: true,
      width: 400,
      height: 300,
    });
    add('photo.avif', await noise(400, 300).avif({ effort: 0 }).toBuffer(), {
      ok: true,
      width: 400,
      height: 300,
    });
    const frames = await Promise.all(
      ['#f00', '#0f0', '#00f'].map((background) =>
        sharp({ create: { width: 64, height: 48, channels: 3, background } })
          .png()
          .toBuffer(),
      ),
    );
    add(
      'anim.gif',
      await sharp(frames, { join: { animated: true } })
        .gif({ delay: 200 })
        .toBuffer(),
      {
        ok: true,
        width: 64,
        height: 48,
      },
    );
    add(
      'anim.webp',
      await sharp(frames, { join: { animated: true } })
        .webp({ delay: 200 })
        .toBuffer(),
      { ok: true, width: 64, height: 48 },
    );
    add(
      'pages.tiff',
      await sharp(frames, { join: { animated: true } })
        .tiff()
        .toBuffer(),
      { ok: true, width: 64, height: 48 },
    );
    add(
      'drawing.svg',
      '<svg xmlns="http://www.w3.org/2000/svg" width="90" height="60"><rect width="90" height="60" fill="#36c"/><image href="http://127.0.0.1:9/x.png" width="10" height="10"/></svg>',
      { ok: true, width: 90, height: 60 },
    );
    // From a phone and from cameras.
    add('phone.heic', '', { ok: true, width: 96, height: 64 });
    const raw = async (
      kind: 'dng' | 'nef' | 'cr2' | 'arw',
      o: number,
      make: string,
      model: string,
    ) =>
      rawFile({
        kind,
        preview: await storedQuadrants(o),
        width: o >= 5 ? H : W,
        height: o >= 5 ? W : H,
        orientation: o,
        make,
        model,
        taken: '2022:08:07 06:05:04',
        lens: `${model} kit lens`,
      });
    add('camera.dng', await raw('dng', 1, 'Leica Camera AG', 'LEICA Q2'), upright);
    add('camera.nef', await raw('nef', 8, 'NIKON CORPORATION', 'NIKON Z 6_2'), upright);
    add('camera.cr2', await raw('cr2', 3, 'Canon', 'Canon EOS 6D'), upright);
    add('camera.arw', await raw('arw', 6, 'SONY', 'ILCE-7RM4'), upright);
    add('no-preview.dng', rawFile({ kind: 'dng' }), {
      code: 'UNSUPPORTED',
      message: /^DNG: no embedded JPEG preview/,
    });
    // Windows bitmaps and icons, by hand and by ImageMagick.
    add('icon.bmp', bmp(40, 30), { ok: true, width: 40, height: 30 });
    add('palette-rle.bmp', bitmapFixture('rle8.bmp'), { ok: true, width: 37, height: 23 });
    add('favicon.ico', await ico(32), { ok: true, width: 32, height: 32 });
    add('sizes.ico', bitmapFixture('multi.ico'), { ok: true, width: 48, height: 48 });
    // JPEG XL, from libjxl's cjxl.
    add('image.jxl', '', upright);
    // A 200-megapixel panorama, within the default limit (268 MP).
    add(
      'panorama.jpg',
      await sharp({ create: { width: 20_000, height: 10_000, channels: 3, background: '#468' } })
        .jpeg({ quality: 50 })
        .toBuffer(),
      { ok: true, width: 20_000, height: 10_000 },
    );

    for (const [name, [bytes]] of Object.entries(corpus)) {
      const fixture = { 'phone.heic': 'quadrants.heic', 'image.jxl': 'quadrants.jxl' }[name];
      if (fixture) {
        copyFileSync(
          join(import.meta.dirname, '../../src-worker/test-fixtures', fixture),
          join(dir, name),
        );
      } else writeFileSync(join(dir, name), bytes);
    }

    await withImported(join(root, 'data'), dir, async ({ core, service, job, byName }) => {
      const failed = await service.call('failedItems', { jobId: job.id, offset: 0, limit: 100 });
      if (!failed.ok) throw new Error(failed.error.message);
      // Every file is listed: none skipped without a word.
      expect([...byName.keys()].sort()).toEqual(Object.keys(corpus).sort());

      const seen: Record<string, string> = {};
      for (const [name, [, expected]] of Object.entries(corpus)) {
        const image = byName.get(name)!;
        const failures = failed.value.filter((f) => f.imageId === image.id);
        if ('ok' in expected) {
          seen[name] = failures.length
            ? `failed ${failures.map((f) => `${f.stage} ${f.code}: ${f.message}`).join('; ')}`
            : `${image.width}x${image.height} ${String(image.has.thumbnail && image.has.cache)}`;
          if (!failures.length && expected.upright) {
            const thumb = core.outputFile(image.id, 'thumbnail');
            seen[name] += ` ${(await quadrantsOf(thumb?.path ?? '')).join(',')}`;
          }
        } else {
          const f = failures[0];
          seen[name] = f ? `${f.stage} ${f.code}` : 'no failure';
          if (f) expect(f.message, name).toMatch(expected.message);
        }
      }
      const want: Record<string, string> = {};
      for (const [name, [, expected]] of Object.entries(corpus)) {
        want[name] =
          'ok' in expected
            ? `${expected.width}x${expected.height} true${expected.upright ? ` ${QUADRANTS.join(',')}` : ''}`
            : `thumbnail ${expected.code}`;
      }
      expect(seen).toEqual(want);

      // What the app says of each photo is what ExifTool reads from it.
      const fromApp = (i: ImageView) => ({
        taken: i.takenLocal,
        make: i.make,
        model: i.model,
        lens: i.lens,
      });
      let compared = 0;
      // (Metadata is read at decode: a file that failed records none.)
      for (const [name, image] of byName) {
        if (!image.has.thumbnail) continue;
        const tags = await exiftool.read(join(dir, name));
        const dto = tags.DateTimeOriginal;
        const reference = {
          taken:
            dto && typeof dto === 'object' && 'rawValue' in dto
              ? String(dto.rawValue).slice(0, 19)
              : null,
          make: tags.Make ?? null,
          model: tags.Model ?? null,
          lens: tags.LensModel ?? null,
        };
        expect(fromApp(image), name).toEqual(reference);
        if (reference.make) compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(6);
    });
  }, 180_000);
});
