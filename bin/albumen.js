#!/usr/bin/env node
// The `albumen` command. Plain JavaScript so that it can check the Node version
// before anything loads the store (better-sqlite3 13 crashes on Node < 22).
//
// The development launcher: it runs the TypeScript sources of a checkout (Node
// 24 strips their types), so the tests and `node bin/albumen.js` never need a
// build and never run a stale one. The package's `bin` is the built
// out/cli/albumen.js (src-main/cli/albumen.ts), which an installed package runs;
// this file is not shipped.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `albumen needs Node 24 or newer (this is ${process.version}). ` +
      "Run it as `npx albumen` from the project, which uses the project's own Node 24.\n",
  );
  process.exit(2);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src-main', 'cli', 'main.ts');
const built = join(root, 'out', 'cli', 'main.js');
const fromSource = existsSync(source) && !root.split(sep).includes('node_modules');
const entry = fromSource ? source : built;
if (!existsSync(entry)) {
  process.stderr.write(`albumen: ${entry} is missing; "npm run build" makes it.\n`);
  process.exit(2);
}
const { run } = await import(pathToFileURL(entry).href);
await run();
