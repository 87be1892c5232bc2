/**
 * The render task: a piscina worker entry, and a pure function of its input.
 * It decodes a source once, writes every requested output (thumbnail, cache
 * image) from that one decode with an atomic rename, and reports what it
 * learnt and wrote. Expected failures (bad input, full disk) are values;
 * only a bug throws.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { workerData } from 'node:worker_threads';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { CRASH_POINTS, crashHookFrom, noCrash } from '../src-shared/crash-points.ts';
import type { CrashHook } from '../src-shared/crash-points.ts';
import type { ErrorCode, Failure } from '../src-shared/domain.ts';
import {
  extensionOf,
  formatDisplayName,
  formatOfExtension,
  HEIF_BRAND_FORMATS,
  isRawFormat,
} from '../src-shared/formats.ts';
import { estimateJpegQuality } from '../src-shared/jpeg-quality.ts';
import { heifColour, iccOf, pngWithProfile } from './heif-colour.ts';
import {
  decodeBmp,
  decodeIco,
  isBmp,
  isIco,
  isOpaque,
  type Embedded,
  type Rgba,
} from './bmp-decode.ts';
import { decodeHeif } from './heif-decode.ts';
import { decodeJxl, isJxl } from './jxl-decode.ts';
import { readPhotoMeta } from './photo-meta.ts';
import { eachRawPreview, type RawPreview } from './raw-preview.ts';
import { pyramidMaxLevel } from '../src-shared/deep-zoom.ts';
import {
  CONTENT_HASH,
  diskBytes,
  NO_META,
  parsePyramid,
  PYRAMID_MANIFEST,
  tempPathFor,
} from '../src-shared/render-task.ts';
import type {
  PhotoMeta,
  PyramidSpec,
  RenderInput,
  RenderOutputSpec,
  RenderRequest,
  RenderResult,
  SourceInfo,
  WrittenOutput,
  WrittenPyramid,
} from '../src-shared/render-task.ts';

// Why: the pool already runs one worker thread per core; libvips' own thread
// pool on top would oversubscribe the cores (and its operation cache would
// only hold memory, since no two tasks share a source).
sharp.cache(false);
sharp.concurrency(1);

/** Fault-test hook (ALBUMEN_CRASH_AT); a no-op unless the variable names a point. */
const crash = processWideCrashHook(process.env.ALBUMEN_CRASH_AT);

/** How much of a file is read up front: the JPEG tables come before the scan. */
const HEAD_BYTES = 256 * 1024;

/**
 * What shows through transparent pixels in a JPEG (which has no alpha): a light
 * checkerboard, as image viewers draw transparency, so white-on-transparent
 * art does not vanish into a plain white background.
 */
export const CHECKER_CELL = 8;
/** The two shades of the checkerboard: white cells, and light grey ones. */
const CHECKER_LIGHT = 0xff;
const CHECKER_DARK = 0xd9;
const CHECKER_PERIOD = CHECKER_CELL * 2;

/** Shade of the checkerboard at (x, y): grey where exactly one of them is in the second half of its period. */
export function checkerShade(x: number, y: number): number {
  return x % CHECKER_PERIOD < CHECKER_CELL !== y % CHECKER_PERIOD < CHECKER_CELL
    ? CHECKER_DARK
    : CHECKER_LIGHT;
}

/**
 * The top-left `width` × `height` of one period of the checkerboard, opaque
 * RGBA. Tiled over an image it draws the same pattern whatever its size: an
 * overlay may not be larger than the image it is composited on, so an image
 * under one period in a side gets a tile cut to its size.
 */
function checkerTile(width: number, height: number) {
  const w = Math.min(width, CHECKER_PERIOD);
  const h = Math.min(height, CHECKER_PERIOD);
  const tile = Buffer.alloc(w * h * 4, 0xff);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) tile.fill(checkerShade(x, y), (y * w + x) * 4, (y * w + x) * 4 + 3);
  }
  return { data: tile, raw: { width: w, height: h, channels: 4 as const } };
}

/**
 * Decodes `req.input` once and writes every output in `req.outputs` from that
 * decode, each to a temporary name in its final folder and then renamed into
 * place. On failure nothing of this call is left on disk.
 */
