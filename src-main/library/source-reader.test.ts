import { randomBytes } from 'node:crypto';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import type { CollectionSource } from './collection-source.ts';
import { LibraryError, failureFromFsError } from './library-error.ts';
import { SourceReader } from './source-reader.ts';
import {
  corruptEntryData,
  jpeg,
  markEncrypted,
  mkfifo,
  renameEntry,
  tempDir,
  zipOf,
} from './test-fixtures.ts';

const HANG = { timeout: 10_000 };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LibraryError);
  return (err as LibraryError).code;
}

function codeOfSync(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(LibraryError);
    return (err as LibraryError).code;
  }
  throw new Error('did not throw');
}

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

let base: Awaited<ReturnType<typeof tempDir>>;
let folder: CollectionSource;
let archive: CollectionSource;
let photo: Buffer;
let noise: Buffer;
let reader: SourceReader;

beforeAll(async () => {
  base = await tempDir();
  photo = await jpeg(40, 30);
  noise = randomBytes(1_000_000);
  const root = join(base.dir, 'folder');
  await mkdir(join(root, 'a'), { recursive: true });
  await writeFile(join(root, 'a', 'b.jpg'), photo);
  await writeFile(join(root, '..foo.jpg'), photo);
  await writeFile(join(root, 'big.jpg'), noise);
  mkfifo(join(root, 'pipe.jpg'));
  await symlink('nowhere.jpg', join(root, 'dangling.jpg'));
  folder = { kind: 'folder', root };

  const zip = await zipOf([
    { name: 'stored.jpg', data: photo, compress: false },
    { name: 'deflated.bin.jpg', data: noise, compress: true },
    { name: 'zeros.png', data: Buffer.alloc(20 * 1024 * 1024) },
    { name: 'nested.cbz', data: Buffer.from('PK') },
    { name: 'xx/evil.jpg', data: photo },
    { name: 'locked.jpg', data: photo },
    { name: 'broken.jpg', data: noise },
  ]);
  const patched = corruptEntryData(
    markEncrypted(renameEntry(zip, 'xx/evil.jpg', '../evil.jpg'), 'locked.jpg'),
    'broken.jpg',
  );
  archive = { kind: 'archive', root: join(base.dir, 'book.cbz') };
  await writeFile(archive.root, patched);
});

afterEach(async () => {
  await reader.close();
});

afterAll(() => base.cleanup());

describe('SourceReader.resolveFile', () => {
  it('maps an entry path under the root and refuses anything that could leave it', () => {
    reader = new SourceReader();
    expect(reader.resolveFile(folder, 'a/b.jpg')).toBe(join(folder.root, 'a', 'b.jpg'));
    expect(reader.resolveFile(folder, '..foo.jpg')).toBe(join(folder.root, '..foo.jpg'));
    for (const bad of [
      '../x',
      '/etc/passwd',
      'a/../../b',
      'a/./b',
      'a//b',
      'a/',
      '',
      '.',
      'a\0b',
    ]) {
      expect(codeOfSync(() => reader.resolveFile(folder, bad))).toBe('INVALID_ENTRY_NAME');
    }
    expect(codeOfSync(() => reader.resolveFile(archive, 'a.jpg'))).toBe('INVALID_INPUT');
  });
});
describe('SourceReader and links changed after the scan', () => {
  it('refuses to read through a link that now leads outside the root', async () => {
    const root = join(base.dir, 'relinked');
    await mkdir(root, { recursive: true });
    await writeFile(join(base.dir, 'secret.jpg'), photo);
    await writeFile(join(root, 'inside.jpg'), photo);
    await symlink(join(root, 'inside.jpg'), join(root, 'link.jpg'));
    const src = { kind: 'folder' as const, root };
    expect(reader.resolveFile(src, 'link.jpg')).toBe(join(root, 'link.jpg'));
    await rm(join(root, 'link.jpg'));
    await symlink(join(base.dir, 'secret.jpg'), join(root, 'link.jpg'));
    expect(codeOfSync(() => reader.resolveFile(src, 'link.jpg'))).toBe('LINK_OUTSIDE_ROOT');
    expect(await codeOf(reader.toRenderInput(src, 'link.jpg'))).toBe('LINK_OUTSIDE_ROOT');
    expect(await codeOf(reader.openStream(src, 'link.jpg'))).toBe('LINK_OUTSIDE_ROOT');
  });
});

