/**
 * JPEG XL, which the bundled libvips is built without, decoded by jxl-oxide
 * compiled to WebAssembly (jxl-oxide-wasm: a maintained, conformance-tested
 * JPEG XL decoder written in Rust; no native code to ship). Like every
 * decoder here it runs inside the crash-isolated pool, whose task timeout
 * bounds it; the image's size is read from its header and checked against
 * the pixel limit before any pixel is decoded.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as JxlModule from 'jxl-oxide-wasm';
import type { Failure } from '../src-shared/domain.ts';

/**
 * Most pixels decoded: jxl-oxide works in 32-bit floats, about 30 bytes a
 * pixel at its peak (a 100 MP image took 2.9 GB), and a WebAssembly memory,
 * once grown, is held for the worker's life.
 */
export const JXL_MAX_PIXELS = 40_000_000;

/** The first frame, as a PNG in sRGB, with the image's size and frame count. */
export interface DecodedJxl {
  png: Uint8Array;
  width: number;
  height: number;
  animated: boolean;
}

let loaded: Promise<typeof JxlModule> | null = null;

/** Loaded on a worker's first JPEG XL only. */
function jxlOxide(): Promise<typeof JxlModule> {
  loaded ??= (async () => {
    const mod = await import('jxl-oxide-wasm');
    // The package exports its WebAssembly as module.wasm (to import only).
    const wasm = fileURLToPath(import.meta.resolve('jxl-oxide-wasm/module.wasm'));
    mod.initSync({ module: await readFile(wasm) });
    return mod;
  })();
  return loaded;
}

/** True for a JPEG XL codestream (FF 0A) or container (its signature box). */
export function isJxl(head: Uint8Array): boolean {
  if (head[0] === 0xff && head[1] === 0x0a) return true;
  const signature = [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
  return head.length >= 12 && signature.every((b, i) => head[i] === b);
}

/** Decodes the first frame of a JPEG XL image, within `maxPixels`. */
export async function decodeJxl(
  bytes: Uint8Array,
  maxPixels: number,
): Promise<DecodedJxl | Failure> {
  let JxlImage: typeof JxlModule.JxlImage;
  try {
    ({ JxlImage } = await jxlOxide());
  } catch (err) {
    // Our fault, not the file's: it must not be called unreadable.
    loaded = null;
    const why = err instanceof Error ? err.message : String(err);
    return { code: 'INTERNAL', message: `the JPEG XL decoder could not be loaded: ${why}` };
  }
  const image = new JxlImage();
  try {
    image.forceSrgb = true;
    image.feedBytes(bytes);
    if (!image.tryInit()) {
      return { code: 'TRUNCATED', message: 'JPEG XL: the file ends inside its header' };
    }
    const width = image.width ?? 0;
    const height = image.height ?? 0;
    if (width * height > JXL_MAX_PIXELS && JXL_MAX_PIXELS < maxPixels) {
      return {
        code: 'TOO_MANY_PIXELS',
        message: `JPEG XL: ${width} × ${height} pixels is more than the ${JXL_MAX_PIXELS} this decoder takes (it needs about 30 bytes a pixel)`,
      };
    }
    if (width * height > maxPixels) {
      return {
        code: 'TOO_MANY_PIXELS',
        message: `${width} × ${height} pixels is more than the limit of ${maxPixels}`,
      };
    }
    // encodeToPng consumes (and frees) the rendered frame.
    const png = image.render(0).encodeToPng();
    return { png, width, height, animated: image.animated === true };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { code: 'CORRUPT', message: `JPEG XL: ${why}` };
  } finally {
    try {
      image.free();
    } catch {
      // Already taken by a failed render: nothing more to give back.
    }
  }
}