export default async function render(req: RenderRequest): Promise<RenderResult> {
  const marker = process.env.ALBUMEN_TEST_CRASH_MARKER;
  // Test-only: simulates a native decoder crash, which takes down the whole
  // pool host process (the case the crash-isolated pool exists for).
  // process.abort() is not allowed in a worker thread; SIGABRT has the same effect.
  if (marker && req.label.includes(marker)) dieBy('SIGABRT');

  const startedAt = performance.now();
  let head: Head | Failure | null = null;
  try {
    head = await readHead(req.input);
    if ('code' in head) return { ok: false, ...head };
    if (head.bytes.length === 0)
      return { ok: false, code: 'TRUNCATED', message: 'the file is empty' };
    if (isRawFormat(extensionOf(req.label)) && !startsLikeJpeg(head.bytes)) {
      return await renderRaw(req, head.bytes);
    }
    if (isHevcHeif(head.bytes)) return await renderHeic(req);
    if (isJxl(head.bytes)) return await renderJxl(req);
    if (isBmp(head.bytes)) return await renderBitmap(req, 'bmp', decodeBmp);
    if (isIco(head.bytes)) return await renderBitmap(req, 'ico', decodeIco);

    const source = sharp(req.input.kind === 'file' ? req.input.path : req.input.data, {
      limitInputPixels: req.maxPixels,
      // Why 'error': a truncated file or data the decoder reports as an error
      // fails (instead of a half-grey image being cached as if it were
      // right), while warnings pass: libjpeg's "Corrupt JPEG data: premature
      // end of data segment" is common in real photos that browsers display,
      // and 'warning' rejects them. 'truncated' behaved the same as 'error'
      // on every damaged JPEG, PNG and GIF we tried; 'error' also covers
      // decode errors other than a short file. Neither fails a JPEG whose
      // header claims far more pixels than its data holds (libjpeg fills the
      // rest with grey and warns "premature end of data segment", the same
      // warning as in those real photos): shortForItsPixels catches that.
      failOn: 'error',
      // Why: reads top to bottom without keeping the whole decoded image; the
      // pipeline switches to random access itself where an operation needs it.
      sequentialRead: true,
    }).timeout({ seconds: req.timeoutSeconds });

    const meta = await source.metadata();
    // Within the pixel limit only: a bigger claim fails TOO_MANY_PIXELS below.
    if (meta.width * meta.height <= req.maxPixels) {
      const short = shortForItsPixels(head.bytes, head.size);
      if (short)
        return { ok: false, code: 'TRUNCATED', message: `the file is truncated: ${short}` };
    }
    const info: SourceInfo = {
      // libvips names every HEIF container 'heif'; an AV1-coded one is AVIF, the
      // name the scan's probe records and browsers can show.
      format: meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format,
      width: meta.autoOrient.width,
      height: meta.autoOrient.height,
      orientation: meta.orientation ?? 1,
      quality: meta.format === 'jpeg' ? estimateJpegQuality(head.bytes) : null,
      contentHash: null,
      meta: { ...(await readPhotoMeta(head.bytes)), ...framesOf(meta) },
    };
    return await finish(source, req, info);
  } catch (err) {
    if (isSurprise(err)) throw err;
    const failure = failureFromSharpError(err);
    if (failure.code === 'UNSUPPORTED' && head && 'bytes' in head) {
      return { ok: false, code: 'UNSUPPORTED', message: unsupportedMessage(req.label, head.bytes) };
    }
    if (failure.code === 'CORRUPT' && head && 'bytes' in head) {
      // libvips words a short file differently depending on where it stops;
      // a file without its end-of-image marker is truncated, whatever it said.
      const tail = await readTail(req.input).catch(() => null);
      if (tail && endsEarly(head.bytes, tail)) {
        return {
          ok: false,
          code: 'TRUNCATED',
          message: `the file is truncated: it ends before its end-of-image marker (${failure.message})`,
        };
      }
    }
    const elapsedMs = performance.now() - startedAt;
    if (
      failure.code === 'CORRUPT' &&
      req.timeoutSeconds > 0 &&
      elapsedMs >= req.timeoutSeconds * 1000
    ) {
      // libvips' timeout kills the pipeline, and what fails next does not
      // always say "timeout" (a decoder's "Unknown error", for one): past the
      // deadline, it was the timeout. The pool judges whether that was the
      // image's fault or a pause of this process.
      return {
        ok: false,
        code: 'TIMEOUT',
        message: `rendering took longer than ${req.timeoutSeconds} s (${failure.message})`,
      };
    }
    return { ok: false, ...failure };
  }
}

/**
 * Frames of an animation or pages of a document, and one loop's duration, as
 * the decoder's header read gives them (no frame is decoded for this: the
 * outputs are made from the first).
 */
function framesOf(meta: Metadata): Pick<PhotoMeta, 'pages' | 'durationMs'> {
  const pages = meta.pages && meta.pages > 1 ? meta.pages : null;
  const delays = pages && Array.isArray(meta.delay) ? meta.delay : [];
  // As browsers play a GIF: a frame delay of 10 ms or less lasts 100 ms.
  const played = (d: number) =>
    !Number.isFinite(d) || d < 0 ? 0 : meta.format === 'gif' && d <= 10 ? 100 : d;
  const durationMs = delays.length ? delays.reduce((sum, d) => sum + played(d), 0) : null;
  return { pages, durationMs: durationMs === null ? null : Math.round(durationMs) };
}