describe('SourceReader over a folder', () => {
  it('gives the file path of a regular file, and the right failure otherwise', HANG, async () => {
    reader = new SourceReader();
    expect(await reader.toRenderInput(folder, 'a/b.jpg')).toEqual({
      kind: 'file',
      path: join(folder.root, 'a', 'b.jpg'),
    });
    expect(await codeOf(reader.toRenderInput(folder, 'gone.jpg'))).toBe('NOT_FOUND');
    expect(await codeOf(reader.toRenderInput(folder, 'pipe.jpg'))).toBe('NOT_REGULAR_FILE');
    expect(await codeOf(reader.toRenderInput(folder, 'a'))).toBe('NOT_REGULAR_FILE');
    expect(await codeOf(reader.toRenderInput(folder, 'dangling.jpg'))).toBe('DANGLING_LINK');
    expect(await codeOf(reader.toRenderInput(folder, '../folder/a/b.jpg'))).toBe(
      'INVALID_ENTRY_NAME',
    );
    reader.setLimits({ ...DEFAULT_SETTINGS.limits, maxFileBytes: 500_000 });
    expect(await codeOf(reader.toRenderInput(folder, 'big.jpg'))).toBe('FILE_TOO_LARGE');
  });

  it('reads only the head, and never blocks on a FIFO', HANG, async () => {
    reader = new SourceReader();
    const head = await reader.readHead(folder, 'big.jpg', 1000);
    expect(Buffer.from(head)).toEqual(noise.subarray(0, 1000));
    expect(head.buffer.byteLength).toBe(1000);
    expect((await reader.readHead(folder, 'a/b.jpg', 10_000_000)).length).toBe(photo.length);
    expect(Buffer.from(await reader.readRange(folder, 'big.jpg', 999_990, 100))).toEqual(
      noise.subarray(999_990),
    );
    expect(await codeOf(reader.readHead(folder, 'pipe.jpg', 100))).toBe('NOT_REGULAR_FILE');
    expect(await codeOf(reader.readHead(folder, 'a', 100))).toBe('NOT_REGULAR_FILE');
    expect(await codeOf(reader.readHead(folder, 'dangling.jpg', 100))).toBe('DANGLING_LINK');
  });

  it('streams the whole file with its size', HANG, async () => {
    reader = new SourceReader();
    const { stream, size } = await reader.openStream(folder, 'big.jpg');
    expect(size).toBe(noise.length);
    expect((await drain(stream)).equals(noise)).toBe(true);
    expect(await codeOf(reader.openStream(folder, 'pipe.jpg'))).toBe('NOT_REGULAR_FILE');
  });
});

