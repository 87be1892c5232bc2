/**
 * HEVC-coded HEIF (the HEIC photos phones take), which the bundled libvips
 * cannot decode, decoded with libheif compiled to WebAssembly (libheif-js, a
 * maintained build of the reference HEIF library): no native code beyond
 * what the worker already loads, and like every decoder here it runs inside
 * the crash-isolated pool, whose task timeout also bounds it (a WebAssembly
 * decode cannot be interrupted from inside the thread).
 *
 * The pixels come out as 8-bit RGBA with the container's rotation and mirror
 * (irot/imir) applied by libheif, so the result is upright and its EXIF
 * orientation, which HEIF readers must ignore, is not applied again.
 */
import type libheifModule from 'libheif-js/wasm-bundle.js';
import type { HeifImage } from 'libheif-js/wasm-bundle.js';
import type { Failure } from '../src-shared/domain.ts';

/** Upright 8-bit RGBA pixels. */
export interface DecodedPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 4;
}

type LibHeif = typeof libheifModule;

let loaded: Promise<LibHeif> | null = null;

/**
 * Loaded on first use (about 110 ms and 10 MB of WebAssembly): a worker that
 * never meets a HEIC never pays for it.
 */
function libheif(): Promise<LibHeif> {
  loaded ??= import('libheif-js/wasm-bundle.js').then((m) => m.default);
  return loaded;
}

/**
 * Decodes the primary image of a HEIF file. Its size is checked against
 * `maxPixels` before any pixel is decoded.
 */
export async function decodeHeif(
  bytes: Uint8Array,
  maxPixels: number,
): Promise<DecodedPixels | Failure> {
  let images: HeifImage[];
  try {
    images = new (await libheif()).HeifDecoder().decode(bytes);
  } catch (err) {
    return { code: 'CORRUPT', message: `HEIC: ${messageOf(err)}` };
  }
  try {
    const primary = images.find((i) => i.is_primary()) ?? images[0];
    if (!primary) return { code: 'CORRUPT', message: 'HEIC: the file holds no image' };
    const width = primary.get_width();
    const height = primary.get_height();
    if (!(width > 0 && height > 0)) {
      return { code: 'CORRUPT', message: `HEIC: the image claims ${width} × ${height} pixels` };
    }
    if (width * height > maxPixels) {
      return {
        code: 'TOO_MANY_PIXELS',
        message: `${width} × ${height} pixels is more than the limit of ${maxPixels}`,
      };
    }
    const target = { data: new Uint8ClampedArray(width * height * 4), width, height };
    const result = await new Promise<{ data: Uint8ClampedArray } | null>((resolve) => {
      primary.display(target, resolve);
    });
    if (!result) return { code: 'CORRUPT', message: 'HEIC: the image data could not be decoded' };
    const data = Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength);
    return { data, width, height, channels: 4 };
  } catch (err) {
    return { code: 'CORRUPT', message: `HEIC: ${messageOf(err)}` };
  } finally {
    for (const image of images) image.free();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
