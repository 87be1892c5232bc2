import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { RenderRequest } from '../../src-shared/render-task.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { RenderPool } from './render-pool.ts';
import { checksum } from './test-fixtures/echo.task.ts';
import type { HostExit, PoolOutcome, RenderPoolOptions } from './render-pool.ts';

const ECHO = fileURLToPath(new URL('./test-fixtures/echo.task.ts', import.meta.url));
const tempDir = useTempDir('albumen-pool-');

const pools: RenderPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stop()));
});

async function startPool(options: RenderPoolOptions): Promise<RenderPool> {
  const pool = new RenderPool(options);
  pools.push(pool);
  await pool.start();
  return pool;
}

async function jpeg(path: string, width: number, height: number): Promise<string> {
  await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 30 },
    },
  })
    .jpeg()
    .toFile(path);
  return path;
}

function renderRequest(label: string, path: string, out: string): RenderRequest {
  return {
    label,
    input: { kind: 'file', path },
    outputs: [
      {
        variant: 'cache',
        finalPath: join(out, label, 'cache.jpg'),
        settings: { maxWidth: 1920, maxHeight: 1080, format: 'jpeg', quality: 85 },
      },
      {
        variant: 'thumbnail',
        finalPath: join(out, label, 'thumb.jpg'),
        settings: { maxWidth: 300, maxHeight: 300, format: 'jpeg', quality: 80 },
      },
    ],
    maxPixels: 100_000_000,
    timeoutSeconds: 30,
  };
}