/**
 * Every output from a decoded source, and the content hash. `orientation`
 * overrides the source's own EXIF orientation (a RAW's preview is shown as
 * the RAW says); `alpha` overrides whether it has transparency (the
 * input's header says so, not the operations on it).
 */
async function finish(
  source: Sharp,
  req: RenderRequest,
  info: SourceInfo,
  orientation?: number,
  alpha?: boolean,
): Promise<RenderResult> {
  if (req.pyramid) {
    const transparent = alpha ?? (await source.metadata()).hasAlpha;
    const pyramid = await writePyramid(orient(source, orientation), req.pyramid, transparent);
    return { ok: true, source: info, outputs: [], pyramid };
  }
  if (req.outputs.length === 0) return { ok: true, source: info, outputs: [] };
  const encoded = await encodeAll(orient(source, orientation), req, info.quality);
  const outputs = await writeAll(encoded);
  // Read once more (from the page cache, just decoded): a few ms beside the decode.
  info.contentHash = await hashOf(req.input).catch(() => null);
  return { ok: true, source: info, outputs };
}

/**
 * A HEVC-coded HEIF, decoded by libheif (whole: the walk's file size limit
 * bounds it) into upright pixels that sharp then resizes and encodes.
 */
async function renderHeic(req: RenderRequest): Promise<RenderResult> {
  const bytes = await wholeInput(req.input);
  const pixels = await decodeHeif(bytes, req.maxPixels);
  if ('code' in pixels) return { ok: false, ...pixels };
  const { data, width, height, channels } = pixels;
  // A phone's Display P3 (or any profile the container names) becomes sRGB in
  // the outputs, as for every tagged photo.
  const icc = await iccOf(heifColour(bytes));
  let source = (
    icc
      ? sharp(await pngWithProfile(pixels, icc), { limitInputPixels: false })
      : sharp(data, { raw: { width, height, channels } })
  ).timeout({ seconds: req.timeoutSeconds });
  // libheif gives RGBA whatever the image has: an opaque one is three channels
  // (so that its deep-zoom tiles are JPEG, not WebP kept for transparency).
  const opaque = isOpaque(data);
  if (opaque) source = source.removeAlpha();
  const info: SourceInfo = {
    format: 'heic',
    width,
    height,
    // libheif applied the container's rotation and mirror: the pixels are upright.
    orientation: 1,
    quality: null,
    contentHash: null,
    meta: await readPhotoMeta(bytes),
  };
  return finish(source, req, info, undefined, !opaque);
}

/**
 * A BMP or an ICO/CUR, decoded here (see bmp-decode.ts) into pixels, or into
 * the PNG or JPEG it holds, which sharp decodes.
 */
async function renderBitmap(
  req: RenderRequest,
  format: 'bmp' | 'ico',
  decode: (bytes: Uint8Array, maxPixels: number) => Rgba | Embedded | Failure,
): Promise<RenderResult> {
  const bytes = await wholeInput(req.input);
  const decoded = decode(bytes, req.maxPixels);
  if ('code' in decoded) return { ok: false, ...decoded };
  let source: Sharp;
  let size: { width: number; height: number };
  let alpha: boolean;
  if ('embedded' in decoded) {
    source = sharp(decoded.embedded, { limitInputPixels: req.maxPixels, failOn: 'error' });
    const meta = await source.metadata();
    size = { width: meta.autoOrient.width, height: meta.autoOrient.height };
    alpha = meta.hasAlpha;
  } else {
    const { data, width, height } = decoded;
    source = sharp(data, { raw: { width, height, channels: 4 } });
    if (!decoded.alpha) source = source.removeAlpha();
    size = { width, height };
    alpha = decoded.alpha;
  }
  const info: SourceInfo = {
    format,
    ...size,
    orientation: 1,
    quality: null,
    contentHash: null,
    meta: NO_META,
  };
  return finish(source.timeout({ seconds: req.timeoutSeconds }), req, info, undefined, alpha);
}

/** A JPEG XL, decoded by jxl-oxide (whole, as the walk's size limit bounds it). */
async function renderJxl(req: RenderRequest): Promise<RenderResult> {
  const bytes = await wholeInput(req.input);
  const decoded = await decodeJxl(bytes, req.maxPixels);
  if ('code' in decoded) return { ok: false, ...decoded };
  const source = sharp(decoded.png, { limitInputPixels: req.maxPixels }).timeout({
    seconds: req.timeoutSeconds,
  });
  const info: SourceInfo = {
    format: 'jxl',
    width: decoded.width,
    height: decoded.height,
    // jxl-oxide renders the image as its header orients it.
    orientation: 1,
    quality: null,
    contentHash: null,
    meta: NO_META,
  };
  return finish(source, req, info);
}

