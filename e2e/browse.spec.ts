import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { AlbumenPage, HostProcess, workDir } from './app.ts';

/**
 * Browsing a collection as a photo browser: its order, chosen and remembered.
 */
let host: HostProcess;
let cleanup: () => void;
let photos: string;

/** Name, date taken (EXIF; none means the file's mtime counts), pixel side (so size differs). */
const PHOTOS: [string, string | null, number][] = [
  ['a-beach.jpg', '2021:05:01 10:00:00', 200],
  ['b-snow.jpg', '2019:01:01 09:30:00', 400],
  ['c-city.jpg', '2023:07:15 18:45:00', 300],
  ['d-scan.jpg', null, 100],
];

test.beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = workDir());
  photos = join(dir, 'trip');
  mkdirSync(photos);
  for (const [name, taken, side] of PHOTOS) {
    let image = sharp({
      create: {
        width: side,
        height: side,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    }).jpeg();
    if (taken) {
      image = image.withExif({
        IFD0: { Make: 'Canon', Model: 'Canon EOS R6' },
        IFD2: {
          DateTimeOriginal: taken,
          OffsetTimeOriginal: '+02:00',
          LensModel: 'RF24-105mm F4 L IS USM',
        },
      });
    }
    const path = join(photos, name);
    writeFileSync(path, await image.toBuffer());
    // The scan without a date: taken (as far as anyone knows) when its file was written.
    if (!taken)
      utimesSync(path, new Date('2020-06-01T12:00:00Z'), new Date('2020-06-01T12:00:00Z'));
  }
  host = new HostProcess(dir);
  await host.start();
});

/** The trip in name order (importing it again is a rescan), with `name` open in the viewer. */
async function openInViewer(page: Page, name: string) {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.importPath(photos);
  await app.collection('trip').click();
  await page.getByTestId('sort-order').selectOption({ label: 'Name' });
  await page.getByAltText(name, { exact: true }).dblclick();
  return page.getByTestId('viewer');
}

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('sorts by date taken, both ways, by size, and remembers the order after a reload', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.importAndWait(photos);
  const names = () =>
    app
      .thumbs()
      .evaluateAll((cells) =>
        cells.map((c) => c.querySelector('img')?.getAttribute('alt') ?? c.textContent ?? ''),
      );
  const order = page.getByTestId('sort-order');
  const direction = page.getByTestId('sort-direction');
  await expect.poll(names).toEqual(['a-beach.jpg', 'b-snow.jpg', 'c-city.jpg', 'd-scan.jpg']);

  await order.selectOption({ label: 'Date taken' });
  await expect(direction).toHaveText('↑ Oldest first');
  await expect.poll(names).toEqual(['b-snow.jpg', 'd-scan.jpg', 'a-beach.jpg', 'c-city.jpg']);
  await page.screenshot({ path: info.outputPath('sorted-by-date.png') });
  await direction.click();
  await expect(direction).toHaveText('↓ Newest first');
  await expect.poll(names).toEqual(['c-city.jpg', 'a-beach.jpg', 'd-scan.jpg', 'b-snow.jpg']);

  // Remembered for this collection across a reload.
  await page.reload();
  await expect(page.getByTestId('sort-order')).toHaveValue('taken');
  await expect.poll(names).toEqual(['c-city.jpg', 'a-beach.jpg', 'd-scan.jpg', 'b-snow.jpg']);

  await order.selectOption({ label: 'File size' });
  await expect(direction).toHaveText('↓ Largest first');
  await expect.poll(names).toEqual(['b-snow.jpg', 'c-city.jpg', 'a-beach.jpg', 'd-scan.jpg']);
  // The viewer walks the grid's order.
  await app.thumbs().first().dblclick();
  await expect(page.getByTestId('viewer-name')).toHaveText('b-snow.jpg');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('viewer-name')).toHaveText('c-city.jpg');
});

