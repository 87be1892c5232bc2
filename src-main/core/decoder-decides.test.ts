/**
 * The decoder decides: the scan's header probe is a hint. A file whose header
 * the probe cannot read (a JPEG whose frame header comes after megabytes of
 * metadata, as Photoshop's extended XMP makes) is decoded by the render pool,
 * and only a decoder failure fails it, naming the format.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openNodeCore } from './compose-node.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir('albumen-decides-');

/** A real JPEG with `mb` megabytes of APP13 segments between its SOI and its frame header. */
async function buriedFrameHeader(mb: number): Promise<Buffer> {
  const jpeg = await sharp({
    create: { width: 320, height: 200, channels: 3, background: { r: 20, g: 120, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  const segments: Buffer[] = [];
  const segment = Buffer.alloc(65_535 + 2, 0x41);
  segment[0] = 0xff;
  segment[1] = 0xed; // APP13 (Photoshop)
  segment.writeUInt16BE(65_535, 2);
  for (let n = 0; n < Math.ceil((mb * 1024 * 1024) / segment.length); n++) segments.push(segment);
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

describe('the decoder decides', () => {
  it('renders what the probe cannot read, and fails only what the decoder cannot', async () => {
    const root = tempDir();
    const photos = join(root, 'photos');
    mkdirSync(photos);
    writeFileSync(join(photos, 'buried.jpg'), await buriedFrameHeader(8));
    writeFileSync(join(photos, 'notes.jpg'), 'these are notes\n');
    writeFileSync(
      join(photos, 'IMG_0001.CR2'),
      Buffer.from('II*\0\x08\0\0\0 not really', 'latin1'),
    );
    const core = openNodeCore({ dataDir: join(root, 'data'), logFile: null, pollMs: 100 });
    try {
      const job = await core.importPath(photos);
      await core.start();
      const [done] = await core.whenDone([job.id]);
      const failed = core.failedItems(done!.id);
      expect(failed.filter((f) => f.stage === 'scan')).toEqual([]);
      const byName = new Map(
        failed.map((f) => [`${f.path} ${f.stage}`, `${f.code}: ${f.message}`]),
      );
      expect(byName.get('notes.jpg thumbnail')).toMatch(/^UNSUPPORTED: not a JPEG image/);
      expect(byName.get('IMG_0001.CR2 cache')).toMatch(/^UNSUPPORTED: CR2 RAW/);
      expect([...byName.keys()].some((k) => k.startsWith('buried.jpg'))).toBe(false);

      const buried = core.allImages(done!.collectionId).find((i) => i.entryPath === 'buried.jpg');
      expect(buried).toMatchObject({ format: 'jpeg', width: 320, height: 200 });
      for (const variant of ['thumbnail', 'cache'] as const) {
        const out = core.outputFile(buried!.id, variant);
        expect(out, variant).not.toBeNull();
        const meta = await sharp(out!.path).metadata();
        expect(meta.width / meta.height).toBeCloseTo(320 / 200, 1);
      }
    } finally {
      await core.close();
    }
  }, 120_000);
});