/**
 * A camera RAW, shown by its largest embedded JPEG that decodes, in the
 * RAW's orientation; UNSUPPORTED with the reason when it has none.
 */
async function renderRaw(req: RenderRequest, head: Uint8Array): Promise<RenderResult> {
  const format = extensionOf(req.label);
  // The RAW's own EXIF, the same whichever preview is shown: read once.
  const photoMeta = await readPhotoMeta(head);
  const result = await eachRawPreview<RenderResult>(
    req.input,
    formatDisplayName(format),
    Math.max(1, req.timeoutSeconds) * 1000,
    async (preview) => {
      try {
        const r = await renderPreview(req, photoMeta, format, preview);
        // A broken, short or oversized preview: the next, smaller one may do.
        return !r.ok && PREVIEW_FALLBACK.has(r.code) ? { failure: r } : { taken: r };
      } catch (err) {
        if (isSurprise(err)) throw err;
        return { failure: failureFromSharpError(err) };
      }
    },
  );
  return 'code' in result ? { ok: false, ...result } : result;
}

/** Failures of one preview after which a RAW's next preview is tried. */
const PREVIEW_FALLBACK: ReadonlySet<ErrorCode> = new Set([
  'CORRUPT',
  'TRUNCATED',
  'UNSUPPORTED',
  'TOO_MANY_PIXELS',
]);

async function renderPreview(
  req: RenderRequest,
  photoMeta: PhotoMeta,
  format: string,
  preview: RawPreview,
): Promise<RenderResult> {
  const source = sharp(preview.jpeg, { limitInputPixels: req.maxPixels, failOn: 'error' }).timeout({
    seconds: req.timeoutSeconds,
  });
  const meta = await source.metadata();
  if (meta.width * meta.height > req.maxPixels) {
    return {
      ok: false,
      code: 'TOO_MANY_PIXELS',
      message: `its ${preview.tag} of ${meta.width} × ${meta.height} pixels is more than the limit of ${req.maxPixels}`,
    };
  }
  const short = shortForItsPixels(preview.jpeg, preview.jpeg.length);
  if (short) {
    return { ok: false, code: 'TRUNCATED', message: `its ${preview.tag} is truncated: ${short}` };
  }
  const turned = preview.orientation >= 5;
  const info: SourceInfo = {
    format,
    width: turned ? meta.height : meta.width,
    height: turned ? meta.width : meta.height,
    orientation: preview.orientation,
    quality: null,
    contentHash: null,
    meta: photoMeta,
  };
  return finish(source, req, info, preview.orientation);
}

/**
 * The source turned upright by an EXIF orientation (1–8) given apart from
 * its own tags; by its own tags when none is given. sharp mirrors before it
 * rotates, whatever the order of the calls: 5 (transpose) is a mirror top to
 * bottom then a quarter turn clockwise, 7 (transverse) a mirror left to right
 * then the same turn.
 */
function orient(source: Sharp, orientation: number | undefined): Sharp {
  switch (orientation) {
    case undefined:
      return source.autoOrient();
    case 2:
      return source.flop();
    case 3:
      return source.rotate(180);
    case 4:
      return source.flip();
    case 5:
      return source.rotate(90).flip();
    case 6:
      return source.rotate(90);
    case 7:
      return source.rotate(90).flop();
    case 8:
      return source.rotate(270);
    default:
      return source;
  }
}

/**
 * True for HEVC-coded HEIF: a HEIC major brand, or a generic one (mif1, which
 * some phones write) that lists a HEIC brand and no AVIF one among its
 * compatible brands.
 */
function isHevcHeif(head: Uint8Array): boolean {
  const brands = heifBrands(head);
  if (!brands) return false;
  const [major, ...compatible] = brands.map((b) => HEIF_BRAND_FORMATS[b]);
  if (major !== 'heif') return major === 'heic';
  return compatible.includes('heic') && !compatible.includes('avif');
}

/** The major brand of an ISO-BMFF file, then its compatible brands; null if it is not one. */
function heifBrands(head: Uint8Array): string[] | null {
  const major = heifBrand(head);
  if (!major) return null;
  const size = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
  const brands = [major];
  for (let at = 16; at + 4 <= Math.min(size, head.length, 256); at += 4) {
    brands.push(String.fromCharCode(...head.subarray(at, at + 4)));
  }
  return brands;
}

