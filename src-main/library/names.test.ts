import { describe, expect, it } from 'vitest';
import {
  entryPathProblem,
  escapeInvalidName,
  extensionOf,
  imageFormatFromMagic,
  isSkippedName,
  sortNaturally,
  uniqueLabel,
} from './names.ts';

const head = (hex: string, text = ''): Uint8Array =>
  Buffer.concat([Buffer.from(hex.replace(/ /g, ''), 'hex'), Buffer.from(text, 'latin1')]);

describe('imageFormatFromMagic', () => {
  it('names each signature it knows', () => {
    expect(imageFormatFromMagic(head('ffd8ffe0'))).toBe('jpeg');
    expect(imageFormatFromMagic(head('89504e470d0a1a0a'))).toBe('png');
    expect(imageFormatFromMagic(head('', 'GIF89a'))).toBe('gif');
    expect(imageFormatFromMagic(head('', 'RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(imageFormatFromMagic(head('49492a00'))).toBe('tiff');
    expect(imageFormatFromMagic(head('4d4d002a'))).toBe('tiff');
    expect(imageFormatFromMagic(head('49492b00'))).toBe('tiff');
    expect(imageFormatFromMagic(head('00000018', 'ftypheic'))).toBe('heif');
    expect(imageFormatFromMagic(head('00000020', 'ftypavif'))).toBe('heif');
    const bmp = Buffer.alloc(32);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(40, 14);
    expect(imageFormatFromMagic(bmp)).toBe('bmp');
  });

  it('does not take look-alikes for images', () => {
    expect(imageFormatFromMagic(head('', 'BMW service notes, 2021'))).toBeNull();
    expect(imageFormatFromMagic(head('00000018', 'ftypisom'))).toBeNull(); // an MP4
    expect(imageFormatFromMagic(head('', 'RIFF\0\0\0\0WAVEfmt '))).toBeNull();
    expect(imageFormatFromMagic(head('ffd8'))).toBeNull();
    expect(imageFormatFromMagic(new Uint8Array(0))).toBeNull();
  });
});

describe('names', () => {
  it('reads extensions and skips hidden and junk names', () => {
    expect(extensionOf('a/b/Photo.JPEG')).toBe('jpeg');
    expect(extensionOf('.jpg')).toBe('');
    expect(extensionOf('noext')).toBe('');
    expect(
      ['.DS_Store', '__MACOSX', 'Thumbs.db', 'desktop.ini', '@eaDir'].every(isSkippedName),
    ).toBe(true);
    expect(isSkippedName('photo.jpg')).toBe(false);
  });

  it('validates entry paths', () => {
    expect(entryPathProblem('a/b.jpg')).toBeNull();
    expect(entryPathProblem('..foo/b..jpg')).toBeNull();
    expect(entryPathProblem('a:b\\c.jpg', 'linux')).toBeNull();
    expect(entryPathProblem('a:b.jpg', 'win32')).not.toBeNull();
    expect(entryPathProblem('a\\b.jpg', 'win32')).not.toBeNull();
    for (const bad of ['', '/a', '../a', 'a/..', 'a/./b', './a', 'a//b', 'a/', '.', 'a\0']) {
      expect(entryPathProblem(bad, 'linux')).not.toBeNull();
    }
  });

  it('escapes invalid names into relative labels without .. segments', () => {
    expect(escapeInvalidName('../evil.jpg')).toBe('%2E%2E/evil.jpg');
    expect(escapeInvalidName('/abs.jpg')).toBe('%2Fabs.jpg');
    expect(escapeInvalidName('C:\\x.jpg')).toBe('C%3A%5Cx.jpg');
    expect(escapeInvalidName('a\nb%.jpg')).toBe('a%0Ab%25.jpg');
    expect(escapeInvalidName('a/../../b.jpg')).toBe('a/%2E%2E/%2E%2E/b.jpg');
    for (const label of ['../x', '/x', 'a/../b', '//x']) {
      expect(entryPathProblem(escapeInvalidName(label), 'linux')).toBeNull();
    }
  });

  it('makes labels unique', () => {
    const taken = new Set(['a.jpg', 'a.jpg (2)']);
    expect(uniqueLabel('a.jpg', taken)).toBe('a.jpg (3)');
    expect(uniqueLabel('b.jpg', taken)).toBe('b.jpg');
    expect(taken.has('a.jpg (3)') && taken.has('b.jpg')).toBe(true);
  });

  it('sorts naturally with a total order', () => {
    const paths = ['page10.jpg', 'Page2.jpg', 'page1.jpg', 'a/z.jpg', 'a.jpg', 'page2.jpg'];
    expect(sortNaturally(paths, (p) => p)).toEqual([
      'a/z.jpg',
      'a.jpg',
      'page1.jpg',
      'Page2.jpg',
      'page2.jpg',
      'page10.jpg',
    ]);
  });
});
