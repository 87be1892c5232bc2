#!/usr/bin/env node
// The `albumen` command. Plain JavaScript so that it can check the Node version
// before anything loads the store (better-sqlite3 13 crashes on Node < 22).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `albumen needs Node 24 or newer (this is ${process.version}). ` +
      "Run it as `npx albumen` from the project, which uses the project's own Node 24.\n",
  );
  process.exit(2);
}
const { run } = await import('../src-main/cli/main.ts');
await run();
