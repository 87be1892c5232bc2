import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeBmp, decodeIco, isBmp, isIco, type Embedded, type Rgba } from './bmp-decode.ts';
import type { Failure } from '../src-shared/domain.ts';

/** Fixtures made by ImageMagick (make.sh), each with ImageMagick's own decode in ref/. */
const DIR = join(import.meta.dirname, 'test-fixtures/bitmaps');
const fixture = (name: string) => readFileSync(join(DIR, name));
const LIMIT = 100_000_000;

/** Decoded pixels as RGBA, whatever the decoder returned. */
async function rgbaOf(r: Rgba | Embedded | Failure): Promise<Rgba> {
  if ('code' in r) throw new Error(`${r.code}: ${r.message}`);
  if ('data' in r) return r;
  const { data, info } = await sharp(r.embedded)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, alpha: true };
}

/** The largest difference of any channel from the reference (colour only where not transparent). */
async function worstDifference(got: Rgba, refName: string): Promise<number> {
  const { data, info } = await sharp(join(DIR, 'ref', refName))
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect([got.width, got.height]).toEqual([info.width, info.height]);
  let worst = 0;
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3] ?? 0;
    worst = Math.max(worst, Math.abs(a - (got.data[i + 3] ?? 0)));
    if (a === 0) continue;
    for (let c = 0; c < 3; c++) {
      worst = Math.max(worst, Math.abs((data[i + c] ?? 0) - (got.data[i + c] ?? 0)));
    }
  }
  return worst;
}

