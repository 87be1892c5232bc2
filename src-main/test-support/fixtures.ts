import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import yazl from 'yazl';

/** A photo-like JPEG (gradient plus noise, so it compresses like a photo). */
export async function photoJpeg(
  width: number,
  height: number,
  opts: { orientation?: number; quality?: number } = {},
): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .blur(1.5)
    .raw()
    .toBuffer();
  let img = sharp(noise, { raw: { width, height, channels: 3 } })
    .composite([
      {
        input: Buffer.from(
          `<svg width="${width}" height="${height}"><rect x="0" y="0" width="${Math.round(width / 3)}" height="${height}" fill="red" fill-opacity="0.6"/></svg>`,
        ),
      },
    ])
    .jpeg({ quality: opts.quality ?? 90 });
  if (opts.orientation) img = img.withMetadata({ orientation: opts.orientation });
  return img.toBuffer();
}

/** Writes `n` photo-like JPEGs named photo1.jpg … into `dir`, each tinted differently. */
export async function writePhotos(
  dir: string,
  n: number,
  size = { width: 640, height: 480 },
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const base = await photoJpeg(size.width, size.height);
  const names: string[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `photo${i}.jpg`;
    // Distinct pictures: the hue turns from one photo to the next (and so do the bytes).
    const data =
      i === 1
        ? base
        : await sharp(base)
            .modulate({ hue: (i * 47) % 360, saturation: 1 + (i % 3) * 0.4 })
            .jpeg({ quality: 80 + (i % 15) })
            .toBuffer();
    writeFileSync(join(dir, name), data);
    names.push(name);
  }
  return names;
}

/** A PNG whose header claims `w`×`h` pixels (a decompression-bomb header). */
export async function bombPng(w: number, h: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  const out = Buffer.from(png);
  // IHDR data starts at byte 16: width, height (big-endian), then its CRC after 13 bytes.
  out.writeUInt32BE(w, 16);
  out.writeUInt32BE(h, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

/** Files every importer meets in real folders, each bad in its own way. */
export async function writeBadFiles(dir: string): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const good = await photoJpeg(800, 600);
  writeFileSync(join(dir, 'truncated.jpg'), good.subarray(0, Math.floor(good.length * 0.4)));
  writeFileSync(join(dir, 'empty.jpg'), Buffer.alloc(0));
  writeFileSync(join(dir, 'notes.jpg'), 'this is a text file, not a photo\n');
  writeFileSync(join(dir, 'bomb.png'), await bombPng(60000, 60000));
  // A real PNG with the wrong extension: decoded by content, so it succeeds.
  writeFileSync(join(dir, 'really-a-png.jpg'), await sharp(good).png().toBuffer());
  execFileSync('mkfifo', [join(dir, 'pipe.jpg')]);
  symlinkSync('loop-b.jpg', join(dir, 'loop-a.jpg'));
  symlinkSync('loop-a.jpg', join(dir, 'loop-b.jpg'));
  symlinkSync('does-not-exist.jpg', join(dir, 'dangling.jpg'));
  return {
    'truncated.jpg': 'TRUNCATED',
    'empty.jpg': 'CORRUPT',
    'notes.jpg': 'UNSUPPORTED',
    'bomb.png': 'TOO_MANY_PIXELS',
    'pipe.jpg': 'NOT_REGULAR_FILE',
    'loop-a.jpg': 'SYMLINK_LOOP',
    'loop-b.jpg': 'SYMLINK_LOOP',
    'dangling.jpg': 'DANGLING_LINK',
  };
}

/** Builds a zip from name → bytes, entries in the given order. */
export function zipOf(entries: [string, Buffer][]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const [name, data] of entries) zip.addBuffer(data, name, { compress: false });
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** Replaces every occurrence of `from` with `to` (same length) in a zip's bytes. */
export function patchZipNames(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('names must have the same length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let i = out.indexOf(needle);
  while (i >= 0) {
    out.write(to, i);
    i = out.indexOf(needle, i + 1);
  }
  return out;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
