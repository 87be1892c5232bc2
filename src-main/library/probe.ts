import { imageSize } from 'image-size';
import type { Failure } from '../../src-shared/domain.ts';
import { formatOfExtension, HEIF_BRAND_FORMATS, isRawFormat } from '../../src-shared/formats.ts';
import type { InputLimits } from '../../src-shared/settings.ts';
import type { CollectionSource } from './collection-source.ts';
import { toEntryFailure } from './library-error.ts';
import { extensionOf, imageFormatFromMagic } from './names.ts';
import type { SourceReader } from './source-reader.ts';

/**
 * What the scan learns from an image's header without decoding it: format,
 * pixel size and EXIF orientation; or, when it cannot read the header, only
 * a hint of the format (size null), and the decoder decides; or the reason
 * the file cannot be used that needs no decoder to tell (empty, over the
 * pixel limit by its own header, not readable from the disk).
 */
export type ProbeResult =
  | { ok: true; format: string; width: number; height: number; orientation: number }
  | { ok: true; format: string; width: null; height: null; orientation: 1; hint: string }
  | ({ ok: false } & Failure);

/** Enough for the header of nearly every file. */
const HEAD_BYTES = 256 * 1024;
/** Second try, for JPEGs whose EXIF/XMP blocks push the frame header further. */
const RETRY_BYTES = 4 * 1024 * 1024;
/** Read at a TIFF directory stored past the head (libtiff writes it after the pixels). */
const TIFF_DIRECTORY_BYTES = 64 * 1024;

type Header =
  | { kind: 'size'; format: string; width: number; height: number; orientation: number }
  | { kind: 'unknown' }
  | { kind: 'unreadable'; detail: string };

/**
 * Reads an entry's header through the reader and checks it against the
 * pixel limit. Never throws for a problem with the entry: every expected
 * problem comes back as a Failure (LibraryError codes pass through).
 */
export async function probeEntry(
  reader: SourceReader,
  source: CollectionSource,
  entryPath: string,
  limits: InputLimits,
): Promise<ProbeResult> {
  try {
    let head = await reader.readHead(source, entryPath, HEAD_BYTES);
    if (head.length === 0) return { ok: false, code: 'CORRUPT', message: 'empty file (0 bytes)' };
    const ext = extensionOf(entryPath);
    if (isRawFormat(ext)) {
      // A RAW's first TIFF directory is often its small thumbnail: its size
      // here would be wrong. The worker reads the RAW's own preview.
      return {
        ok: true,
        format: ext,
        width: null,
        height: null,
        orientation: 1,
        hint: 'a camera RAW: the decoder reads its embedded preview',
      };
    }
    let header = parseHeader(head);
    if (header.kind === 'unreadable' && head.length === HEAD_BYTES) {
      head = await reader.readHead(source, entryPath, RETRY_BYTES);
      header = parseHeader(head);
    }
    if (header.kind === 'unreadable') {
      header = (await readTrailingTiffDirectory(reader, source, entryPath, head)) ?? header;
    }
    return judge(header, head, entryPath, limits);
  } catch (err) {
    const failure = toEntryFailure(err, 'file');
    if (!failure) throw err;
    return { ok: false, ...failure };
  }
}

function judge(
  header: Header,
  head: Uint8Array,
  entryPath: string,
  limits: InputLimits,
): ProbeResult {
  switch (header.kind) {
    // The decoder decides: a header this probe cannot read (buried under
    // megabytes of metadata, a layout it does not know, a format it does not
    // parse) is only a hint. The render pool decodes it, crash-isolated, and
    // fails it there if it is not an image it can read.
    case 'unknown':
    case 'unreadable': {
      const format = imageFormatFromMagic(head) ?? formatFromExtension(entryPath);
      const hint =
        header.kind === 'unknown'
          ? 'the header is not one the probe knows'
          : `the probe could not read the header (${header.detail})`;
      return { ok: true, format, width: null, height: null, orientation: 1, hint };
    }
    case 'size': {
      const { format, width, height, orientation } = header;
      if (!(width > 0 && height > 0 && Number.isFinite(width * height))) {
        return {
          ok: false,
          code: 'CORRUPT',
          message: `header gives no usable size (${width}×${height})`,
        };
      }
      if (width * height > limits.maxPixels) {
        return {
          ok: false,
          code: 'TOO_MANY_PIXELS',
          message: `${width}×${height} pixels is over the limit of ${pixelCount(limits.maxPixels)}`,
        };
      }
      return { ok: true, format, width, height, orientation };
    }
  }
}

