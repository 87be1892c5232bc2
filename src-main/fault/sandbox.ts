/**
 * The real ground the fault suite stands on: photo collections made once,
 * and per sequence a data folder and an extra cache folder, each on its own
 * small tmpfs when this process may mount (root), so that a full disk and a
 * read-only cache folder are real conditions of real volumes. Without the
 * privilege those fault kinds are skipped (and counted as skipped), never failed.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { photoJpeg, writeBadFiles, writePhotos, zipOf } from '../test-support/fixtures.ts';

/** A collection the suite imports, with what the model knows about its files. */
export interface Source {
  name: string;
  path: string;
  /** Entry paths of valid photos: none may ever end failed. */
  valid: string[];
}

const SIZE = { width: 320, height: 240 };

/** Four collections: photos, photos with bad files, a ZIP and a CBZ (at most 12 images each). */
export async function prepareSources(dir: string): Promise<Source[]> {
  mkdirSync(dir, { recursive: true });
  const photos = join(dir, 'photos');
  const names = await writePhotos(photos, 10, SIZE);
  const mixed = join(dir, 'mixed');
  const mixedNames = await writePhotos(mixed, 4, SIZE);
  await writeBadFiles(mixed);
  const zipPhotos = join(dir, 'zip-src');
  const zipNames = await writePhotos(zipPhotos, 8, SIZE);
  const zipEntries: [string, Buffer][] = [];
  for (const n of zipNames) zipEntries.push([`p-${n}`, readFileSync(join(zipPhotos, n))]);
  const good = await photoJpeg(SIZE.width, SIZE.height);
  zipEntries.push(['broken.jpg', good.subarray(0, Math.floor(good.length / 3))]);
  const zip = join(dir, 'book.zip');
  writeFileSync(zip, await zipOf(zipEntries));
  const cbzEntries: [string, Buffer][] = [];
  for (const n of zipNames.slice(0, 6))
    cbzEntries.push([`ch1/${n}`, readFileSync(join(zipPhotos, n))]);
  const cbz = join(dir, 'comic.cbz');
  writeFileSync(cbz, await zipOf(cbzEntries));
  rmSync(zipPhotos, { recursive: true, force: true });
  return [
    { name: 'photos', path: realpathSync(photos), valid: names },
    { name: 'mixed', path: realpathSync(mixed), valid: [...mixedNames, 'really-a-png.jpg'] },
    { name: 'zip', path: realpathSync(zip), valid: zipEntries.slice(0, -1).map(([n]) => n) },
    { name: 'cbz', path: realpathSync(cbz), valid: cbzEntries.map(([n]) => n) },
  ];
}

/** Sizes of the volumes: above the cache's 64 MB free-space reserve, so they start with room. */
const DATA_VOLUME = '160m';
const CACHE_VOLUME = '80m';
const FILLER = 'fault-suite-filler';

export interface Sandbox {
  root: string;
  dataDir: string;
  /** The extra cache folder (`albumen cache add` registers it). */
  cacheDir: string;
  /** Mount points, when mounted: the volume holding the data folder, and the extra cache's. */
  dataVolume: string | null;
  cacheVolume: string | null;
  close(): void;
}

function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // Busy (a process still holds a file): detach it now, freed when released.
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // not mounted
    }
  }
}

/** True when this process may mount file systems (tried once). */
let mountable: boolean | null = null;
export function canMount(): boolean {
  if (mountable !== null) return mountable;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return (mountable = false);
  const probe = mkdtempSync(join(realpathSync('/tmp'), 'albumen-mount-probe-'));
  mountable = mountTmpfs(probe, '1m');
  if (mountable) unmount(probe);
  rmSync(probe, { recursive: true, force: true });
  return mountable;
}

/** A fresh data folder and extra cache folder for one sequence. */
export function openSandbox(base: string, opts: { mount: boolean }): Sandbox {
  const root = mkdtempSync(join(base, 'seq-'));
  const mounted: string[] = [];
  let dataVolume: string | null = null;
  let cacheVolume: string | null = null;
  if (opts.mount && canMount()) {
    const dv = join(root, 'data-volume');
    if (mountTmpfs(dv, DATA_VOLUME)) {
      mounted.push(dv);
      dataVolume = dv;
    }
    const cv = join(root, 'cache-volume');
    if (mountTmpfs(cv, CACHE_VOLUME)) {
      mounted.push(cv);
      cacheVolume = cv;
    }
  }
  const dataDir = join(dataVolume ?? join(root, 'data-volume'), 'data');
  const cacheDir = join(cacheVolume ?? join(root, 'cache-volume'), 'cache');
  mkdirSync(dataDir, { recursive: true });
  return {
    root,
    dataDir,
    cacheDir,
    dataVolume,
    cacheVolume,
    close() {
      for (const m of mounted) {
        setReadOnly(m, false);
        unmount(m);
      }
      // ALBUMEN_FUZZ_KEEP=1 keeps each sequence's folders to look into afterwards.
      if (process.env.ALBUMEN_FUZZ_KEEP) process.stdout.write(`kept ${root}\n`);
      else rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Fills a volume to its last byte with one filler file. */
export function fillVolume(volume: string): void {
  const fd = openSync(join(volume, FILLER), 'a');
  try {
    for (const chunk of [1 << 20, 1 << 14, 1 << 10, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function emptyVolume(volume: string): void {
  for (const f of readdirSync(volume)) if (f === FILLER) unlinkSync(join(volume, f));
}

export function setReadOnly(volume: string, ro: boolean): void {
  try {
    execFileSync('mount', ['-o', `remount,${ro ? 'ro' : 'rw'}`, volume], { stdio: 'pipe' });
  } catch (err) {
    if (ro) throw err;
  }
}
