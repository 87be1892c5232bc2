// The estimator lives in src-shared (no Node there); this round trip through
// the real encoder needs sharp, so it lives here.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { estimateJpegQuality } from '../src-shared/jpeg-quality.ts';

describe('estimateJpegQuality on JPEGs written by sharp', () => {
  const image = sharp({
    create: {
      width: 256,
      height: 192,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .png()
    .toBuffer();

  it.each([50, 75, 90, 95])('estimates quality %i within ±2', async (quality) => {
    const jpeg = await sharp(await image)
      .jpeg({ quality, mozjpeg: false })
      .toBuffer();
    const estimate = estimateJpegQuality(jpeg);
    expect(estimate).not.toBeNull();
    expect(Math.abs((estimate ?? 0) - quality)).toBeLessThanOrEqual(2);
  });

  it('estimates mozjpeg tables conservatively (never above the quality asked for)', async () => {
    const jpeg = await sharp(await image)
      .jpeg({ quality: 80, mozjpeg: true })
      .toBuffer();
    expect(estimateJpegQuality(jpeg)).toBeLessThanOrEqual(80);
  });

  it('returns null for a PNG', async () => {
    expect(estimateJpegQuality(await image)).toBeNull();
  });
});