function startsLikeJpeg(head: Uint8Array): boolean {
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/** The major brand of an ISO-BMFF file ('heic', 'avif', 'mif1', …), or null. */
function heifBrand(head: Uint8Array): string | null {
  if (head.length < 12) return null;
  if (String.fromCharCode(...head.subarray(4, 8)) !== 'ftyp') return null;
  return String.fromCharCode(...head.subarray(8, 12));
}

/** The UNSUPPORTED message for a source the decoder refused: the format named when it can be. */
function unsupportedMessage(label: string, head: Uint8Array): string {
  const format = formatOfExtension(extensionOf(label));
  if (startsLikeJpeg(head) || !format) return 'not an image in a supported format';
  if (DECODED_FORMATS.has(format)) {
    return `not a ${formatDisplayName(format)} image (as its name says), nor one in a supported format`;
  }
  return `${formatDisplayName(format)}: no decoder for this format here`;
}

/** Formats the bundled libvips decodes. */
const DECODED_FORMATS: ReadonlySet<string> = new Set([
  'jpeg',
  'png',
  'gif',
  'webp',
  'avif',
  'heif',
  'tiff',
  'svg',
]);

/**
 * Every byte of the input, for the decoders that take a whole file (HEIC,
 * JPEG XL, BMP/ICO: the walk's file size limit bounds it).
 */
async function wholeInput(input: RenderInput): Promise<Uint8Array> {
  return input.kind === 'file' ? readFile(input.path) : input.data;
}

/** The CONTENT_HASH of all of the source's bytes, hex. */
async function hashOf(input: RenderInput): Promise<string> {
  const hash = createHash(CONTENT_HASH);
  if (input.kind === 'buffer') return hash.update(input.data).digest('hex');
  const handle = await open(input.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      hash.update(chunk as Buffer);
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** The last bytes of the source. */
async function readTail(input: RenderInput): Promise<Uint8Array> {
  if (input.kind === 'buffer') return input.data.subarray(Math.max(0, input.data.length - 32));
  const handle = await open(input.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.alloc(Math.min(32, size));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, size - bytes.length);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * True when a JPEG, PNG or GIF lacks the marker that ends it (JPEG's EOI, PNG's
 * IEND chunk, GIF's trailer): the file was cut short.
 */
export function endsEarly(head: Uint8Array, tail: Uint8Array): boolean {
  const has = (seq: number[]) => tail.some((_, i) => seq.every((b, k) => tail[i + k] === b));
  if (head[0] === 0xff && head[1] === 0xd8) return !has([0xff, 0xd9]);
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
    return !has([0x49, 0x45, 0x4e, 0x44]);
  }
  if (head[0] === 0x47 && head[1] === 0x49 && head[2] === 0x46)
    return tail[tail.length - 1] !== 0x3b;
  return false;
}

/**
 * Why a JPEG or PNG of `size` bytes cannot hold the pixels its header claims,
 * or null when it can (or the format is another one). Decoders fill what is
 * missing with grey and at most warn, so a header that lies about the size
 * (a few hundred bytes claiming 16000 × 16000) would otherwise be cached as a
 * flat grey image. The bounds are what the formats can never go below:
 * - JPEG (Huffman-coded DCT: baseline, extended, progressive): every 8 × 8
 *   block of every component costs at least one bit in its first scan (a DC
 *   code is at least one bit long). Arithmetic-coded and lossless JPEGs,
 *   which are rare, are not checked.
 * - PNG: deflate packs at most 258 bytes into 2 bits (a 1-bit length code and
 *   a 1-bit distance code), 1032:1, and the pixels are at least
 *   width × height × bits per pixel / 8 bytes before compression.
 */
export function shortForItsPixels(head: Uint8Array, size: number): string | null {
  const claim = jpegMinBytes(head) ?? pngMinBytes(head);
  if (!claim || size >= claim.minBytes) return null;
  return `${size} bytes cannot hold the ${claim.width} × ${claim.height} pixels its header claims (at least ${claim.minBytes} bytes)`;
}

interface Claim {
  width: number;
  height: number;
  minBytes: number;
}

function jpegMinBytes(b: Uint8Array): Claim | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // no length
      continue;
    }
    const length = ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0);
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      const at = i + 4;
      if (at + 6 > b.length) return null;
      const height = ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0);
      const width = ((b[at + 3] ?? 0) << 8) | (b[at + 4] ?? 0);
      const count = b[at + 5] ?? 0;
      if (height === 0 || width === 0 || count === 0 || at + 6 + count * 3 > b.length) return null;
      const factors: [number, number][] = [];
      for (let c = 0; c < count; c++) {
        const hv = b[at + 6 + c * 3 + 1] ?? 0;
        factors.push([Math.max(1, hv >> 4), Math.max(1, hv & 0x0f)]);
      }
      const hMax = Math.max(...factors.map(([h]) => h));
      const vMax = Math.max(...factors.map(([, v]) => v));
      let blocks = 0;
      for (const [h, v] of factors) {
        blocks +=
          Math.ceil(Math.ceil((width * h) / hMax) / 8) *
          Math.ceil(Math.ceil((height * v) / vMax) / 8);
      }
      return { width, height, minBytes: Math.ceil(blocks / 8) };
    }
    // Another frame type, or the scan began without a frame header we check.
    if (
      (marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xda
    ) {
      return null;
    }
    i += 2 + length;
  }
  return null;
}

