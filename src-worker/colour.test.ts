/**
 * Colour: a photo tagged with an ICC profile other than sRGB (Display P3 from
 * phones) is converted to sRGB in every output. The reference conversion is
 * computed here from the published Display P3 primaries (D65, sRGB transfer
 * curve), not by the library under test.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { RenderRequest } from '../src-shared/render-task.ts';
import { heifColour, iccOf } from './heif-colour.ts';
import render from './render.task.ts';

const dir = mkdtempSync(join(tmpdir(), 'albumen-colour-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Linear Display P3 to linear sRGB (both D65), from the primaries' chromaticities. */
const P3_TO_SRGB = [
  [1.2249401, -0.2249404, 0.0],
  [-0.0420569, 1.0420571, 0.0],
  [-0.0196376, -0.0786361, 1.0982735],
];

const decode = (v: number) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};
const encode = (l: number) => {
  const c = Math.min(1, Math.max(0, l));
  return 255 * (c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055);
};

function p3ToSrgb(rgb: [number, number, number]): number[] {
  const lin = rgb.map(decode);
  return P3_TO_SRGB.map((row) => encode(row.reduce((sum, k, i) => sum + k * lin[i]!, 0)));
}

/** The pixel at (32, 32) of a flat output is within 3 levels of `want` in each channel. */
async function expectCentreNear(image: Buffer, want: number[], what: string): Promise<void> {
  const { data } = await sharp(image)
    .extract({ left: 32, top: 32, width: 1, height: 1 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const got = [...data.subarray(0, 3)];
  const message = `${what} → ${got.join()} vs ${want.map(Math.round).join()}`;
  got.forEach((v, i) => expect(Math.abs(v - want[i]!), message).toBeLessThanOrEqual(3));
}

/** A flat JPEG whose stored values are `rgb`, tagged with `icc` (spliced in, not converted). */
async function taggedJpeg(rgb: [number, number, number], icc: Buffer): Promise<Buffer> {
  const [r, g, b] = rgb;
  const jpeg = await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r, g, b } },
  })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const head = Buffer.from('ICC_PROFILE\0\x01\x01', 'latin1');
  const app2 = Buffer.alloc(4);
  app2.writeUInt16BE(0xffe2, 0);
  app2.writeUInt16BE(2 + head.length + icc.length, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app2, head, icc, jpeg.subarray(2)]);
}

describe('colour', () => {
  it('converts a Display P3 photo to sRGB as the reference conversion does', async () => {
    // Display P3's profile, as libvips ships it.
    const p3 = (
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#888' } })
        .withIccProfile('p3')
        .png()
        .toBuffer()
        .then((png) => sharp(png).metadata())
    ).icc;
    if (!p3) throw new Error('no P3 profile');
    for (const sample of [
      [180, 120, 60],
      [220, 90, 80],
      [100, 140, 220],
      [200, 60, 160],
    ] as [number, number, number][]) {
      const want = p3ToSrgb(sample);
      // In sRGB's gamut, and far enough that unconverted values would be off.
      expect(Math.max(...want.map((w, i) => Math.abs(w - sample[i]!)))).toBeGreaterThan(8);

      const req: RenderRequest = {
        label: 'phone.jpg',
        input: { kind: 'buffer', data: await taggedJpeg(sample, p3) },
        outputs: [
          {
            variant: 'thumbnail',
            finalPath: join(dir, `${sample.join('-')}.jpg`),
            settings: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 95 },
          },
        ],
        maxPixels: 100_000_000,
        timeoutSeconds: 30,
      };
      const result = await render(req);
      if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
      const out = readFileSync(result.outputs[0]!.path);
      expect((await sharp(out).metadata()).icc).toBeUndefined();
      await expectCentreNear(out, want, sample.join());
    }
  });

  it('converts a HEIC whose container names a Display P3 profile (as iPhones write) to sRGB', async () => {
    // 64 x 64 of P3 (180, 120, 60), lossless, its ICC in a colr box (heif-enc 1.15 -L).
    const heic = readFileSync(join(import.meta.dirname, 'test-fixtures/p3-colour.heic'));
    expect(heifColour(heic)).toMatchObject({ icc: expect.any(Uint8Array) as unknown });
    const want = p3ToSrgb([180, 120, 60]);
    const result = await render({
      label: 'IMG_0002.HEIC',
      input: { kind: 'buffer', data: heic },
      outputs: [
        {
          variant: 'thumbnail',
          finalPath: join(dir, 'p3.heic.jpg'),
          settings: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 95 },
        },
      ],
      maxPixels: 100_000_000,
      timeoutSeconds: 30,
    });
    if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
    await expectCentreNear(readFileSync(result.outputs[0]!.path), want, 'P3 HEIC');
  });

  it('takes nclx Display P3 primaries for the P3 profile, and other primaries for sRGB', async () => {
    const heic = Buffer.from(
      readFileSync(join(import.meta.dirname, 'test-fixtures/p3-colour.heic')),
    );
    const at = heic.indexOf('colrprof', 0, 'latin1') + 4;
    // The same box as nclx: primaries, transfer, matrix, full range (the rest unread).
    const nclx = (primaries: number) => {
      const copy = Buffer.from(heic);
      copy.write('nclx', at, 'latin1');
      copy.writeUInt16BE(primaries, at + 4);
      copy.writeUInt16BE(13, at + 6);
      copy.writeUInt16BE(0, at + 8);
      copy[at + 10] = 0x80;
      return copy;
    };
    expect(heifColour(nclx(12))).toEqual({ nclxPrimaries: 12 });
    const p3 = await iccOf(heifColour(nclx(12)));
    expect(p3 && String.fromCharCode(...p3.subarray(36, 40))).toBe('acsp');
    expect(await iccOf(heifColour(nclx(1)))).toBeNull();
  });

  it('reads no profile from a damaged or hostile container, and does not fail', () => {
    const heic = readFileSync(join(import.meta.dirname, 'test-fixtures/p3-colour.heic'));
    for (let cut = 0; cut < heic.length; cut += 7)
      expect(() => heifColour(heic.subarray(0, cut))).not.toThrow();
    const garbled = Buffer.from(heic);
    for (let i = 8; i < 400; i += 5) garbled[i] = 0xff;
    expect(() => heifColour(garbled)).not.toThrow();
    expect(heifColour(new Uint8Array(0))).toBeNull();
  });
});
