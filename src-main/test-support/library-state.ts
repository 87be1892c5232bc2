/**
 * What the scenario tests of the core look at: a collection's images and the
 * identity of their output files, the files below a folder, and a wait for a
 * job or a condition.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AlbumenCore } from '../core/albumen-core.ts';
import type { JobView } from '../../src-shared/domain.ts';

/** Imports `path` (a folder or an archive), starts the core and waits for the job to end. */
export async function importAndWait(core: AlbumenCore, path: string): Promise<JobView> {
  const job = await core.importPath(path);
  await core.start();
  const [done] = await core.whenDone([job.id]);
  return done!;
}

/** Waits until `ok()`, failing with `what` past `ms`; resolves with the time it took. */
export async function until(what: string, ok: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!ok()) {
    expect(Date.now() - t0, what).toBeLessThan(ms);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

/** Every file below `dir`, relative, sorted. */
export function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

/**
 * A collection as the library has it: entry path → image id, and image id →
 * the identity of each output file (`variant:inode:mtime`), so that a file
 * kept is told from one made again at the same path.
 */
export function snapshot(
  core: AlbumenCore,
  collectionId: number,
): { byPath: Map<string, number>; files: Map<number, string[]> } {
  const byPath = new Map<string, number>();
  const files = new Map<number, string[]>();
  for (const img of core.allImages(collectionId, 100_000)) {
    byPath.set(img.entryPath, img.id);
    files.set(
      img.id,
      core
        .outputsOf(img.id)
        .map((o) => {
          const st = statSync(o.path);
          return `${o.variant}:${st.ino}:${st.mtimeMs}`;
        })
        .sort(),
    );
  }
  return { byPath, files };
}
