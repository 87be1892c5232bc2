import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { useTempDir } from '../test-support/temp-dir.ts';
import {
  LOCK_HOLDER_FILE,
  LockedError,
  acquireProcessLock,
  processLockState,
} from './process-lock.ts';

const tempDir = useTempDir('albumen-lock-');
const MODULE = new URL('./process-lock.ts', import.meta.url).href;

/**
 * A separate Node process that takes the lock (at the wall-clock instant
 * `at`, spinning until then so racers start within microseconds), prints
 * `won` or `locked …`, and holds what it won until its stdin closes (then lets go).
 */
const HOLDER = `
const { acquireProcessLock } = await import(process.env.LOCK_MODULE);
const at = Number(process.env.LOCK_AT || 0);
process.stdout.write('ready\\n');
while (Date.now() < at) {}
let release;
try {
  release = acquireProcessLock(process.env.LOCK_DIR);
  process.stdout.write('won\\n');
} catch (err) {
  process.stdout.write((err.name === 'LockedError' ? 'locked ' : 'error ') + err.message + '\\n');
  process.exit(0);
}
process.stdin.resume();
process.stdin.on('end', () => {
  release();
  process.exit(0);
});
`;

/** Milliseconds between two rounds of {@link RACER}. */
const STEP = 200;

/**
 * Races for the lock in ROUNDS rounds, round k at the wall-clock instant
 * LOCK_AT + k·STEP (spinning until then, so both racers start within
 * microseconds); prints `k won` or `k locked` (or `k error …`); a winner holds
 * for half a step, then lets go.
 */
const RACER = `
const { acquireProcessLock } = await import(process.env.LOCK_MODULE);
const at = Number(process.env.LOCK_AT);
const step = Number(process.env.LOCK_STEP);
for (let k = 0; k < Number(process.env.ROUNDS); k++) {
  const t = at + k * step;
  while (Date.now() < t) {}
  let release = null;
  let outcome;
  try {
    release = acquireProcessLock(process.env.LOCK_DIR, { waitMs: 20 });
    outcome = 'won';
  } catch (err) {
    outcome = err.name === 'LockedError' ? 'locked' : 'error ' + err.message;
  }
  if (release) {
    const from = Date.now();
    while (Date.now() < t + step / 2) {}
    const to = Date.now();
    release();
    outcome += ' ' + from + ' ' + to;
  }
  process.stdout.write(k + ' ' + outcome + '\\n');
}
`;

/** Runs {@link RACER}; resolves with each round's outcome. */
function racer(dir: string, at: number, rounds: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RACER], {
    env: {
      ...process.env,
      LOCK_MODULE: MODULE,
      LOCK_DIR: dir,
      LOCK_AT: String(at),
      LOCK_STEP: String(STEP),
      ROUNDS: String(rounds),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`racer exited with ${code}: ${err}`));
      const byRound: string[] = [];
      for (const line of out.split('\n').filter(Boolean)) {
        const [k, ...rest] = line.split(' ');
        byRound[Number(k)] = rest.join(' ');
      }
      resolve(byRound);
    }),
  );
}

interface Holder {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the line after `ready`: `won …`, `locked …` or `error …`. */
  outcome: Promise<string>;
  exited: Promise<void>;
}

function holder(dir: string, at = 0): Holder {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, 'lock-holder'], {
    env: { ...process.env, LOCK_MODULE: MODULE, LOCK_DIR: dir, LOCK_AT: String(at) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const outcome = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l && l !== 'ready');
      if (line !== undefined && out.includes(`${line}\n`)) resolve(line);
    });
    child.on('exit', () => reject(new Error(`holder exited early: ${out} ${err}`)));
  });
  return { child, outcome, exited };
}

/**
 * Waits (without letting the event loop reap it) until the kernel shows `pid`
 * dead: its main thread a zombie and its other threads gone (the last one out
 * closes the files). The pid is still "alive" to kill(pid, 0) then.
 */
