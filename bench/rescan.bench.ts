/**
 * Rescan benchmark: an unchanged folder walked again, which must read no file
 * contents and make no item rows. Reference, measured in the same run: a plain
 * `find DIR -printf '%s %T@\n'` over the same tree (the least any rescan must
 * do: list every file with its size and time). Also prints the store's size
 * before and after five rescans: it must not grow with them.
 *
 *   npm run bench:rescan -- [N]     (N generated images, default 20000)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { assertNodeVersion } from '../src-main/node-version.ts';
import { openNodeCore } from '../src-main/core/compose-node.ts';

assertNodeVersion('the benchmark');
const n = Number(process.argv[2] ?? 20000);
const root = mkdtempSync(join(tmpdir(), 'bench-rescan-'));
const photos = join(root, 'photos');
const dataDir = join(root, 'data');

/** library.db with its WAL, in MB. */
function storeMb(): string {
  let bytes = 0;
  for (const f of ['library.db', 'library.db-wal']) {
    bytes += statSync(join(dataDir, f), { throwIfNoEntry: false })?.size ?? 0;
  }
  return (bytes / 1e6).toFixed(1);
}

function findMs(): number {
  const t = performance.now();
  execFileSync('find', [photos, '-printf', '%s %T@\\n'], { maxBuffer: 1 << 30 });
  return performance.now() - t;
}

try {
  // Distinct files (a byte differs), in folders of 500 as cameras make them.
  const base = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
    .jpeg()
    .toBuffer();
  for (let i = 0; i < n; i++) {
    const dir = join(photos, `DCIM-${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(dir, { recursive: true });
    const data = Buffer.from(base);
    data.writeUInt32BE(i, data.length - 8);
    writeFileSync(join(dir, `IMG_${i}.jpg`), data);
  }

  const core = openNodeCore({ dataDir, logFile: null });
  try {
    await core.start();
    const t = performance.now();
    const first = await core.importPath(photos);
    await core.whenDone([first.id]);
    console.log(`${n} images imported in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const before = storeMb();
    const ratios: number[] = [];
    for (let run = 1; run <= 5; run++) {
      const ref = findMs();
      const t0 = performance.now();
      const [job] = core.rescan([first.collectionId]);
      const [done] = await core.whenDone([job!.id]);
      const ms = performance.now() - t0;
      const ref2 = findMs();
      const refMs = Math.min(ref, ref2);
      const s = done!.stages;
      const items = s.scan.total + s.thumbnail.total + s.cache.total;
      ratios.push(ms / refMs);
      console.log(
        `rescan ${run}: ${ms.toFixed(0)} ms, find: ${refMs.toFixed(0)} ms, ` +
          `ratio ${(ms / refMs).toFixed(1)}, item rows made: ${items}`,
      );
    }
    console.log(`store: ${before} MB after the import, ${storeMb()} MB after five rescans`);
    console.log(`ratio rescan / find (best of five): ${Math.min(...ratios).toFixed(1)}`);
  } finally {
    await core.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
