import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
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
import type { WalkEntry, WalkOptions } from './walk.ts';

const limits: InputLimits = { ...DEFAULT_SETTINGS.limits, maxFileBytes: 100_000 };
/** A walk that hangs (on a FIFO, a loop) fails the test instead of the suite. */
const HANG = { timeout: 10_000 };

async function walkAll(
  source: CollectionSource,
  opts: Partial<WalkOptions> = {},
): Promise<WalkEntry[]> {
  const all: WalkEntry[] = [];
  for await (const batch of walkCollection(source, {
    ...opts,
    batchSize: opts.batchSize ?? 100,
    limits: opts.limits ?? limits,
  })) {
    all.push(...batch);
  }
  return all;
}

const summary = (entries: WalkEntry[]): [string, string | null][] =>
  entries.map((e) => [e.entryPath, e.failure?.code ?? null]);

async function walkError(
  source: CollectionSource,
  opts: Partial<WalkOptions> = {},
): Promise<LibraryError> {
  const err: unknown = await walkAll(source, opts).then(
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
        ['ext', 'LINK_OUTSIDE_ROOT'],
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

  it(
    'takes stats after a descent, not before: a file deleted meanwhile is not listed',
    HANG,
    async () => {
      // The walk lstats members in chunks; stats fetched before it went down into a
      // folder (or a link to one) would be stale when it comes back.
      const { dir, cleanup } = await tempDir();
      try {
        for (const sub of ['a', 'sub']) {
          await mkdir(join(dir, sub));
          await writeFile(join(dir, sub, 'x.jpg'), 'x');
        }
        await symlink('sub', join(dir, 'alink'));
        for (const name of ['b.jpg', 'c.jpg', 'd.jpg']) await writeFile(join(dir, name), 'x');
        const seen: string[] = [];
        for await (const batch of walkCollection(
          { kind: 'folder', root: dir },
          { batchSize: 1, limits },
        )) {
          const path = batch[0]!.entryPath;
          seen.push(path);
          // Inside a folder listed before them: the files after it go.
          if (path === 'a/x.jpg') await rm(join(dir, 'b.jpg'));
          if (path === 'alink/x.jpg') await rm(join(dir, 'c.jpg'));
        }
        expect(seen).toEqual(['a/x.jpg', 'alink/x.jpg', 'd.jpg']);
      } finally {
        await cleanup();
      }
    },
  );

  it('refuses a batch size below 1', async () => {
    const gen = walkCollection({ kind: 'folder', root: '/' }, { batchSize: 0, limits });
    await expect(gen.next()).rejects.toThrow(RangeError);
  });
});