function waitUntilDead(pid: number): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    let state = 'gone';
    let threads = 0;
    try {
      // Field 3 of /proc/PID/stat: Z is a zombie (dead, its parent not yet told).
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] ?? 'gone';
      threads = readdirSync(`/proc/${pid}/task`).length;
    } catch {
      // No such process any more.
    }
    if (state === 'gone' || ((state === 'Z' || state === 'X') && threads <= 1)) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not die (state ${state})`);
  }
}

describe('process lock', () => {
  it('never lets two processes racing for a stale lock hold it at once', async () => {
    const dir = tempDir();
    // Round 0 races for a lock whose holder was killed without letting go.
    const first = holder(dir);
    expect(await first.outcome).toBe('won');
    first.child.kill('SIGKILL');
    await first.exited;
    const dead = first.child.pid!;

    const ROUNDS = 40;
    const at = Date.now() + 1500;
    const racers = [racer(dir, at, ROUNDS), racer(dir, at, ROUNDS)];
    // Before each later round, what a killed winner leaves: its record naming a dead
    // pid (as JSON, or as the bare pid of older versions), the lock itself free.
    const staleWriter = (async () => {
      for (let k = 1; k < ROUNDS; k++) {
        await new Promise((r) => setTimeout(r, Math.max(0, at + k * STEP - 50 - Date.now())));
        writeFileSync(
          join(dir, LOCK_HOLDER_FILE),
          k % 2
            ? String(dead)
            : JSON.stringify({ pid: dead, host: hostname(), command: 'x', since: 1 }),
        );
      }
    })();
    const lines = await Promise.all(racers);
    await staleWriter;
    // Mutual exclusion, whatever the scheduling: no two holds overlap in time. (A
    // racer descheduled for a whole round may find the lock free and win it too:
    // that is no fault, so rounds are not required to have exactly one winner.)
    const holds: { from: number; to: number }[] = [];
    let contested = 0;
    for (let k = 0; k < ROUNDS; k++) {
      const outcomes = lines.map((l) => l[k] ?? 'missing');
      expect(
        outcomes.filter((o) => !/^(won \d+ \d+|locked)$/.test(o)),
        `round ${k}`,
      ).toEqual([]);
      if (outcomes.some((o) => o === 'locked')) contested++;
      for (const o of outcomes) {
        const [, from, to] = o.split(' ');
        if (from && to) holds.push({ from: Number(from), to: Number(to) });
      }
    }
    holds.sort((a, b) => a.from - b.from);
    for (let i = 1; i < holds.length; i++) {
      expect(holds[i]!.from, `hold ${i} began before hold ${i - 1} ended`).toBeGreaterThanOrEqual(
        holds[i - 1]!.to,
      );
    }
    expect(holds.length).toBeGreaterThanOrEqual(ROUNDS / 2);
    expect(contested).toBeGreaterThanOrEqual(ROUNDS / 2);
  }, 120_000);

  it('is free the moment its holder is SIGKILLed, before anyone reaps it', async () => {
    const dir = tempDir();
    const h = holder(dir);
    expect(await h.outcome).toBe('won');
    expect(processLockState(dir)).toMatchObject({ held: true, holder: { pid: h.child.pid } });
    h.child.kill('SIGKILL');
    // Synchronously: the child is a zombie now, its pid still "alive" to kill(pid, 0).
    waitUntilDead(h.child.pid!);
    expect(processLockState(dir)).toEqual({ held: false });
    const release = acquireProcessLock(dir);
    release();
    await h.exited;
  });

  it('is not blocked by a leftover pid file naming a live, unrelated process', () => {
    const dir = tempDir();
    // The test runner's parent: alive, and not an Albumen process holding anything.
    writeFileSync(join(dir, LOCK_HOLDER_FILE), String(process.ppid));
    expect(processLockState(dir)).toEqual({ held: false });
    const release = acquireProcessLock(dir);
    const record = JSON.parse(readFileSync(join(dir, LOCK_HOLDER_FILE), 'utf8')) as {
      pid: number;
    };
    expect(record.pid).toBe(process.pid);
    release();
    expect(existsSync(join(dir, LOCK_HOLDER_FILE))).toBe(false);
  });

  it('refuses a second holder, naming the first (pid, host, command, since) and what to do', async () => {
    const dir = tempDir();
    const h = holder(dir);
    expect(await h.outcome).toBe('won');
    let refused: unknown;
    try {
      acquireProcessLock(dir, { waitMs: 50 }).call(null);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(LockedError);
    const e = refused as LockedError;
    expect(e.holder).toMatchObject({ pid: h.child.pid, host: hostname(), command: 'lock-holder' });
    expect(e.message).toContain(`pid ${h.child.pid} on ${hostname()}`);
    expect(e.message).toContain('"lock-holder"');
    expect(e.message).toMatch(/since \d{4}-\d\d-\d\dT/);
    expect(e.message).toMatch(/stop it .*kill \d+/);
    h.child.stdin.end();
    await h.exited;
    // Let go cleanly: free, and its record gone.
    expect(processLockState(dir)).toEqual({ held: false });
    expect(existsSync(join(dir, LOCK_HOLDER_FILE))).toBe(false);
  });

  it('refuses a second claim from the same process until the first is released', () => {
    const dir = tempDir();
    const release = acquireProcessLock(dir);
    expect(() => acquireProcessLock(dir, { waitMs: 0 })).toThrow(LockedError);
    release();
    release(); // twice is harmless
    acquireProcessLock(dir)();
  });
});
