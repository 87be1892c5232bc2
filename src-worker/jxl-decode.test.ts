import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RenderRequest } from '../src-shared/render-task.ts';
import {
  QUADRANTS,
  QUADRANTS_HEIGHT,
  QUADRANTS_WIDTH,
  quadrantsOf,
} from '../src-shared/test-support/quadrants.ts';
import render from './render.task.ts';

/** The quadrants picture, encoded by libjxl's cjxl 0.7 (-d 1); flat-42mp.jxl likewise (-e 3). */
const FIXTURE = join(import.meta.dirname, 'test-fixtures/quadrants.jxl');
const dir = mkdtempSync(join(tmpdir(), 'albumen-jxl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function request(data: Uint8Array, maxPixels = 100_000_000): RenderRequest {
  const out = join(dir, `out-${++n}`);
  return {
    label: `image-${n}.jxl`,
    input: { kind: 'buffer', data },
    outputs: [
      {
        variant: 'thumbnail',
        finalPath: join(out, 'thumb.jpg'),
        settings: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 90 },
      },
    ],
    maxPixels,
    timeoutSeconds: 30,
  };
}

describe('JPEG XL', () => {
  it('decodes a JPEG XL into upright outputs', async () => {
    const result = await render(request(readFileSync(FIXTURE)));
    if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
    expect(result.source).toMatchObject({
      format: 'jxl',
      width: QUADRANTS_WIDTH,
      height: QUADRANTS_HEIGHT,
    });
    const [thumb] = result.outputs;
    expect([thumb?.width, thumb?.height]).toEqual([QUADRANTS_WIDTH, QUADRANTS_HEIGHT]);
    expect(await quadrantsOf(readFileSync(thumb!.path))).toEqual([...QUADRANTS]);
  });

  it('checks the size against the pixel limit before decoding', async () => {
    const result = await render(request(readFileSync(FIXTURE), 1000));
    expect(result).toMatchObject({ ok: false, code: 'TOO_MANY_PIXELS' });
  });

  it('refuses a JPEG XL past what its decoder takes in memory, from the header alone', async () => {
    // 7000 x 6000 of one colour: 1.8 KB on disk, 42 MP to decode.
    const flat = readFileSync(join(import.meta.dirname, 'test-fixtures/flat-42mp.jxl'));
    const started = performance.now();
    const result = await render(request(flat));
    expect(result).toMatchObject({ ok: false, code: 'TOO_MANY_PIXELS' });
    expect(!result.ok && result.message).toContain('7000 × 6000');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('fails a cut or damaged JPEG XL with a reason, never a crash', async () => {
    const bytes = readFileSync(FIXTURE);
    const cut = await render(request(bytes.subarray(0, 6)));
    expect(cut).toMatchObject({ ok: false, code: 'TRUNCATED' });
    const half = await render(request(bytes.subarray(0, bytes.length >> 1)));
    expect(half.ok).toBe(false);
    const garbled = Buffer.from(bytes);
    for (let i = 20; i < garbled.length; i += 3) garbled[i] = garbled[i]! ^ 0x5a;
    const bad = await render(request(garbled));
    expect(bad.ok === false && ['CORRUPT', 'TRUNCATED'].includes(bad.code)).toBe(true);
  });
});
