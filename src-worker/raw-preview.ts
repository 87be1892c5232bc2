/**
 * Camera RAW files shown by the JPEG their camera embedded: the largest of
 * the previews ExifTool finds (JpgFromRaw, PreviewImage, OtherImage,
 * ThumbnailImage) that decodes, the next one when it does not, with the RAW's
 * own orientation, which the embedded JPEG usually does not carry. The sensor
 * data is never demosaiced here.
 *
 * Why ExifTool (through exiftool-vendored): it is the reference reader of
 * every maker's layout (TIFF-based CR2/NEF/ARW/PEF/SRW/ORF/RW2/DNG, Fuji's
 * RAF and Canon's ISO-BMFF CR3), maintained with new cameras every few weeks,
 * and what Immich uses for the same job; a hand-written walker would have to
 * chase each maker's quirks. It runs as a Perl process of its own, one per
 * worker thread, started on the first RAW: a hostile file can at worst take
 * that process down, which fails only that file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExifTool } from 'exiftool-vendored';
import type { Failure } from '../src-shared/domain.ts';
import type { RenderInput } from '../src-shared/render-task.ts';

/** An embedded preview and the orientation to show it in. */
export interface RawPreview {
  jpeg: Buffer;
  /** The RAW's EXIF orientation, 1–8. */
  orientation: number;
  /** Which tag it came from, for messages. */
  tag: string;
}

/** Binary tags that hold a JPEG preview, in the order of preference for equal sizes. */
const PREVIEW_TAGS = ['JpgFromRaw', 'PreviewImage', 'OtherImage', 'ThumbnailImage'] as const;

/** Where each preview lies in the file, as ExifTool names its offset and length. */
const PREVIEW_PLACES: Record<(typeof PREVIEW_TAGS)[number], [string, string]> = {
  JpgFromRaw: ['JpgFromRawStart', 'JpgFromRawLength'],
  PreviewImage: ['PreviewImageStart', 'PreviewImageLength'],
  OtherImage: ['OtherImageStart', 'OtherImageLength'],
  ThumbnailImage: ['ThumbnailOffset', 'ThumbnailLength'],
};

let tool: { et: ExifTool; timeoutMs: number } | null = null;

/**
 * This thread's ExifTool, with each task bounded by `timeoutMs`. Why no
 * retries: a file that took the whole timeout once would take it again, and
 * the pool's own deadline (twice the render timeout) must not come first.
 */
async function exiftool(timeoutMs: number): Promise<ExifTool> {
  if (tool && tool.timeoutMs !== timeoutMs) {
    void tool.et.end();
    tool = null;
  }
  // Loaded on a worker's first RAW: ~90 ms a worker that photos never need.
  const { ExifTool } = await import('exiftool-vendored');
  tool ??= {
    timeoutMs,
    et: new ExifTool({
      maxProcs: 1,
      taskTimeoutMillis: timeoutMs,
      taskRetries: 0,
      // No network, no time-zone guesses from GPS: only the file's own tags.
      geolocation: false,
      ignoreZeroZeroLatLon: true,
    }),
  };
  return tool.et;
}

/** Ends this thread's ExifTool process (tests; a worker's exit ends it too). */
export async function endRawReader(): Promise<void> {
  const t = tool;
  tool = null;
  await t?.et.end();
}

/** Where archive entries are written for ExifTool to read; swept of old leftovers. */
const TEMP_DIR = join(tmpdir(), 'albumen-raw');
const TEMP_MAX_AGE_MS = 60 * 60_000;
let swept = false;

async function sweepTemp(): Promise<void> {
  if (swept) return;
  swept = true;
  const now = Date.now();
  for (const name of await readdir(TEMP_DIR).catch(() => [] as string[])) {
    const path = join(TEMP_DIR, name);
    const st = await stat(path).catch(() => null);
    // A render killed with its host leaves its copy behind; an hour on, it is not in use.
    if (st && now - st.mtimeMs > TEMP_MAX_AGE_MS) await unlink(path).catch(() => undefined);
  }
}

/**
 * Offers the RAW's embedded JPEG previews to `tryPreview`, largest first,
 * until it takes one (a broken or lossless JpgFromRaw falls back to the
 * PreviewImage, then the thumbnail). Returns what it took, or the failure
 * of the last one tried, or UNSUPPORTED when there is none. `timeoutMs`
 * bounds each ExifTool task; no new one starts once it has passed overall.
 */
