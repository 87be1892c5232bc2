/**
 * Full-size renditions: the source's own pixels, as a JPEG the viewer's
 * browser can show, for formats it cannot (TIFF, HEIC, RAW previews, JPEG XL,
 * SVG), and deep-zoom tile pyramids of images too large for one (see
 * deep-zoom.ts). Made on demand (when the viewer zooms past the view image),
 * inside the render pool like every decode, and kept in one folder of the
 * data folder, bounded in bytes: the least recently shown go first. A
 * rendition is a cache, not state: nothing records it, and deleting the
 * folder loses nothing but time.
 */
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  diskBytes,
  parsePyramid,
  PYRAMID_MANIFEST,
  tempPathFor,
  type WrittenPyramid,
} from '../../src-shared/render-task.ts';

export interface RenditionFile {
  path: string;
  bytes: number;
}

/** A pyramid's folder and what its manifest says. */
export interface RenditionPyramid {
  dir: string;
  pyramid: WrittenPyramid;
}

/** The name ending of a pyramid's folder; a full-size rendition's is `.jpg`. */
export const PYRAMID_SUFFIX = '.tiles';

/** Temporary files a render left behind (a killed host) are removed once this old. */
const STALE_TEMP_MS = 10 * 60_000;

export class Renditions {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly making = new Map<string, Promise<unknown>>();
  /** Manifests of the pyramids shown lately, so a tile is found without reading one. */
  private readonly manifests = new Map<string, WrittenPyramid>();
  /** When each pyramid was last marked as shown by a tile served from it. */
  private readonly touched = new Map<string, number>();

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /**
   * The rendition named `name` (which must change whenever its source or size
   * does), made by `make` writing the file at the path it is given when there
   * is none yet. Concurrent asks for one name share one render.
   */
  get(name: string, make: (path: string) => Promise<boolean>): Promise<RenditionFile | null> {
    const path = join(this.dir, name);
    return this.once(
      name,
      () => {
        const bytes = sizeOf(path);
        return bytes === null ? null : { path, bytes };
      },
      make,
    );
  }

  /**
   * The tile pyramid named `name` (ending in PYRAMID_SUFFIX), made by `make`
   * writing the folder it is given (whole, its manifest last) when there is
   * none yet. Concurrent asks share one render.
   */
  getPyramid(
    name: string,
    make: (dir: string) => Promise<boolean>,
  ): Promise<RenditionPyramid | null> {
    const dir = join(this.dir, name);
    return this.once(
      name,
      () => {
        const pyramid = this.manifest(name);
        return pyramid && { dir, pyramid };
      },
      make,
    );
  }

