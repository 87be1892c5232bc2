/**
 * Camera RAW files for tests, laid out as cameras write them: a TIFF structure
 * with the maker's name, an orientation, EXIF (date, exposure, lens) and an
 * embedded JPEG preview where that maker keeps it (no sensor data: nothing
 * here decodes it). Readers find the preview as they find a real camera's.
 */

/** The RAW kinds made here, by extension. */
export type RawKind = 'dng' | 'nef' | 'cr2' | 'arw';

export interface RawSpec {
  kind: RawKind;
  /** The preview, a JPEG; omitted for a RAW without one. */
  preview?: Uint8Array;
  /** A second, smaller JPEG: the thumbnail in IFD1 (ExifTool's ThumbnailImage). */
  thumbnail?: Uint8Array;
  /** The preview's pixel size (as the TIFF tags say). */
  width?: number;
  height?: number;
  /** EXIF orientation of the RAW, 1–8. */
  orientation?: number;
  make?: string;
  model?: string;
  /** 'YYYY:MM:DD HH:MM:SS' */
  taken?: string;
  lens?: string;
}

const DEFAULT_CAMERA: Record<RawKind, [string, string]> = {
  dng: ['Adobe Test', 'DNG Camera'],
  nef: ['NIKON CORPORATION', 'NIKON D850'],
  cr2: ['Canon', 'Canon EOS 5D Mark IV'],
  arw: ['SONY', 'ILCE-7M3'],
};

type Entry = { tag: number; type: number; count: number; value: Uint8Array };

const ascii = (tag: number, s: string): Entry => {
  const value = new TextEncoder().encode(`${s}\0`);
  return { tag, type: 2, count: value.length, value };
};
const shorts = (tag: number, ...v: number[]): Entry => {
  const value = new Uint8Array(v.length * 2);
  v.forEach((n, i) => new DataView(value.buffer).setUint16(i * 2, n, true));
  return { tag, type: 3, count: v.length, value };
};
const longs = (tag: number, ...v: number[]): Entry => {
  const value = new Uint8Array(v.length * 4);
  v.forEach((n, i) => new DataView(value.buffer).setUint32(i * 4, n, true));
  return { tag, type: 4, count: v.length, value };
};
const rational = (tag: number, num: number, den: number): Entry => {
  const value = new Uint8Array(8);
  const dv = new DataView(value.buffer);
  dv.setUint32(0, num, true);
  dv.setUint32(4, den, true);
  return { tag, type: 5, count: 1, value };
};
const bytes = (tag: number, ...v: number[]): Entry => ({
  tag,
  type: 1,
  count: v.length,
  value: Uint8Array.from(v),
});

/** One IFD at `at`, with its out-of-line values after it, and the offset of the next IFD (0: none). */
function writeIfd(buf: Uint8Array, at: number, entries: Entry[], next = 0): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  dv.setUint16(at, sorted.length, true);
  let extra = at + 2 + sorted.length * 12 + 4;
  sorted.forEach((e, i) => {
    const p = at + 2 + i * 12;
    dv.setUint16(p, e.tag, true);
    dv.setUint16(p + 2, e.type, true);
    dv.setUint32(p + 4, e.count, true);
    if (e.value.length <= 4) buf.set(e.value, p + 8);
    else {
      dv.setUint32(p + 8, extra, true);
      buf.set(e.value, extra);
      extra += e.value.length + (e.value.length % 2);
    }
  });
  dv.setUint32(at + 2 + sorted.length * 12, next, true);
  return extra;
}

const IFD0_AT = 16;
const EXIF_AT = 1024;
const SUB_AT = 2048;
const IFD1_AT = 3072;
const DATA_AT = 4096;