export async function eachRawPreview<T>(
  input: RenderInput,
  format: string,
  timeoutMs: number,
  tryPreview: (p: RawPreview) => Promise<{ taken: T } | { failure: Failure }>,
): Promise<T | Failure> {
  const deadline = performance.now() + timeoutMs;
  let path: string;
  let temp: string | null = null;
  try {
    // ExifTool reads files: an archive entry goes through a private temporary one.
    if (input.kind === 'file') path = input.path;
    else {
      await sweepTemp();
      await mkdir(TEMP_DIR, { recursive: true, mode: 0o700 });
      temp = join(TEMP_DIR, `${randomBytes(8).toString('hex')}.raw`);
      await writeFile(temp, input.data, { mode: 0o600 });
      path = temp;
    }
  } catch (err) {
    if (temp) await unlink(temp).catch(() => undefined);
    return { code: 'INTERNAL', message: `${format}: no room to hand it to ExifTool (${why(err)})` };
  }
  try {
    const et = await exiftool(timeoutMs);
    let tags: Record<string, unknown>;
    try {
      tags = await et.read(path, {
        readArgs: [
          ...PREVIEW_TAGS.map((t) => `-${t}`),
          ...Object.values(PREVIEW_PLACES).flatMap(([at, length]) => [`-${at}#`, `-${length}#`]),
          '-Orientation#',
          '-Error',
        ],
      });
    } catch (err) {
      return readerFailure(format, err, timeoutMs);
    }
    const orientation = orientationOf(tags.Orientation);
    const candidates = PREVIEW_TAGS.map((tag) => ({ tag, bytes: binaryLength(tags[tag]) }))
      .filter((c) => c.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes);
    let last: Failure | null = null;
    for (const { tag, bytes } of candidates) {
      if (performance.now() > deadline) {
        return last ?? readerFailure(format, new Error('timeout'), timeoutMs);
      }
      let jpeg: Buffer;
      try {
        // Read where ExifTool says it is (its own extraction of a 7 MB preview
        // takes 2.4 s, through Perl); ExifTool extracts it when that place does
        // not hold a JPEG of the size it reported (offsets some makers keep
        // relative to a maker note).
        jpeg =
          (await previewAt(input, path, tags, tag, bytes)) ??
          (await et.extractBinaryTagToBuffer(tag, path));
      } catch (err) {
        if (isTimeout(err)) return readerFailure(format, err, timeoutMs);
        last = {
          code: 'UNSUPPORTED',
          message: `${format}: its ${tag} could not be read (${why(err)})`,
        };
        continue;
      }
      // Some makers keep a TIFF or raw thumbnail under these names: only a JPEG is shown.
      if (!(jpeg.length > 3 && jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[2] === 0xff)) continue;
      const verdict = await tryPreview({ jpeg, orientation, tag });
      if ('taken' in verdict) return verdict.taken;
      last = verdict.failure;
    }
    if (last) return last;
    const error = typeof tags.Error === 'string' ? ` (${tags.Error})` : '';
    return {
      code: 'UNSUPPORTED',
      message: `${format}: no embedded JPEG preview to show${error}; the sensor data is not decoded here`,
    };
  } finally {
    if (temp) await unlink(temp).catch(() => undefined);
  }
}

/** Larger previews are left to ExifTool (no camera writes one this large). */
const MAX_PREVIEW_BYTES = 256 * 1024 * 1024;

/**
 * The preview `tag` read from where ExifTool's offset and length tags put
 * it, when those bytes are a JPEG of the `bytes` it reported; else null.
 */
async function previewAt(
  input: RenderInput,
  path: string,
  tags: Record<string, unknown>,
  tag: (typeof PREVIEW_TAGS)[number],
  bytes: number,
): Promise<Buffer | null> {
  const [atTag, lengthTag] = PREVIEW_PLACES[tag];
  const at = tags[atTag];
  const length = tags[lengthTag];
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0 || length !== bytes) {
    return null;
  }
  if (bytes > MAX_PREVIEW_BYTES) return null;
  let data: Buffer;
  if (input.kind === 'buffer') {
    if (at + bytes > input.data.length) return null;
    data = Buffer.from(input.data.buffer, input.data.byteOffset + at, bytes);
  } else {
    const handle = await open(path, 'r');
    try {
      data = Buffer.alloc(bytes);
      // Until full: a network or FUSE file system may give less at a time.
      for (let got = 0; got < bytes;) {
        const { bytesRead } = await handle.read(data, got, bytes - got, at + got);
        if (bytesRead === 0) return null;
        got += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
  const jpeg = data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
  return jpeg ? data : null;
}

function why(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isTimeout(err: unknown): boolean {
  return /timeout|timed out/i.test(why(err));
}

/**
 * ExifTool itself failed (it could not start, or took too long): not the
 * file's verdict, so never UNSUPPORTED. A timeout is the pool's to judge.
 */
function readerFailure(format: string, err: unknown, timeoutMs: number): Failure {
  if (isTimeout(err)) {
    return {
      code: 'TIMEOUT',
      message: `${format}: reading its preview took longer than ${Math.round(timeoutMs / 1000)} s`,
    };
  }
  return { code: 'INTERNAL', message: `${format}: the RAW reader (ExifTool) failed: ${why(err)}` };
}

/** The byte length ExifTool gives a binary tag ("(Binary data 330 bytes…)"), or 0. */
function binaryLength(value: unknown): number {
  if (value && typeof value === 'object' && 'bytes' in value) {
    const n = value.bytes;
    return typeof n === 'number' && Number.isFinite(n) ? n : 0;
  }
  return 0;
}

/** An EXIF orientation 1–8 from ExifTool's numeric value; 1 for anything else. */
function orientationOf(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 8
    ? value
    : 1;
}