/** The format a file's extension names ('jpeg' for .jpg, 'tiff' for .tif), 'unknown' without one. */
function formatFromExtension(entryPath: string): string {
  return formatOfExtension(extensionOf(entryPath)) ?? 'unknown';
}

function pixelCount(n: number): string {
  return n >= 1_000_000 ? `${Math.round(n / 1_000_000)} megapixels` : `${n} pixels`;
}

function parseHeader(bytes: Uint8Array): Header {
  let result: ReturnType<typeof imageSize>;
  try {
    result = imageSize(ownBuffer(bytes));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    // image-size's own wording when no format matched the first bytes.
    if (detail === 'unsupported file type: undefined') return { kind: 'unknown' };
    return { kind: 'unreadable', detail };
  }
  // ICO, CUR and HEIF can hold several images: the largest one is the image.
  const largest = (result.images ?? []).reduce(
    (best, image) => (image.width * image.height > best.width * best.height ? image : best),
    { width: result.width, height: result.height },
  );
  const orientation = result.orientation;
  return {
    kind: 'size',
    format: normaliseFormat(result.type ?? 'unknown'),
    width: largest.width,
    height: largest.height,
    orientation:
      orientation && Number.isInteger(orientation) && orientation >= 1 && orientation <= 8
        ? orientation
        : 1,
  };
}

/**
 * image-size reads through `new DataView(input.buffer, input.byteOffset)`
 * with no length, i.e. up to the end of the underlying ArrayBuffer; a view
 * into a larger (pooled) buffer would let it parse bytes that are not the
 * file's. Give it an array that owns its buffer exactly.
 */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  return bytes.slice();
}

/** One lowercase name per format: 'jpeg' (not 'jpg'), 'tiff' for BigTIFF, HEIF by brand. */
function normaliseFormat(type: string): string {
  const t = type.toLowerCase();
  if (t === 'jpg') return 'jpeg';
  if (t === 'bigtiff') return 'tiff';
  return HEIF_BRAND_FORMATS[t] ?? t;
}

/**
 * A TIFF whose first directory lies beyond the bytes read: reads the
 * directory where it is and parses the header as if it followed it directly.
 * Only the directory's own entries are kept, so bytes after it cannot pass
 * for tags.
 */
async function readTrailingTiffDirectory(
  reader: SourceReader,
  source: CollectionSource,
  entryPath: string,
  head: Uint8Array,
): Promise<Header | null> {
  const layout = tiffLayout(head);
  if (!layout || layout.directoryOffset < head.length) return null;
  const directory = await reader.readRange(
    source,
    entryPath,
    layout.directoryOffset,
    TIFF_DIRECTORY_BYTES,
  );
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const countSize = layout.big ? 8 : 2;
  const entrySize = layout.big ? 20 : 12;
  if (directory.length < countSize) return null;
  const count = layout.big
    ? Number(view.getBigUint64(0, layout.littleEndian))
    : view.getUint16(0, layout.littleEndian);
  const used = Math.min(directory.length, countSize + count * entrySize);
  // A zeroed entry after the last one: image-size stops at tag 0, and needs a
  // full entry's room after an entry to read it.
  const synthetic = new Uint8Array(layout.headerLength + used + entrySize);
  synthetic.set(head.subarray(0, layout.headerLength));
  synthetic.set(directory.subarray(0, used), layout.headerLength);
  const header = new DataView(synthetic.buffer);
  if (layout.big) header.setBigUint64(8, BigInt(layout.headerLength), layout.littleEndian);
  else header.setUint32(4, layout.headerLength, layout.littleEndian);
  const parsed = parseHeader(synthetic);
  return parsed.kind === 'size' ? parsed : null;
}

function tiffLayout(
  head: Uint8Array,
): { littleEndian: boolean; big: boolean; headerLength: number; directoryOffset: number } | null {
  if (imageFormatFromMagic(head) !== 'tiff' || head.length < 16) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const littleEndian = head[0] === 0x49;
  const big = view.getUint16(2, littleEndian) === 43;
  const directoryOffset = big
    ? Number(view.getBigUint64(8, littleEndian))
    : view.getUint32(4, littleEndian);
  return { littleEndian, big, headerLength: big ? 16 : 8, directoryOffset };
}
