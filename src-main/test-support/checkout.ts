/**
 * For the tests of what a user runs from a checkout or from a package: a copy
 * of the checkout (in a folder of the test's choosing, which has spaces in its
 * path), tools run the way npm runs them on the project's Node 24, and the
 * browser host started and asked for its page.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/**
 * Copies `parts` (files and folders, relative to the project root) into
 * `dest`, and links node_modules there (it is big, and never written).
 *
 * `nodeModules: 'real'` gives the copy a node_modules folder of its own
 * instead, as a checkout after `npm ci` has: electron-builder walks the
 * dependency tree on disk and loses the packages behind a linked node_modules
 * (sharp's own dependencies went missing from the package that way). The
 * files are hard links where the file system allows it (Linux and macOS
 * `cp`), else copies.
 */
export function copyCheckout(
  dest: string,
  parts: readonly string[],
  { nodeModules = 'link' }: { nodeModules?: 'link' | 'real' } = {},
): string {
  mkdirSync(dest, { recursive: true });
  for (const part of parts) {
    cpSync(join(PROJECT_ROOT, part), join(dest, part), { recursive: true });
  }
  // The real folder, should the checkout's own node_modules be a link.
  const from = realpathSync(join(PROJECT_ROOT, 'node_modules'));
  const to = join(dest, 'node_modules');
  if (nodeModules === 'link') {
    symlinkSync(from, to, 'junction');
  } else if (spawnSync('cp', ['-al', from, to]).status !== 0) {
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  }
  return dest;
}

/**
 * The environment for npm and the tools it starts: this Node 24 first on the
 * PATH (npm and its scripts run `node` from there), and none of the npm_*
 * variables of an npm that started the tests: npm_config_local_prefix, for
 * one, would send an install to this checkout.
 */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || /^npm_config_(cache|registry)$/i.test(k)) env[k] = v;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  env.npm_config_update_notifier = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  return { ...env, ...extra };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`). */
export function run(
  command: string,
  args: readonly string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: toolEnv(), ...opts, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A running browser host. */
export interface Served {
  url: string;
  /** Everything it printed so far. */
  output: () => string;
  /** SIGTERM to its process group; resolves with the exit code of the command. */
  stop: () => Promise<number | null>;
}

/**
 * Starts a command that runs the browser host and waits for the address it
 * prints. Started in a process group of its own, so that stop() also reaches
 * the host when npm or a shell stands between.
 */
export function startServer(
  command: string,
  args: readonly string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: toolEnv(),
      ...opts,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let settled = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // Already gone.
      }
    };
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      group('SIGKILL');
      reject(new Error(`${why}; it printed:\n${output}`));
    };
    const timer = setTimeout(
      () => fail('the host printed no address in time'),
      opts.timeoutMs ?? 60_000,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const url = /Open (http:\/\/\S+)/.exec(output)?.[1];
      if (url && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({
          url,
          output: () => output,
          stop: async () => {
            group('SIGTERM');
            const killer = setTimeout(() => group('SIGKILL'), 20_000);
            const code = await exited;
            clearTimeout(killer);
            return code;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => fail(err.message));
    void exited.then((code) => {
      clearTimeout(timer);
      fail(`it exited with code ${code} before printing an address`);
    });
  });
}

/** The host's page: the printed address trades its token for a cookie. */
export async function fetchPage(url: string): Promise<{ status: number; body: string }> {
  const first = await fetch(url, { redirect: 'manual' });
  const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const page = await fetch(new URL('/', url), { headers: { cookie } });
  return { status: page.status, body: await page.text() };
}