describe('SourceReader over an archive', () => {
  it(
    'returns the exact bytes of stored and deflated entries, in arrays that own their buffer',
    HANG,
    async () => {
      reader = new SourceReader();
      for (const [entryPath, bytes] of [
        ['stored.jpg', photo],
        ['deflated.bin.jpg', noise],
      ] as const) {
        const input = await reader.toRenderInput(archive, entryPath);
        if (input.kind !== 'buffer') throw new Error('expected a buffer');
        expect(Buffer.from(input.data).equals(bytes)).toBe(true);
        expect(input.data.buffer.byteLength).toBe(bytes.length);
      }
    },
  );

  it('refuses entries that failed the listing or the limits', HANG, async () => {
    reader = new SourceReader();
    expect(await codeOf(reader.toRenderInput(archive, 'zeros.png'))).toBe('COMPRESSION_BOMB');
    expect(await codeOf(reader.toRenderInput(archive, 'nested.cbz'))).toBe('NESTED_ARCHIVE');
    expect(await codeOf(reader.toRenderInput(archive, '%2E%2E/evil.jpg'))).toBe(
      'INVALID_ENTRY_NAME',
    );
    expect(await codeOf(reader.toRenderInput(archive, '../evil.jpg'))).toBe('NOT_FOUND');
    expect(await codeOf(reader.toRenderInput(archive, 'locked.jpg'))).toBe('UNSUPPORTED');
    expect(await codeOf(reader.toRenderInput(archive, 'missing.jpg'))).toBe('NOT_FOUND');
    expect(await codeOf(reader.toRenderInput(archive, 'broken.jpg'))).toBe('CORRUPT');
    reader.setLimits({ ...DEFAULT_SETTINGS.limits, maxFileBytes: 500_000 });
    expect(await codeOf(reader.toRenderInput(archive, 'deflated.bin.jpg'))).toBe('FILE_TOO_LARGE');
  });

  it('inflates only the head, and reads ranges of stored and deflated entries', HANG, async () => {
    reader = new SourceReader();
    const head = await reader.readHead(archive, 'deflated.bin.jpg', 4096);
    expect(Buffer.from(head)).toEqual(noise.subarray(0, 4096));
    expect(head.buffer.byteLength).toBe(4096);
    expect(Buffer.from(await reader.readHead(archive, 'stored.jpg', 100))).toEqual(
      photo.subarray(0, 100),
    );
    expect(Buffer.from(await reader.readRange(archive, 'deflated.bin.jpg', 500_000, 300))).toEqual(
      noise.subarray(500_000, 500_300),
    );
    expect(Buffer.from(await reader.readRange(archive, 'stored.jpg', 50, 1_000_000))).toEqual(
      photo.subarray(50),
    );
    expect((await reader.readHead(archive, 'zeros.png', 64)).length).toBe(64);
  });

  it('streams an entry with its size', HANG, async () => {
    reader = new SourceReader();
    const { stream, size } = await reader.openStream(archive, 'deflated.bin.jpg');
    expect(size).toBe(noise.length);
    expect((await drain(stream)).equals(noise)).toBe(true);
  });

  it(
    'keeps serving correct bytes while more archives are used than it keeps open',
    HANG,
    async () => {
      reader = new SourceReader({ maxOpenArchives: 1 });
      const sources = await Promise.all(
        [0, 1, 2].map(async (i) => {
          const root = join(base.dir, `many-${i}.zip`);
          await writeFile(
            root,
            await zipOf([{ name: 'only.jpg', data: Buffer.from(`archive ${i}`) }]),
          );
          return { kind: 'archive', root } as const;
        }),
      );
      const reads = Array.from({ length: 30 }, (_, n) => n % 3).map(async (i) => {
        const source = sources[i];
        if (!source) throw new Error('no source');
        const input = await reader.toRenderInput(source, 'only.jpg');
        return input.kind === 'buffer' ? Buffer.from(input.data).toString() : input.path;
      });
      expect(await Promise.all(reads)).toEqual(
        Array.from({ length: 30 }, (_, n) => `archive ${n % 3}`),
      );
    },
  );

  it('notices an archive rewritten on disk and reads the new one', HANG, async () => {
    reader = new SourceReader();
    const source = { kind: 'archive', root: join(base.dir, 'rewritten.zip') } as const;
    await writeFile(source.root, await zipOf([{ name: 'p.jpg', data: Buffer.from('old') }]));
    const first = await reader.readHead(source, 'p.jpg', 100);
    await writeFile(
      source.root,
      await zipOf([{ name: 'p.jpg', data: Buffer.from('brand new content') }]),
    );
    const second = await reader.readHead(source, 'p.jpg', 100);
    expect([Buffer.from(first).toString(), Buffer.from(second).toString()]).toEqual([
      'old',
      'brand new content',
    ]);
  });

  it('works again after close()', HANG, async () => {
    reader = new SourceReader();
    await reader.readHead(archive, 'stored.jpg', 10);
    await reader.close();
    expect(Buffer.from(await reader.readHead(archive, 'stored.jpg', 10))).toEqual(
      photo.subarray(0, 10),
    );
  });

  it('fails ARCHIVE_CORRUPT for a file that is not a zip', HANG, async () => {
    reader = new SourceReader();
    const root = join(base.dir, 'not-a-zip.cbz');
    await writeFile(root, randomBytes(3000));
    expect(await codeOf(reader.readHead({ kind: 'archive', root }, 'a.jpg', 10))).toBe(
      'ARCHIVE_CORRUPT',
    );
  });
});

describe('failureFromFsError', () => {
  it('maps each errno to its code with a readable message', () => {
    const err = (code: string): Error => Object.assign(new Error(`${code}: boom`), { code });
    expect(failureFromFsError(err('ENOENT'), 'file')).toEqual({
      code: 'NOT_FOUND',
      message: 'file not found',
    });
    expect(failureFromFsError(err('EACCES'), 'file').code).toBe('PERMISSION_DENIED');
    expect(failureFromFsError(err('EPERM'), 'file').code).toBe('PERMISSION_DENIED');
    expect(failureFromFsError(err('EISDIR'), 'file').code).toBe('NOT_REGULAR_FILE');
    expect(failureFromFsError(err('ELOOP'), 'file').code).toBe('SYMLINK_LOOP');
    expect(failureFromFsError(err('EIO'), 'file')).toEqual({
      code: 'IO_ERROR',
      message: 'file: EIO: boom',
    });
    expect(failureFromFsError(new Error('odd'), 'file').code).toBe('IO_ERROR');
  });
});
