/** Images the tests of every layer build. */
import sharp from 'sharp';

/** A Sharp pipeline of grey noise, to encode as any format (a worst case for size). */
export function noiseImage(width: number, height: number, channels: 3 | 4 = 3, sigma = 40) {
  return sharp({
    create: {
      width,
      height,
      channels,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma },
    },
  });
}
