import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

const ROOT = join(import.meta.dirname, '..');

/** A browser host started on a fresh data folder, as a user would start it. */
export class HostProcess {
  readonly dataDir: string;
  url = '';
  private child: ChildProcess | null = null;

  constructor(workDir: string) {
    this.dataDir = join(workDir, 'data');
  }

  /** Starts `node src-main/host/serve.ts` and waits for the URL it prints. */
  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'src-main/host/serve.ts'), '--port', '0', '--data-dir', this.dataDir],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    this.url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Open (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`host exited with ${code}: ${stderr}`)));
      setTimeout(() => reject(new Error(`host did not start: ${stderr}`)), 30_000);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** A fresh working folder for one spec. */
export function workDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'albumen-e2e-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A folder of photos: real ones from the shared corpus when it was built
 * (`ALBUMEN_E2E_PHOTOS`), else photo-like images generated with sharp.
 */
export async function photoFolder(dir: string, count: number): Promise<string> {
  const target = join(dir, 'photos');
  mkdirSync(target, { recursive: true });
  const corpus = process.env.ALBUMEN_E2E_PHOTOS;
  if (corpus && existsSync(corpus)) {
    const names = readdirSync(corpus)
      .filter((n) => /\.(jpe?g|png|webp)$/i.test(n))
      .sort()
      .slice(0, count);
    for (const n of names) cpSync(join(corpus, n), join(target, n));
    if (names.length >= Math.min(count, 4)) return target;
  }
  const { writePhotos } = await import('../src-main/test-support/fixtures.ts');
  await writePhotos(target, count, { width: 2400, height: 1600 });
  return target;
}

/** The UI as a user drives it: through visible controls, by role and test id. */
export class AlbumenPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
  }

  async importPath(path: string): Promise<void> {
    await this.page.getByTestId('import-path').fill(path);
    await this.page.getByTestId('import-submit').click();
  }

  /** Imports `path` with the jobs panel open and waits for its job to complete. */
  async importAndWait(path: string, timeout = 60_000): Promise<void> {
    await this.openJobs();
    await this.importPath(path);
    await expect(this.jobCard()).toHaveAttribute('data-status', 'completed', { timeout });
  }

  collection(name: string) {
    return this.page.getByTestId('collection').filter({ hasText: name });
  }

  thumbs() {
    return this.page.getByTestId('thumb');
  }

  async openJobs(): Promise<void> {
    const panel = this.page.getByTestId('jobs-panel');
    if (!(await panel.isVisible())) await this.page.getByTestId('jobs-toggle').click();
  }

  jobCard() {
    return this.page.getByTestId('job-card').first();
  }
}
