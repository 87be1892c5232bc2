import { execFileSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempPathFor } from '../../src-shared/render-task.ts';
import type { RenderRequest } from '../../src-shared/render-task.ts';
import { useTempDir } from '../test-support/temp-dir.ts';
import { isNativeCrash, RenderPool } from './render-pool.ts';
import { rawFile, slowCr3 } from '../../src-shared/test-support/raw-files.ts';
import { checksum } from './test-fixtures/echo.task.ts';
import type { HostExit, PoolOutcome, RenderPoolOptions } from './render-pool.ts';

const ECHO = fileURLToPath(new URL('./test-fixtures/echo.task.ts', import.meta.url));
const EXIT_ON_SIGNAL_HOST = fileURLToPath(
  new URL('./test-fixtures/exit-on-signal.host.ts', import.meta.url),
);
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

/** The pids of a process's children. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGCONT to a process that may be gone already. */
function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // gone: killed while stopped
  }
}

/** Random pixels, stored uncompressed: quick to write, and PNG has no shrink-on-load. */
async function hugePng(path: string, size: number, interlaced = false): Promise<string> {
  const pixels = randomFillSync(Buffer.alloc(size * size * 3));
  await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 0, adaptiveFiltering: false, progressive: interlaced })
    .toFile(path);
  return path;
}

describe('RenderPool with the real render task', () => {
  it("renders a camera RAW's preview, and leaves no ExifTool process once stopped", async () => {
    const dir = tempDir();
    const pool = await startPool({ threads: 1 });
    const preview = await sharp({
      create: { width: 60, height: 40, channels: 3, background: '#c00' },
    })
      .jpeg()
      .toBuffer();
    const path = join(dir, 'DSC_0001.NEF');
    writeFileSync(path, rawFile({ kind: 'nef', preview, width: 60, height: 40, orientation: 8 }));
    const outcome = await pool.run(renderRequest('DSC_0001.NEF', path, join(dir, 'out')));
    expect(outcome).toMatchObject({ ok: true, source: { format: 'nef', width: 40, height: 60 } });
    // ExifTool runs as a child of the host; it must end with it.
    const readers = childrenOf(pool.hostPid ?? 0);
    expect(readers.length).toBeGreaterThan(0);
    await pool.stop();
    await waitFor(() => readers.every((pid) => !isAlive(pid)));
  });

  it('leaves no ExifTool behind when its owner dies without a word (SIGKILL)', async () => {
    const dir = tempDir();
    const path = join(dir, 'slow.cr3');
    writeFileSync(path, slowCr3(1_000_000));
    // An owner of its own: a pool rendering the slow RAW, killed mid-read.
    const owner = join(dir, 'owner.ts');
    writeFileSync(
      owner,
      [
        `import { RenderPool } from ${JSON.stringify(join(import.meta.dirname, 'render-pool.ts'))};`,
        `const pool = new RenderPool({ threads: 1 });`,
        `await pool.start();`,
        `console.log('host', pool.hostPid);`,
        `await pool.run(${JSON.stringify({ ...renderRequest('slow.cr3', path, join(dir, 'out')), timeoutSeconds: 120 })});`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, [owner], { stdio: ['ignore', 'pipe', 'inherit'] });
    const host = await new Promise<number>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        const m = /host (\d+)/.exec(b.toString());
        if (m) resolve(Number(m[1]));
      });
    });
    await waitFor(() => childrenOf(host).length > 0);
    const readers = childrenOf(host);
    await sleep(1000); // deep in the file, deaf to its closed input
    child.kill('SIGKILL');
    const gone = performance.now();
    await waitFor(() => !isAlive(host) && readers.every((pid) => !isAlive(pid)));
    expect(performance.now() - gone).toBeLessThan(3000);
  });

  it('leaves no ExifTool behind that was busy when its host was killed', async () => {
    const dir = tempDir();
    // The watchdog kills the host (SIGKILL: no exit handler runs) 2 s into the task.
    const pool = await startPool({ threads: 1, taskTimeoutMs: 2000 });
    const path = join(dir, 'slow.cr3');
    writeFileSync(path, slowCr3(1_000_000));
    const host = pool.hostPid ?? 0;
    const outcome = pool.run({
      ...renderRequest('slow.cr3', path, join(dir, 'out')),
      timeoutSeconds: 120,
    });
    await waitFor(() => childrenOf(host).length > 0);
    const readers = childrenOf(host);
    expect(await outcome).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(isAlive(host)).toBe(false);
    // Killed with it, not left to finish its minute of work.
    const gone = performance.now();
    await waitFor(() => readers.every((pid) => !isAlive(pid)));
    expect(performance.now() - gone).toBeLessThan(3000);
  });

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
    // All 49 megapixels are decoded, and interlaced at once (half a second),
    // well past the watchdog's resolution (a beat of the host).
    const src = await hugePng(join(dir, 'huge.png'), 7000, true);
    const pool = await startPool({ threads: 1, taskTimeoutMs: 50 });
    const firstPid = pool.hostPid;
    const exits: HostExit[] = [];
    pool.onHostExit((e) => exits.push(e));

    const outcome = await pool.run(renderRequest('huge', src, join(dir, 'out')));

    // A suspect, not a verdict: the scheduler runs it again alone.
    expect(outcome).toMatchObject({ ok: false, code: 'TIMEOUT', crashed: true });
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
    ['after-temp-write:2', []],
    ['after-rename', ['cache.jpg', 'thumb.jpg']],
  ])(
    '%s kills the owner and the host; the pool sweeps its temporary files',
    async (spec, expected) => {
      const dir = tempDir();
      const src = await jpeg(join(dir, 'src.jpg'), 800, 600);
      const owner = fakeOwner();
      const pool = await startPool({
        threads: 1,
        env: { ALBUMEN_CRASH_AT: spec, ALBUMEN_OWNER_PID: String(owner.pid) },
      });
      const hostPid = pool.hostPid;

      const outcome = await pool.run(renderRequest('one', src, join(dir, 'out')));

      // A SIGKILL is not a decoder crash: the image goes back without blame.
      expect(outcome).toMatchObject({ ok: false, code: 'INTERNAL', interrupted: true });
      expect(outcome.ok === false && outcome.message).toContain('SIGKILL');
      expect(await owner.killedBy).toBe('SIGKILL');
      expect(isAlive(hostPid ?? 0)).toBe(false);
      // The second pass had written both temporary files; they were removed
      // before the outcome came (renamed outputs are no temporaries).
      expect(filesUnder(join(dir, 'out'))).toEqual(expected);
    },
  );

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
    expect(await hung).toMatchObject({ ok: false, code: 'TIMEOUT', crashed: true });
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

