/**
 * Re-import benchmark: a fully made collection imported again, where every
 * thumbnail and cache item must be counted as skipped without decoding.
 * Reference, measured in the same run: a plain Node walk that stats every
 * source file and every output file (the least any re-run must do).
 *
 *   npm run bench:skip -- [N]     (N generated images, default 2000)
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { assertNodeVersion } from '../src-main/node-version.ts';
import { openNodeCore } from '../src-main/core/compose-node.ts';

assertNodeVersion('the benchmark');
const n = Number(process.argv[2] ?? 2000);
const root = mkdtempSync(join(tmpdir(), 'bench-skip-'));
const photos = join(root, 'photos');
const dataDir = join(root, 'data');

try {
  const base = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
    .jpeg()
    .toBuffer();
  mkdirSync(photos);
  for (let i = 0; i < n; i++) writeFileSync(join(photos, `img${i}.jpg`), base);

  const core = openNodeCore({ dataDir, logFile: null });
  try {
    await core.start();
    const first = await core.importPath(photos);
    await core.whenDone([first.id]);
    const t0 = performance.now();
    const again = await core.importPath(photos);
    const [done] = await core.whenDone([again.id]);
    const ms = performance.now() - t0;
    const s = done!.stages;

    const r0 = performance.now();
    let files = 0;
    for (const dir of [photos, join(dataDir, 'cache')]) {
      for (const f of readdirSync(dir, { recursive: true })) {
        statSync(join(dir, String(f)));
        files++;
      }
    }
    const refMs = performance.now() - r0;

    console.log(
      `${n} images, re-imported: thumbnail ${s.thumbnail.skipped}/${s.thumbnail.total} skipped, cache ${s.cache.skipped}/${s.cache.total} skipped`,
    );
    console.log(
      `albumen re-import:            ${ms.toFixed(0)} ms (${((ms / n) * 1000).toFixed(0)} ms per 1000 images)`,
    );
    console.log(`reference walk + stat (${files} files): ${refMs.toFixed(0)} ms`);
    console.log(`ratio albumen / reference:    ${(ms / refMs).toFixed(1)}`);
  } finally {
    await core.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