/** Samples per pixel of each PNG colour type (a palette index is one sample). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function pngMinBytes(b: Uint8Array): Claim | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length < 29 || !signature.every((v, k) => b[k] === v)) return null;
  if (String.fromCharCode(b[12] ?? 0, b[13] ?? 0, b[14] ?? 0, b[15] ?? 0) !== 'IHDR') return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const channels = PNG_CHANNELS[b[25] ?? -1];
  const depth = b[24] ?? 0;
  if (!channels || width === 0 || height === 0) return null;
  const rawBytes = (width * height * channels * depth) / 8;
  return { width, height, minBytes: Math.floor(rawBytes / 1032) };
}

/** No-op the pool host calls in every thread so that this module (and sharp) is loaded before work starts. */
export function warmUp(): boolean {
  return true;
}

interface EncodedOutput {
  spec: RenderOutputSpec;
  data: Buffer;
  width: number;
  height: number;
}

/**
 * One decode, every output. The source is decoded with shrink-on-load and
 * resized once to the union of the output boxes, kept as raw 8-bit sRGB
 * pixels, and each output is encoded (and if smaller, resized) from those
 * pixels. Measured on a 12 MP JPEG: decode+resize 89 ms, cache encode 16 ms,
 * thumbnail from the raw pixels 5 ms, against 43 ms for a second
 * shrink-on-load decode for the thumbnail.
 */
async function encodeAll(
  source: Sharp,
  req: RenderRequest,
  sourceQuality: number | null,
): Promise<EncodedOutput[]> {
  const boxWidth = Math.max(...req.outputs.map((o) => o.settings.maxWidth));
  const boxHeight = Math.max(...req.outputs.map((o) => o.settings.maxHeight));
  const { data, info } = await source
    .resize({ width: boxWidth, height: boxHeight, fit: 'inside', withoutEnlargement: true })
    // Converts CMYK, greyscale, 16-bit and ICC-tagged sources to 8-bit sRGB;
    // the encoders then drop all metadata (orientation included).
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };

  const encoded: EncodedOutput[] = [];
  for (const spec of req.outputs) {
    const { maxWidth, maxHeight, format } = spec.settings;
    let quality = spec.settings.quality;
    if (spec.variant === 'cache' && sourceQuality !== null)
      quality = Math.min(quality, sourceQuality);

    let image = sharp(data, raw).timeout({ seconds: req.timeoutSeconds });
    let size = { width: info.width, height: info.height };
    if (info.width > maxWidth || info.height > maxHeight) {
      image = image.resize({ width: maxWidth, height: maxHeight, fit: 'inside' });
      if (format === 'jpeg' && info.channels === 4) {
        // The backdrop's tile must fit the resized image: resize first.
        const resized = await image.raw().toBuffer({ resolveWithObject: true });
        size = resized.info;
        image = sharp(resized.data, { raw: resized.info }).timeout({ seconds: req.timeoutSeconds });
      }
    }
    if (format === 'jpeg') {
      if (info.channels === 4) {
        const tile = checkerTile(size.width, size.height);
        image = image.composite([
          // From the top-left corner: centred, a cut tile would not line up.
          { input: tile.data, raw: tile.raw, tile: true, gravity: 'northwest', blend: 'dest-over' },
        ]);
      }
      // Why mozjpeg off: libjpeg's standard tables keep the quality number
      // comparable with the source estimate (mozjpeg's tables differ).
      image = image.jpeg({ quality, mozjpeg: false });
    } else {
      image = image.webp({ quality });
    }
    const out = await image.toBuffer({ resolveWithObject: true });
    encoded.push({ spec, data: out.data, width: out.info.width, height: out.info.height });
  }
  return encoded;
}

/**
 * Writes every output to a temporary name, then renames them all into place.
 * On failure it removes its temporary files and the outputs it had renamed,
 * so that a failed render leaves nothing behind.
 */
