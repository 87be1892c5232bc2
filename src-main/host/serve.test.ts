/**
 * `npm run serve` from a checkout whose path has spaces: the CLI build and the
 * renderer build there, and the built host (out/cli/serve.js) starts and serves
 * the page. The pack test (src-main/cli/pack.test.ts) does the same for the built
 * host of an installed package.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyCheckout, fetchPage, startServer } from '../test-support/checkout.ts';
import { useTempDir } from '../test-support/temp-dir.ts';

const tempDir = useTempDir('albumen serve ');

describe('npm run serve', () => {
  it('starts from a checkout whose path has spaces, and serves the built UI', async () => {
    const checkout = copyCheckout(join(tempDir(), 'my photos app'), [
      'package.json',
      'tsconfig.json',
      'tsconfig.base.json',
      'tsconfig.web.json',
      'tsconfig.node.json',
      'tsconfig.e2e.json',
      'vite.renderer.config.ts',
      'vite.cli.config.ts',
      'src-main',
      'src-shared',
      'src-worker',
      'src-renderer',
    ]);
    const served = await startServer(
      'npm',
      ['run', 'serve', '--', '--port', '0', '--data-dir', join(checkout, 'library data')],
      { cwd: checkout, timeoutMs: 120_000 },
    );
    try {
      expect(served.output()).toContain(`library: ${join(checkout, 'library data')}`);
      const page = await fetchPage(served.url);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<div id="root"></div>');
      expect(page.body).toMatch(
        /<script type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js">/,
      );
    } finally {
      await served.stop();
    }
  });
});
