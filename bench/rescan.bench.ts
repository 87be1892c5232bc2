/**
 * Rescan benchmark: an unchanged folder walked again, which must read no file
 * contents and make no item rows. Reference, measured in the same run: a plain
 * `find DIR -printf '%s %T@\n'` over the same tree (the least any rescan must
 * do: list every file with its size and time). Also prints the store's size
 * before and after five rescans: it must not grow with them.
 *
 * With `--archive` the same images are the entries of one ZIP, and the
 * reference is the walk alone (reading the central directory): what skipping
 * the walk of an unchanged archive would save.
 *
 *   npm run bench:rescan -- [N] [--archive]     (N generated images, default 20000)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { assertNodeVersion } from '../src-main/node-version.ts';
import { openNodeCore } from '../src-main/core/compose-node.ts';
import { walkCollection } from '../src-main/library/walk.ts';
import { zipOf } from '../src-main/test-support/fixtures.ts';
import { DEFAULT_SETTINGS } from '../src-shared/settings.ts';

assertNodeVersion('the benchmark');
const args = process.argv.slice(2);
const archive = args.includes('--archive');
const n = Number(args.find((a) => !a.startsWith('--')) ?? 20000);
const root = mkdtempSync(join(tmpdir(), 'bench-rescan-'));
const photos = join(root, 'photos');
const zip = join(root, 'photos.cbz');
const dataDir = join(root, 'data');

/** library.db with its WAL, in MB. */
function storeMb(): string {
  let bytes = 0;
  for (const f of ['library.db', 'library.db-wal']) {
    bytes += statSync(join(dataDir, f), { throwIfNoEntry: false })?.size ?? 0;
  }
  return (bytes / 1e6).toFixed(1);
}

/** The reference: listing every file with its size and time, or walking the archive alone. */
async function referenceMs(): Promise<number> {
  const t = performance.now();
  if (archive) {
    const source = { kind: 'archive', root: zip } as const;
    const limits = DEFAULT_SETTINGS.limits;
    for await (const batch of walkCollection(source, { batchSize: 256, limits })) void batch;
  } else {
    execFileSync('find', [photos, '-printf', '%s %T@\\n'], { maxBuffer: 1 << 30 });
  }
  return performance.now() - t;
}
const reference = archive ? 'walk alone' : 'find';

try {
  // Distinct files (a byte differs), in folders of 500 as cameras make them.
  const base = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
    .jpeg()
    .toBuffer();
  const entries: [string, Buffer][] = [];
  for (let i = 0; i < n; i++) {
    const dir = `DCIM-${Math.floor(i / 500)}`;
    if (i % 500 === 0 && !archive) mkdirSync(join(photos, dir), { recursive: true });
    const data = Buffer.from(base);
    data.writeUInt32BE(i, data.length - 8);
    if (archive) entries.push([`${dir}/IMG_${i}.jpg`, data]);
    else writeFileSync(join(photos, dir, `IMG_${i}.jpg`), data);
  }
  if (archive) writeFileSync(zip, await zipOf(entries));

  const core = openNodeCore({ dataDir, logFile: null });
  try {
    await core.start();
    const t = performance.now();
    const first = await core.importPath(archive ? zip : photos);
    await core.whenDone([first.id]);
    console.log(`${n} images imported in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const before = storeMb();
    const ratios: number[] = [];
    for (let run = 1; run <= 5; run++) {
      const ref = await referenceMs();
      const t0 = performance.now();
      const [job] = core.rescan([first.collectionId]);
      const [done] = await core.whenDone([job!.id]);
      const ms = performance.now() - t0;
      const ref2 = await referenceMs();
      const refMs = Math.min(ref, ref2);
      const s = done!.stages;
      const items = s.scan.total + s.thumbnail.total + s.cache.total;
      ratios.push(ms / refMs);
      console.log(
        `rescan ${run}: ${ms.toFixed(0)} ms, ${reference}: ${refMs.toFixed(0)} ms, ` +
          `ratio ${(ms / refMs).toFixed(1)}, item rows made: ${items}`,
      );
    }
    console.log(`store: ${before} MB after the import, ${storeMb()} MB after five rescans`);
    console.log(`ratio rescan / ${reference} (best of five): ${Math.min(...ratios).toFixed(1)}`);
  } finally {
    await core.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
