import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { NO_META } from '../src-shared/render-task.ts';
import { metaFromTags, readPhotoMeta } from './photo-meta.ts';

async function jpegWith(exif: Record<string, Record<string, string>>): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
    .jpeg()
    .withExif(exif)
    .toBuffer();
}

describe('readPhotoMeta', () => {
  it('reads the date taken with its offset, the camera and the lens', async () => {
    const jpeg = await jpegWith({
      IFD0: { Make: 'Canon', Model: 'Canon EOS R5' },
      IFD2: {
        DateTimeOriginal: '2023:07:14 18:32:05',
        OffsetTimeOriginal: '+02:00',
        LensModel: 'RF24-105mm F4 L IS USM',
        ISOSpeedRatings: '200',
      },
    });
    const meta = await readPhotoMeta(jpeg);
    expect(meta).toMatchObject({
      takenLocal: '2023:07:14 18:32:05',
      takenOffset: '+02:00',
      takenAt: Date.UTC(2023, 6, 14, 16, 32, 5),
      make: 'Canon',
      model: 'Canon EOS R5',
      lens: 'RF24-105mm F4 L IS USM',
      iso: 200,
    });
  });

  it('gives no metadata, never a throw, for a file without any or with garbage', async () => {
    const plain = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(await readPhotoMeta(plain)).toEqual(NO_META);
    expect(await readPhotoMeta(new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 0x45]))).toEqual(
      NO_META,
    );
    const tiffLoop = Buffer.from(
      'II*\0\x08\0\0\0\x01\0\x0f\x01\x02\0\xff\xff\xff\x7f\x08\0\0\0',
      'latin1',
    );
    expect(await readPhotoMeta(tiffLoop)).toMatchObject({ make: null });
  });

  it('keeps only believable values', () => {
    expect(
      metaFromTags({
        DateTimeOriginal: '0000:00:00 00:00:00',
        CreateDate: '2021:02:31 10:00:00',
        Make: 'x'.repeat(500),
        Model: 'NIKON D850\u0000\u0000',
        ISO: -5,
        FNumber: Number.NaN,
        latitude: 0,
        longitude: 0,
        Rating: 9,
        Label: 'Green',
      }),
    ).toEqual({ ...NO_META, model: 'NIKON D850', label: 'Green' });
  });
});
