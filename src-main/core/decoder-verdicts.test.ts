/**
 * libvips keeps one error buffer per process: when images fail at the same
 * time in two threads, one can be reported with the other's message (found by
 * the hostile review: a GIF failed with "webp: unable to parse image"). A
 * failure met beside other decodes is confirmed with the image alone, so each
 * failed image carries its own decoder's message.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { openNodeCore } from './compose-node.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir('albumen-verdicts-');

/** A real image of `format` cut to its first 300 bytes: its header promises far more. */
async function cut(format: 'webp' | 'gif', size: number): Promise<Buffer> {
  // Flat, so that it encodes fast: past 300 bytes nothing of it is kept anyway.
  const img = sharp({
    create: { width: size, height: size, channels: 3, background: { r: 200, g: 30, b: 90 } },
  });
  const full = await (format === 'webp' ? img.webp() : img.gif()).toBuffer();
  return full.subarray(0, 300);
}

describe('decoder verdicts', () => {
  it('gives every failed image its own decoder message, however many fail at once', async () => {
    const root = tempDir();
    const photos = join(root, 'bad');
    mkdirSync(photos);
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(photos, `w${i}.webp`), await cut('webp', 1000 + i * 40));
      writeFileSync(join(photos, `g${i}.gif`), await cut('gif', 1000 + i * 40));
    }
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 100 });
    try {
      core.settingsStore.update({ workers: 2 });
      const job = await core.importPath(photos);
      await core.start();
      const [done] = await core.whenDone([job.id]);
      const failed = core.failedItems(done!.id).filter((f) => f.stage !== 'scan');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) {
        // Each names its own loader, and only its own; the code follows the message.
        const webp = f.path.endsWith('.webp');
        expect(f.message, `${f.path} (${f.stage})`).toMatch(webp ? /webp/ : /gifload/);
        expect(f.message, `${f.path} (${f.stage})`).not.toMatch(webp ? /gifload/ : /webp/);
        expect(f.code, `${f.path} (${f.stage})`).toBe(webp ? 'CORRUPT' : 'TRUNCATED');
      }
    } finally {
      await core.close();
    }
  }, 120_000);
});
