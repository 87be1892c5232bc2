import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src-shared/settings.ts';
import type { InputLimits } from '../../src-shared/settings.ts';
import type { CollectionSource } from './collection-source.ts';
import { LibraryError } from './library-error.ts';
import { isRoot, jpeg, mkfifo, png, tempDir } from './test-fixtures.ts';
import { walkCollection } from './walk.ts';
import type { WalkEntry } from './walk.ts';

const limits: InputLimits = { ...DEFAULT_SETTINGS.limits, maxFileBytes: 100_000 };
/** A walk that hangs (on a FIFO, a loop) fails the test instead of the suite. */
const HANG = { timeout: 10_000 };

async function walkAll(
  source: CollectionSource,
  opts: { batchSize?: number; limits?: InputLimits; signal?: AbortSignal } = {},
): Promise<WalkEntry[]> {
  const all: WalkEntry[] = [];
  for await (const batch of walkCollection(source, {
    batchSize: opts.batchSize ?? 100,
    limits: opts.limits ?? limits,
    signal: opts.signal,
  })) {
    all.push(...batch);
  }
  return all;
}

const summary = (entries: WalkEntry[]): [string, string | null][] =>
  entries.map((e) => [e.entryPath, e.failure?.code ?? null]);

async function walkError(source: CollectionSource): Promise<LibraryError> {
  const err: unknown = await walkAll(source).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LibraryError);
  return err as LibraryError;
}