/** A RAW file's bytes. */
export function rawFile(spec: RawSpec): Uint8Array {
  const make = spec.make ?? DEFAULT_CAMERA[spec.kind][0];
  const model = spec.model ?? DEFAULT_CAMERA[spec.kind][1];
  const preview = spec.preview ?? new Uint8Array(0);
  const width = spec.width ?? 0;
  const height = spec.height ?? 0;
  // Where the sensor data would be: a few bytes that are no image.
  const sensor = new Uint8Array(512).fill(0x5a);
  const thumbnail = spec.thumbnail ?? new Uint8Array(0);
  const previewAt = DATA_AT;
  const thumbnailAt = DATA_AT + preview.length + (preview.length % 2);
  const sensorAt = thumbnailAt + thumbnail.length + (thumbnail.length % 2);
  const buf = new Uint8Array(sensorAt + sensor.length);
  const dv = new DataView(buf.buffer);
  buf.set([0x49, 0x49, 0x2a, 0x00]);
  dv.setUint32(4, IFD0_AT, true);
  if (spec.kind === 'cr2') buf.set([0x43, 0x52, 0x02, 0x00], 8);
  buf.set(preview, previewAt);
  buf.set(thumbnail, thumbnailAt);
  buf.set(sensor, sensorAt);
  if (thumbnail.length) {
    writeIfd(buf, IFD1_AT, [
      shorts(0x103, 6),
      longs(0x201, thumbnailAt),
      longs(0x202, thumbnail.length),
    ]);
  }

  const exif: Entry[] = [rational(0x829a, 1, 250), shorts(0x8827, 400)];
  if (spec.taken) exif.push(ascii(0x9003, spec.taken));
  if (spec.lens) exif.push(ascii(0xa434, spec.lens));
  writeIfd(buf, EXIF_AT, exif);

  const ifd0: Entry[] = [
    ascii(0x10f, make),
    ascii(0x110, model),
    shorts(0x112, spec.orientation ?? 1),
    longs(0x8769, EXIF_AT),
  ];
  // The sensor's own directory: CFA data nothing here decodes.
  const sensorIfd: Entry[] = [
    longs(0xfe, 0),
    longs(0x100, 16),
    longs(0x101, 16),
    shorts(0x102, 16),
    shorts(0x103, 1),
    shorts(0x106, 32803),
    longs(0x111, sensorAt),
    longs(0x117, sensor.length),
  ];
  const jpegStrip = (type: number): Entry[] =>
    preview.length
      ? [
          longs(0x100, width),
          longs(0x101, height),
          shorts(0x103, type),
          longs(0x111, previewAt),
          longs(0x117, preview.length),
        ]
      : [];
  const jpegIf: Entry[] = preview.length
    ? [longs(0x201, previewAt), longs(0x202, preview.length)]
    : [];
  switch (spec.kind) {
    case 'dng':
      // DNG: IFD0 is the preview (JPEG, YCbCr), the raw image a SubIFD.
      ifd0.push(
        bytes(0xc612, 1, 4, 0, 0),
        ascii(0xc614, model),
        longs(0x14a, SUB_AT),
        ...(preview.length
          ? [longs(0xfe, 1), shorts(0x106, 6), shorts(0x115, 3), longs(0x116, height)]
          : []),
        ...jpegStrip(7),
      );
      writeIfd(buf, SUB_AT, sensorIfd);
      break;
    case 'nef':
      // Nikon: the full-size JPEG in a SubIFD of its own, by JPEGInterchangeFormat.
      ifd0.push(longs(0xfe, 1), longs(0x14a, SUB_AT));
      writeIfd(buf, SUB_AT, [longs(0xfe, 1), shorts(0x103, 6), ...jpegIf]);
      break;
    case 'cr2':
      // Canon: IFD0's strip is the JPEG (old-style JPEG compression 6).
      ifd0.push(...jpegStrip(6));
      break;
    case 'arw':
      // Sony: IFD0 points at its JPEG by JPEGInterchangeFormat.
      ifd0.push(longs(0xfe, 1), shorts(0x103, 6), ...jpegIf, longs(0x14a, SUB_AT));
      writeIfd(buf, SUB_AT, sensorIfd);
      break;
  }
  writeIfd(buf, IFD0_AT, ifd0, thumbnail.length ? IFD1_AT : 0);
  return buf;
}

/**
 * A CR3-like stream of `boxes` empty boxes, which ExifTool walks one by one:
 * a million take it about a minute.
 */
export function slowCr3(boxes: number): Buffer {
  const bytes = Buffer.alloc(24 + boxes * 8);
  bytes.write('\0\0\0\x18ftypcrx \0\0\0\x01crx isom', 0, 'latin1');
  for (let i = 0; i < boxes; i++) bytes.write('\0\0\0\x08skip', 24 + i * 8, 'latin1');
  return bytes;
}
