import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderInput, RenderRequest, RenderResult } from '../src-shared/render-task.ts';
import { endRawReader } from './raw-preview.ts';
import render from './render.task.ts';
import { rawFile, type RawKind } from '../src-shared/test-support/raw-files.ts';

let dir = '';
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'albumen-raw-'));
});
afterAll(async () => {
  await endRawReader();
  rmSync(dir, { recursive: true, force: true });
});

/** Upright: red top left, green top right, blue bottom left, white bottom right. */
const QUADRANTS = ['red', 'green', 'blue', 'white'] as const;
const W = 120;
const H = 80;

function upright(): Sharp {
  const q = (c: string) => ({
    create: { width: W / 2, height: H / 2, channels: 3 as const, background: c },
  });
  return sharp({ create: { width: W, height: H, channels: 3, background: '#000' } }).composite([
    { input: q('#ff0000'), left: 0, top: 0 },
    { input: q('#00ff00'), left: W / 2, top: 0 },
    { input: q('#0000ff'), left: 0, top: H / 2 },
    { input: q('#ffffff'), left: W / 2, top: H / 2 },
  ]);
}

/**
 * The pixels a camera stores for an upright scene when it writes `orientation`:
 * undoing what a viewer does for that orientation.
 */
async function stored(orientation: number): Promise<Buffer> {
  const up = await upright().png().toBuffer();
  // Functions: a Sharp instance's operations change it in place.
  const undo: Record<number, (s: Sharp) => Sharp> = {
    1: (s) => s,
    2: (s) => s.flop(),
    3: (s) => s.rotate(180),
    4: (s) => s.flip(),
    // sharp mirrors before it rotates, whatever the order of the calls.
    5: (s) => s.rotate(90).flip(),
    6: (s) => s.rotate(270),
    7: (s) => s.rotate(90).flop(),
    8: (s) => s.rotate(90),
  };
  return undo[orientation]!(sharp(up)).jpeg({ quality: 95 }).toBuffer();
}

/** The colour names of the four quadrants of an image, in QUADRANTS order. */
async function quadrantsOf(image: Buffer): Promise<string[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const at = (fx: number, fy: number) => {
    const i = (Math.floor(info.height * fy) * info.width + Math.floor(info.width * fx)) * 3;
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!].map((v) => v > 128);
    return r && g && b ? 'white' : r ? 'red' : g ? 'green' : b ? 'blue' : 'black';
  };
  return [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)];
}

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

describe('camera RAW previews', () => {
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
