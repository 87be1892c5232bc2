/**
 * Full-size renditions: the source's own pixels, as a JPEG the viewer's
 * browser can show, for formats it cannot (TIFF, HEIC, RAW previews, JPEG XL,
 * SVG). Made on demand (when the viewer zooms past the view image), inside
 * the render pool like every decode, and kept in one folder of the data
 * folder, bounded in bytes: the least recently shown go first. A rendition is
 * a cache, not state: nothing records it, and deleting the folder loses
 * nothing but time.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

export interface RenditionFile {
  path: string;
  bytes: number;
}

/** Temporary files a render left behind (a killed host) are removed once this old. */
const STALE_TEMP_MS = 10 * 60_000;

export class Renditions {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly making = new Map<string, Promise<RenditionFile | null>>();

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /**
   * The rendition named `name` (which must change whenever its source or size
   * does), made by `make` writing the file at the path it is given when there
   * is none yet. Concurrent asks for one name share one render.
   */
  async get(name: string, make: (path: string) => Promise<boolean>): Promise<RenditionFile | null> {
    const path = join(this.dir, name);
    const have = sizeOf(path);
    if (have !== null) {
      // Shown now: the last to go when the folder is trimmed.
      const now = new Date();
      utimesSync(path, now, now);
      return { path, bytes: have };
    }
    const pending = this.making.get(name);
    if (pending) return pending;
    const made = (async () => {
      mkdirSync(this.dir, { recursive: true });
      if (!(await make(path))) return null;
      const bytes = sizeOf(path);
      if (bytes === null) return null;
      this.trim(name);
      return { path, bytes };
    })().finally(() => this.making.delete(name));
    this.making.set(name, made);
    return made;
  }

  /** Removes the least recently shown renditions until the folder fits its bound. */
  trim(keep?: string): void {
    let entries: { name: string; bytes: number; at: number }[];
    try {
      entries = readdirSync(this.dir).flatMap((name) => {
        try {
          const st = statSync(join(this.dir, name));
          return st.isFile() ? [{ name, bytes: st.size, at: st.mtimeMs }] : [];
        } catch {
          return [];
        }
      });
    } catch {
      return;
    }
    const now = Date.now();
    let total = 0;
    for (const e of entries) total += e.bytes;
    for (const e of entries.sort((a, b) => a.at - b.at)) {
      const temp = !e.name.endsWith('.jpg');
      if (temp ? now - e.at < STALE_TEMP_MS : total <= this.maxBytes || e.name === keep) continue;
      try {
        unlinkSync(join(this.dir, e.name));
        total -= e.bytes;
      } catch {
        // Gone already, or not ours to remove: the next trim tries again.
      }
    }
  }
}

/** The size of an image's rendition: its own, or the same shape within `maxPixels`. */
export function renditionSize(
  width: number,
  height: number,
  maxPixels: number,
): { width: number; height: number } {
  const scale = Math.min(1, Math.sqrt(maxPixels / (width * height)));
  let w = Math.max(1, Math.floor(width * scale));
  let h = Math.max(1, Math.floor(height * scale));
  // A side held at one pixel leaves the other to take the whole bound.
  if (w * h > maxPixels) {
    if (h === 1) w = Math.max(1, Math.floor(maxPixels));
    else h = Math.max(1, Math.floor(maxPixels / w));
  }
  return { width: w, height: h };
}

function sizeOf(path: string): number | null {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}
