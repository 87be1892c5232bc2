import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElectronApp, electronAvailable } from './electron-app.ts';
import { AlbumenPage, photoFolder, workDir } from './app.ts';

/**
 * The desktop app itself (project `electron`): the locked-down window, the
 * preload bridge, the media protocol and the core, driven as a user would.
 * Skipped where no Electron binary can run (these CI machines).
 */
test.skip(!electronAvailable(), 'no Electron binary on this machine');

test('imports a folder, shows thumbnails through the media protocol and opens the viewer', async ({
  browserName: _unused,
}, info) => {
  const { dir, cleanup } = workDir();
  const desktop = new ElectronApp(dir);
  try {
    const photos = await photoFolder(dir, 8);
    writeFileSync(join(photos, 'zz-notes.jpg'), 'not a photo\n');
    const page = await desktop.start();
    const app = new AlbumenPage(page);
    // The renderer has no Node: only the bridge the preload exposes.
    expect(
      await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require),
    ).toBe('undefined');
    await desktop.importPaths(page, [photos]);
    await app.openJobs();
    await expect(app.jobCard()).toHaveAttribute('data-status', 'completed_with_errors', {
      timeout: 90_000,
    });
    const thumbs = page.getByTestId('thumb-img');
    await expect
      .poll(() =>
        thumbs.evaluateAll(
          (imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length,
        ),
      )
      .toBeGreaterThanOrEqual(8);
    expect(await thumbs.first().getAttribute('src')).toMatch(/^albumen-media:\/\/thumbnail\/\d+/);
    await app.thumbs().first().dblclick();
    await expect(page.getByTestId('viewer')).toBeVisible();
    await page.screenshot({ path: info.outputPath('desktop-viewer.png') });
  } finally {
    await desktop.stop();
    cleanup();
  }
});
