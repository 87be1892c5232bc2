/**
 * The npm package as a user gets it: `npm pack` (whose prepack builds
 * out/cli and out/renderer) in a copy of the checkout, the tarball installed
 * into an empty folder from npm's cache, and the installed `albumen` run on
 * the project's Node 24: --help, an import of generated photos, and `serve`.
 * Node does not strip types under node_modules, so this only passes when the
 * package runs from built JavaScript. Both folders have spaces in their paths.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyCheckout, fetchPage, run, startServer } from '../test-support/checkout.ts';
import { writePhotos } from '../test-support/fixtures.ts';

/** What `npm pack` needs: the package's own files and what builds them. */
const PACK_PARTS = [
  'package.json',
  'README.md',
  'tsconfig.json',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
  'tsconfig.e2e.json',
  'vite.cli.config.ts',
  'vite.renderer.config.ts',
  'src-main',
  'src-shared',
  'src-worker',
  'src-renderer',
];

let root = '';
let app = '';
let bin = '';

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'albumen pack '));
  const checkout = copyCheckout(join(root, 'the checkout'), PACK_PARTS);
  const packed = await run('npm', ['pack', '--pack-destination', root], {
    cwd: checkout,
    timeoutMs: 180_000,
  });
  expect(packed.code, packed.stdout + packed.stderr).toBe(0);
  const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
  expect(tarball, packed.stdout).toBeDefined();

  // An empty project of its own, so that npm installs here and nowhere above.
  app = join(root, 'my app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "my-app", "private": true }\n');
  const installed = await run('npm', ['install', '--prefer-offline', join(root, tarball!)], {
    cwd: app,
    timeoutMs: 180_000,
  });
  expect(installed.code, installed.stdout + installed.stderr).toBe(0);
  bin = join(app, 'node_modules', '.bin', 'albumen');
}, 400_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the packed npm package, installed', () => {
  it('holds the built CLI, host, pool files and renderer, and no TypeScript', () => {
    const files = filesBelow(join(app, 'node_modules', 'albumen'));
    expect(files.filter((f) => /\.[cm]?ts$/.test(f))).toEqual([]);
    for (const f of [
      'out/cli/albumen.js',
      'out/cli/main.js',
      'out/cli/serve.js',
      'out/cli/pool-host.js',
      'out/cli/render.task.js',
      'out/renderer/index.html',
    ]) {
      expect(files).toContain(f);
    }
    // Only what the package needs: no desktop build, no tests, no configs.
    expect(files.filter((f) => !/^(out\/cli|out\/renderer)\/|^[^/]+$/.test(f))).toEqual([]);
    const pkg = JSON.parse(
      readFileSync(join(app, 'node_modules', 'albumen', 'package.json'), 'utf8'),
    ) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ albumen: 'out/cli/albumen.js' });
  });

  it('runs `albumen --help`', async () => {
    const r = await run(bin, ['--help'], { cwd: app });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: albumen <command>/);
  });

  it('imports a folder of photos with --wait: exit 0 and the outputs written', async () => {
    const photos = join(root, 'holiday photos');
    await writePhotos(photos, 3, { width: 320, height: 240 });
    const data = join(root, 'library data');
    const r = await run(bin, ['import', photos, '--wait', '--json', '--data-dir', data], {
      cwd: app,
    });
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as {
      status: string;
      stages: Record<string, { done: number; failed: number }>;
    };
    expect(job.status).toBe('completed');
    expect(job.stages.thumbnail).toMatchObject({ done: 3, failed: 0 });
    expect(job.stages.cache).toMatchObject({ done: 3, failed: 0 });
    const outputs = filesBelow(join(data, 'cache'));
    expect(outputs.filter((f) => /\/thumbnail\/.*\.jpg$/.test(f))).toHaveLength(3);
    expect(outputs.filter((f) => /\/cache\/.*\.jpg$/.test(f))).toHaveLength(3);
  });

  it('runs `albumen serve`, which serves the built UI', async () => {
    const served = await startServer(bin, ['serve', '--data-dir', join(root, 'served data')], {
      cwd: app,
    });
    try {
      const page = await fetchPage(served.url);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<div id="root"></div>');
    } finally {
      expect(await served.stop()).toBe(0);
    }
  });
});