async function writeAll(encoded: EncodedOutput[]): Promise<WrittenOutput[]> {
  const temps: string[] = [];
  const renamed: string[] = [];
  try {
    for (const folder of new Set(encoded.map((e) => dirname(e.spec.finalPath)))) {
      await mkdir(folder, { recursive: true });
    }
    for (const e of encoded) {
      const temp = tempPathFor(e.spec.finalPath, randomBytes(6).toString('hex'));
      temps.push(temp);
      await writeFile(temp, e.data, { flag: 'wx' });
      crash('after-temp-write');
    }
    for (const [i, e] of encoded.entries()) {
      await rename(temps[i] ?? '', e.spec.finalPath);
      renamed.push(e.spec.finalPath);
    }
    crash('after-rename');
  } catch (err) {
    await Promise.all([...temps, ...renamed].map((p) => unlink(p).catch(() => {})));
    throw err;
  }
  return encoded.map((e) => ({
    variant: e.spec.variant,
    path: e.spec.finalPath,
    bytes: e.data.length,
    width: e.width,
    height: e.height,
  }));
}

/**
 * Writes the image's deep-zoom pyramid (see deep-zoom.ts) to a temporary
 * folder, its manifest last, and renames the folder into place: a pyramid
 * folder either is whole or does not exist; a folder of that name that is
 * no whole pyramid (a removal cut short) is replaced. libvips makes it in one
 * pass over the decoded rows, in strips, so an upright 200-megapixel image
 * needs about 270 MB rather than its whole decode; one its EXIF turns by 90°
 * or flips needs the whole decode in memory (about 1 GB for 16000 × 16000,
 * measured), as libvips cannot turn a stream of rows.
 */
async function writePyramid(
  source: Sharp,
  spec: PyramidSpec,
  alpha: boolean,
): Promise<WrittenPyramid> {
  const temp = tempPathFor(spec.dir, randomBytes(6).toString('hex'));
  await mkdir(dirname(spec.dir), { recursive: true });
  await mkdir(temp);
  try {
    let image = source.toColourspace('srgb');
    if (alpha) {
      // Over the checkerboard, as in the view image: a tile drawn over that
      // image must hide it, not add its own transparency to it.
      const tile = checkerTile(CHECKER_PERIOD, CHECKER_PERIOD);
      image = image.composite([
        { input: tile.data, raw: tile.raw, tile: true, gravity: 'northwest', blend: 'dest-over' },
      ]);
    }
    image = image.removeAlpha().jpeg({ quality: spec.quality, mozjpeg: false });
    const info = await image
      .tile({ size: spec.tileSize, overlap: 0, layout: 'dz', container: 'fs' })
      .toFile(join(temp, 'tiles.dz'));
    // libvips' own description and the source's properties: the manifest says what is needed.
    await rm(join(temp, 'tiles.dzi'), { force: true });
    await rm(join(temp, 'tiles_files', 'vips-properties.xml'), { force: true });
    crash('after-temp-write');
    const { bytes, files } = await treeSize(join(temp, 'tiles_files'));
    const pyramid: WrittenPyramid = {
      width: info.width,
      height: info.height,
      tileSize: spec.tileSize,
      maxLevel: pyramidMaxLevel(info.width, info.height),
      format: 'jpeg',
      bytes,
      tiles: files,
    };
    await writeFile(join(temp, PYRAMID_MANIFEST), JSON.stringify(pyramid), { flag: 'wx' });
    try {
      await rename(temp, spec.dir);
    } catch (err) {
      const there = await readFile(join(spec.dir, PYRAMID_MANIFEST), 'utf8').catch(() => '');
      if (parsePyramid(there)) {
        // Made at the same time by another worker: theirs is as good.
        await rm(temp, { recursive: true, force: true });
      } else {
        // What is there is no whole pyramid (a removal cut short): replaced.
        if (!(await stat(spec.dir).catch(() => null))) throw err;
        await rm(spec.dir, { recursive: true, force: true });
        await rename(temp, spec.dir);
      }
    }
    crash('after-rename');
    return pyramid;
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** Disk bytes and files under a folder. */
async function treeSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += diskBytes(await stat(join(entry.parentPath, entry.name)));
    files++;
  }
  return { bytes, files };
}

/** The first bytes of the source, and its whole size. */
interface Head {
  bytes: Uint8Array;
  size: number;
}

/**
 * The first bytes of the source (all of a buffer), read before decoding: they
 * carry the JPEG tables for the quality estimate, and opening the file here
 * turns a vanished, unreadable or special file into a clear failure.
 */
async function readHead(input: RenderInput): Promise<Head | Failure> {
  if (input.kind === 'buffer') return { bytes: input.data, size: input.data.length };
  // Why O_NONBLOCK: opening a FIFO that replaced an image must not hang the worker.
  const handle = await open(input.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { code: 'NOT_REGULAR_FILE', message: 'not a regular file' };
    const bytes = Buffer.alloc(Math.min(HEAD_BYTES, stat.size));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, bytesRead), size: stat.size };
  } finally {
    await handle.close();
  }
}