describe('RenderPool and stopped processes', () => {
  // 7000 × 7000 random pixels, interlaced, take half a second to decode: the
  // render is still running when the host is stopped 40 ms in.
  let shared = '';
  let huge = '';
  beforeAll(async () => {
    shared = mkdtempSync(join(tmpdir(), 'albumen-pool-paused-'));
    huge = await hugePng(join(shared, 'huge.png'), 7000, true);
  });
  afterAll(() => rmSync(shared, { recursive: true, force: true }));

  it('does not count a SIGSTOP of the host against the watchdog', async () => {
    // The stop outlasts the task timeout by 2 s; the render itself (about 2 s
    // on an idle machine) has four times that, so a loaded machine does not fail it.
    const pool = await startPool({ threads: 1, taskTimeoutMs: 8000 });
    const pid = pool.hostPid ?? 0;
    const started = performance.now();
    const outcome = pool.run(renderRequest('stopped', huge, join(tempDir(), 'out')));
    await sleep(40);
    process.kill(pid, 'SIGSTOP');
    await sleep(10_000);
    resume(pid);

    expect(await outcome).toMatchObject({ ok: true });
    // The stop held the render (it did not finish before it).
    expect(performance.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(pool.hostPid).toBe(pid);
  });

  it("does not take the decoder's own timeout across a SIGSTOP for a slow image", async () => {
    const pool = await startPool({ threads: 1 });
    const pid = pool.hostPid ?? 0;
    // libvips times its pipelines on the wall clock, which runs while stopped.
    const request = {
      ...renderRequest('stopped', huge, join(tempDir(), 'out')),
      timeoutSeconds: 3,
    };
    const outcome = pool.run(request);
    await sleep(40);
    process.kill(pid, 'SIGSTOP');
    await sleep(5000);
    resume(pid);

    // Rendered, or at worst handed back without blame: never a TIMEOUT.
    const o = await outcome;
    expect(o.ok || ('interrupted' in o && o.interrupted), JSON.stringify(o)).toBe(true);
  });

  it('does not count a pause of this process and the host (a sleeping laptop)', async () => {
    const pool = await startPool({ threads: 1, taskTimeoutMs: 8000, hostSilenceMs: 2000 });
    const pid = pool.hostPid ?? 0;
    const outcome = pool.run(renderRequest('asleep', huge, join(tempDir(), 'out')));
    await sleep(40);
    process.kill(pid, 'SIGSTOP');
    // This process stops too: no timer, tick or message runs for 10 s.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
    resume(pid);

    expect(await outcome).toMatchObject({ ok: true });
    expect(pool.hostPid).toBe(pid);
  });

  it('restarts a host that stops beating, and its tasks go back without blame', async () => {
    const pool = await startPool({ threads: 2, workerFile: ECHO, hostSilenceMs: 1000 });
    const exits: HostExit[] = [];
    pool.onHostExit((e) => exits.push(e));
    const pid = pool.hostPid ?? 0;
    const running = [pool.run(echoRequest('hang-1')), pool.run(echoRequest('hang-2'))];
    await sleep(50);
    process.kill(pid, 'SIGSTOP');

    for (const outcome of await Promise.all(running)) {
      expect(outcome).toEqual({
        ok: false,
        code: 'INTERNAL',
        message: 'the render host stopped answering for 1 s and was restarted',
        interrupted: true,
      });
    }
    expect(exits).toMatchObject([{ pid, reason: 'watchdog', signal: 'SIGKILL' }]);
    await waitFor(() => pool.hostPid !== undefined);
    expect(await pool.run(echoRequest('fine'))).toMatchObject({ ok: true });
  });

  it('makes a timeout the worker reports a suspect only if the host was alive that long', async () => {
    const pool = await startPool({ threads: 1, workerFile: ECHO });
    // At once: its wall clock ran out while the process was stopped.
    expect(await pool.run({ ...echoRequest('timeout-after-0'), timeoutSeconds: 2 })).toEqual({
      ok: false,
      code: 'INTERNAL',
      message:
        'the render was paused past its time limit (decoding took too long (timeout: 40% complete)); it will be tried again',
      interrupted: true,
    });
    expect(await pool.run({ ...echoRequest('timeout-after-2000'), timeoutSeconds: 2 })).toEqual({
      ok: false,
      code: 'TIMEOUT',
      message: 'decoding took too long (timeout: 40% complete)',
      crashed: true,
    });
  });
});

describe('RenderPool: who ended the host', () => {
  /** Starts a task that never ends, once the host answers, and gives its outcome to come. */
  async function hungTask(
    pool: RenderPool,
    path = '/nowhere/hung.jpg',
  ): Promise<{ outcome: Promise<PoolOutcome> }> {
    await waitFor(() => pool.hostPid !== undefined);
    expect(await pool.run(echoRequest('fine'))).toMatchObject({ ok: true });
    const outcome = pool.run({ ...echoRequest('hang'), input: { kind: 'file', path } });
    await sleep(50);
    return { outcome };
  }

  it.each(['SIGKILL', 'SIGTERM', 'SIGINT'] as const)(
    'a host ended by %s from outside interrupts its tasks without blame',
    async (signal) => {
      const pool = await startPool({ threads: 2, workerFile: ECHO });
      const exits: HostExit[] = [];
      pool.onHostExit((e) => exits.push(e));
      const pid = pool.hostPid ?? 0;
      const tasks = await Promise.all([
        hungTask(pool, '/nowhere/a.jpg'),
        hungTask(pool, '/nowhere/b.jpg'),
      ]);
      process.kill(pid, signal);

      for (const outcome of await Promise.all(tasks.map((t) => t.outcome))) {
        expect(outcome).toEqual({
          ok: false,
          code: 'INTERNAL',
          message: `the render host was ended from outside (signal ${signal}); the image will be tried again`,
          interrupted: true,
        });
      }
      expect(exits).toMatchObject([{ pid, signal, reason: 'killed', restartInMs: 0 }]);
      await waitFor(() => pool.hostPid !== undefined);
      expect(await pool.run(echoRequest('fine'))).toMatchObject({ ok: true });
    },
  );

  it('a host that exits with a code interrupts its tasks without blame', async () => {
    const pool = await startPool({ threads: 1, workerFile: ECHO, hostFile: EXIT_ON_SIGNAL_HOST });
    const pid = pool.hostPid ?? 0;
    const task = await hungTask(pool);
    process.kill(pid, 'SIGUSR2');
    const outcome = await task.outcome;
    expect(outcome).toMatchObject({ ok: false, code: 'INTERNAL', interrupted: true });
    expect(outcome.ok === false && outcome.message).toContain('(exit code 9)');
  });

  it.each(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT'] as const)(
    'a host that dies by %s crashed: its tasks are suspects',
    async (signal) => {
      const pool = await startPool({ threads: 1, workerFile: ECHO });
      const exits: HostExit[] = [];
      pool.onHostExit((e) => exits.push(e));
      const task = await hungTask(pool);
      process.kill(pool.hostPid ?? 0, signal);
      expect(await task.outcome).toEqual({
        ok: false,
        code: 'DECODER_CRASH',
        message: `the image decoder crashed (signal ${signal}) while this image was being processed`,
        crashed: true,
      });
      expect(exits).toMatchObject([{ signal, reason: 'crashed' }]);
    },
  );

  it('reports an image in flight at three outside kills in a row as crashed', async () => {
    const pool = await startPool({ threads: 1, workerFile: ECHO });
    const outcomes: PoolOutcome[] = [];
    for (let i = 0; i < 4; i++) {
      const task = await hungTask(pool, '/nowhere/oom.jpg');
      const pid = pool.hostPid ?? 0;
      process.kill(pid, 'SIGKILL'); // as the out-of-memory killer would
      outcomes.push(await task.outcome);
      await waitFor(() => pool.hostPid !== undefined && pool.hostPid !== pid);
    }
    expect(
      outcomes.map((o) => ('crashed' in o ? 'crashed' : 'interrupted' in o && 'interrupted')),
    ).toEqual(['interrupted', 'interrupted', 'crashed', 'crashed']);
    expect(outcomes[2]).toEqual({
      ok: false,
      code: 'DECODER_CRASH',
      message:
        'the render host was ended (signal SIGKILL) 3 times in a row while this image was being processed (out of memory?)',
      crashed: true,
    });
    // Once it finishes, it starts from zero.
    expect(
      await pool.run({ ...echoRequest('ok'), input: { kind: 'file', path: '/nowhere/oom.jpg' } }),
    ).toMatchObject({ ok: true });
    const again = await hungTask(pool, '/nowhere/oom.jpg');
    process.kill(pool.hostPid ?? 0, 'SIGKILL');
    expect(await again.outcome).toMatchObject({ interrupted: true });
  });

  it('tells native crashes from processes ended from outside, on every platform', () => {
    for (const signal of ['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGILL', 'SIGFPE', 'SIGTRAP'] as const) {
      expect(isNativeCrash(null, signal, 'linux'), signal).toBe(true);
    }
    for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      expect(isNativeCrash(null, signal, 'darwin'), signal).toBe(false);
    }
    expect([0, 1, 3, 9, 70, 134].map((code) => isNativeCrash(code, null, 'linux'))).toEqual(
      Array(6).fill(false),
    );
    // Access violation, fail-fast, stack overflow, breakpoint, abort().
    expect(
      [0xc0000005, 0xc0000409, 0xc00000fd, 0x80000003, 3, 134].map((c) =>
        isNativeCrash(c, null, 'win32'),
      ),
    ).toEqual(Array(6).fill(true));
    expect([0, 1, 9, 70].map((c) => isNativeCrash(c, null, 'win32'))).toEqual(Array(4).fill(false));
  });
});

