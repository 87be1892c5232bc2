import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSourceKind } from './collection-source.ts';
import { LibraryError } from './library-error.ts';
import { mkfifo, tempDir, zipOf } from './test-fixtures.ts';

let base: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  base = await tempDir();
  await mkdir(join(base.dir, 'album'));
  const zip = await zipOf([{ name: 'a.jpg', data: Buffer.from('x') }]);
  await writeFile(join(base.dir, 'book.CBZ'), zip);
  await writeFile(join(base.dir, 'pages.zip'), zip);
  await writeFile(join(base.dir, 'misnamed.dat'), zip);
  await writeFile(
    join(base.dir, 'empty.bin'),
    Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'latin1'),
  );
  await writeFile(join(base.dir, 'random.cbz'), randomBytes(100));
  await writeFile(join(base.dir, 'notes.txt'), 'hello');
  await writeFile(join(base.dir, 'comic.cbr'), 'Rar!');
  mkfifo(join(base.dir, 'pipe.zip'));
});

afterAll(() => base.cleanup());

async function failure(path: string): Promise<string> {
  const err: unknown = await detectSourceKind(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LibraryError);
  return (err as LibraryError).code;
}

describe('detectSourceKind', () => {
  it('recognises folders and ZIP/CBZ archives, by extension or by signature', async () => {
    const at = (name: string): string => join(base.dir, name);
    expect(await detectSourceKind(at('album'))).toEqual({ kind: 'folder', root: at('album') });
    expect(await detectSourceKind(at('book.CBZ'))).toEqual({
      kind: 'archive',
      root: at('book.CBZ'),
    });
    expect((await detectSourceKind(at('pages.zip'))).kind).toBe('archive');
    expect((await detectSourceKind(at('misnamed.dat'))).kind).toBe('archive');
    expect((await detectSourceKind(at('empty.bin'))).kind).toBe('archive');
    // By name: whether it really is a zip is the walk's business (ARCHIVE_CORRUPT).
    expect((await detectSourceKind(at('random.cbz'))).kind).toBe('archive');
  });

  it('resolves a relative path to an absolute root', async () => {
    const rel = relative(process.cwd(), join(base.dir, 'album'));
    expect(await detectSourceKind(rel)).toEqual({ kind: 'folder', root: join(base.dir, 'album') });
  });

  it('refuses anything else without blocking on a FIFO', { timeout: 10_000 }, async () => {
    expect(await failure(join(base.dir, 'notes.txt'))).toBe('UNSUPPORTED');
    expect(await failure(join(base.dir, 'comic.cbr'))).toBe('UNSUPPORTED');
    expect(await failure(join(base.dir, 'pipe.zip'))).toBe('UNSUPPORTED');
    expect(await failure(join(base.dir, 'nothing-here'))).toBe('NOT_FOUND');
  });
});
