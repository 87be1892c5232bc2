import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderInput, RenderRequest, RenderResult } from '../src-shared/render-task.ts';
import { endRawReader } from './raw-preview.ts';
import render from './render.task.ts';
import {
  QUADRANTS,
  QUADRANTS_HEIGHT as H,
  QUADRANTS_WIDTH as W,
  quadrantsOf,
  storedQuadrants as stored,
} from '../src-shared/test-support/quadrants.ts';
import { withHeifOrientation } from '../src-shared/test-support/heif-orientation.ts';
import { rawFile, slowCr3, type RawKind } from '../src-shared/test-support/raw-files.ts';

let dir = '';
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'albumen-raw-'));
});
afterAll(async () => {
  await endRawReader();
  rmSync(dir, { recursive: true, force: true });
});

function request(name: string, bytes: Uint8Array, asData = false): RenderRequest {
  const out = join(dir, `out-${++n}`);
  const path = join(dir, `${n}-${name}`);
  writeFileSync(path, bytes);
  const input: RenderInput = asData ? { kind: 'buffer', data: bytes } : { kind: 'file', path };
  return {
    label: name,
    input,
    outputs: [
      {
        variant: 'thumbnail',
        finalPath: join(out, 'thumb.jpg'),
        settings: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 90 },
      },
      {
        variant: 'cache',
        finalPath: join(out, 'cache.jpg'),
        settings: { maxWidth: 1920, maxHeight: 1080, format: 'jpeg', quality: 90 },
      },
    ],
    maxPixels: 100_000_000,
    timeoutSeconds: 30,
  };
}

function expectOk(result: RenderResult): Extract<RenderResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result;
}

