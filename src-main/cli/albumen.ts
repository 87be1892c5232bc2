#!/usr/bin/env node
/**
 * The installed `albumen` command (package.json `bin`, built to
 * out/cli/albumen.js). It checks Node before anything loads the store, which
 * static imports would do first: better-sqlite3 13 crashes on Node < 22.
 * In a checkout, bin/albumen.js does the same for the TypeScript sources.
 */
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `albumen needs Node 24 or newer (this is ${process.version}). ` +
      'Install Node 24, or run it as `npx albumen` from a project that depends on it.\n',
  );
  process.exit(2);
}
const { run } = await import('./main.ts');
await run();