/** A programming error rather than bad input or a failing disk: it must surface as a throw. */
function isSurprise(err: unknown): boolean {
  return (
    !(err instanceof Error) ||
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError
  );
}

const FS_CODES: Record<string, [ErrorCode, string]> = {
  ENOENT: ['NOT_FOUND', 'file not found'],
  EACCES: ['PERMISSION_DENIED', 'permission denied'],
  EPERM: ['PERMISSION_DENIED', 'operation not permitted'],
  ENOSPC: ['DISK_FULL', 'no space left on the device'],
  EDQUOT: ['DISK_FULL', 'disk quota exceeded'],
  EISDIR: ['NOT_REGULAR_FILE', 'is a folder, not a file'],
  ELOOP: ['SYMLINK_LOOP', 'too many levels of symbolic links'],
};

/**
 * Maps an error thrown while reading, decoding, encoding or writing an image
 * to a code from the closed list and a readable message. Node's file-system
 * errors are mapped by errno code; libvips' by the text of its message (it
 * gives no code); anything else the decoder says means the data is bad.
 */
export function failureFromSharpError(err: unknown): Failure {
  const e = err instanceof Error ? (err as NodeJS.ErrnoException) : null;
  if (e && typeof e.code === 'string' && e.syscall) {
    const [code, text] = FS_CODES[e.code] ?? ['IO_ERROR', `${e.code.toLowerCase()} error`];
    return { code, message: e.path ? `${text}: ${e.syscall} ${e.path}` : `${text} (${e.syscall})` };
  }
  const message = e ? e.message : String(err);
  const firstLine = message.split('\n', 1)[0]?.trim() ?? '';
  if (/unsupported image format/i.test(message)) {
    return { code: 'UNSUPPORTED', message: 'not an image in a supported format' };
  }
  if (/exceeds pixel limit/i.test(message)) {
    return {
      code: 'TOO_MANY_PIXELS',
      message: 'the image has more pixels than the limit allows (possible decompression bomb)',
    };
  }
  if (/input file is missing/i.test(message))
    return { code: 'NOT_FOUND', message: 'file not found' };
  if (/input buffer is empty/i.test(message))
    return { code: 'TRUNCATED', message: 'the file is empty' };
  if (/premature end|unexpected end|truncated|end of file|not enough data/i.test(message)) {
    return { code: 'TRUNCATED', message: `the file is truncated: ${firstLine}` };
  }
  if (/^timeout\b/i.test(message)) {
    return { code: 'TIMEOUT', message: `decoding took too long (${firstLine})` };
  }
  return { code: 'CORRUPT', message: `could not decode: ${firstLine}` };
}

/**
 * Crash points shared by all worker threads of this process: ALBUMEN_CRASH_AT's
 * `name:N` means the N-th pass in the pool host process, not in one thread,
 * so the passes are counted in shared memory the pool host provides (a local
 * counter when run outside it).
 */
function processWideCrashHook(spec: string | undefined): CrashHook {
  if (!spec) return noCrash;
  const hook = crashHookFrom(spec, killOwnerAndHost);
  if (hook === noCrash) return noCrash;
  const shared: unknown = (workerData as { crashCounts?: unknown } | null)?.crashCounts;
  const counts =
    shared instanceof Int32Array && shared.length >= CRASH_POINTS.length
      ? shared
      : new Int32Array(CRASH_POINTS.length);
  const fed = new Int32Array(CRASH_POINTS.length);
  return (point) => {
    const i = CRASH_POINTS.indexOf(point);
    const passes = Atomics.add(counts, i, 1) + 1;
    // The thread-local hook counts its own calls: feed it every process-wide
    // pass it has not seen, so it fires exactly when the N-th pass happens.
    while ((fed[i] ?? 0) < passes) {
      fed[i] = (fed[i] ?? 0) + 1;
      hook(point);
    }
  };
}

/**
 * Kills the database-owning process (ALBUMEN_OWNER_PID), then this whole
 * process: from a worker thread, SIGKILL to our own pid takes down the host.
 */
function killOwnerAndHost(): void {
  const owner = Number(process.env.ALBUMEN_OWNER_PID);
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid) {
    try {
      process.kill(owner, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  dieBy('SIGKILL');
}

/**
 * Signals this whole process and blocks until the signal lands, so that not
 * one more statement (a rename, say) runs after a crash point.
 */
function dieBy(signal: 'SIGKILL' | 'SIGABRT'): never {
  process.kill(process.pid, signal);
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}
