/**
 * The CLI as separate processes, the way a user's terminal (and a crash) sees
 * it: spawned from bin/albumen.js, killed with SIGKILL, its render host found
 * among its children and stopped with SIGSTOP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/albumen.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running CLI command. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';
  /** Every process seen below this one (the render host and its restarts). */
  readonly descendants = new Set<number>();
  /** Set when this suite sent the SIGKILL (not a crash point). */
  killedByTest = false;
  private done = false;
  private readonly sampler: NodeJS.Timeout;

  constructor(args: string[], env: Record<string, string | undefined>) {
    const base: Record<string, string | undefined> = { ...process.env };
    delete base.ALBUMEN_CRASH_AT;
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error(`could not spawn albumen ${args.join(' ')}`);
    this.pid = this.child.pid;
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.done = true;
        clearInterval(this.sampler);
        resolve({ code, signal });
      });
    });
    this.sampler = setInterval(() => this.sample(), 50);
  }

  get alive(): boolean {
    return !this.done;
  }

  sample(): void {
    if (this.done) return;
    for (const p of descendantsOf(this.pid)) this.descendants.add(p);
  }

  /** The render host: the CLI's child process, if it has one now. */
  host(): number | undefined {
    return childrenOf(this.pid)[0];
  }

  kill(): void {
    if (!this.alive) return;
    this.sample();
    this.killedByTest = true;
    this.child.kill('SIGKILL');
  }

  interrupt(): void {
    if (this.alive) this.child.kill('SIGINT');
  }
}

/** Children of a process, from /proc (Linux); empty elsewhere or once it is gone. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(/\s+/)) {
        if (c) out.push(Number(c));
      }
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of childrenOf(stack.pop()!)) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits until none of `pids` runs any more; after `graceMs` SIGCONTs and
 * SIGKILLs the rest and returns them (a render host that outlived its owner).
 */
export async function waitGone(pids: Iterable<number>, graceMs: number): Promise<number[]> {
  const list = [...pids];
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!list.some(isRunning)) return [];
    await sleep(25);
  }
  const left = list.filter(isRunning);
  for (const p of left) {
    for (const sig of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(p, sig);
      } catch {
        // gone
      }
    }
  }
  return left;
}
