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

/**
 * A picture of `block`-pixel squares, each of its own colour (a hash of its
 * position): a shift, a turn or a mirror of any part of it shows, and it
 * survives JPEG well, so crops of outputs can be compared with crops of it.
 * Returned as a Sharp pipeline of its raw pixels.
 */
export function blockImage(width: number, height: number, block = 32) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const by = Math.floor(y / block);
    for (let x = 0; x < width; x++) {
      const bx = Math.floor(x / block);
      const h = Math.imul(bx * 73_856_093 + by * 19_349_663 + 1, 2_654_435_761) >>> 0;
      const i = (y * width + x) * 3;
      data[i] = h & 0xff;
      data[i + 1] = (h >>> 8) & 0xff;
      data[i + 2] = (h >>> 16) & 0xff;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** Mean absolute difference per channel of two images of one size, from their encoded bytes. */
export async function meanDifference(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all(
    [a, b].map((i) => sharp(i).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  if (!x || !y || x.info.width !== y.info.width || x.info.height !== y.info.height) {
    throw new Error('images of different sizes');
  }
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += Math.abs((x.data[i] ?? 0) - (y.data[i] ?? 0));
  return sum / x.data.length;
}
