import { expect, test } from '@playwright/test';
import { existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlbumenPage, HostProcess, workDir } from './app.ts';

/**
 * The library follows the disk, through the UI of `albumen serve`: photos
 * added, deleted, rewritten, moved into a subfolder, renamed and moved to
 * another collection show up with no action; a collection whose folder went
 * away shows offline by itself with its previews kept; the sidebar's context
 * menu turns watching off and asks before a removal that leaves the photos.
 */
test.describe.configure({ mode: 'serial' });

let host: HostProcess;
let dir: string;
let cleanup: () => void;
let folder: string;
let other: string;

test.beforeAll(async () => {
  ({ dir, cleanup } = workDir());
  folder = join(dir, 'trip');
  const { writePhotos } = await import('../src-main/test-support/fixtures.ts');
  await writePhotos(folder, 10, { width: 640, height: 480 });
  other = join(dir, 'other');
  await writePhotos(other, 2, { width: 640, height: 480 });
  host = new HostProcess(dir);
  await host.start();
});

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('follows every change made on disk while it runs, offline and back, and removes a collection', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.importPath(folder);
  const item = app.collection('trip');
  await expect(item.getByTestId('collection-state')).toHaveText('Done', { timeout: 60_000 });
  await app.importPath(other);
  const otherItem = app.collection('other');
  await expect(otherItem.getByTestId('collection-state')).toHaveText('Done', { timeout: 60_000 });
  await item.click();
  await expect(page.getByTestId('thumb-img')).toHaveCount(10);
  await expect(page.getByTestId('collection-watch')).toHaveAttribute(
    'data-watch-state',
    'watching',
  );

  // What a user does in a file manager while the app runs; nobody presses Rescan.
  const { photoJpeg } = await import('../src-main/test-support/fixtures.ts');
  const at = (...p: string[]) => join(folder, ...p);
  for (let i = 1; i <= 5; i++) writeFileSync(at(`new ${i}.jpg`), await photoJpeg(500, 375));
  for (const n of [1, 2, 3]) unlinkSync(at(`photo${n}.jpg`));
  // Rewritten in portrait: its new thumbnail is taller than wide.
  for (const n of [4, 5]) writeFileSync(at(`photo${n}.jpg`), await photoJpeg(300, 400));
  mkdirSync(at('sub'));
  for (const n of [6, 7, 8, 9]) renameSync(at(`photo${n}.jpg`), at('sub', `photo${n}.jpg`));
  renameSync(at('photo10.jpg'), at('renamed.jpg'));
  renameSync(at('sub', 'photo9.jpg'), join(other, 'from trip.jpg'));

  const grid = page.getByTestId('thumb-img');
  await expect(grid).toHaveCount(5 + 2 + 3 + 1, { timeout: 10_000 });
  for (const name of ['new 1.jpg', 'new 5.jpg', 'renamed.jpg', 'photo6.jpg', 'photo8.jpg']) {
    await expect(page.getByAltText(name, { exact: true })).toHaveCount(1);
  }
  for (const name of ['photo1.jpg', 'photo3.jpg', 'photo9.jpg', 'photo10.jpg']) {
    await expect(page.getByAltText(name, { exact: true })).toHaveCount(0);
  }
  const portrait = page.getByAltText('photo4.jpg', { exact: true });
  await expect
    .poll(
      () => portrait.evaluate((img: HTMLImageElement) => img.naturalHeight > img.naturalWidth),
      { timeout: 10_000 },
    )
    .toBe(true);
  await expect(item).toContainText('11');
  await expect(otherItem).toContainText('3');
  await page.screenshot({ path: info.outputPath('followed.png') });

  // The drive goes away: offline by itself, and every preview still there.
  renameSync(folder, `${folder}-away`);
  await expect(item.getByTestId('collection-state')).toHaveText(/^Offline · last seen /, {
    timeout: 5_000,
  });
  await expect(grid).toHaveCount(11);
  await page.screenshot({ path: info.outputPath('offline.png') });
  renameSync(`${folder}-away`, folder);
  await expect(item.getByTestId('collection-state')).toHaveText('Done', { timeout: 30_000 });
  await expect(grid).toHaveCount(11);

  // The sidebar's context menu, from the keyboard: watching off for one collection.
  await otherItem.focus();
  await page.keyboard.press('Shift+F10');
  const menu = page.getByTestId('context-menu');
  await expect(menu).toBeVisible();
  await expect(page.getByTestId('menu-watch')).toHaveAttribute('aria-checked', 'true');
  await page.screenshot({ path: info.outputPath('context-menu.png') });
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(menu).toHaveCount(0);
  await expect(otherItem).toBeFocused();
  await otherItem.click();
  await expect(page.getByTestId('collection-watch')).toHaveAttribute('data-watch-state', 'off');
  await page.screenshot({ path: info.outputPath('watch-own-setting.png') });
  // Its own setting can be given up again: it follows the library's (on) once more.
  await page.getByTestId('collection-watch-default').click();
  await expect(page.getByTestId('collection-watch')).toHaveAttribute(
    'data-watch-state',
    'watching',
  );
  await expect(page.getByTestId('collection-watch-default')).toHaveCount(0);

  // Remove, from the context menu: it asks first, and leaves the photos.
  await item.click({ button: 'right' });
  await page.getByTestId('menu-remove').click();
  await expect(page.getByTestId('remove-question')).toContainText('are not touched');
  await page.screenshot({ path: info.outputPath('remove-confirm.png') });
  // The same in a small window: the question wraps under the title.
  await page.setViewportSize({ width: 760, height: 560 });
  await page.screenshot({ path: info.outputPath('remove-confirm-small.png') });
  await page.getByTestId('remove-confirm').click();
  await expect(app.collection('trip')).toHaveCount(0, { timeout: 30_000 });
  expect(existsSync(at('renamed.jpg'))).toBe(true);
});
