import { expect, test } from '@playwright/test';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlbumenPage, HostProcess, workDir } from './app.ts';

/**
 * The library follows the disk, through the UI: a rescan after photos were
 * deleted and moved, a collection whose folder went away shown offline with
 * its previews kept, and a removal that asks first and leaves the photos.
 */
test.describe.configure({ mode: 'serial' });

let host: HostProcess;
let dir: string;
let cleanup: () => void;
let folder: string;

test.beforeAll(async () => {
  ({ dir, cleanup } = workDir());
  folder = join(dir, 'trip');
  const { writePhotos } = await import('../src-main/test-support/fixtures.ts');
  await writePhotos(folder, 6, { width: 640, height: 480 });
  host = new HostProcess(dir);
  await host.start();
});

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('rescans, shows an offline collection with its previews, and removes it', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.importPath(folder);
  const item = app.collection('trip');
  await expect(item.getByTestId('collection-state')).toHaveText('Done', { timeout: 60_000 });
  await expect(page.getByTestId('thumb-img')).toHaveCount(6);

  // The host watches the folder: a photo copied in shows up with no action.
  const { photoJpeg } = await import('../src-main/test-support/fixtures.ts');
  writeFileSync(join(folder, 'copied in.jpg'), await photoJpeg(500, 375));
  await expect(page.getByTestId('thumb-img')).toHaveCount(7, { timeout: 10_000 });
  await expect(page.getByText('copied in.jpg')).toBeVisible();

  unlinkSync(join(folder, 'photo1.jpg'));
  renameSync(join(folder, 'photo2.jpg'), join(folder, 'renamed.jpg'));
  await page.getByTestId('collection-rescan').click();
  await expect(page.getByTestId('thumb-img')).toHaveCount(6, { timeout: 30_000 });
  await expect(item).toContainText('6');

  // The drive goes away: offline, and every preview still there.
  renameSync(folder, `${folder}-away`);
  await page.getByTestId('collection-rescan').click();
  await expect(item.getByTestId('collection-state')).toHaveText(/^Offline · since /, {
    timeout: 30_000,
  });
  await expect(page.getByTestId('thumb-img')).toHaveCount(6);
  await page.screenshot({ path: info.outputPath('offline.png') });
  renameSync(`${folder}-away`, folder);
  await expect(item.getByTestId('collection-state')).toHaveText('Done', { timeout: 30_000 });

  await page.getByTestId('collection-remove').click();
  await expect(page.getByTestId('remove-question')).toContainText('are not touched');
  await page.screenshot({ path: info.outputPath('remove-confirm.png') });
  // The same in a small window: the question wraps under the title.
  await page.setViewportSize({ width: 760, height: 560 });
  await page.screenshot({ path: info.outputPath('remove-confirm-small.png') });
  await page.getByTestId('remove-confirm').click();
  await expect(app.collection('trip')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId('empty-state')).toBeVisible();
});
