/**
 * Camera RAW files shown by the JPEG their camera embedded: the largest of
 * the previews ExifTool finds (JpgFromRaw, PreviewImage, OtherImage,
 * ThumbnailImage), with the RAW's own orientation, which the embedded JPEG
 * usually does not carry. The sensor data is never demosaiced here.
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
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExifTool } from 'exiftool-vendored';
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

let tool: ExifTool | null = null;

function exiftool(timeoutMs: number): ExifTool {
  tool ??= new ExifTool({
    maxProcs: 1,
    taskTimeoutMillis: timeoutMs,
    // No network, no time-zone guesses from GPS: only the file's own tags.
    geolocation: false,
    ignoreZeroZeroLatLon: true,
  });
  return tool;
}

/** Ends this thread's ExifTool process (tests; a worker's exit ends it too). */
export async function endRawReader(): Promise<void> {
  const t = tool;
  tool = null;
  await t?.end();
}

/**
 * The largest embedded JPEG of a RAW, or UNSUPPORTED with the reason when it
 * has none. `label` names the file in messages; `format` is how people name
 * the format ('CR2 RAW').
 */
export async function readRawPreview(
  input: RenderInput,
  format: string,
  timeoutMs: number,
): Promise<RawPreview | Failure> {
  // ExifTool reads files: an archive entry goes through a private temporary one.
  let path: string;
  let temp: string | null = null;
  if (input.kind === 'file') path = input.path;
  else {
    temp = join(tmpdir(), `albumen-raw-${randomBytes(8).toString('hex')}`);
    await writeFile(temp, input.data, { mode: 0o600 });
    path = temp;
  }
  try {
    const et = exiftool(timeoutMs);
    const tags: Record<string, unknown> = await et.read(path, {
      readArgs: [...PREVIEW_TAGS.map((t) => `-${t}`), '-Orientation#', '-Error'],
    });
    const sizes = PREVIEW_TAGS.map((tag) => ({ tag, bytes: binaryLength(tags[tag]) }))
      .filter((c) => c.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes);
    for (const { tag } of sizes) {
      const jpeg = await et.extractBinaryTagToBuffer(tag, path);
      // Some makers keep a TIFF or raw thumbnail under these names: only a JPEG is shown.
      if (jpeg.length > 3 && jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[2] === 0xff) {
        return { jpeg, orientation: orientationOf(tags.Orientation), tag };
      }
    }
    const why = typeof tags.Error === 'string' ? ` (${tags.Error})` : '';
    return {
      code: 'UNSUPPORTED',
      message: `${format}: no embedded JPEG preview to show${why}; the sensor data is not decoded here`,
    };
  } catch (err) {
    return {
      code: 'UNSUPPORTED',
      message: `${format}: its preview could not be read (${err instanceof Error ? err.message : String(err)})`,
    };
  } finally {
    if (temp) await unlink(temp).catch(() => undefined);
  }
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
