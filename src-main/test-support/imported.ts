/**
 * A folder imported as a user would (a core on a fresh data folder, the
 * service over it, the import's job run to its end), for tests that then
 * look at what the contract says of each image.
 */
import type { ImageView } from '../../src-shared/api.ts';
import type { JobView } from '../../src-shared/domain.ts';
import { AppService } from '../app/app-service.ts';
import type { AlbumenCore } from '../core/albumen-core.ts';
import { openNodeCore } from '../core/compose-node.ts';

export interface Imported {
  core: AlbumenCore;
  service: AppService;
  job: JobView;
  /** The collection's images by file name, in the default order. */
  byName: Map<string, ImageView>;
}

/** Imports `dir` into a library in `dataDir`, runs the job, then hands it all to `use`. */
export async function withImported(
  dataDir: string,
  dir: string,
  use: (imported: Imported) => Promise<void> | void,
): Promise<void> {
  const core = openNodeCore({ dataDir, logFile: null, pollMs: 100 });
  const service = new AppService(core);
  try {
    const job = await core.importPath(dir);
    await core.start();
    await core.whenDone([job.id]);
    const page = await service.call('listImages', {
      collectionId: job.collectionId,
      offset: 0,
      limit: 500,
    });
    if (!page.ok) throw new Error(page.error.message);
    const byName = new Map(page.value.items.map((i) => [i.name, i]));
    await use({ core, service, job: core.job(job.id) ?? job, byName });
  } finally {
    service.dispose();
    await core.close();
  }
}