describe('camera RAW previews, and orientation on the pixels', () => {
  it.each<[RawKind]>([['dng'], ['nef'], ['cr2'], ['arw']])(
    'shows a %s by its embedded preview, with its metadata',
    async (kind) => {
      const raw = rawFile({
        kind,
        preview: await stored(1),
        width: W,
        height: H,
        taken: '2023:07:14 18:05:09',
        lens: 'TestLens 50mm F1.8',
      });
      const result = expectOk(await render(request(`photo.${kind}`, raw)));
      expect(result.source).toMatchObject({ format: kind, width: W, height: H, orientation: 1 });
      expect(result.source.meta).toMatchObject({
        takenLocal: '2023:07:14 18:05:09',
        lens: 'TestLens 50mm F1.8',
        iso: 400,
        exposureTime: 1 / 250,
      });
      expect(result.source.meta.make).not.toBeNull();
      for (const o of result.outputs) {
        expect(await quadrantsOf(readFileSync(o.path))).toEqual([...QUADRANTS]);
      }
    },
  );

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "turns the preview upright by the RAW's orientation %i",
    async (orientation) => {
      const jpeg = await stored(orientation);
      // The oracle: libvips, turning the same pixels tagged with that orientation.
      const tagged = await sharp(jpeg).withMetadata({ orientation }).jpeg().toBuffer();
      expect(await quadrantsOf(await sharp(tagged).autoOrient().png().toBuffer())).toEqual([
        ...QUADRANTS,
      ]);

      const { width = 0, height = 0 } = await sharp(jpeg).metadata();
      const raw = rawFile({ kind: 'nef', preview: jpeg, width, height, orientation });
      const result = expectOk(await render(request('turned.nef', raw)));
      expect(result.source).toMatchObject({ width: W, height: H, orientation });
      for (const o of result.outputs) {
        expect([o.width, o.height]).toEqual([W, H]);
        expect(await quadrantsOf(readFileSync(o.path))).toEqual([...QUADRANTS]);
      }
    },
  );

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('turns a JPEG upright by its orientation %i', async (o) => {
    const jpeg = await sharp(await stored(o))
      .withMetadata({ orientation: o })
      .jpeg()
      .toBuffer();
    const result = expectOk(await render(request('photo.jpg', jpeg)));
    expect(result.source).toMatchObject({ width: W, height: H, orientation: o });
    for (const out of result.outputs) {
      expect(await quadrantsOf(readFileSync(out.path))).toEqual([...QUADRANTS]);
    }
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'turns a HEIC by its rotation and mirror as EXIF orientation %i turns a JPEG',
    async (o) => {
      const heic = withHeifOrientation(
        readFileSync(join(import.meta.dirname, 'test-fixtures/quadrants.heic')),
        o,
      );
      // The oracle: libvips turning the same upright quadrants by EXIF orientation o.
      const tagged = await sharp(await stored(1))
        .withMetadata({ orientation: o })
        .jpeg()
        .toBuffer();
      const want = await quadrantsOf(await sharp(tagged).autoOrient().png().toBuffer());
      const result = expectOk(await render(request('IMG_0001.HEIC', heic)));
      expect(result.source).toMatchObject(
        o >= 5 ? { width: 64, height: 96 } : { width: 96, height: 64 },
      );
      for (const out of result.outputs)
        expect(await quadrantsOf(readFileSync(out.path))).toEqual(want);
    },
  );

  it('reads a RAW from an archive entry (bytes, not a file)', async () => {
    const raw = rawFile({
      kind: 'cr2',
      preview: await stored(6),
      width: H,
      height: W,
      orientation: 6,
    });
    const result = expectOk(await render(request('inside-zip.cr2', raw, true)));
    expect(result.source).toMatchObject({ format: 'cr2', width: W, height: H });
  });

  it('falls back to a smaller preview when the largest is broken or short', async () => {
    const thumbnail = await sharp({
      create: { width: 60, height: 40, channels: 3, background: '#00ff00' },
    })
      .jpeg()
      .toBuffer();
    // A JpgFromRaw whose header claims 9000 x 9000 pixels but holds a few bytes.
    const claimed = await sharp({
      create: { width: 9000, height: 9000, channels: 3, background: '#fff' },
    })
      .jpeg()
      .toBuffer();
    const short = claimed.subarray(0, 700);
    const garbled = Buffer.from(await stored(1));
    garbled.fill(0x00, 200, 400);
    garbled.fill(0xff, 400, garbled.length - 2);
    for (const broken of [short, garbled]) {
      const raw = rawFile({ kind: 'nef', preview: broken, width: 120, height: 80, thumbnail });
      const result = expectOk(await render(request('fallback.nef', raw)));
      expect(result.source).toMatchObject({ format: 'nef', width: 60, height: 40 });
    }
    // With no other preview, the short one fails TRUNCATED, not as a grey picture.
    const alone = await render(request('short.nef', rawFile({ kind: 'nef', preview: short })));
    expect(alone).toMatchObject({ ok: false, code: 'TRUNCATED' });
  });

  it('reports ExifTool taking too long as TIMEOUT, within the time, not as the file being unsupported', async () => {
    // A CR3-like box stream ExifTool walks box by box: seconds of work.
    const req = { ...request('slow.cr3', slowCr3(400_000)), timeoutSeconds: 1 };
    const started = performance.now();
    const result = await render(req);
    expect(result).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(1500 * 2);
  });

  it('fails a RAW without a preview as UNSUPPORTED, saying why', async () => {
    const result = await render(request('bare.dng', rawFile({ kind: 'dng' })));
    expect(result).toMatchObject({ ok: false, code: 'UNSUPPORTED' });
    expect(!result.ok && result.message).toMatch(/^DNG: no embedded JPEG preview/);
  });

  it('fails a file named .nef that is no RAW as UNSUPPORTED, and a JPEG named .cr2 renders', async () => {
    const junk = await render(
      request('junk.nef', new TextEncoder().encode('not a raw file at all')),
    );
    expect(junk).toMatchObject({ ok: false, code: 'UNSUPPORTED' });
    const jpeg = expectOk(await render(request('really-a.cr2', await stored(1))));
    expect(jpeg.source.format).toBe('jpeg');
  });
});
