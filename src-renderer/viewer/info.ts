/** What the viewer's info panel says of an image, in words: pure, so that it is tested alone. */
import type { ImageView } from '../../src-shared/api.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';

/** One line of the panel; `copy` is what its copy button puts on the clipboard. */
export interface InfoRow {
  label: string;
  value: string;
  copy?: string;
}

/** 'YYYY:MM:DD HH:MM:SS' as the camera wrote it → 'YYYY-MM-DD HH:MM:SS'. */
function cameraDate(local: string): string {
  const m = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)/.exec(local);
  return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}` : local;
}

/** When it was taken: as the camera wrote it, with its offset; else the file's date, said so. */
export function takenText(
  image: Pick<ImageView, 'takenAt' | 'takenFrom' | 'takenLocal' | 'takenOffset'>,
): string {
  if (image.takenFrom === 'exif' && image.takenLocal) {
    return `${cameraDate(image.takenLocal)}${image.takenOffset ? ` (UTC${image.takenOffset})` : ''}`;
  }
  const d = new Date(image.takenAt);
  const pad = (n: number) => String(n).padStart(2, '0');
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return image.takenFrom === 'exif' ? local : `${local} (the file's date: the photo says none)`;
}

/** The camera: its model, with the maker's name where the model does not start with it. */
export function cameraText(make: string | null, model: string | null): string | null {
  if (!make && !model) return null;
  if (!model) return make;
  if (!make) return model;
  const brand = make.split(/\s+/)[0] ?? make;
  return model.toLowerCase().startsWith(brand.toLowerCase()) ? model : `${make} ${model}`;
}

/** A shutter speed: 1/250 s below a second, 2.5 s above. */
export function shutterText(seconds: number): string {
  if (seconds <= 0) return `${seconds} s`;
  if (seconds < 1) return `1/${Math.round(1 / seconds)} s`;
  return `${Number(seconds.toFixed(1))} s`;
}

/** The exposure on one line: aperture, shutter, focal length, ISO (what there is). */
export function exposureText(
  image: Pick<ImageView, 'aperture' | 'exposureTime' | 'focalLength' | 'iso'>,
): string | null {
  const parts = [
    image.aperture !== null ? `f/${Number(image.aperture.toFixed(1))}` : null,
    image.exposureTime !== null ? shutterText(image.exposureTime) : null,
    image.focalLength !== null ? `${Number(image.focalLength.toFixed(1))} mm` : null,
    image.iso !== null ? `ISO ${Math.round(image.iso)}` : null,
  ].filter((p): p is string => p !== null);
  return parts.length ? parts.join(' · ') : null;
}

/** A GPS position in degrees with hemispheres: 48.85837° N, 2.29448° E. */
export function positionText(lat: number | null, lon: number | null): string | null {
  if (lat === null || lon === null) return null;
  const fmt = (v: number, pos: string, neg: string) =>
    `${Math.abs(v).toFixed(5)}° ${v >= 0 ? pos : neg}`;
  return `${fmt(lat, 'N', 'S')}, ${fmt(lon, 'E', 'W')}`;
}

/** The file's full path: inside its folder, or inside its archive (archive!entry). */
export function fullPath(root: string, kind: 'folder' | 'archive', entryPath: string): string {
  if (kind === 'archive') return `${root}!/${entryPath}`;
  const sep = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  const entry = sep === '\\' ? entryPath.replaceAll('/', '\\') : entryPath;
  return root.endsWith(sep) ? `${root}${entry}` : `${root}${sep}${entry}`;
}

/** Every line the info panel shows for an image, in order; lines with nothing to say are left out. */
export function infoRows(
  image: ImageView,
  collection: { root: string; kind: 'folder' | 'archive' } | undefined,
): InfoRow[] {
  const rows: (InfoRow | null)[] = [
    { label: 'Name', value: image.name },
    collection
      ? (() => {
          const path = fullPath(collection.root, collection.kind, image.entryPath);
          const folder = path.slice(0, Math.max(0, path.length - image.name.length - 1));
          return { label: 'Folder', value: folder, copy: path };
        })()
      : null,
    { label: 'Taken', value: takenText(image) },
    (() => {
      const v = cameraText(image.make, image.model);
      return v ? { label: 'Camera', value: v } : null;
    })(),
    image.lens ? { label: 'Lens', value: image.lens } : null,
    (() => {
      const v = exposureText(image);
      return v ? { label: 'Exposure', value: v } : null;
    })(),
    {
      label: 'Size',
      value: [
        image.width && image.height ? `${image.width} × ${image.height}` : null,
        image.format?.toUpperCase() ?? null,
        formatBytes(image.size),
      ]
        .filter(Boolean)
        .join(' · '),
    },
    image.pages && image.pages > 1
      ? { label: image.animated ? 'Frames' : 'Pages', value: String(image.pages) }
      : null,
    (() => {
      const v = positionText(image.latitude, image.longitude);
      return v ? { label: 'Position', value: v, copy: v } : null;
    })(),
    image.xmpRating !== null
      ? {
          label: 'Rating',
          value:
            image.xmpRating < 0
              ? 'Rejected'
              : `${'★'.repeat(Math.round(image.xmpRating))}${'☆'.repeat(5 - Math.round(image.xmpRating))}`,
        }
      : null,
    image.xmpLabel ? { label: 'Label', value: image.xmpLabel } : null,
    {
      label: 'Modified',
      value: takenText({
        takenAt: image.mtimeMs,
        takenFrom: 'exif',
        takenLocal: null,
        takenOffset: null,
      }),
    },
  ];
  return rows.filter((r): r is InfoRow => r !== null);
}
