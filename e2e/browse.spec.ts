import { expect, test } from '@playwright/test';
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

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('sorts by date taken, both ways, by size, and remembers the order after a reload', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.openJobs();
  await app.importPath(photos);
  await expect(app.jobCard()).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await app.openJobs();
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
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.importPath(photos);
  await app.collection('trip').click();
  await page.getByTestId('sort-order').selectOption({ label: 'Name' });
  await page.getByAltText('c-city.jpg', { exact: true }).dblclick();
  const viewer = page.getByTestId('viewer');
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
