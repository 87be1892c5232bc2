import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSourceKind, refuseOwnFolder } from './collection-source.ts';
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
  await symlink('/proc', join(base.dir, 'to-proc'));
  await symlink('/dev/shm', join(base.dir, 'to-shm'));
  await mkdir(join(base.dir, 'data', 'cache', 'sub'), { recursive: true });
  await mkdir(join(base.dir, 'elsewhere-cache'));
  await symlink(join(base.dir, 'data', 'cache'), join(base.dir, 'cache-link'));
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

describe('roots that are never a collection', () => {
  it.each(['/proc', '/proc/self', '/sys', '/sys/kernel', '/dev', '/dev/shm', '/dev/null'])(
    'refuses %s (INVALID_INPUT)',
    async (path) => {
      const err: unknown = await detectSourceKind(path).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_INPUT' });
      expect((err as Error).message).toContain("system's own files");
    },
  );

  it('refuses a link that leads into /proc or /dev', async () => {
    expect(await failure(join(base.dir, 'to-proc'))).toBe('INVALID_INPUT');
    expect(await failure(join(base.dir, 'to-shm'))).toBe('INVALID_INPUT');
  });

  it("refuses Albumen's own data and cache folders, and anything inside them, also through a link", async () => {
    const own = [join(base.dir, 'data'), join(base.dir, 'elsewhere-cache')];
    for (const root of [
      join(base.dir, 'data'),
      join(base.dir, 'data', 'cache', 'sub'),
      join(base.dir, 'elsewhere-cache'),
      join(base.dir, 'cache-link'),
    ]) {
      const err: unknown = await refuseOwnFolder(root, own).catch((e: unknown) => e);
      expect(err, root).toBeInstanceOf(LibraryError);
      expect(err).toMatchObject({ code: 'INVALID_INPUT' });
      expect((err as Error).message).toContain("Albumen's own data or cache folder");
    }
    // A folder that holds them is fine: the walk skips them inside it.
    await expect(refuseOwnFolder(base.dir, own)).resolves.toBeUndefined();
    await expect(refuseOwnFolder(join(base.dir, 'album'), own)).resolves.toBeUndefined();
  });
});