function echoRequest(label: string): RenderRequest {
  return {
    label,
    input: { kind: 'file', path: '/nowhere' },
    outputs: [],
    maxPixels: 1,
    timeoutSeconds: 30,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

describe('RenderPool with the real render task', () => {
  it('renders real images, from files and a buffer, on two threads', async () => {
    const dir = tempDir();
    const pool = await startPool({ threads: 2 });
    expect(pool.threads).toBe(2);
    const sizes: [number, number][] = [
      [4000, 3000],
      [3000, 4000],
      [1920, 1080],
      [640, 480],
      [200, 100],
    ];
    const requests = await Promise.all(
      sizes.map(async ([w, h], i) =>
        renderRequest(`img${i}`, await jpeg(join(dir, `src${i}.jpg`), w, h), join(dir, 'out')),
      ),
    );
    const bytes = new Uint8Array(readFileSync(join(dir, 'src3.jpg')));
    requests.push({
      ...renderRequest('from-buffer', '', join(dir, 'out')),
      input: { kind: 'buffer', data: bytes },
    });

    const pending = requests.map((r) => pool.run(r));
    expect(pool.inFlight).toBe(6);
    const outcomes = await Promise.all(pending);
    expect(pool.inFlight).toBe(0);
    for (const outcome of outcomes) expect(outcome.ok).toBe(true);
    const thumbs = outcomes.map((o) => {
      if (!o.ok) throw new Error(o.message);
      const t = o.outputs.find((x) => x.variant === 'thumbnail');
      return [t?.width, t?.height];
    });
    expect(thumbs).toEqual([
      [300, 225],
      [225, 300],
      [300, 169],
      [300, 225],
      [200, 100],
      [300, 225],
    ]);
    expect(filesUnder(join(dir, 'out'))).toHaveLength(12);
  });

  it('reports a decoder crash, survives it and restarts the host', async () => {
    const dir = tempDir();
    const exits: HostExit[] = [];
    const pool = await startPool({ threads: 2, env: { ALBUMEN_TEST_CRASH_MARKER: 'boom' } });
    pool.onHostExit((e) => exits.push(e));
    const firstPid = pool.hostPid;
    const src = await jpeg(join(dir, 'good.jpg'), 2000, 1500);
    const out = join(dir, 'out');
    const good = ['good-a', 'good-b', 'good-c'].map((l) => renderRequest(l, src, out));

    const outcomes = await Promise.all([
      pool.run(good[0] as RenderRequest),
      pool.run(renderRequest('boom-1', src, out)),
      pool.run(good[1] as RenderRequest),
      pool.run(good[2] as RenderRequest),
    ]);

    expect(outcomes[1]).toEqual({
      ok: false,
      code: 'DECODER_CRASH',
      crashed: true,
      message: 'the image decoder crashed (signal SIGABRT) while this image was being processed',
    });
    // A good image that shared the host at that moment may have crashed with it.
    for (const o of [outcomes[0], outcomes[2], outcomes[3]]) {
      expect(o?.ok === true || (o?.ok === false && o.code === 'DECODER_CRASH')).toBe(true);
    }
    expect(exits[0]).toMatchObject({ pid: firstPid, signal: 'SIGABRT', reason: 'crashed' });

    const again = await Promise.all(good.map((r) => pool.run(r)));
    for (const o of again) expect(o.ok).toBe(true);
    expect(pool.hostPid).not.toBe(firstPid);
    expect(firstPid !== undefined && isAlive(firstPid)).toBe(false);
  });

  it('kills a hung render after taskTimeoutMs and restarts the host', async () => {
    const dir = tempDir();
    const src = join(dir, 'huge.png');
    // Random pixels, stored uncompressed: quick to write, and PNG has no
    // shrink-on-load, so all 49 megapixels are decoded (a few hundred ms).
    const size = 7000;
    const pixels = randomFillSync(Buffer.alloc(size * size * 3));
    await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
      .png({ compressionLevel: 0, adaptiveFiltering: false })
      .toFile(src);
    const pool = await startPool({ threads: 1, taskTimeoutMs: 50 });
    const firstPid = pool.hostPid;
    const exits: HostExit[] = [];
    pool.onHostExit((e) => exits.push(e));

    const outcome = await pool.run(renderRequest('huge', src, join(dir, 'out')));

    expect(outcome).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(firstPid !== undefined && isAlive(firstPid)).toBe(false);
    expect(exits).toMatchObject([{ pid: firstPid, reason: 'watchdog', signal: 'SIGKILL' }]);
    expect(exits[0]?.restartInMs).toBe(0);
    // A new host starts (whether a real render fits in 50 ms on a busy
    // machine is not this test's business; the echo tests run tasks after a
    // watchdog restart).
    await waitFor(() => pool.hostPid !== undefined);
    expect(pool.hostPid).not.toBe(firstPid);
    expect(filesUnder(join(dir, 'out')).filter((f) => !f.endsWith('.tmp'))).toEqual([]);
  });

  it('stop() interrupts running tasks and leaves no host process', async () => {
    const dir = tempDir();
    const pool = await startPool({ threads: 1 });
    const pid = pool.hostPid;
    expect(pid).toBeTypeOf('number');
    const src = await jpeg(join(dir, 'a.jpg'), 3000, 2000);
    const running = pool.run(renderRequest('a', src, join(dir, 'out')));
    const waiting = pool.run(renderRequest('b', src, join(dir, 'out')));

    await pool.stop();

    const interrupted = { ok: false, code: 'INTERNAL', message: 'pool stopped', interrupted: true };
    expect(await running).toEqual(interrupted);
    expect(await waiting).toEqual(interrupted);
    expect(pool.hostPid).toBeUndefined();
    expect(isAlive(pid ?? 0)).toBe(false);
    expect(await pool.run(renderRequest('c', src, join(dir, 'out')))).toEqual(interrupted);
  });
});

describe('RenderPool crash points', () => {
  /** A stand-in for the database-owning process, which the crash hook must kill. */
  function fakeOwner(): { pid: number; killedBy: Promise<NodeJS.Signals | null> } {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], {
      stdio: 'ignore',
    });
    const killedBy = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    if (child.pid === undefined) throw new Error('could not start the fake owner');
    return { pid: child.pid, killedBy };
  }

  it.each([
    ['after-temp-write:2', ['cache.jpg.', 'thumb.jpg.']],
    ['after-rename', ['cache.jpg', 'thumb.jpg']],
  ])('%s kills the owner and the host', async (spec, expected) => {
    const dir = tempDir();
    const src = await jpeg(join(dir, 'src.jpg'), 800, 600);
    const owner = fakeOwner();
    const pool = await startPool({
      threads: 1,
      env: { ALBUMEN_CRASH_AT: spec, ALBUMEN_OWNER_PID: String(owner.pid) },
    });
    const hostPid = pool.hostPid;

    const outcome = await pool.run(renderRequest('one', src, join(dir, 'out')));

    expect(outcome).toMatchObject({ ok: false, code: 'DECODER_CRASH' });
    expect(outcome.ok === false && outcome.message).toContain('SIGKILL');
    expect(await owner.killedBy).toBe('SIGKILL');
    expect(isAlive(hostPid ?? 0)).toBe(false);
    const files = filesUnder(join(dir, 'out'));
    if (spec.startsWith('after-temp-write')) {
      // Second pass: the first output's temp was written, then the second's.
      expect(files).toHaveLength(2);
      expect(files.every((f) => f.endsWith('.tmp'))).toBe(true);
      expect(files.map((f) => f.replace(/[0-9a-f]{12}\.tmp$/, ''))).toEqual(expected);
    } else {
      expect(files).toEqual(expected);
    }
  });

  it('counts passes across the worker threads of the host', async () => {
    const dir = tempDir();
    const src = await jpeg(join(dir, 'src.jpg'), 400, 300);
    const owner = fakeOwner();
    const pool = await startPool({
      threads: 2,
      env: { ALBUMEN_CRASH_AT: 'after-rename:3', ALBUMEN_OWNER_PID: String(owner.pid) },
    });
    const out = join(dir, 'out');
    const outcomes: PoolOutcome[] = [];
    for (const label of ['a', 'b', 'c'])
      outcomes.push(await pool.run(renderRequest(label, src, out)));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false]);
    expect(await owner.killedBy).toBe('SIGKILL');
  });
});

