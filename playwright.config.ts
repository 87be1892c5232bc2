import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/**
 * End-to-end specs drive the real UI against the real core. Here (no Electron
 * binary) they run in Debian's Chromium through the browser host; the
 * `electron` project runs the same specs wherever an Electron binary exists.
 */
const chromium = process.env.ALBUMEN_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    viewport: { width: 1440, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      testIgnore: /desktop\.spec\.ts/,
      use: {
        launchOptions: {
          executablePath: existsSync(chromium) ? chromium : undefined,
          // Flags for a closed network and a headless, GPU-less machine.
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--no-first-run',
            '--disable-dev-shm-usage',
          ],
        },
      },
    },
    {
      // The desktop app (needs `npm run build` and an Electron binary; skipped without one).
      name: 'electron',
      testMatch: /desktop\.spec\.ts/,
    },
  ],
});
