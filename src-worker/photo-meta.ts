/**
 * What a photo's EXIF and XMP say about it: when and with what it was taken,
 * where, and how its owner rated it. Read with exifr (a maintained pure-JS
 * reader: nothing native in the worker, and it reads from the bytes already
 * in memory) from the head of the file, inside the crash-isolated pool. A
 * corrupt or hostile block gives fewer fields, never a failure: every value
 * is checked for type and range before it is kept.
 */
import exifr from 'exifr';
import { NO_META } from '../src-shared/render-task.ts';
import type { PhotoMeta } from '../src-shared/render-task.ts';

const OPTIONS: Parameters<typeof exifr.parse>[1] = {
  tiff: true,
  ifd0: { pick: ['Make', 'Model', 'DateTime'] },
  exif: {
    pick: [
      'DateTimeOriginal',
      'OffsetTimeOriginal',
      'CreateDate',
      'OffsetTimeDigitized',
      'FocalLength',
      'FNumber',
      'ExposureTime',
      'ISO',
      'LensModel',
    ],
  },
  gps: true,
  xmp: true,
  ifd1: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  makerNote: false,
  userComment: false,
  interop: false,
  // Raw values: revived dates would be read in this machine's time zone.
  reviveValues: false,
  translateValues: false,
  translateKeys: true,
  mergeOutput: true,
};

/** Longest text kept from a tag (a model name, a lens): longer is not a name. */
const MAX_TEXT = 200;

/** Reads the metadata of the image whose first bytes are `head`; never throws. */
export async function readPhotoMeta(head: Uint8Array): Promise<PhotoMeta> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = (await exifr.parse(
      Buffer.from(head.buffer, head.byteOffset, head.byteLength),
      OPTIONS,
    )) as Record<string, unknown> | undefined;
  } catch {
    return NO_META;
  }
  if (!tags || typeof tags !== 'object') return NO_META;
  return metaFromTags(tags);
}

/** The checked fields of a merged exifr result. */
export function metaFromTags(t: Record<string, unknown>): PhotoMeta {
  const original = exifDate(t.DateTimeOriginal);
  const created = original ? null : exifDate(t.CreateDate);
  const taken = original ?? created;
  const offset = offsetMinutes(original ? t.OffsetTimeOriginal : t.OffsetTimeDigitized);
  const latitude = finite(t.latitude, -90, 90);
  const longitude = finite(t.longitude, -180, 180);
  const hasPosition =
    latitude !== null && longitude !== null && !(latitude === 0 && longitude === 0);
  const rating = finite(t.Rating, -1, 5);
  return {
    takenLocal: taken?.text ?? null,
    takenOffset: taken && offset !== null ? offsetText(offset) : null,
    // With no offset recorded, the camera's clock is read in this machine's
    // time zone (as exiftool and digiKam do).
    takenAt: taken
      ? offset !== null
        ? taken.wallMs - offset * 60_000
        : localMs(taken.parts)
      : null,
    make: text(t.Make),
    model: text(t.Model),
    lens: text(t.LensModel),
    focalLength: finite(t.FocalLength, 0, 100_000),
    aperture: finite(t.FNumber, 0, 1000),
    exposureTime: finite(t.ExposureTime, 0, 1_000_000),
    iso: integer(t.ISO, 0, 10_000_000),
    latitude: hasPosition ? latitude : null,
    longitude: hasPosition ? longitude : null,
    rating: rating === null ? null : Math.round(rating),
    label: text(t.Label),
    // Not from EXIF: the decoder's header read fills these.
    pages: null,
    durationMs: null,
  };
}

interface ExifDate {
  /** As recorded, 'YYYY:MM:DD HH:MM:SS'. */
  text: string;
  /** The wall-clock time read as if it were UTC. */
  wallMs: number;
  parts: [number, number, number, number, number, number];
}

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;

function exifDate(v: unknown): ExifDate | null {
  if (typeof v !== 'string') return null;
  const m = EXIF_DATE.exec(v.trim());
  if (!m) return null;
  const parts = m.slice(1, 7).map(Number) as ExifDate['parts'];
  const [y, mo, d, h, mi, s] = parts;
  if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const wallMs = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(wallMs).getUTCDate() !== d) return null; // 31 February
  return { text: m[0].replace('T', ' '), wallMs, parts };
}

function localMs([y, mo, d, h, mi, s]: ExifDate['parts']): number {
  return new Date(y, mo - 1, d, h, mi, s).getTime();
}

function offsetMinutes(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(v.trim());
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return minutes > 14 * 60 ? null : (m[1] === '-' ? -1 : 1) * minutes;
}

function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  // Control characters (NUL padding from cameras) are not part of a name.
  // eslint-disable-next-line no-control-regex
  const t = v.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return t && t.length <= MAX_TEXT ? t : null;
}

function finite(v: unknown, min: number, max: number): number | null {
  const n: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= min && n <= max ? n : null;
}

function integer(v: unknown, min: number, max: number): number | null {
  const n = finite(v, min, max);
  return n === null ? null : Math.round(n);
}
