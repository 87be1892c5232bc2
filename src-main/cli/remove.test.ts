/**
 * Removing a collection, killed with SIGKILL at each crash point of the
 * removal: after a restart, no row and no file of that collection is left,
 * every other collection is intact, and the photos themselves are untouched.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useTempDir } from '../test-support/temp-dir.ts';
import { writePhotos } from '../test-support/fixtures.ts';
import { filesBelow, inspectDataDir } from '../test-support/inspect-data-dir.ts';
import { Store } from '../store/store.ts';
import { runCli } from '../test-support/cli-run.ts';

const tempDir = useTempDir('albumen-remove-');

const cli = runCli;

/** Rows of a collection left in the store, by table. */
function rowsOf(dataDir: string, collectionId: number) {
  const store = Store.open(join(dataDir, 'library.db'));
  try {
    return {
      collection: store.collections.get(collectionId) !== undefined,
      images: store.images.countOf(collectionId),
      queued: store.fileDeletions.count(),
    };
  } finally {
    store.close();
  }
}

describe('albumen remove', () => {
  for (const crashAt of [null, 'in-removal:1', 'in-removal:2', 'mid-file-deletion:3']) {
    it(`removes a collection and its previews${crashAt ? `, killed at ${crashAt} and restarted` : ''}`, async () => {
      const root = tempDir();
      const keep = join(root, 'keep');
      const drop = join(root, 'drop me');
      await writePhotos(keep, 3, { width: 320, height: 240 });
      await writePhotos(drop, 4, { width: 320, height: 240 });
      const dataDir = join(root, 'data');
      const base = ['--data-dir', dataDir];
      expect((await cli(['import', keep, drop, '--wait', ...base])).code).toBe(0);
      const cache = join(dataDir, 'cache');
      const keptFiles = filesBelow(cache).filter((f) => f.includes(`${join(cache, '1')}/`));
      expect(keptFiles).toHaveLength(6);
      expect(filesBelow(join(cache, '2'))).toHaveLength(8);

      const removed = await cli(
        ['remove', drop, ...base],
        crashAt ? { ALBUMEN_CRASH_AT: crashAt } : {},
      );
      if (crashAt) {
        expect(removed.signal, removed.stderr).toBe('SIGKILL');
        // Hidden from the moment the removal began.
        const listed = await cli(['collections', ...base]);
        expect(listed.stdout).not.toContain('drop me');
        expect((await cli(['run', ...base])).code).toBe(0);
      } else {
        expect(removed.code, removed.stderr).toBe(0);
        expect(removed.stdout).toMatch(
          /removed collection 2 .*drop me: 4 images, 8 preview files deleted/,
        );
      }
      expect(rowsOf(dataDir, 2)).toEqual({ collection: false, images: 0, queued: 0 });
      expect(filesBelow(join(cache, '2'))).toEqual([]);
      expect(existsSync(join(cache, '2')), 'empty folders of the collection').toBe(false);
      expect(filesBelow(cache).filter((f) => f.includes(`${join(cache, '1')}/`))).toEqual(
        keptFiles,
      );
      // The user's photos are never touched.
      expect(readdirSync(drop).sort()).toEqual([
        'photo1.jpg',
        'photo2.jpg',
        'photo3.jpg',
        'photo4.jpg',
      ]);
      const report = inspectDataDir(dataDir, { idle: true });
      expect(report.problems).toEqual([]);
      expect((await cli(['collections', ...base])).stdout).toMatch(
        /^collection 1 .*keep \(folder\): 3 images$/m,
      );
    }, 90_000);
  }

  for (const crashAt of [null, 'in-removal:1', 'in-removal:2']) {
    it(`keeps the preview files with --keep-outputs${crashAt ? `, killed at ${crashAt} and restarted` : ''}`, async () => {
      const root = tempDir();
      const drop = join(root, 'drop me');
      await writePhotos(drop, 3, { width: 320, height: 240 });
      const dataDir = join(root, 'data');
      const base = ['--data-dir', dataDir];
      expect((await cli(['import', drop, '--wait', ...base])).code).toBe(0);
      const cache = join(dataDir, 'cache');
      const files = filesBelow(cache);
      expect(files).toHaveLength(6);
      const removed = await cli(
        ['remove', drop, '--keep-outputs', ...base],
        crashAt ? { ALBUMEN_CRASH_AT: crashAt } : {},
      );
      if (crashAt) {
        expect(removed.signal, removed.stderr).toBe('SIGKILL');
        // The next process finishes the removal as it was asked for.
        expect((await cli(['run', ...base])).code).toBe(0);
      } else {
        expect(removed.code, removed.stderr).toBe(0);
      }
      expect(rowsOf(dataDir, 1)).toEqual({ collection: false, images: 0, queued: 0 });
      expect(filesBelow(cache)).toEqual(files);
    }, 90_000);
  }
});
