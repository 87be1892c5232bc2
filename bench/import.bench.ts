/**
 * Import benchmark: Albumen's whole pipeline (scan, thumbnail, cache) against
 * `vipsthumbnail` making the same two sizes with the same parallelism, measured
 * in the same run on the same files. Reports rates and their ratio.
 *
 *   npm run bench -- DIR [--threads N]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, basename } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { assertNodeVersion } from '../src-main/node-version.ts';
import { openNodeCore } from '../src-main/core/compose-node.ts';
import { DEFAULT_SETTINGS } from '../src-shared/settings.ts';

assertNodeVersion('the benchmark');
const run = promisify(execFile);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: 'string' } },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: npm run bench -- DIR [--threads N]');
  process.exit(2);
}
const threads = Number(values.threads ?? availableParallelism());

const IMAGE = /\.(jpe?g|png|webp|tiff?)$/i;
const files = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => IMAGE.test(f) && !basename(f).startsWith('.') && statSync(join(dir, f)).isFile())
  .map((f) => join(dir, f));
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
console.log(`${files.length} images, ${(bytes / 1e6).toFixed(1)} MB, ${threads} threads`);
// Warm the page cache so neither side pays for the first read.
for (const f of files) readFileSync(f);

async function vips(): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'bench-vips-'));
  const t = DEFAULT_SETTINGS.render.thumbnail;
  const c = DEFAULT_SETTINGS.render.cache;
  const jobs: string[][] = [];
  files.forEach((f, i) => {
    mkdirSync(join(out, String(i)));
    jobs.push([
      f,
      '-s',
      `${t.maxWidth}x${t.maxHeight}>`,
      '-o',
      join(out, String(i), `t.jpg[Q=${t.quality},strip]`),
    ]);
    jobs.push([
      f,
      '-s',
      `${c.maxWidth}x${c.maxHeight}>`,
      '-o',
      join(out, String(i), `c.jpg[Q=${c.quality},strip]`),
    ]);
  });
  const t0 = performance.now();
  let next = 0;
  // One libvips thread per process, `threads` processes: the same parallelism as the pool.
  const env = { ...process.env, VIPS_CONCURRENCY: '1' };
  await Promise.all(
    Array.from({ length: threads }, async () => {
      while (next < jobs.length) {
        const args = jobs[next++]!;
        await run('vipsthumbnail', args, { env }).catch((e: Error) =>
          console.error(`vipsthumbnail: ${e.message.split('\n')[0]}`),
        );
      }
    }),
  );
  const ms = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

async function albumen(): Promise<{ ms: number; done: number; failed: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-albumen-'));
  const core = openNodeCore({ dataDir, logFile: null });
  try {
    core.settingsStore.update({ workers: threads });
    await core.start();
    const t0 = performance.now();
    const job = await core.importPath(dir!);
    const [done] = await core.whenDone([job.id]);
    const ms = performance.now() - t0;
    return {
      ms,
      done: done!.stages.cache.done,
      failed: done!.stages.scan.failed + done!.stages.cache.failed,
    };
  } finally {
    await core.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const vipsMs = await vips();
const a = await albumen();
const rate = (ms: number) => (files.length / (ms / 1000)).toFixed(2);
console.log(
  `vipsthumbnail (2 sizes, 2 decodes per image): ${(vipsMs / 1000).toFixed(2)} s, ${rate(vipsMs)} photos/s`,
);
console.log(
  `albumen import (scan + 2 sizes, 1 decode):    ${(a.ms / 1000).toFixed(2)} s, ${rate(a.ms)} photos/s (${a.done} done, ${a.failed} failed)`,
);
console.log(`ratio albumen / vipsthumbnail (rate):          ${(vipsMs / a.ms).toFixed(2)}`);
