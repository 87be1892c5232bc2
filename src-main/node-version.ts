/** Oldest Node major the core runs on: better-sqlite3 13 crashes on older ones. */
export const MIN_NODE_MAJOR = 24;

/**
 * Exits with a clear message when running on an older Node. Every entry point
 * (CLI, browser host, tests) calls it before loading the store.
 */
export function assertNodeVersion(what: string): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE_MAJOR) {
    process.stderr.write(
      `albumen: ${what} needs Node ${MIN_NODE_MAJOR} or newer (this is ${process.version}). ` +
        `Run it through npm (npm test, npx albumen), which uses the project's own Node 24.\n`,
    );
    process.exit(2);
  }
}
