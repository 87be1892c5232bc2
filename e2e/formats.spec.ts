import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { blockImage, meanDifference } from '../src-shared/test-support/images.ts';
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

/**
 * How far what the screen shows (a screenshot crop of 256 x 256 CSS pixels
 * at the centre of the viewer) is from the source's own pixels at the same
 * place, given where the picture's top-left corner is on screen. Also the
 * distance to the source 16 pixels off, which a right answer is far from.
 */
async function screenVsSource(
  page: Page,
  source: string,
  picture: { x: number; y: number },
): Promise<{ here: number; shifted: number }> {
  const stage = await page.locator('.viewer-stage').boundingBox();
  if (!stage) throw new Error('no viewer stage');
  const size = 256;
  const x = Math.round(stage.x + stage.width / 2 - size / 2);
  const y = Math.round(stage.y + stage.height / 2 - size / 2);
  const shot = await page.screenshot({ clip: { x, y, width: size, height: size } });
  const crop = (dx: number) =>
    sharp(source)
      .extract({
        left: Math.round(x - picture.x) + dx,
        top: Math.round(y - picture.y),
        width: size,
        height: size,
      })
      .png()
      .toBuffer();
  return {
    here: await meanDifference(shot, await crop(0)),
    shifted: await meanDifference(shot, await crop(16)),
  };
}

/** Imports `dir` (collection `collection`), opens its one image `name` in the viewer at 1:1. */
async function openAtActualPixels(page: Page, dir: string, collection: string, name: string) {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.openJobs();
  await app.importPath(dir);
  await app.collection(collection).click();
  await expect(page.getByAltText(name, { exact: true })).toBeVisible({ timeout: 60_000 });
  await app.thumbs().first().dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer.getByTestId('viewer-name')).toHaveText(name);
  await page.keyboard.press('1');
  await expect(viewer.getByTestId('zoom-level')).toHaveText('100%');
  return viewer;
}

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('a HEIC has a thumbnail; an animated GIF is badged and plays in the viewer', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.importAndWait(photos);

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

/**
 * A GIF built to exhaust memory when played: a 1000 x 1000 canvas and 1001
 * frames of one pixel each (a billion pixels once drawn), a few kB on disk.
 */
function gifBomb(frames: number): Buffer {
  const parts = [
    Buffer.from('GIF89a', 'latin1'),
    // Screen 1000 x 1000, a global table of two colours (black, white).
    Buffer.from([0xe8, 0x03, 0xe8, 0x03, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]),
    Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0]),
  ];
  for (let i = 0; i < frames; i++) {
    parts.push(
      Buffer.from([0x21, 0xf9, 0x04, 0, 10, 0, 0, 0]),
      // A 1 x 1 frame at (i mod 1000, 0): LZW of one pixel of colour 1.
      Buffer.from([0x2c, (i % 1000) & 0xff, (i % 1000) >> 8, 0, 0, 1, 0, 1, 0, 0]),
      Buffer.from([2, 2, 0x4c, 0x01, 0]),
    );
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

test('an animation too large to play is shown still, saying why', async ({ page }) => {
  const dir = join(photos, '..', 'bombs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bomb.gif'), gifBomb(1001));
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.openJobs();
  await app.importPath(dir);
  await app.collection('bombs').click();
  await expect(page.getByAltText('bomb.gif', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('thumb-animated')).toHaveCount(1);
  await app.thumbs().first().dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer.getByTestId('viewer-still-note')).toHaveText(
    'Shown still: 1,001 frames of 1000 × 1000 are too many to play',
  );
  // The still view image, never the GIF itself.
  await expect(viewer.getByTestId('viewer-img')).toHaveAttribute('src', /\/cache\//);
  await expect(viewer.getByTestId('viewer-img-next')).toHaveCount(0);
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
  const tiff = await blockImage(2600, 1800).tiff().toBuffer();
  writeFileSync(join(dir, 'scan.tiff'), tiff);
  await openAtActualPixels(page, dir, 'scans', 'scan.tiff');
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
  // And what it shows at the centre is the TIFF's own pixels there, as sharp decodes them.
  const drawn = await page
    .locator(
      '[data-testid="viewer-img"]:not(.hidden), [data-testid="viewer-img-next"]:not(.hidden)',
    )
    .last()
    .boundingBox();
  if (!drawn) throw new Error('no picture drawn');
  expect(drawn.width).toBe(2600);
  const seen = await screenVsSource(page, join(dir, 'scan.tiff'), drawn);
  expect(seen.here).toBeLessThan(6);
  expect(seen.shifted).toBeGreaterThan(30);
  await page.screenshot({ path: info.outputPath('tiff-1to1.png') });
});

test('a 72-megapixel image shows its own pixels at 1:1 from tiles, and pans', async ({
  page,
}, info) => {
  const dir = join(photos, '..', 'panoramas');
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'pano.jpg');
  // 12000 x 6000: past one full-size rendition, so shown from a tile pyramid.
  await blockImage(12_000, 6_000).jpeg({ quality: 95 }).toFile(source);
  const tileRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/media/tile/')) tileRequests.push(r.url());
  });
  const viewer = await openAtActualPixels(page, dir, 'panoramas', 'pano.jpg');

  const layer = viewer.getByTestId('viewer-tiles');
  /** Waits until every tile on screen has loaded; returns where the picture's corner is. */
  const settled = async () => {
    await expect(layer).toHaveAttribute('data-level', '14', { timeout: 60_000 });
    await expect
      .poll(
        () =>
          layer.evaluate((el) => {
            const imgs = [...el.querySelectorAll('img')];
            return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
          }),
        { timeout: 30_000 },
      )
      .toBe(true);
    const box = await layer.boundingBox();
    if (!box) throw new Error('no tile layer');
    expect(box.width).toBe(12_000);
    return box;
  };
  let corner = await settled();
  let seen = await screenVsSource(page, source, corner);
  expect(seen.here).toBeLessThan(6);
  expect(seen.shifted).toBeGreaterThan(30);
  await page.screenshot({ path: info.outputPath('tiles-1to1.png') });
  // Only the tiles around the view were fetched, not the level's 288.
  const first = tileRequests.length;
  expect(first).toBeGreaterThan(4);
  expect(first).toBeLessThan(60);

  // Drag the picture up and left: new tiles come in, and they are right too.
  const stage = await page.locator('.viewer-stage').boundingBox();
  if (!stage) throw new Error('no viewer stage');
  const cx = stage.x + stage.width / 2;
  const cy = stage.y + stage.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  await page.mouse.move(cx - 900, cy - 500, { steps: 8 });
  await page.mouse.up();
  await expect.poll(async () => (await layer.boundingBox())?.x).toBeLessThan(corner.x - 800);
  corner = await settled();
  seen = await screenVsSource(page, source, corner);
  expect(seen.here).toBeLessThan(6);
  expect(seen.shifted).toBeGreaterThan(30);
  expect(tileRequests.length).toBeGreaterThan(first);
  await page.screenshot({ path: info.outputPath('tiles-panned.png') });

  // The renditions folder is emptied under the viewer (a cleanup, a full
  // disk): the next tiles fail, the viewer asks again, the pyramid is made
  // anew and the tiles come back, right.
  rmSync(join(host.dataDir, 'renditions'), { recursive: true, force: true });
  await page.waitForTimeout(5200); // past the viewer's pace for asking again
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  await page.mouse.move(cx + 1400, cy + 900, { steps: 8 });
  await page.mouse.up();
  corner = await settled();
  seen = await screenVsSource(page, source, corner);
  expect(seen.here).toBeLessThan(6);
  expect(seen.shifted).toBeGreaterThan(30);
});
