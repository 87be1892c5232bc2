import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import type { InputLimits } from '../../src-shared/settings.ts';
import type { CollectionSource } from './collection-source.ts';
import { LibraryError } from './library-error.ts';
import { SourceReader } from './source-reader.ts';
import { jpeg, markEncrypted, renameEntry, tempDir, zipOf } from './test-fixtures.ts';
import type { ZipSpec } from './test-fixtures.ts';
import { walkCollection } from './walk.ts';
import type { WalkEntry } from './walk.ts';

const limits: InputLimits = DEFAULT_SETTINGS.limits;
const HANG = { timeout: 20_000 };

async function walkAll(source: CollectionSource, l: InputLimits = limits): Promise<WalkEntry[]> {
  const all: WalkEntry[] = [];
  for await (const batch of walkCollection(source, { batchSize: 4, limits: l })) all.push(...batch);
  return all;
}

const summary = (entries: WalkEntry[]): [string, string | null][] =>
  entries.map((e) => [e.entryPath, e.failure?.code ?? null]);

describe('walkCollection over archives', () => {
  let base: Awaited<ReturnType<typeof tempDir>>;
  let photo: Buffer;

  async function archive(name: string, entries: ZipSpec[], patch = (b: Buffer) => b) {
    const root = join(base.dir, name);
    await writeFile(root, patch(await zipOf(entries)));
    return { kind: 'archive', root } as const;
  }

  beforeAll(async () => {
    base = await tempDir();
    photo = await jpeg(16, 16);
  });
  afterAll(() => base.cleanup());

  it(
    'lists CBZ pages in natural order and leaves out folders, hidden and non-image entries',
    HANG,
    async () => {
      const pages = [1, 10, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({
        name: `page${n}.jpg`,
        data: photo,
      }));
      const source = await archive('comic.cbz', [
        ...pages,
        { name: 'ComicInfo.xml', data: Buffer.from('<ComicInfo/>') },
        { name: '__MACOSX/._page1.jpg', data: photo },
        { name: '.DS_Store', data: Buffer.from('x') },
        { name: 'extras/.thumb.jpg', data: photo },
      ]);
      const entries = await walkAll(source);
      expect(entries.map((e) => e.entryPath)).toEqual(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `page${n}.jpg`),
      );
      expect(entries.every((e) => e.failure === null && e.size === photo.length)).toBe(true);
    },
  );

  it('takes size and mtime from the entry', HANG, async () => {
    const mtime = new Date('2021-03-04T05:06:08Z');
    const source = await archive('dated.zip', [{ name: 'a.jpg', data: photo, mtime }]);
    const [entry] = await walkAll(source);
    expect(entry?.size).toBe(photo.length);
    expect(Math.abs((entry?.mtimeMs ?? 0) - mtime.getTime())).toBeLessThanOrEqual(2000);
  });

  it(
    'gives each entry its size and CRC-32 as its fingerprint, as the reader does',
    HANG,
    async () => {
      const other = await jpeg(24, 8);
      const source = await archive('crc.zip', [
        { name: 'a.jpg', data: photo },
        { name: 'b.jpg', data: other, compress: false },
      ]);
      const entries = await walkAll(source);
      expect(entries.map((e) => e.fingerprint)).toEqual(
        [photo, other].map((d) => `z${d.length.toString(36)}:${crc32(d).toString(16)}`),
      );
      const reader = new SourceReader();
      try {
        expect(await reader.fingerprint(source, 'b.jpg')).toBe(entries[1]?.fingerprint);
      } finally {
        await reader.close();
      }
    },
  );

  it(
    'fails entries with dangerous names one by one, with unique escaped labels',
    HANG,
    async () => {
      const source = await archive(
        'names.zip',
        [
          { name: 'xx/evil.jpg', data: photo },
          { name: 'xabs.jpg', data: photo },
          { name: 'a_b.jpg', data: photo },
          { name: 'Cx/drive.jpg', data: photo },
          { name: 'abs.jpg', data: photo },
          { name: '%2Fabs.jpg', data: photo },
          { name: 'ok/./fine.jpg', data: photo },
        ],
        (zip) =>
          renameEntry(
            renameEntry(
              renameEntry(renameEntry(zip, 'xx/evil.jpg', '../evil.jpg'), 'xabs.jpg', '/abs.jpg'),
              'a_b.jpg',
              'a\\b.jpg',
            ),
            'Cx/drive.jpg',
            'C:/drive.jpg',
          ),
      );
      const entries = await walkAll(source);
      expect(summary(entries)).toEqual([
        ['%2E%2E/evil.jpg', 'INVALID_ENTRY_NAME'],
        ['%2Fabs.jpg', null],
        ['%2Fabs.jpg (2)', 'INVALID_ENTRY_NAME'],
        // A Windows-style separator is a folder, not an error.
        ['a/b.jpg', null],
        ['abs.jpg', null],
        ['C%3A/drive.jpg', 'INVALID_ENTRY_NAME'],
        ['ok/fine.jpg', null],
      ]);
      const messages = new Map(entries.map((e) => [e.entryPath, e.failure?.message]));
      expect(messages.get('%2E%2E/evil.jpg')).toBe(
        `entry name "../evil.jpg" climbs out of the archive with '..'`,
      );
      expect(messages.get('%2Fabs.jpg (2)')).toBe('entry name "/abs.jpg" is an absolute path');
      expect(messages.get('C%3A/drive.jpg')).toBe(
        'entry name "C:/drive.jpg" starts with a drive letter',
      );
    },
  );

  it(
    'reports nested archives, bombs, oversized, encrypted, duplicate and symbolic-link entries',
    HANG,
    async () => {
      const incompressible = randomBytes(50_000);
      const source = await archive(
        'odd.zip',
        [
          { name: 'inner.zip', data: await zipOf([{ name: 'x.jpg', data: photo }]) },
          { name: 'book.cbz', data: Buffer.from('PK') },
          { name: 'bomb.png', data: Buffer.alloc(20 * 1024 * 1024) },
          { name: 'huge.jpg', data: incompressible, compress: false },
          { name: 'secret.jpg', data: photo },
          { name: 'dup.jpg', data: photo },
          { name: 'dup.jpg', data: photo },
          { name: 'fine.jpg', data: photo },
        ],
        (zip) => markEncrypted(zip, 'secret.jpg'),
      );
      const entries = await walkAll(source, { ...limits, maxFileBytes: 40_000 });
      expect(summary(entries)).toEqual([
        ['bomb.png', 'FILE_TOO_LARGE'],
        ['book.cbz', 'NESTED_ARCHIVE'],
        ['dup.jpg', null],
        ['dup.jpg (2)', 'CORRUPT'],
        ['fine.jpg', null],
        ['huge.jpg', 'FILE_TOO_LARGE'],
        ['inner.zip', 'NESTED_ARCHIVE'],
        ['secret.jpg', 'UNSUPPORTED'],
      ]);
      const bigLimit = await walkAll(source);
      const bomb = bigLimit.find((e) => e.entryPath === 'bomb.png');
      expect(bomb?.failure?.code).toBe('COMPRESSION_BOMB');
      expect(bomb?.size).toBe(20 * 1024 * 1024);
      expect(bomb?.failure?.message).toMatch(
        /^expands \d+:1 \(.+ to 20 MB\), over the 100:1 limit$/,
      );
      expect(bigLimit.find((e) => e.entryPath === 'huge.jpg')?.failure).toBeNull();
      expect(bigLimit.find((e) => e.entryPath === 'dup.jpg (2)')?.failure?.message).toBe(
        'duplicate entry name',
      );
    },
  );

  it(
    'throws ARCHIVE_CORRUPT for random bytes and for a truncated zip, NOT_FOUND for a missing one',
    HANG,
    async () => {
      const random = join(base.dir, 'random.cbz');
      await writeFile(random, randomBytes(5000));
      const whole = await zipOf([
        { name: 'a.jpg', data: photo },
        { name: 'b.jpg', data: photo },
      ]);
      const truncated = join(base.dir, 'truncated.zip');
      await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
      for (const [root, code] of [
        [random, 'ARCHIVE_CORRUPT'],
        [truncated, 'ARCHIVE_CORRUPT'],
        [join(base.dir, 'missing.zip'), 'NOT_FOUND'],
      ] as const) {
        const err: unknown = await walkAll({ kind: 'archive', root }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(LibraryError);
        expect((err as LibraryError).code).toBe(code);
      }
    },
  );

  it('yields nothing for an empty zip', HANG, async () => {
    expect(await walkAll(await archive('empty.zip', []))).toEqual([]);
  });
});
