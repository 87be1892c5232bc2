/**
 * The layer rules are lint rules; this proves they bite. Each probe is a real
 * file written into the folder whose rules it tests (so the type-aware lint
 * sees it as part of the project), linted with the project's own config, and
 * removed again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const written: string[] = [];

afterEach(() => {
  for (const f of written.splice(0)) rmSync(f, { force: true });
});

async function lintProbe(relPath: string, code: string): Promise<string[]> {
  const file = join(root, relPath);
  writeFileSync(file, code);
  written.push(file);
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintFiles([file]);
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

describe('layer rules', () => {
  it('refuse a cache → core import, statically and dynamically', async () => {
    const messages = await lintProbe(
      'src-main/cache/layer-probe.ts',
      `import type { AlbumenCore } from '../core/albumen-core.ts';
export type X = AlbumenCore;
export const load = () => import('../core/compose-node.ts');
`,
    );
    expect(messages).toHaveLength(2);
    expect(messages.every((m) => m.includes('src-main/core is a higher layer'))).toBe(true);
  });

  it('refuse the store importing the jobs layer, and jobs importing the CLI', async () => {
    expect(
      await lintProbe(
        'src-main/store/layer-probe.ts',
        `export { JobTransitions } from '../jobs/job-transitions.ts';\n`,
      ),
    ).toHaveLength(1);
    expect(
      await lintProbe(
        'src-main/jobs/layer-probe.ts',
        `export const load = () => import('../cli/main.ts');\n`,
      ),
    ).toHaveLength(1);
  });

  it('refuse ws and Node in the renderer, and React and Node in src-shared', async () => {
    const renderer = await lintProbe(
      'src-renderer/layer-probe.ts',
      `import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
export const x = [WebSocket, readFileSync];
export const y = () => import('better-sqlite3');
`,
    );
    expect(renderer).toHaveLength(3);
    const shared = await lintProbe(
      'src-shared/layer-probe.ts',
      `import { useState } from 'react';
import { join } from 'node:path';
export const x = [useState, join];
`,
    );
    expect(shared).toHaveLength(2);
  });

  it('cannot be got around by spelling the path otherwise, a template import() or require', async () => {
    // Each of these passed the rules once (found by the hostile review).
    const messages = await lintProbe(
      'src-main/cache/layer-probe.ts',
      `import { createRequire } from 'node:module';
import type { AlbumenCore } from './../core/albumen-core.ts';
import type { Scheduler } from '../../src-main/core/albumen-core.ts';
import type { World } from '../fault/world.ts';
export type X = [AlbumenCore, Scheduler, World];
export const a = () => import(\`../core/compose-node.ts\`);
const name = '../core/compose-node.ts';
export const b = () => import(name);
export const c = () => createRequire(import.meta.url)('../core/compose-node.ts');
`,
    );
    expect(messages.filter((m) => m.includes('src-main/core is a higher layer'))).toHaveLength(2);
    expect(messages.filter((m) => m.includes('src-main/fault is a higher layer'))).toHaveLength(1);
    expect(messages.filter((m) => m.includes('plain string'))).toHaveLength(2);
    expect(messages.filter((m) => m.includes('createRequire'))).toHaveLength(1);
    const renderer = await lintProbe(
      'src-renderer/layer-probe.ts',
      'export const ws = () => import(`ws`);\n',
    );
    expect(renderer).toHaveLength(1);
  });

  it('let a layer import the layers below it', async () => {
    expect(
      await lintProbe(
        'src-main/core/layer-probe.ts',
        `import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
export type X = [Store, Logger];
export const load = () => import('../cache/placement.ts');
`,
      ),
    ).toEqual([]);
  });
});