describe('walkCollection over a folder of awkward files', () => {
  let base: Awaited<ReturnType<typeof tempDir>>;
  let root: string;
  let server: Server;
  let aJpgSize: number;

  beforeAll(async () => {
    base = await tempDir();
    root = join(base.dir, 'photos');
    const outside = join(base.dir, 'outside');
    const at = (p: string): string => join(root, p);
    await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
    await mkdir(at('dir'));
    await mkdir(at('.hiddendir'));
    await mkdir(at('__MACOSX'));
    await mkdir(outside);

    const photo = await jpeg(32, 24);
    aJpgSize = photo.length;
    await writeFile(at('a.jpg'), photo);
    await writeFile(at('b.png'), await png(8, 8));
    for (const n of [1, 2, 10]) await writeFile(at(`page${n}.jpg`), photo);
    await writeFile(at('sub/c.jpg'), photo);
    await writeFile(at('sub/deeper/d.jpg'), photo);
    await writeFile(at('dir/f.jpg'), photo);
    await writeFile(join(outside, 'x.jpg'), photo);
    await writeFile(at('zero.jpg'), '');
    await writeFile(at('notes.jpg'), 'these are notes, not a picture\n');
    await writeFile(at('photo.dat'), await png(4, 4));
    await writeFile(at('readme.txt'), 'hello');
    await writeFile(at('sidecar.xmp'), '<x:xmpmeta/>');
    await writeFile(
      at('movie.mp4'),
      Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'),
    );
    await writeFile(at('.hidden.jpg'), photo);
    await writeFile(at('.hiddendir/e.jpg'), photo);
    await writeFile(at('__MACOSX/._a.jpg'), photo);
    await writeFile(at('Thumbs.db'), 'cache');
    await writeFile(at('big.jpg'), Buffer.alloc(200_000, 7));
    mkfifo(at('pipe.jpg'));
    mkfifo(at('pipe'));
    mkfifo(at('.hiddenpipe'));
    await symlink('loop-b', at('loop-a'));
    await symlink('loop-a', at('loop-b'));
    await symlink('self', at('self'));
    await symlink('missing-target.jpg', at('dangling.jpg'));
    await symlink('a.jpg', at('link-to-a.jpg'));
    await symlink('pipe', at('link-to-pipe'));
    await symlink('..', at('dir/sub'));
    await symlink(outside, at('ext'));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(at('sock'), resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await base.cleanup();
  });

  it(
    'lists every candidate once, in natural depth-first order, with the expected failures',
    HANG,
    async () => {
      const entries = await walkAll({ kind: 'folder', root });
      expect(summary(entries)).toEqual([
        ['a.jpg', null],
        ['b.png', null],
        ['big.jpg', 'FILE_TOO_LARGE'],
        ['dangling.jpg', 'DANGLING_LINK'],
        ['dir/f.jpg', null],
        ['dir/sub', 'SYMLINK_LOOP'],
        ['ext/x.jpg', null],
        ['link-to-a.jpg', null],
        ['link-to-pipe', 'NOT_REGULAR_FILE'],
        ['loop-a', 'SYMLINK_LOOP'],
        ['loop-b', 'SYMLINK_LOOP'],
        ['notes.jpg', null],
        ['page1.jpg', null],
        ['page2.jpg', null],
        ['page10.jpg', null],
        ['photo.dat', null],
        ['pipe', 'NOT_REGULAR_FILE'],
        ['pipe.jpg', 'NOT_REGULAR_FILE'],
        ['self', 'SYMLINK_LOOP'],
        ['sock', 'NOT_REGULAR_FILE'],
        ['sub/c.jpg', null],
        ['sub/deeper/d.jpg', null],
        ['zero.jpg', null],
      ]);
    },
  );

  it('gives readable reasons and the sizes of files (and of link targets)', HANG, async () => {
    const byPath = new Map((await walkAll({ kind: 'folder', root })).map((e) => [e.entryPath, e]));
    expect(byPath.get('pipe.jpg')?.failure?.message).toBe('named pipe (FIFO), not a regular file');
    expect(byPath.get('sock')?.failure?.message).toBe('socket, not a regular file');
    expect(byPath.get('link-to-pipe')?.failure?.message).toBe(
      'symbolic link to a named pipe (FIFO), not a regular file',
    );
    expect(byPath.get('dangling.jpg')?.failure?.message).toContain('missing-target.jpg');
    expect(byPath.get('big.jpg')?.failure?.message).toBe('195 KB is over the limit of 98 KB');
    expect(byPath.get('dir/sub')?.failure?.message).toContain('loop');
    expect(byPath.get('a.jpg')?.size).toBe(aJpgSize);
    expect(byPath.get('link-to-a.jpg')?.size).toBe(aJpgSize);
    expect(byPath.get('zero.jpg')?.size).toBe(0);
    expect(byPath.get('a.jpg')?.mtimeMs).toBeGreaterThan(Date.now() - 600_000);
  });

  it('yields batches of at most batchSize that add up to the whole walk', HANG, async () => {
    const whole = await walkAll({ kind: 'folder', root });
    const sizes: number[] = [];
    const joined: WalkEntry[] = [];
    for await (const batch of walkCollection({ kind: 'folder', root }, { batchSize: 5, limits })) {
      sizes.push(batch.length);
      joined.push(...batch);
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(joined).toEqual(whole);
  });

  it('stops with the abort reason once the signal is aborted', HANG, async () => {
    const controller = new AbortController();
    const seen: WalkEntry[] = [];
    const run = (async () => {
      for await (const batch of walkCollection(
        { kind: 'folder', root },
        { batchSize: 2, limits, signal: controller.signal },
      )) {
        seen.push(...batch);
        controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(2);
  });
});

describe('walkCollection edge cases', () => {
  it('throws NOT_FOUND when the folder is missing or is not a folder', HANG, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      expect((await walkError({ kind: 'folder', root: join(dir, 'gone') })).code).toBe('NOT_FOUND');
      await writeFile(join(dir, 'file.jpg'), 'x');
      expect((await walkError({ kind: 'folder', root: join(dir, 'file.jpg') })).code).toBe(
        'NOT_FOUND',
      );
    } finally {
      await cleanup();
    }
  });

  // Skipped as root (CI runs as root): root reads every file, so no permission error can happen.
  it.skipIf(isRoot)(
    'throws PERMISSION_DENIED for an unreadable root, reports an unreadable subfolder',
    HANG,
    async () => {
      const { dir, cleanup } = await tempDir();
      try {
        await mkdir(join(dir, 'root', 'locked'), { recursive: true });
        await writeFile(join(dir, 'root', 'ok.jpg'), 'x');
        await chmod(join(dir, 'root', 'locked'), 0o000);
        expect(summary(await walkAll({ kind: 'folder', root: join(dir, 'root') }))).toEqual([
          ['locked', 'PERMISSION_DENIED'],
          ['ok.jpg', null],
        ]);
        await chmod(join(dir, 'root'), 0o000);
        expect((await walkError({ kind: 'folder', root: join(dir, 'root') })).code).toBe(
          'PERMISSION_DENIED',
        );
        await chmod(join(dir, 'root'), 0o755);
        await chmod(join(dir, 'root', 'locked'), 0o755);
      } finally {
        await cleanup();
      }
    },
  );

  it('walks a very deep tree without recursion trouble', HANG, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const segments = Array.from({ length: 300 }, () => 'd');
      await mkdir(join(dir, ...segments), { recursive: true });
      await writeFile(join(dir, ...segments, 'deep.jpg'), 'x');
      await writeFile(join(dir, 'top.jpg'), 'x');
      const entries = await walkAll({ kind: 'folder', root: dir });
      expect(entries.map((e) => e.entryPath)).toEqual([
        `${segments.join('/')}/deep.jpg`,
        'top.jpg',
      ]);
    } finally {
      await cleanup();
    }
  });

  it('reports names that are not valid UTF-8 instead of reading a mangled path', HANG, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const bad = Buffer.concat([
        Buffer.from(`${dir}/f`),
        Buffer.from([0xff]),
        Buffer.from('.jpg'),
      ]);
      await writeFile(bad, 'x');
      await writeFile(join(dir, 'g.jpg'), 'x');
      expect(summary(await walkAll({ kind: 'folder', root: dir }))).toEqual([
        ['f\uFFFD.jpg', 'INVALID_ENTRY_NAME'],
        ['g.jpg', null],
      ]);
    } finally {
      await cleanup();
    }
  });

  it('refuses a batch size below 1', async () => {
    const gen = walkCollection({ kind: 'folder', root: '/' }, { batchSize: 0, limits });
    await expect(gen.next()).rejects.toThrow(RangeError);
  });
});
