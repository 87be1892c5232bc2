import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageSize } from 'image-size';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import type { CollectionSource } from './collection-source.ts';
import { probeEntry } from './probe.ts';
import type { ProbeResult } from './probe.ts';
import { SourceReader } from './source-reader.ts';
import {
  icoWithTwoImages,
  imageAs,
  jpeg,
  mkfifo,
  png,
  pngHeaderClaiming,
  tempDir,
  tiffWithTrailingDirectory,
  withPaddingSegments,
  zipOf,
} from './test-fixtures.ts';

const limits = DEFAULT_SETTINGS.limits;
const HANG = { timeout: 20_000 };

let base: Awaited<ReturnType<typeof tempDir>>;
let folder: CollectionSource;
let reader: SourceReader;
let photo: Buffer;

const probe = (name: string, source = folder, l = limits): Promise<ProbeResult> =>
  probeEntry(reader, source, name, l);

async function put(name: string, data: Buffer | string): Promise<void> {
  await writeFile(join(folder.root, name), data);
}

beforeAll(async () => {
  base = await tempDir();
  folder = { kind: 'folder', root: base.dir };
  reader = new SourceReader();
  photo = await jpeg(64, 48);
});

afterAll(async () => {
  await reader.close();
  await base.cleanup();
});

describe('probeEntry on good images', () => {
  it('reads format, size and orientation of a JPEG', HANG, async () => {
    await put('a.jpg', photo);
    expect(await probe('a.jpg')).toEqual({
      ok: true,
      format: 'jpeg',
      width: 64,
      height: 48,
      orientation: 1,
    });
  });

  it('reads the EXIF orientation', HANG, async () => {
    await put('turned.jpg', await jpeg(64, 48, { orientation: 6 }));
    expect(await probe('turned.jpg')).toEqual({
      ok: true,
      format: 'jpeg',
      width: 64,
      height: 48,
      orientation: 6,
    });
  });

  it('reads PNG, WebP, GIF, AVIF and TIFF', HANG, async () => {
    await put('b.png', await png(30, 20));
    expect(await probe('b.png')).toMatchObject({ ok: true, format: 'png', width: 30, height: 20 });
    for (const format of ['webp', 'gif', 'avif', 'tiff'] as const) {
      await put(`c.${format}`, await imageAs(format, 33, 17));
      expect(await probe(`c.${format}`)).toMatchObject({ ok: true, format, width: 33, height: 17 });
    }
  });

  it('goes by content: a PNG named .dat is a PNG', HANG, async () => {
    await put('photo.dat', await png(5, 7));
    expect(await probe('photo.dat')).toMatchObject({
      ok: true,
      format: 'png',
      width: 5,
      height: 7,
    });
  });

  it('takes the largest image of an ICO', HANG, async () => {
    await put('icon.ico', icoWithTwoImages());
    expect(await probe('icon.ico')).toMatchObject({
      ok: true,
      format: 'ico',
      width: 48,
      height: 48,
    });
  });

  it('succeeds on a truncated JPEG (decoding finds the truncation later)', HANG, async () => {
    await put('half.jpg', photo.subarray(0, Math.floor(photo.length / 2)));
    expect(await probe('half.jpg')).toMatchObject({ ok: true, width: 64, height: 48 });
  });

  it(
    'reads again with 4 MiB when large metadata pushes the JPEG frame header past 256 KiB',
    HANG,
    async () => {
      const padded = withPaddingSegments(photo, 400_000);
      expect(() => imageSize(new Uint8Array(padded.subarray(0, 256 * 1024)))).toThrow();
      await put('padded.jpg', padded);
      expect(await probe('padded.jpg')).toMatchObject({ ok: true, width: 64, height: 48 });
    },
  );

  it('finds the directory of a large TIFF written after its pixels', HANG, async () => {
    const tiff = await tiffWithTrailingDirectory(1400, 1100);
    expect(tiff.readUInt32LE(4)).toBeGreaterThan(4 * 1024 * 1024);
    await put('scan.tif', tiff);
    expect(await probe('scan.tif')).toEqual({
      ok: true,
      format: 'tiff',
      width: 1400,
      height: 1100,
      orientation: 1,
    });
  });

  it('probes archive entries', HANG, async () => {
    const root = join(base.dir, 'book.cbz');
    await writeFile(
      root,
      await zipOf([
        { name: 'p1.jpg', data: photo },
        { name: 'p2.png', data: await png(9, 3), compress: false },
      ]),
    );
    const archive = { kind: 'archive', root } as const;
    expect(await probe('p1.jpg', archive)).toMatchObject({ ok: true, format: 'jpeg', width: 64 });
    expect(await probe('p2.png', archive)).toMatchObject({ ok: true, format: 'png', width: 9 });
    expect(await probe('p3.png', archive)).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});

describe('probeEntry on bad input', () => {
  it('refuses a pixel bomb with its dimensions in the message', HANG, async () => {
    await put('bomb.png', pngHeaderClaiming(60_000, 60_000));
    expect(await probe('bomb.png')).toEqual({
      ok: false,
      code: 'TOO_MANY_PIXELS',
      message: '60000×60000 pixels is over the limit of 268 megapixels',
    });
    expect(await probe('a.jpg', folder, { ...limits, maxPixels: 1000 })).toEqual({
      ok: false,
      code: 'TOO_MANY_PIXELS',
      message: '64×48 pixels is over the limit of 1000 pixels',
    });
  });

  it(
    'fails an empty file, and leaves text named .jpg and a broken JPEG header to the decoder',
    HANG,
    async () => {
      await put('zero.jpg', '');
      await put('notes.jpg', 'these are notes, not a picture\n');
      await put('broken.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]));
      await put(
        'IMG_1.CR2',
        Buffer.concat([Buffer.from('II*\0\x10\0\0\0CR', 'latin1'), Buffer.alloc(64)]),
      );
      expect(await probe('zero.jpg')).toEqual({
        ok: false,
        code: 'CORRUPT',
        message: 'empty file (0 bytes)',
      });
      // The decoder decides: what the probe cannot read is a hint, with no size.
      expect(await probe('notes.jpg')).toEqual({
        ok: true,
        format: 'jpeg',
        width: null,
        height: null,
        orientation: 1,
        hint: 'the header is not one the probe knows',
      });
      expect(await probe('broken.jpg')).toMatchObject({ ok: true, format: 'jpeg', width: null });
      expect((await probe('broken.jpg')) as { hint: string }).toHaveProperty(
        'hint',
        expect.stringMatching(/^the probe could not read the header \(/) as unknown,
      );
      // A RAW's TIFF directory is its thumbnail's: never its size.
      expect(await probe('IMG_1.CR2')).toMatchObject({ ok: true, format: 'cr2', width: null });
    },
  );

  it(
    'returns (never throws) the failure of a FIFO, a dangling link, a missing file and a bad path',
    HANG,
    async () => {
      mkfifo(join(base.dir, 'pipe.jpg'));
      await symlink('nowhere.jpg', join(base.dir, 'dangling.jpg'));
      expect(await probe('pipe.jpg')).toMatchObject({ ok: false, code: 'NOT_REGULAR_FILE' });
      expect(await probe('dangling.jpg')).toMatchObject({ ok: false, code: 'DANGLING_LINK' });
      expect(await probe('missing.jpg')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
      expect(await probe('../etc/passwd')).toMatchObject({ ok: false, code: 'INVALID_ENTRY_NAME' });
    },
  );
});