describe('RenderPool mechanics (echo task)', () => {
  it('resolves a thrown surprise as INTERNAL without restarting', async () => {
    const pool = await startPool({ threads: 1, workerFile: ECHO });
    const pid = pool.hostPid;
    const outcome = await pool.run(echoRequest('throw-me'));
    expect(outcome).toMatchObject({ ok: false, code: 'INTERNAL' });
    expect(outcome.ok === false && outcome.message).toContain('asked to throw');
    expect(outcome).not.toHaveProperty('interrupted');
    expect(pool.hostPid).toBe(pid);
  });

  it('on a timeout, interrupts the other running tasks without blame', async () => {
    const pool = await startPool({ threads: 2, workerFile: ECHO, taskTimeoutMs: 300 });
    const hung = pool.run(echoRequest('hang-1'));
    await new Promise((r) => setTimeout(r, 100));
    const other = pool.run(echoRequest('hang-2'));
    expect(await hung).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(await other).toEqual({
      ok: false,
      code: 'INTERNAL',
      message: 'interrupted by a restart of the decoder',
      interrupted: true,
    });
    expect(await pool.run(echoRequest('fine'))).toMatchObject({ ok: true });
  });

  it('dispatches at most `threads` tasks and queues the rest', async () => {
    const pool = await startPool({ threads: 2, workerFile: ECHO });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pool.run(echoRequest(`t${i}`))),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(pool.inFlight).toBe(0);
  });

  it('carries buffer inputs to the worker intact', async () => {
    const pool = await startPool({ threads: 1, workerFile: ECHO });
    const bytes = randomFillSync(new Uint8Array(3 * 1024 * 1024 + 7));
    const pooled = Buffer.from('a small Buffer from the shared allocation pool');
    for (const data of [bytes, pooled, bytes.subarray(5, 1005)]) {
      const outcome = await pool.run({ ...echoRequest('bytes'), input: { kind: 'buffer', data } });
      expect(outcome).toMatchObject({
        ok: true,
        source: { width: data.byteLength, height: checksum(data) },
      });
    }
  });

  it('keeps the per-task overhead small', async () => {
    const pool = await startPool({ threads: 1, workerFile: ECHO });
    for (let i = 0; i < 20; i++) await pool.run(echoRequest('warm-up'));
    const n = 200;
    const start = performance.now();
    for (let i = 0; i < n; i++) await pool.run(echoRequest('trivial'));
    // Measured about 0.3 ms; the bound only catches a pathological regression.
    expect((performance.now() - start) / n).toBeLessThan(10);
  });

  it('backs off while the host keeps dying at once, then fails waiting tasks', async () => {
    const flag = join(tempDir(), 'die');
    const pool = await startPool({
      threads: 1,
      workerFile: ECHO,
      env: { ECHO_DIE_ON_LOAD_IF: flag },
    });
    const exits: HostExit[] = [];
    const firstExit = new Promise((resolve) => pool.onHostExit(resolve));
    pool.onHostExit((e) => exits.push(e));
    writeFileSync(flag, '');
    process.kill(pool.hostPid ?? 0, 'SIGABRT');
    await firstExit;
    const waiting = await pool.run(echoRequest('waits'));

    expect(waiting).toMatchObject({ ok: false, code: 'INTERNAL' });
    expect(waiting.ok === false && waiting.message).toContain('keeps failing to start');
    expect(exits.map((e) => e.restartInMs)).toEqual([0, 250, 500, 1000, 2000]);
    expect(exits.every((e) => e.reason === 'crashed' && e.signal === 'SIGABRT')).toBe(true);

    rmSync(flag);
    await waitFor(() => pool.hostPid !== undefined);
    expect(await pool.run(echoRequest('recovered'))).toMatchObject({ ok: true });
  });

  it('refuses to start with a worker file that does not exist', async () => {
    const pool = new RenderPool({ threads: 1, workerFile: join(tempDir(), 'missing.ts') });
    pools.push(pool);
    await expect(pool.start()).rejects.toThrow(/exited before it was ready \(exit code \d+\)/);
    expect(pool.hostPid).toBeUndefined();
  });

  it('passes the owner pid and extra variables to the host', async () => {
    const dir = tempDir();
    const probe = join(dir, 'env.task.ts');
    writeFileSync(
      probe,
      `export const warmUp = () => true;\nexport default () => ({ ok: false, code: 'INTERNAL', message: [process.env.ALBUMEN_OWNER_PID, process.env.EXTRA, process.env.UV_THREADPOOL_SIZE].join(' ') });\n`,
    );
    const pool = await startPool({ threads: 3, workerFile: probe, env: { EXTRA: 'yes' } });
    expect(await pool.run(echoRequest('env'))).toMatchObject({
      message: `${process.pid} yes 5`,
    });
  });
});