test('the info panel shows the camera, lens and date of a known file, and its folder to copy', async ({
  page,
}, info) => {
  const viewer = await openInViewer(page, 'c-city.jpg');
  await expect(viewer.getByTestId('viewer-name')).toHaveText('c-city.jpg');
  await expect(viewer.getByTestId('viewer-info')).toHaveCount(0);
  await page.keyboard.press('i');
  const panel = viewer.getByTestId('viewer-info');
  await expect(panel.getByTestId('info-taken')).toContainText('2023-07-15 18:45:00 (UTC+02:00)');
  await expect(panel.getByTestId('info-camera')).toContainText('Canon EOS R6');
  await expect(panel.getByTestId('info-lens')).toContainText('RF24-105mm F4 L IS USM');
  await expect(panel.getByTestId('info-folder')).toContainText(photos);
  await expect(panel.getByTestId('info-size')).toContainText('300 × 300 · JPEG');
  await page.screenshot({ path: info.outputPath('viewer-info.png') });
  // It stays open on the next image, which says where its date comes from.
  await page.keyboard.press('ArrowRight');
  await expect(viewer.getByTestId('viewer-name')).toHaveText('d-scan.jpg');
  await expect(panel.getByTestId('info-taken')).toContainText("the file's date");
  await expect(panel.getByTestId('info-camera')).toHaveCount(0);
  await page.keyboard.press('I');
  await expect(viewer.getByTestId('viewer-info')).toHaveCount(0);
});

test('the viewer plays a slideshow at the chosen pace and goes full screen', async ({
  page,
}, info) => {
  const viewer = await openInViewer(page, 'c-city.jpg');
  const name = viewer.getByTestId('viewer-name');
  await expect(name).toHaveText('c-city.jpg');
  await viewer.getByTestId('slideshow-seconds').selectOption('2');
  await page.keyboard.press('s');
  await expect(viewer.getByTestId('slideshow-toggle')).toHaveAttribute('aria-pressed', 'true');
  const started = Date.now();
  await expect(name).toHaveText('d-scan.jpg', { timeout: 5000 });
  expect(Date.now() - started).toBeGreaterThan(1500);
  // After the last image, the first.
  await expect(name).toHaveText('a-beach.jpg', { timeout: 5000 });
  // Esc stops the slideshow (and leaves the viewer open); nothing moves then.
  await page.keyboard.press('Escape');
  await expect(viewer.getByTestId('slideshow-toggle')).toHaveAttribute('aria-pressed', 'false');
  await page.waitForTimeout(2500);
  await expect(name).toHaveText('a-beach.jpg');

  await page.keyboard.press('f');
  await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(true);
  await expect(viewer.getByTestId('fullscreen-toggle')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('f');
  await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(false);

  // At 640 x 480 every tool of the viewer is still on screen.
  await page.setViewportSize({ width: 640, height: 480 });
  for (const id of [
    'zoom-in',
    'zoom-100',
    'slideshow-toggle',
    'fullscreen-toggle',
    'viewer-info-toggle',
    'viewer-close',
  ]) {
    const box = await viewer.getByTestId(id).boundingBox();
    expect(box, id).not.toBeNull();
    expect((box?.x ?? 0) + (box?.width ?? 0), id).toBeLessThanOrEqual(640);
    expect(box?.x ?? -1, id).toBeGreaterThanOrEqual(0);
  }
  // And the name shows, not under the tools (they wrap below it).
  const nameBox = await name.boundingBox();
  const toolsBox = await viewer.getByTestId('zoom-out').boundingBox();
  if (!nameBox || !toolsBox) throw new Error('no name or tools');
  expect(nameBox.width).toBeGreaterThan(40);
  const apart = nameBox.x + nameBox.width <= toolsBox.x || nameBox.y + nameBox.height <= toolsBox.y;
  expect(apart).toBe(true);
  await page.screenshot({ path: info.outputPath('viewer-640.png') });
});