describe('walkCollection: symbolic links stay inside the root', () => {
  let base: Awaited<ReturnType<typeof tempDir>>;
  let root: string;

  beforeAll(async () => {
    base = await tempDir();
    root = join(base.dir, 'photos');
    const outside = join(base.dir, 'outside');
    await mkdir(join(root, 'sub'), { recursive: true });
    await mkdir(outside);
    const photo = await jpeg(16, 12);
    await writeFile(join(root, 'a.jpg'), photo);
    await writeFile(join(root, 'sub', 'c.jpg'), photo);
    await writeFile(join(outside, 'x.jpg'), photo);
    await symlink('a.jpg', join(root, 'in-file.jpg'));
    // Leaves the root by its text, comes back: its real target is inside.
    await symlink('../photos/sub', join(root, 'back-in'));
    await symlink('../outside/x.jpg', join(root, 'out-file.jpg'));
    await symlink(outside, join(root, 'out-dir'));
    await symlink('../../outside', join(root, 'sub', 'up-and-out'));
    // A link to an inside link that leads out: out, whatever the first step says.
    await symlink('out-file.jpg', join(root, 'via-inside.jpg'));
    await symlink('/proc', join(root, 'proc'));
    await symlink(root, join(base.dir, 'alias'));
  });

  afterAll(() => base.cleanup());

  const expected: [string, string | null][] = [
    ['a.jpg', null],
    ['back-in/c.jpg', null],
    ['in-file.jpg', null],
    ['out-dir', 'LINK_OUTSIDE_ROOT'],
    ['out-file.jpg', 'LINK_OUTSIDE_ROOT'],
    ['proc', 'LINK_OUTSIDE_ROOT'],
    // sub itself was walked as back-in (same folder); its own link still may not leave.
    ['via-inside.jpg', 'LINK_OUTSIDE_ROOT'],
  ];

  it('follows links whose real target is inside, lists the others as failed', HANG, async () => {
    const entries = await walkAll({ kind: 'folder', root });
    expect(summary(entries)).toEqual([
      ...expected.slice(0, 2),
      ['back-in/up-and-out', 'LINK_OUTSIDE_ROOT'],
      ...expected.slice(2),
    ]);
    const out = entries.find((e) => e.entryPath === 'out-dir')!;
    expect(out.failure?.message).toBe(
      `symbolic link to ${join(base.dir, 'outside')} leads outside the collection's folder (not followed)`,
    );
  });

  it('judges links by real paths, also when the root is reached through a link', HANG, async () => {
    const entries = await walkAll({ kind: 'folder', root: join(base.dir, 'alias') });
    expect(summary(entries)).toEqual([
      ...expected.slice(0, 2),
      ['back-in/up-and-out', 'LINK_OUTSIDE_ROOT'],
      ...expected.slice(2),
    ]);
  });

  it('follows links out only when the (future) option says so', HANG, async () => {
    const entries = await walkAll({ kind: 'folder', root }, { followLinksOutsideRoot: true });
    // The outside folder is walked once, under the first link that reaches it;
    // /proc stays out of every walk.
    expect(summary(entries)).toEqual([
      ['a.jpg', null],
      ['back-in/c.jpg', null],
      ['back-in/up-and-out/x.jpg', null],
      ['in-file.jpg', null],
      ['out-file.jpg', null],
      ['via-inside.jpg', null],
    ]);
  });
});

describe("walkCollection: Albumen's own folders are never walked", () => {
  let base: Awaited<ReturnType<typeof tempDir>>;
  let root: string;

  beforeAll(async () => {
    base = await tempDir();
    root = join(base.dir, 'pictures');
    const photo = await jpeg(16, 12);
    await mkdir(join(root, 'data', 'cache', '1', 'thumbnail', '0'), { recursive: true });
    await mkdir(join(root, 'more-cache', '1', 'cache', '0'), { recursive: true });
    await mkdir(join(root, 'trip'), { recursive: true });
    await writeFile(join(root, 'trip', 'beach.jpg'), photo);
    await writeFile(join(root, 'data', 'library.db'), 'SQLite format 3');
    await writeFile(
      join(root, 'data', 'cache', '1', 'thumbnail', '0', '1-0123456789abcdef.jpg'),
      photo,
    );
    await writeFile(join(root, 'more-cache', '1', 'cache', '0', '1-0123456789abcdef.jpg'), photo);
    // A link inside the root to an excluded folder does not get in either.
    await symlink('more-cache', join(root, 'shortcut'));
  });

  afterAll(() => base.cleanup());

  it('skips the excluded folders and everything below them, silently', HANG, async () => {
    const excluded = [join(root, 'data'), join(root, 'more-cache'), join(base.dir, 'gone')];
    expect(summary(await walkAll({ kind: 'folder', root }, { excluded }))).toEqual([
      ['trip/beach.jpg', null],
    ]);
    // Without the list, they are ordinary folders of images.
    expect(summary(await walkAll({ kind: 'folder', root }))).toEqual([
      ['data/cache/1/thumbnail/0/1-0123456789abcdef.jpg', null],
      ['more-cache/1/cache/0/1-0123456789abcdef.jpg', null],
      ['trip/beach.jpg', null],
    ]);
  });

  it('refuses a root inside an excluded folder', HANG, async () => {
    const err = await walkError(
      { kind: 'folder', root: join(root, 'data', 'cache') },
      { excluded: [join(root, 'data')] },
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('never scanned');
    expect((await walkError({ kind: 'folder', root: '/proc/self' })).code).toBe('INVALID_INPUT');
  });
});
