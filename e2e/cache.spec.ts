import { expect, test } from '@playwright/test';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  lstatSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { AlbumenPage, HostProcess, workDir } from './app.ts';

/**
 * The Cache page: two cache folders with their real numbers, and a cleanup
 * whose preview names exactly what it then deletes.
 */
let host: HostProcess;
let dir: string;
let cleanup: () => void;

test.beforeAll(async () => {
  ({ dir, cleanup } = workDir());
  host = new HostProcess(dir);
  await host.start();
});

test.afterAll(async () => {
  await host.stop();
  cleanup();
});

/** Files and bytes below a folder, as the disk has them (links never followed). */
function onDisk(folder: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, e.name);
    if (e.isDirectory()) {
      const sub = onDisk(path);
      files += sub.files;
      bytes += sub.bytes;
    } else if (e.isFile()) {
      files++;
      bytes += lstatSync(path).size;
    }
  }
  return { files, bytes };
}

test('shows both cache folders with their numbers; cleanup deletes what its preview lists', async ({
  page,
}, info) => {
  const { writePhotos } = await import('../src-main/test-support/fixtures.ts');
  const folders: string[] = [];
  for (let i = 1; i <= 4; i++) {
    const f = join(dir, `trip${i}`);
    await writePhotos(f, 3, { width: 1200, height: 800 });
    folders.push(f);
  }
  const app = new AlbumenPage(page);
  await app.open(host.url);

  // A second cache folder, added on the Cache page before importing.
  await page.getByTestId('cache-open').click();
  const dialog = page.getByTestId('cache-dialog');
  await expect(dialog.getByTestId('cache-folder')).toHaveCount(1);
  await dialog.getByTestId('cache-add-path').fill(join(dir, 'second-cache'));
  await dialog.getByTestId('cache-add').click();
  await expect(dialog.getByTestId('cache-folder')).toHaveCount(2);
  await page.keyboard.press('Escape');

  await app.importPath(folders.join('\n'));
  await app.openJobs();
  const cards = page.getByTestId('job-card');
  await expect(cards).toHaveCount(4);
  for (const c of await cards.all()) {
    await expect(c).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });
  }

  await page.getByTestId('cache-open').click();
  const shown = dialog.getByTestId('cache-folder');
  await expect(shown).toHaveCount(2);
  for (const card of await shown.all()) {
    const path = (await card.getAttribute('data-path'))!;
    const disk = onDisk(path);
    expect(disk.files, `files in ${path}`).toBeGreaterThan(0);
    await expect(card).toHaveAttribute('data-files', String(disk.files));
    await expect(card).toHaveAttribute('data-bytes', String(disk.bytes));
    await expect(card).toContainText(`${disk.files} files`);
  }
  await page.screenshot({ path: info.outputPath('cache-page.png') });

  // Unreferenced files, old enough to be cleaned, and things that must survive.
  const first = (await shown.first().getAttribute('data-path'))!;
  const month = new Date(Date.now() - 30 * 86_400_000);
  // Outputs of images that no longer exist, and a temporary file of a dead run.
  const strays = [
    join(first, '1', 'thumbnail', '0', '990-0123456789abcdef.jpg'),
    join(first, '1', 'cache', '0', '991-0123456789abcdef.jpg'),
    join(first, '1', 'cache', '0', '992-0123456789abcdef.jpg.0a1b2c3d4e5f.tmp'),
  ];
  for (const s of strays) {
    mkdirSync(join(s, '..'), { recursive: true });
    writeFileSync(s, 'stray bytes');
    utimesSync(s, month, month);
  }
  // A file of the user's in the cache folder is not Albumen's to delete.
  const mine = join(first, 'my-notes.txt');
  writeFileSync(mine, 'mine');
  utimesSync(mine, month, month);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  const sentinel = join(outside, 'precious.jpg');
  writeFileSync(sentinel, 'keep');
  utimesSync(sentinel, month, month);
  symlinkSync(sentinel, join(first, 'link.jpg'));
  symlinkSync(outside, join(first, 'link-dir'));
  const before = onDisk(first);

  const row = dialog.getByTestId('cache-cleanup');
  await row.getByRole('button', { name: 'Check' }).click();
  await expect(row.getByTestId('cache-check-result')).toContainText('3 files');
  const listed = await row.getByTestId('cache-preview-path').allTextContents();
  expect(listed.sort()).toEqual([...strays].sort());
  await page.screenshot({ path: info.outputPath('cache-cleanup-preview.png') });

  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(row.getByTestId('cache-check-result')).toContainText('Deleted 3 files');
  for (const s of strays) expect(existsSync(s)).toBe(false);
  expect(existsSync(sentinel)).toBe(true);
  expect(existsSync(mine)).toBe(true);
  const after = onDisk(first);
  expect(after.files).toBe(before.files - 3);
  // The user's file was never counted: the numbers are Albumen's outputs.
  await expect(shown.first()).toHaveAttribute('data-files', String(after.files - 1));
});
