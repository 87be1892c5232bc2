import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, type ElectronApplication, type Page } from '@playwright/test';
import type { PreloadApi } from '../src-shared/api.ts';

const ROOT = join(import.meta.dirname, '..');

/** True where the `electron` package has its binary (never on the CI machines here). */
export function electronAvailable(): boolean {
  try {
    const dir = join(ROOT, 'node_modules', 'electron');
    return existsSync(join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim()));
  } catch {
    return false;
  }
}

/** The built desktop app (`npm run build`) on a fresh data folder: the Electron twin of HostProcess. */
export class ElectronApp {
  readonly dataDir: string;
  private app: ElectronApplication | null = null;

  constructor(workDir: string) {
    this.dataDir = join(workDir, 'data');
  }

  async start(): Promise<Page> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.ALBUMEN_DATA_DIR = this.dataDir;
    delete env.ELECTRON_RUN_AS_NODE;
    this.app = await electron.launch({
      args: [
        join(ROOT, 'out/main/index.js'),
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      ],
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    const page = await this.app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    return page;
  }

  /** What a drop of folders does: Playwright's synthetic drops carry no paths. */
  importPaths(page: Page, paths: string[]): Promise<unknown> {
    return page.evaluate(
      (p) => (window as unknown as { albumen: PreloadApi }).albumen.importPaths({ paths: p }),
      paths,
    );
  }

  /** Quits like the user: before-quit stops the core cleanly. */
  async stop(): Promise<void> {
    await this.app?.close();
  }
}
