/**
 * Orientation goldens: a picture whose four quadrants have four colours, the
 * pixels a camera stores for it under each EXIF orientation, and a reader of
 * the quadrants of an output. A right output shows the quadrants upright.
 */
import sharp from 'sharp';
import type { Sharp } from 'sharp';

/** Upright: red top left, green top right, blue bottom left, white bottom right. */
export const QUADRANTS = ['red', 'green', 'blue', 'white'] as const;
export const QUADRANTS_WIDTH = 120;
export const QUADRANTS_HEIGHT = 80;

function upright(): Sharp {
  const [w, h] = [QUADRANTS_WIDTH / 2, QUADRANTS_HEIGHT / 2];
  const q = (background: string) => ({
    create: { width: w, height: h, channels: 3 as const, background },
  });
  return sharp({
    create: { width: QUADRANTS_WIDTH, height: QUADRANTS_HEIGHT, channels: 3, background: '#000' },
  }).composite([
    { input: q('#ff0000'), left: 0, top: 0 },
    { input: q('#00ff00'), left: w, top: 0 },
    { input: q('#0000ff'), left: 0, top: h },
    { input: q('#ffffff'), left: w, top: h },
  ]);
}

/**
 * The pixels a camera stores for the upright picture when it writes
 * `orientation` (undoing what a viewer does for it), as a JPEG without tags.
 */
export async function storedQuadrants(orientation: number): Promise<Buffer> {
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
export async function quadrantsOf(image: Buffer | string): Promise<string[]> {
  const { data, info } = await sharp(image)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const at = (fx: number, fy: number) => {
    const i = (Math.floor(info.height * fy) * info.width + Math.floor(info.width * fx)) * 3;
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!].map((v) => v > 128);
    return r && g && b ? 'white' : r ? 'red' : g ? 'green' : b ? 'blue' : 'black';
  };
  return [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)];
}