  /**
   * The file of one tile of a pyramid that exists, by its path inside the
   * pyramid's folder; null when the pyramid or the tile does not exist.
   */
  pyramidFile(name: string, rel: (p: WrittenPyramid) => string | null): RenditionFile | null {
    const pyramid = this.manifests.get(name) ?? this.manifest(name);
    const inside = pyramid && rel(pyramid);
    if (!inside) return null;
    const path = join(this.dir, name, inside);
    const bytes = sizeOf(path);
    if (bytes === null) return null;
    // A pyramid whose tiles are being looked at is the last to go, marked at
    // most once a minute (not once a tile).
    const now = Date.now();
    if (now - (this.touched.get(name) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(name, now);
      this.touch(name);
    }
    return { path, bytes };
  }

  /** What `found` finds, else what `make` then makes; marked as shown now. */
  private async once<T>(
    name: string,
    found: () => T | null,
    make: (path: string) => Promise<boolean>,
  ): Promise<T | null> {
    const have = found();
    if (have !== null) {
      this.touch(name);
      return have;
    }
    const pending = this.making.get(name);
    if (pending) return pending as Promise<T | null>;
    const made = (async () => {
      mkdirSync(this.dir, { recursive: true });
      if (!(await make(join(this.dir, name)))) return null;
      const result = found();
      if (result !== null) this.trim(name);
      return result;
    })().finally(() => this.making.delete(name));
    this.making.set(name, made);
    return made;
  }

  /** Shown now: the last to go when the folder is trimmed. */
  private touch(name: string): void {
    const now = new Date();
    const path = name.endsWith(PYRAMID_SUFFIX)
      ? join(this.dir, name, PYRAMID_MANIFEST)
      : join(this.dir, name);
    try {
      utimesSync(path, now, now);
    } catch {
      // Removed meanwhile: it is made again when next asked for.
    }
  }

  /** A pyramid's manifest, read from its folder (and remembered), or null. */
  private manifest(name: string, remember = true): WrittenPyramid | null {
    try {
      const m = parsePyramid(readFileSync(join(this.dir, name, PYRAMID_MANIFEST), 'utf8'));
      if (!m) return null;
      if (remember) {
        this.manifests.delete(name);
        this.manifests.set(name, m);
        while (this.manifests.size > MANIFESTS_KEPT) {
          const oldest = this.manifests.keys().next().value;
          if (oldest === undefined) break;
          this.manifests.delete(oldest);
        }
      }
      return m;
    } catch {
      return null;
    }
  }

  /**
   * Removes the least recently shown renditions and pyramids until the folder
   * fits its bound, and temporary files and folders a killed render left
   * (never those of a render still running here).
   */
  trim(keep?: string): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const entries = names.flatMap((name) => {
      const e = this.entry(name);
      return e ? [e] : [];
    });
    const now = Date.now();
    let total = 0;
    for (const e of entries) total += e.bytes;
    for (const e of entries.sort((a, b) => a.at - b.at)) {
      if (e.temp) {
        const ours = [...this.making.keys()].some((n) => e.name.startsWith(`${n}.`));
        if (ours || now - e.at < STALE_TEMP_MS) continue;
      } else if (total <= this.maxBytes || e.name === keep) {
        continue;
      }
      if (this.remove(e.name)) total -= e.bytes;
    }
  }

  /**
   * Removes one entry. A pyramid is first renamed to a temporary name, so its
   * own name never holds a half-removed folder (a later make would find it
   * there); what a crash leaves under the temporary name goes later.
   */
  private remove(name: string): boolean {
    this.manifests.delete(name);
    this.touched.delete(name);
    const path = join(this.dir, name);
    try {
      let doomed = path;
      if (name.endsWith(PYRAMID_SUFFIX)) {
        doomed = tempPathFor(path, randomBytes(6).toString('hex'));
        renameSync(path, doomed);
      }
      rmSync(doomed, { recursive: true, force: true });
      return true;
    } catch {
      // Not ours to remove, or in use (Windows): the next trim tries again.
      return false;
    }
  }

  /** What one name in the folder is, how much disk it takes, and when it was last shown. */
  private entry(name: string): { name: string; bytes: number; at: number; temp: boolean } | null {
    try {
      const path = join(this.dir, name);
      const st = statSync(path);
      if (st.isFile()) {
        return { name, bytes: diskBytes(st), at: st.mtimeMs, temp: !name.endsWith('.jpg') };
      }
      if (!st.isDirectory()) return null;
      const m = name.endsWith(PYRAMID_SUFFIX) ? this.manifest(name, false) : null;
      if (!m) return { name, bytes: treeBytes(path), at: st.mtimeMs, temp: true };
      const at = statSync(join(path, PYRAMID_MANIFEST)).mtimeMs;
      return { name, bytes: m.bytes, at, temp: false };
    } catch {
      return null;
    }
  }
}

/** A pyramid in use is marked as shown at most this often. */
const TOUCH_EVERY_MS = 60_000;

/** The disk bytes of every file under a folder. */
function treeBytes(dir: string): number {
  let total = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (!e.isFile()) continue;
      try {
        total += diskBytes(statSync(join(e.parentPath, e.name)));
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    return total;
  }
  return total;
}

/** Pyramid manifests remembered in memory. */
const MANIFESTS_KEPT = 32;

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
