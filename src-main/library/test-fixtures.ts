/**
 * Test-only helpers for the library tests: temporary folders, real images
 * made with sharp, hand-made headers, and ZIP files (with the byte surgery
 * needed for names that yazl rightly refuses to write).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { ZipFile } from 'yazl';

/** A fresh folder under the OS temp dir; `cleanup` removes it with everything inside. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'albumen-library-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function noisePixels(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 50 },
    },
  })
    .raw()
    .toBuffer();
}

/** A real JPEG (noise, so it does not compress to nothing), optionally with an EXIF orientation. */
export async function jpeg(
  width: number,
  height: number,
  opts: { orientation?: number } = {},
): Promise<Buffer> {
  const image = sharp(await noisePixels(width, height), {
    raw: { width, height, channels: 3 },
  }).jpeg({ quality: 90 });
  return opts.orientation
    ? image.withMetadata({ orientation: opts.orientation }).toBuffer()
    : image.toBuffer();
}

/** A real PNG. */
export function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: '#3366cc80' } })
    .png()
    .toBuffer();
}

/** A real image in another format sharp writes. */
export function imageAs(
  format: 'webp' | 'gif' | 'avif' | 'tiff',
  width: number,
  height: number,
): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: '#884422' } });
  switch (format) {
    case 'webp':
      return image.webp().toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'avif':
      return image.avif().toBuffer();
    case 'tiff':
      return image.tiff().toBuffer();
  }
}

/** An uncompressed TIFF big enough that libtiff's directory (written last) lies past 4 MiB. */
export async function tiffWithTrailingDirectory(width: number, height: number): Promise<Buffer> {
  return sharp(await noisePixels(width, height), { raw: { width, height, channels: 3 } })
    .tiff({ compression: 'none' })
    .toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG made of a valid signature and IHDR that claims any size, and no pixels. */
export function pngHeaderClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The JPEG with `bytes` of APP2 segments inserted after SOI, pushing its frame header back. */
export function withPaddingSegments(source: Buffer, bytes: number): Buffer {
  const segments: Buffer[] = [];
  for (let left = bytes; left > 0;) {
    const payload = Math.min(left, 65_000);
    const segment = Buffer.alloc(4 + payload, 0x41);
    segment[0] = 0xff;
    segment[1] = 0xe2;
    segment.writeUInt16BE(payload + 2, 2);
    segments.push(segment);
    left -= payload;
  }
  return Buffer.concat([source.subarray(0, 2), ...segments, source.subarray(2)]);
}

/** An ICO directory listing a 16×16 and a 48×48 image (the payloads are not needed to probe). */
export function icoWithTwoImages(): Buffer {
  const header = Buffer.from([0, 0, 1, 0, 2, 0]);
  const entry = (size: number, offset: number): Buffer => {
    const e = Buffer.alloc(16);
    e[0] = size;
    e[1] = size;
    e.writeUInt16LE(1, 4); // planes
    e.writeUInt16LE(32, 6); // bits per pixel
    e.writeUInt32LE(40, 8); // bytes of image data
    e.writeUInt32LE(offset, 12);
    return e;
  };
  return Buffer.concat([header, entry(16, 38), entry(48, 78), Buffer.alloc(80)]);
}

export interface ZipSpec {
  name: string;
  data: Buffer;
  /** Deflate the entry (default true). */
  compress?: boolean;
  mtime?: Date;
  /** Unix mode bits (file type included), e.g. 0o120777 for a symbolic link. */
  mode?: number;
}

/** A ZIP file with the entries in the given order. */
export function zipOf(entries: ZipSpec[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const e of entries) {
    zip.addBuffer(e.data, e.name, {
      compress: e.compress ?? true,
      mtime: e.mtime ?? new Date(),
      ...(e.mode === undefined ? {} : { mode: e.mode }),
    });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (part: Buffer) => parts.push(part));
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    zip.outputStream.on('error', reject);
  });
}

/**
 * Renames an entry in place, in its local header and in the central
 * directory, to a name of the same length that yazl would refuse to write.
 */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to))
    throw new Error('names must have the same length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let replaced = 0;
  for (let at = out.indexOf(needle); at !== -1; at = out.indexOf(needle, at + 1)) {
    Buffer.from(to).copy(out, at);
    replaced++;
  }
  if (replaced !== 2)
    throw new Error(`expected ${from} twice (local + central), found ${replaced}`);
  return out;
}

/** Positions of every central-directory record and local header naming `name`. */
function headersOf(zip: Buffer, name: string): { central: number[]; local: number[] } {
  const central: number[] = [];
  const local: number[] = [];
  for (let at = 0; at + 30 < zip.length; at++) {
    const sig = zip.readUInt32LE(at);
    if (sig === 0x02014b50) {
      const n = zip.readUInt16LE(at + 28);
      if (zip.toString('utf8', at + 46, at + 46 + n) === name) central.push(at);
    } else if (sig === 0x04034b50) {
      const n = zip.readUInt16LE(at + 26);
      if (zip.toString('utf8', at + 30, at + 30 + n) === name) local.push(at);
    }
  }
  return { central, local };
}

/** Sets the "encrypted" flag of an entry, as a password-protected zip would. */
export function markEncrypted(zip: Buffer, name: string): Buffer {
  const out = Buffer.from(zip);
  const { central, local } = headersOf(out, name);
  for (const at of central) out.writeUInt16LE(out.readUInt16LE(at + 8) | 1, at + 8);
  for (const at of local) out.writeUInt16LE(out.readUInt16LE(at + 6) | 1, at + 6);
  return out;
}

/** Overwrites the first bytes of an entry's compressed data with garbage (an invalid deflate block). */
export function corruptEntryData(zip: Buffer, name: string): Buffer {
  const out = Buffer.from(zip);
  const [at] = headersOf(out, name).local;
  if (at === undefined) throw new Error(`no local header for ${name}`);
  const dataStart = at + 30 + out.readUInt16LE(at + 26) + out.readUInt16LE(at + 28);
  out.fill(0xff, dataStart, dataStart + 8);
  return out;
}

/** Makes a named pipe (FIFO): reading it would block forever. */
export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** True when running as root, which ignores file permissions. */
export const isRoot = process.getuid?.() === 0;