describe('RenderPool sweeps the temporary files of a dead host', () => {
  it.each(['SIGKILL', 'SIGABRT'] as const)(
    'removes those of the outputs it held (%s) before their outcomes come, and nothing else',
    async (signal) => {
      const dir = tempDir();
      const settings = { maxWidth: 300, maxHeight: 300, format: 'jpeg' as const, quality: 80 };
      const request = (label: string, name: string): RenderRequest => ({
        ...echoRequest(label),
        input: { kind: 'file', path: join(dir, `${name}.src`) },
        outputs: [
          { variant: 'cache', finalPath: join(dir, 'cache', `${name}.jpg`), settings },
          { variant: 'thumbnail', finalPath: join(dir, 'thumbnail', `${name}.jpg`), settings },
        ],
      });
      const held = [request('hang-1', '1'), request('hang-2', '2')];
      const keep = ['1.jpg.backup.tmp', '3.jpg', '3.jpg.0123456789ab.tmp', 'notes.tmp', '1.jpg'];
      for (const folder of ['cache', 'thumbnail']) {
        mkdirSync(join(dir, folder));
        for (const name of keep) writeFileSync(join(dir, folder, name), 'keep');
      }
      for (const r of held) {
        for (const o of r.outputs) {
          writeFileSync(tempPathFor(o.finalPath, 'a1b2c3d4e5f6'), 'dead write');
          writeFileSync(tempPathFor(o.finalPath, '000000000000'), 'dead write');
        }
      }
      const pool = await startPool({ threads: 2, workerFile: ECHO });
      const pid = pool.hostPid ?? 0;
      // What is on disk the moment each outcome is delivered.
      const seen = held.map((r) =>
        pool.run(r).then((outcome) => ({
          outcome,
          cache: filesUnder(join(dir, 'cache')),
          thumbnail: filesUnder(join(dir, 'thumbnail')),
        })),
      );
      await sleep(100);
      process.kill(pid, signal);

      for (const { outcome, cache, thumbnail } of await Promise.all(seen)) {
        expect(outcome.ok).toBe(false);
        expect(cache).toEqual([...keep].sort());
        expect(thumbnail).toEqual([...keep].sort());
      }
    },
  );
});
