/**
 * The render task: a piscina worker entry, and a pure function of its input.
 * It decodes a source once, writes every requested output (thumbnail, cache
 * image) from that one decode with an atomic rename, and reports what it
 * learnt and wrote. Expected failures (bad input, full disk) are values;
 * only a bug throws.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { workerData } from 'node:worker_threads';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { CRASH_POINTS, crashHookFrom, noCrash } from '../src-shared/crash-points.ts';
import type { CrashHook } from '../src-shared/crash-points.ts';
import type { ErrorCode, Failure } from '../src-shared/domain.ts';
import { estimateJpegQuality } from '../src-shared/jpeg-quality.ts';
import { TEMP_SUFFIX } from '../src-shared/render-task.ts';
import type {
  RenderInput,
  RenderOutputSpec,
  RenderRequest,
  RenderResult,
  SourceInfo,
  WrittenOutput,
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
const CHECKER_CELL = 8;
const CHECKER_TILE = (() => {
  const size = CHECKER_CELL * 2;
  const tile = Buffer.alloc(size * size * 4, 0xff);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (x < CHECKER_CELL !== y < CHECKER_CELL)
        tile.fill(0xd9, (y * size + x) * 4, (y * size + x) * 4 + 3);
    }
  }
  return { data: tile, raw: { width: size, height: size, channels: 4 as const } };
})();

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

  let head: { bytes: Uint8Array } | Failure | null = null;
  try {
    head = await readHead(req.input);
    if ('code' in head) return { ok: false, ...head };
    if (head.bytes.length === 0)
      return { ok: false, code: 'TRUNCATED', message: 'the file is empty' };

    const source = sharp(req.input.kind === 'file' ? req.input.path : req.input.data, {
      limitInputPixels: req.maxPixels,
      // Why 'error': a truncated file or data the decoder reports as an error
      // fails (instead of a half-grey image being cached as if it were
      // right), while warnings pass: libjpeg's "Corrupt JPEG data: premature
      // end of data segment" is common in real photos that browsers display,
      // and 'warning' rejects them. 'truncated' behaved the same as 'error'
      // on every damaged JPEG, PNG and GIF we tried; 'error' also covers
      // decode errors other than a short file.
      failOn: 'error',
      // Why: reads top to bottom without keeping the whole decoded image; the
      // pipeline switches to random access itself where an operation needs it.
      sequentialRead: true,
    }).timeout({ seconds: req.timeoutSeconds });

    const meta = await source.metadata();
    const info: SourceInfo = {
      format: meta.format,
      width: meta.autoOrient.width,
      height: meta.autoOrient.height,
      orientation: meta.orientation ?? 1,
      quality: meta.format === 'jpeg' ? estimateJpegQuality(head.bytes) : null,
    };
    if (req.outputs.length === 0) return { ok: true, source: info, outputs: [] };

    const encoded = await encodeAll(source, req, info.quality);
    const outputs = await writeAll(encoded);
    return { ok: true, source: info, outputs };
  } catch (err) {
    if (isSurprise(err)) throw err;
    const failure = failureFromSharpError(err);
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
    return { ok: false, ...failure };
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
    .autoOrient()
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
    if (info.width > maxWidth || info.height > maxHeight) {
      image = image.resize({ width: maxWidth, height: maxHeight, fit: 'inside' });
    }
    if (format === 'jpeg') {
      if (info.channels === 4) {
        image = image.composite([
          { input: CHECKER_TILE.data, raw: CHECKER_TILE.raw, tile: true, blend: 'dest-over' },
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
      const temp = `${e.spec.finalPath}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
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
 * The first bytes of the source (all of a buffer), read before decoding: they
 * carry the JPEG tables for the quality estimate, and opening the file here
 * turns a vanished, unreadable or special file into a clear failure.
 */
async function readHead(input: RenderInput): Promise<{ bytes: Uint8Array } | Failure> {
  if (input.kind === 'buffer') return { bytes: input.data };
  // Why O_NONBLOCK: opening a FIFO that replaced an image must not hang the worker.
  const handle = await open(input.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { code: 'NOT_REGULAR_FILE', message: 'not a regular file' };
    const bytes = Buffer.alloc(Math.min(HEAD_BYTES, stat.size));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, bytesRead) };
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
