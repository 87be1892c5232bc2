import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlbumenPage, HostProcess, photoFolder, workDir } from './app.ts';

/**
 * The main path of a user: import a folder of photos with a few broken files,
 * watch the job, browse thumbnails, open the viewer, pause and resume, reload.
 */
test.describe.configure({ mode: 'serial' });

let host: HostProcess;
let dir: string;
let cleanup: () => void;
let photos: string;
const GOOD = 12;

test.beforeAll(async () => {
  ({ dir, cleanup } = workDir());
  photos = await photoFolder(dir, GOOD);
  const { photoJpeg } = await import('../src-main/test-support/fixtures.ts');
  const good = await photoJpeg(800, 600);
  writeFileSync(join(photos, 'zz-truncated.jpg'), good.subarray(0, Math.floor(good.length * 0.4)));
  writeFileSync(join(photos, 'zz-empty.jpg'), Buffer.alloc(0));
  writeFileSync(join(photos, 'zz-notes.jpg'), 'not a photo\n');
  host = new HostProcess(dir);
  await host.start();
});

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

test('imports a folder: live progress, thumbnails, failed files with codes', async ({
  page,
}, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await app.openJobs();

  // Record every text the thumbnail stage shows while the job runs.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __progress: string[] }).__progress = seen;
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid="stage-thumbnail"]');
      const text = el?.textContent ?? '';
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });

  await app.importPath(photos);
  const card = app.jobCard();
  await expect(card).toHaveAttribute('data-status', 'completed_with_errors', { timeout: 90_000 });

  const progress = await page.evaluate(
    () => (window as unknown as { __progress: string[] }).__progress,
  );
  expect(progress.length, `stage texts seen: ${progress.join(' | ')}`).toBeGreaterThanOrEqual(3);

  await expect(card.getByTestId('stage-thumbnail')).toContainText(`${GOOD}`);
  await card.getByTestId('job-failed-toggle').click();
  // The empty file fails at the scan (no decoder is needed to tell); the decoder
  // decides the text file and the truncated JPEG, at both renders.
  await expect(card.getByTestId('failed-code')).toHaveCount(5);
  const codes = await card.getByTestId('failed-code').allTextContents();
  expect(codes.sort()).toEqual(['CORRUPT', 'TRUNCATED', 'TRUNCATED', 'UNSUPPORTED', 'UNSUPPORTED']);
  await expect(card.getByTestId('failed-list')).toContainText('zz-truncated.jpg');
  await page.screenshot({ path: info.outputPath('jobs-panel.png') });

  await app.openJobs();
  const thumbs = page.getByTestId('thumb-img');
  await expect(thumbs.first()).toBeVisible();
  await expect
    .poll(async () =>
      thumbs.evaluateAll(
        (imgs) =>
          imgs.filter(
            (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0,
          ).length,
      ),
    )
    .toBeGreaterThanOrEqual(Math.min(GOOD, 8));
  await page.screenshot({ path: info.outputPath('grid.png') });
});

test('opens the viewer, moves with the keyboard and zooms', async ({ page }, info) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await app.thumbs().first().dblclick();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toBeVisible();
  const img = viewer.getByTestId('viewer-img');
  await expect
    .poll(() => img.evaluate((i) => (i as HTMLImageElement).naturalWidth))
    .toBeGreaterThan(0);
  await page.screenshot({ path: info.outputPath('viewer.png') });
  const first = await viewer.getByTestId('viewer-name').textContent();
  await page.keyboard.press('ArrowRight');
  await expect(viewer.getByTestId('viewer-name')).not.toHaveText(first ?? '');
  await page.keyboard.press('ArrowLeft');
  await expect(viewer.getByTestId('viewer-name')).toHaveText(first ?? '');

  const zoom = viewer.getByTestId('zoom-level');
  const before = await zoom.textContent();
  await page.keyboard.press('+');
  await expect(zoom).not.toHaveText(before ?? '');
  await page.keyboard.press('1');
  await expect(zoom).toHaveText('100%');
  await page.screenshot({ path: info.outputPath('viewer-1to1.png') });
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
});

test('pauses and resumes a job', async ({ page }) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  const { writePhotos } = await import('../src-main/test-support/fixtures.ts');
  const big = join(dir, 'big');
  await writePhotos(big, 60, { width: 3000, height: 2000 });
  await app.openJobs();
  await app.importPath(big);
  const card = page.locator('[data-testid="job-card"]', { hasText: 'big' });
  await expect(card).toHaveAttribute('data-status', /running|queued/);
  await card.getByTestId('job-pause').click();
  await expect(card).toHaveAttribute('data-status', 'paused');
  // Nothing moves while paused (in-flight items may finish first).
  await page.waitForTimeout(1500);
  const frozen = await card.getByTestId('stage-cache').textContent();
  await page.waitForTimeout(2000);
  await expect(card.getByTestId('stage-cache')).toHaveText(frozen ?? '');
  // Still paused: the work it froze is not done (says what it showed if not).
  await expect(card, `view images when paused: ${frozen}`).toHaveAttribute('data-status', 'paused');
  await card.getByTestId('job-resume').click();
  await expect(card).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });
});

test('a reload shows the same state', async ({ page }) => {
  const app = new AlbumenPage(page);
  await app.open(host.url);
  await expect(page.getByTestId('collection')).toHaveCount(2);
  await app.openJobs();
  const statuses = await page
    .getByTestId('job-card')
    .evaluateAll((cards) => cards.map((c) => c.getAttribute('data-status')));
  await page.reload();
  await app.openJobs();
  await expect(page.getByTestId('collection')).toHaveCount(2);
  expect(
    await page
      .getByTestId('job-card')
      .evaluateAll((cards) => cards.map((c) => c.getAttribute('data-status'))),
  ).toEqual(statuses);
  await expect.poll(() => page.getByTestId('thumb-img').count()).toBeGreaterThan(0);
});