describe('BMP decoding', () => {
  const bmps = readdirSync(DIR).filter((f) => f.endsWith('.bmp'));

  it('has a fixture of every layout ImageMagick writes', () => {
    expect(bmps.sort()).toEqual([
      'argb1555.bmp',
      'argb32.bmp',
      'argb4444.bmp',
      'mono.bmp',
      'os2-pal4.bmp',
      'os2-rgb24.bmp',
      'pal4.bmp',
      'pal8.bmp',
      'rgb24.bmp',
      'rgb555.bmp',
      'rgb565.bmp',
      'rle8.bmp',
      'v5-rgb24.bmp',
    ]);
  });

  it.each(bmps.filter((n) => !/4444|1555/.test(n)))(
    'decodes %s to the pixels ImageMagick reads',
    async (name) => {
      const bytes = fixture(name);
      expect(isBmp(bytes)).toBe(true);
      const got = await rgbaOf(decodeBmp(bytes, LIMIT));
      // 5- and 6-bit channels are scaled to 8 bits: rounding may differ by one.
      expect(await worstDifference(got, name.replace('.bmp', '.png'))).toBeLessThanOrEqual(
        /555|565/.test(name) ? 1 : 0,
      );
      expect(got.alpha).toBe(name.startsWith('argb'));
    },
  );

  it('scales 4-bit and 1-bit channels to full range, as browsers do', async () => {
    // ImageMagick reads these two wrong (15 as 240, a set alpha bit as 128):
    // compared with the pattern they were made from, within one step.
    const { data: pattern } = await sharp(join(DIR, 'pattern-alpha.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (const [name, bits, alphaBits] of [
      ['argb4444.bmp', 4, 4],
      ['argb1555.bmp', 5, 1],
    ] as const) {
      const got = await rgbaOf(decodeBmp(fixture(name), LIMIT));
      const step = (b: number) => 255 / (2 ** b - 1);
      let worst = 0;
      let worstAlpha = 0;
      for (let i = 0; i < pattern.length; i += 4) {
        const a = pattern[i + 3] ?? 0;
        worstAlpha = Math.max(worstAlpha, Math.abs(a - (got.data[i + 3] ?? 0)));
        if (a === 0) continue;
        for (let c = 0; c < 3; c++) {
          worst = Math.max(worst, Math.abs((pattern[i + c] ?? 0) - (got.data[i + c] ?? 0)));
        }
      }
      expect(worst, name).toBeLessThanOrEqual(step(bits) / 2 + 1);
      expect(worstAlpha, name).toBeLessThanOrEqual(step(alphaBits));
      // Full intensity stays full: pure green is 255, not 240.
      const green = got.data.findIndex((v, i) => i % 4 === 1 && v > 200);
      expect(got.data[green], name).toBe(255);
    }
  });

  it('reads rows stored top down (a negative height)', async () => {
    const bytes = Buffer.from(fixture('rgb24.bmp'));
    const offset = bytes.readUInt32LE(10);
    const height = bytes.readInt32LE(22);
    const stride = Math.ceil((37 * 24) / 32) * 4;
    const rows = [];
    for (let y = 0; y < height; y++) {
      rows.push(bytes.subarray(offset + y * stride, offset + (y + 1) * stride));
    }
    const flipped = Buffer.concat([bytes.subarray(0, offset), ...rows.reverse()]);
    flipped.writeInt32LE(-height, 22);
    const got = await rgbaOf(decodeBmp(flipped, LIMIT));
    expect(await worstDifference(got, 'rgb24.png')).toBe(0);
  });

  it('decodes RLE4 with runs, absolute runs, a move and line ends', () => {
    // 8 x 3, palette 0 black, 1 red, 2 green, 3 blue. Bottom row first:
    // row 0: 4 red-green pairs; row 1: absolute 3,3,1 then end of line; row 2:
    // move 2 right, 2 blue, end of bitmap.
    const rle = [4, 0x12, 4, 0x12, 0, 0, 0, 3, 0x33, 0x10, 0, 0, 0, 2, 2, 0, 2, 0x33, 0, 1];
    const palette = [0, 0, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0];
    const header = Buffer.alloc(54);
    header.write('BM', 0, 'latin1');
    header.writeUInt32LE(54 + 64, 10);
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(8, 18);
    header.writeInt32LE(3, 22);
    header.writeUInt16LE(1, 26);
    header.writeUInt16LE(4, 28);
    header.writeUInt32LE(2, 30); // BI_RLE4
    header.writeUInt32LE(4, 46); // colours used
    const pal = Buffer.alloc(64);
    Buffer.from(palette).copy(pal);
    const file = Buffer.concat([header, pal, Buffer.from(rle)]);
    const r = decodeBmp(file, LIMIT);
    if (!('data' in r)) throw new Error('expected pixels');
    const px = (x: number, y: number) => [...r.data.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 4)];
    const RED = [255, 0, 0, 255];
    const GREEN = [0, 255, 0, 255];
    const BLUE = [0, 0, 255, 255];
    const NONE = [0, 0, 0, 0];
    // Top row (stored last): skipped, skipped, blue, blue, then untouched.
    expect([0, 1, 2, 3, 4].map((x) => px(x, 0))).toEqual([NONE, NONE, BLUE, BLUE, NONE]);
    expect([0, 1, 2, 3].map((x) => px(x, 1))).toEqual([BLUE, BLUE, RED, NONE]);
    expect([0, 1, 6, 7].map((x) => px(x, 2))).toEqual([RED, GREEN, RED, GREEN]);
    expect(r.alpha).toBe(true);
  });

  it('refuses hostile headers with a code, quickly and without allocating their claims', () => {
    const base = fixture('rgb24.bmp');
    const edit = (f: (b: Buffer) => void) => {
      const b = Buffer.from(base);
      f(b);
      return b;
    };
    const started = performance.now();
    const huge = edit((b) => {
      b.writeInt32LE(100_000, 18);
      b.writeInt32LE(100_000, 22);
    });
    expect(decodeBmp(huge, LIMIT)).toMatchObject({ code: 'TOO_MANY_PIXELS' });
    expect(
      decodeBmp(
        edit((b) => b.writeInt32LE(-2_147_483_648, 22)),
        LIMIT,
      ),
    ).toMatchObject({ code: 'TOO_MANY_PIXELS' });
    expect(
      decodeBmp(
        edit((b) => b.writeInt32LE(0, 18)),
        LIMIT,
      ),
    ).toMatchObject({ code: 'CORRUPT' });
    expect(
      decodeBmp(
        edit((b) => b.writeUInt16LE(7, 28)),
        LIMIT,
      ),
    ).toMatchObject({ code: 'CORRUPT' });
    expect(
      decodeBmp(
        edit((b) => b.writeUInt32LE(9, 30)),
        LIMIT,
      ),
    ).toMatchObject({
      code: 'UNSUPPORTED',
    });
    expect(decodeBmp(base.subarray(0, 1000), LIMIT)).toMatchObject({ code: 'TRUNCATED' });
    expect(decodeBmp(base.subarray(0, 20), LIMIT)).toMatchObject({ code: 'TRUNCATED' });
    expect(
      decodeBmp(
        edit((b) => b.writeUInt32LE(0xffffffff, 10)),
        LIMIT,
      ),
    ).toMatchObject({
      code: 'TRUNCATED',
    });
    // An RLE stream cut in the middle, and one whose moves leave the image.
    const rle = fixture('rle8.bmp');
    expect(decodeBmp(rle.subarray(0, rle.length - 200), LIMIT)).toMatchObject({
      code: 'TRUNCATED',
    });
    const moves = Buffer.from(rle);
    const at = moves.readUInt32LE(10);
    Buffer.from([0, 2, 255, 255, 0, 2, 255, 255, 5, 1, 0, 1]).copy(moves, at);
    expect(decodeBmp(moves, LIMIT)).toMatchObject({ width: 37, height: 23 });
    // A palette index past the palette is black, not a crash.
    const pal = Buffer.from(fixture('pal8.bmp'));
    pal.writeUInt32LE(2, 46);
    expect(decodeBmp(pal, LIMIT)).toMatchObject({ width: 37 });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('BMP decoding: what a review found', () => {
  it('never allocates what a tiny file claims, and returns a failure where memory runs out', () => {
    const header = Buffer.from(fixture('rgb24.bmp').subarray(0, 54));
    header.writeInt32LE(16_383, 18);
    header.writeInt32LE(16_383, 22);
    const before = process.memoryUsage().arrayBuffers;
    expect(decodeBmp(header, LIMIT * 3)).toMatchObject({ code: 'TRUNCATED' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50_000_000);
    const absurd = Buffer.from(header);
    absurd.writeInt32LE(1 << 20, 18);
    absurd.writeInt32LE(1 << 20, 22);
    absurd.writeUInt32LE(1, 30); // RLE8: rows are not checked up front
    absurd.writeUInt16LE(8, 28);
    expect(() => decodeBmp(absurd, 2 ** 40)).not.toThrow();
    expect(decodeBmp(absurd, 2 ** 40)).toHaveProperty('code');
  });

  it('bounds RLE work by the image, not by the runs a file repeats', () => {
    const rle = Buffer.from(fixture('rle8.bmp'));
    const at = rle.readUInt32LE(10);
    rle.writeInt32LE(1, 18);
    rle.writeInt32LE(1, 22);
    const runs = Buffer.alloc(4_000_000);
    for (let i = 0; i < runs.length; i += 2) runs[i] = 0xff;
    const file = Buffer.concat([rle.subarray(0, at), runs]);
    const started = performance.now();
    expect(decodeBmp(file, LIMIT)).toMatchObject({ width: 1, height: 1 });
    expect(performance.now() - started).toBeLessThan(300);
  });

  it('reads a 32-bit BI_RGB fourth byte as padding unless a V3+ header gives an alpha mask', async () => {
    const rgb = await sharp(join(DIR, 'pattern.png')).raw().toBuffer();
    const bmp32 = (headerSize: 40 | 124, alphaMask: number) => {
      const rows = Buffer.alloc(37 * 23 * 4);
      for (let y = 0; y < 23; y++) {
        for (let x = 0; x < 37; x++) {
          const s = ((22 - y) * 37 + x) * 3;
          const o = (y * 37 + x) * 4;
          rows[o] = rgb[s + 2] ?? 0;
          rows[o + 1] = rgb[s + 1] ?? 0;
          rows[o + 2] = rgb[s] ?? 0;
          rows[o + 3] = x < 10 ? 0 : 200; // junk, or alpha
        }
      }
      const head = Buffer.alloc(14 + headerSize);
      head.write('BM', 0, 'latin1');
      head.writeUInt32LE(head.length, 10);
      head.writeUInt32LE(headerSize, 14);
      head.writeInt32LE(37, 18);
      head.writeInt32LE(23, 22);
      head.writeUInt16LE(1, 26);
      head.writeUInt16LE(32, 28);
      if (headerSize >= 56) head.writeUInt32LE(alphaMask, 14 + 52);
      return Buffer.concat([head, rows]);
    };
    const plain = await rgbaOf(decodeBmp(bmp32(40, 0), LIMIT));
    expect(plain.alpha).toBe(false);
    expect(await worstDifference(plain, 'rgb24.png')).toBe(0);
    expect((await rgbaOf(decodeBmp(bmp32(124, 0), LIMIT))).alpha).toBe(false);
    const masked = await rgbaOf(decodeBmp(bmp32(124, 0xff000000), LIMIT));
    expect(masked.alpha).toBe(true);
    expect([masked.data[3], masked.data[15 * 4 + 3]]).toEqual([0, 200]);
  });

  it('reads an OS/2 2.x 16-byte header without a colour count, and rows at offset 0 after the palette', async () => {
    const src = fixture('pal8.bmp');
    const offset = src.readUInt32LE(10);
    const used = src.readUInt32LE(46) || 256;
    const palette = src.subarray(54, 54 + used * 4);
    // The colours moved to entries 200 and up, and entry 4 made (3, 0, 0, 0):
    // where a 40-byte header keeps its colour count, so that reading one
    // there would cut the palette to 3 entries and turn the picture black.
    const pal = Buffer.alloc(256 * 4);
    palette.copy(pal, 200 * 4);
    pal.set([3, 0, 0, 0], 4 * 4);
    const moved = Buffer.from(src.subarray(offset)).map((b) => b + 200);
    const head = Buffer.alloc(14 + 16);
    head.write('BM', 0, 'latin1');
    head.writeUInt32LE(14 + 16 + pal.length, 10);
    head.writeUInt32LE(16, 14);
    head.writeInt32LE(37, 18);
    head.writeInt32LE(23, 22);
    head.writeUInt16LE(1, 26);
    head.writeUInt16LE(8, 28);
    const os2 = Buffer.concat([head, pal, moved]);
    expect(await worstDifference(await rgbaOf(decodeBmp(os2, LIMIT)), 'pal8.png')).toBe(0);
    const zero = Buffer.from(src);
    zero.writeUInt32LE(0, 10);
    expect(await worstDifference(await rgbaOf(decodeBmp(zero, LIMIT)), 'pal8.png')).toBe(0);
  });
});

describe('ICO and CUR decoding', () => {
  it.each([
    ['icon32.ico', 'icon32.png'],
    ['pal4-mask.ico', 'pal4-mask.png'],
    ['multi.ico', 'multi.png'],
    ['png256.ico', 'png256.png'],
  ])('decodes the best entry of %s as ImageMagick reads it', async (name, ref) => {
    const bytes = fixture(name);
    expect(isIco(bytes)).toBe(true);
    expect(isBmp(bytes)).toBe(false);
    const decoded = decodeIco(bytes, LIMIT);
    expect('embedded' in decoded).toBe(name === 'png256.ico');
    expect(await worstDifference(await rgbaOf(decoded), ref)).toBe(0);
  });

  it('reads a cursor like an icon, and its AND mask for transparency', async () => {
    const cur = Buffer.from(fixture('icon32.ico'));
    cur.writeUInt16LE(2, 2);
    expect(isIco(cur)).toBe(true);
    expect(await worstDifference(await rgbaOf(decodeIco(cur, LIMIT)), 'icon32.png')).toBe(0);
    const masked = await rgbaOf(decodeIco(fixture('pal4-mask.ico'), LIMIT));
    expect(masked.alpha).toBe(false); // ImageMagick wrote an all-opaque mask
  });

  it('refuses a directory that points outside the file', () => {
    expect(decodeIco(Buffer.from([0, 0, 1, 0]), LIMIT)).toMatchObject({ code: 'TRUNCATED' });
    const ico = Buffer.from(fixture('icon32.ico'));
    ico.writeUInt32LE(0xfffffff0, 6 + 12);
    expect(decodeIco(ico, LIMIT)).toMatchObject({ code: 'TRUNCATED' });
    const many = Buffer.from(fixture('icon32.ico').subarray(0, 22));
    many.writeUInt16LE(65535, 4);
    expect(decodeIco(many, LIMIT)).toMatchObject({ code: 'TRUNCATED' });
    const cut = fixture('icon32.ico').subarray(0, 200);
    expect(decodeIco(cut, LIMIT)).toMatchObject({ code: 'TRUNCATED' });
  });
});
