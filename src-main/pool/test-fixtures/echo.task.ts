/**
 * A stand-in render task for pool tests: answers at once without touching an
 * image, so that tests can time the pool's own overhead and drive the cases
 * real images make slow or flaky (a hung task, a thrown bug, a worker that
 * dies while loading, a timeout the worker reports itself).
 */
import { existsSync } from 'node:fs';
import { NO_META } from '../../../src-shared/render-task.ts';
import type { RenderRequest, RenderResult } from '../../../src-shared/render-task.ts';

// Dies while loading whenever the file this variable names exists.
const dieFlag = process.env.ECHO_DIE_ON_LOAD_IF;
if (dieFlag && existsSync(dieFlag)) process.kill(process.pid, 'SIGABRT');

export function warmUp(): boolean {
  return true;
}

export default async function echo(req: RenderRequest): Promise<RenderResult> {
  if (req.label.includes('hang')) await new Promise(() => {});
  if (req.label.includes('throw')) throw new Error(`echo: asked to throw for ${req.label}`);
  // "timeout-after-N": what libvips says when its wall clock passes the limit, after N ms.
  const timeoutAfter = /timeout-after-(\d+)/.exec(req.label)?.[1];
  if (timeoutAfter !== undefined) {
    await new Promise((r) => setTimeout(r, Number(timeoutAfter)));
    return {
      ok: false,
      code: 'TIMEOUT',
      message: 'decoding took too long (timeout: 40% complete)',
    };
  }
  const data = req.input.kind === 'buffer' ? req.input.data : new Uint8Array();
  return {
    ok: true,
    // width: the byte count, height: a checksum of the bytes.
    source: {
      format: 'echo',
      width: data.byteLength,
      height: checksum(data),
      orientation: 1,
      quality: null,
      meta: NO_META,
      contentHash: null,
    },
    outputs: [],
  };
}

export function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum * 31 + (data[i] ?? 0)) % 1_000_000_007;
  return sum;
}
