/**
 * Watched-folder benchmark: how long a change on disk takes to show in the
 * library while the core watches (as in the app and `albumen serve`), on an
 * idle library of real-sized photos. Reference, measured in the same run: a
 * bare chokidar watcher on the same folder with the same write-finish
 * setting — the moment the change is known at all. Then a burst of 10,000
 * new files: how long until all are listed, and how much the main thread
 * stalls meanwhile (the event loop's delay, and a page request's answer time).
 *
 *   npm run bench:watch -- [BURST]     (BURST new files, default 10000)
 */
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { watch } from 'chokidar';
import { assertNodeVersion } from '../src-main/node-version.ts';
import { openNodeCore } from '../src-main/core/compose-node.ts';

assertNodeVersion('the benchmark');
const burst = Number(process.argv[2] ?? 10_000);
const root = mkdtempSync(join(tmpdir(), 'bench-watch-'));
const photos = join(root, 'photos');
const dataDir = join(root, 'data');

/** A photo-like JPEG (noise compresses like a photograph), 2400 × 1600. */
async function photo(seed: number): Promise<Buffer> {
  const w = 2400;
  const h = 1600;
  const noise = Buffer.alloc(w * h * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < noise.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    noise[i] = (x >>> 16) & 0xff;
  }
  return sharp(noise, { raw: { width: w, height: h, channels: 3 } })
    .blur(3)
    .jpeg({ quality: 88 })
    .toBuffer();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ok: () => boolean, ms = 60_000): Promise<number> {
  const t = performance.now();
  while (!ok()) {
    if (performance.now() - t > ms) throw new Error('timed out');
    await sleep(20);
  }
  return performance.now() - t;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  mkdirSync(photos, { recursive: true });
  for (let i = 0; i < 30; i++) await writeFile(join(photos, `IMG_${i}.jpg`), await photo(i));
  const spare = await Promise.all([100, 101, 102].map((i) => photo(i)));

  const core = openNodeCore({ dataDir, logFile: null, watch: true });
  // The reference: a bare watcher, write-finish as the core's (500 ms stable).
  let bare: number | null = null;
  const reference = watch(photos, {
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 500, pollInterval: 100 },
  });
  reference.on('all', () => {
    bare ??= performance.now();
  });
  await new Promise<void>((r) => reference.on('ready', () => r()));
  try {
    await core.start();
    const first = await core.importPath(photos);
    await core.whenDone([first.id]);
    const id = first.collectionId;
    await until(() => core.watchState(id).state === 'watching');
    await sleep(1500); // idle: the start-up walk is over
    const listed = (name: string) =>
      core.allImages(id).find((i) => i.entryPath === name && i.format !== null);
    const rows: [string, number, number, number | null][] = [];

    /** Makes a change, then measures until `shown()` and (optionally) `thumbed()`. */
    async function measure(
      what: string,
      change: () => Promise<void> | void,
      shown: () => boolean,
      thumbed?: () => boolean,
    ) {
      bare = null;
      const t = performance.now();
      await change();
      const ui = await until(shown);
      const thumb = thumbed ? (await until(thumbed)) + ui : null;
      await until(() => bare !== null);
      rows.push([what, ui, bare! - t, thumb]);
      await core.whenDone(core.unfinishedJobIds());
      await sleep(1200);
    }

    await measure(
      'add',
      () => writeFile(join(photos, 'new.jpg'), spare[0]!),
      () => listed('new.jpg') !== undefined,
      () => {
        const img = listed('new.jpg');
        return img !== undefined && core.outputFile(img.id, 'thumbnail') !== null;
      },
    );
    const renamedId = listed('IMG_1.jpg')!.id;
    await measure(
      'rename',
      () => renameSync(join(photos, 'IMG_1.jpg'), join(photos, 'renamed.jpg')),
      () => listed('renamed.jpg')?.id === renamedId && !listed('IMG_1.jpg'),
    );
    await measure(
      'delete',
      () => unlinkSync(join(photos, 'IMG_2.jpg')),
      () => !core.allImages(id).some((i) => i.entryPath === 'IMG_2.jpg'),
    );
    const modified = listed('IMG_3.jpg')!;
    await measure(
      'modify',
      () => writeFile(join(photos, 'IMG_3.jpg'), spare[1]!),
      () => (core.image(modified.id)?.version ?? 0) > modified.version,
      () => core.decoderAccepted(modified.id),
    );

    console.log(`watched changes on an idle library of ${core.imageCount(id)} photos`);
    console.log('change   in library  bare watcher  ratio   thumbnail');
    for (const [what, ui, ref, thumb] of rows) {
      console.log(
        `${what.padEnd(8)} ${fmt(ui).padStart(10)}  ${fmt(ref).padStart(12)}  ${(ui / ref).toFixed(2).padStart(5)}×  ${thumb === null ? '' : fmt(thumb)}`,
      );
    }
    console.log('targets: a change shows within 2 s; a new photo’s thumbnail within 3 s');

    // The burst: small files (the point is the listing, not the rendering).
    const small = await sharp({
      create: { width: 64, height: 48, channels: 3, background: '#468' },
    })
      .jpeg()
      .toBuffer();
    const template = join(root, 'small.jpg');
    await writeFile(template, small);
    const before = core.imageCount(id);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const idleT = performance.now();
    core.images(id, 200, 0);
    const idlePage = performance.now() - idleT;
    let worstPage = 0;
    let stopPages = false;
    const pages = (async () => {
      while (!stopPages) {
        const t = performance.now();
        core.images(id, 200, Math.floor(Math.random() * Math.max(1, core.imageCount(id) - 200)));
        worstPage = Math.max(worstPage, performance.now() - t);
        await sleep(100);
      }
    })();
    loop.enable();
    bare = null;
    const t0 = performance.now();
    const burstDir = join(photos, 'card');
    mkdirSync(burstDir);
    for (let i = 0; i < burst; i++) {
      if (i % 500 === 0) await sleep(0);
      copyFileSync(template, join(burstDir, `DSC_${i}.jpg`));
    }
    const copied = performance.now() - t0;
    const firstShown = await until(() => core.imageCount(id) > before);
    const allShown = await until(() => core.imageCount(id) >= before + burst, 600_000);
    loop.disable();
    stopPages = true;
    await pages;
    await core.whenDone(core.unfinishedJobIds());
    console.log(
      `burst of ${burst} files: copied in ${fmt(copied)}; first listed ${fmt(firstShown + copied)} ` +
        `after the copy began, all ${fmt(allShown + firstShown + copied)}; rendered by ` +
        `${fmt(performance.now() - t0)}`,
    );
    console.log(
      `main thread meanwhile: event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, ` +
        `max ${(loop.max / 1e6).toFixed(0)} ms; a page of 200 answered in ≤ ${worstPage.toFixed(1)} ms ` +
        `(idle: ${idlePage.toFixed(1)} ms, ${(worstPage / Math.max(0.01, idlePage)).toFixed(1)}×)`,
    );
  } finally {
    await reference.close();
    await core.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
