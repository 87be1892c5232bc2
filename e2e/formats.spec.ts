import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { AlbumenPage, HostProcess, workDir } from './app.ts';

/**
 * Formats a phone or the web brings: a HEIC gets a thumbnail like any photo,
 * and an animated GIF is badged in the grid and plays in the viewer.
 */
let host: HostProcess;
let cleanup: () => void;
let photos: string;

test.beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = workDir());
  photos = join(dir, 'formats');
  mkdirSync(photos);
  const colours = ['#e00000', '#00c000', '#0000e0', '#e0e0e0'];
  const frames = await Promise.all(
    colours.map((background) =>
      sharp({ create: { width: 320, height: 240, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
  const gif = await sharp(frames, { join: { animated: true } })
    .gif({ delay: [300, 300, 300, 300], loop: 0 })
    .toBuffer();
  writeFileSync(join(photos, 'a-animation.gif'), gif);
  copyFileSync(
    join(import.meta.dirname, '../src-worker/test-fixtures/quadrants.heic'),
    join(photos, 'b-phone.heic'),
  );
  host = new HostProcess(dir);
  await host.start();
});

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('a HEIC has a thumbnail; an animated GIF is badged and plays in the viewer', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.openJobs();
  await app.importPath(photos);
  await expect(app.jobCard()).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await app.openJobs();

  const heic = page.getByAltText('b-phone.heic', { exact: true });
  await expect.poll(() => heic.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(96);
  const badge = page.getByTestId('thumb-animated');
  await expect(badge).toHaveCount(1);
  await expect(badge).toHaveAttribute('title', 'Animated: 4 frames, 1.2 s a loop');
  await page.screenshot({ path: info.outputPath('grid.png') });

  await app.thumbs().first().dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer.getByTestId('viewer-name')).toHaveText('a-animation.gif');
  // The picture on screen changes by itself: its centre pixel, from screenshots.
  const seen = new Set<string>();
  await expect
    .poll(
      async () => {
        const shot = await page.screenshot();
        const { width, height } = page.viewportSize() ?? { width: 0, height: 0 };
        const { data, info: raw } = await sharp(shot)
          .resize(width, height)
          .extract({ left: width >> 1, top: height >> 1, width: 1, height: 1 })
          .raw()
          .toBuffer({ resolveWithObject: true });
        const [r = 0, g = 0, b = 0] = data.subarray(0, raw.channels);
        seen.add(`${Math.round(r / 128)}${Math.round(g / 128)}${Math.round(b / 128)}`);
        return seen.size;
      },
      { timeout: 15_000, intervals: [150] },
    )
    .toBeGreaterThanOrEqual(3);
  await page.screenshot({ path: info.outputPath('viewer-animation.png') });
});

test('a thumbnail is never stretched past its pixels on a 2x screen', async ({ browser }, info) => {
  const context = await browser.newContext({ deviceScaleFactor: 2 });
  const page = await context.newPage();
  try {
    const app = new AlbumenPage(page);
    await app.open(host.url);
    // On its own too: importing the folder again rescans the collection.
    await app.importPath(photos);
    await app.collection('formats').click();
    // The GIF's thumbnail is 300 x 225 pixels: 150 CSS pixels wide at 2x, and
    // scale-down shows it at most that large.
    const thumb = page.getByAltText('a-animation.gif', { exact: true });
    await expect.poll(() => thumb.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(150);
    await page.screenshot({ path: info.outputPath('grid-2x.png') });
  } finally {
    await context.close();
  }
});

test("a TIFF at 100 % shows its own pixels, not the view image's", async ({ page }, info) => {
  const dir = join(photos, '..', 'scans');
  mkdirSync(dir, { recursive: true });
  // 2600 x 1800: wider than the 1920 view image.
  const tiff = await sharp({
    create: {
      width: 2600,
      height: 1800,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .tiff()
    .toBuffer();
  writeFileSync(join(dir, 'scan.tiff'), tiff);
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.openJobs();
  await app.importPath(dir);
  await expect(app.collection('scans')).toBeVisible();
  await app.collection('scans').click();
  await expect(page.getByAltText('scan.tiff', { exact: true })).toBeVisible({ timeout: 60_000 });
  await app.thumbs().first().dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer.getByTestId('viewer-name')).toHaveText('scan.tiff');
  await page.keyboard.press('1');
  await expect(viewer.getByTestId('zoom-level')).toHaveText('100%');
  // The picture drawn is the full-size rendition, 2600 pixels wide.
  await expect
    .poll(
      () =>
        page.evaluate(() =>
          [...document.querySelectorAll<HTMLImageElement>('[data-testid="viewer-img"]')]
            .filter((i) => !i.classList.contains('hidden') && i.complete)
            .map((i) => i.naturalWidth),
        ),
      { timeout: 30_000 },
    )
    .toContain(2600);
  await page.screenshot({ path: info.outputPath('tiff-1to1.png') });
});
