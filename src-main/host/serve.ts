import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { assertNodeVersion } from '../node-version.ts';
import { defaultDataDir } from '../core/data-dir.ts';
import { runtimeFiles } from '../core/packaged-paths.ts';

/** Where `vite build -c vite.renderer.config.ts` puts the UI (out/renderer). */
export const DEFAULT_RENDERER_DIR = runtimeFiles().rendererDir;

/**
 * Runs the browser host: the core with processing, the AppService, and the
 * HTTP/WebSocket server on 127.0.0.1. Resolves when it is stopped by a signal.
 */
export async function serve(opts: {
  port: number;
  dataDir: string;
  rendererDir?: string;
  out?: (s: string) => void;
}): Promise<void> {
  const out = opts.out ?? ((s: string) => process.stdout.write(s + '\n'));
  // Loaded after the Node check: the store's native module crashes on old Node.
  const { openNodeCore } = await import('../core/compose-node.ts');
  const { AppService } = await import('../app/app-service.ts');
  const { startBrowserHost } = await import('./browser-host.ts');
  // The host watches its folder collections: changes on disk show up by themselves.
  const core = openNodeCore({ dataDir: opts.dataDir, watch: true });
  await core.start();
  const service = new AppService(core);
  const host = await startBrowserHost({
    service,
    rendererDir: opts.rendererDir ?? DEFAULT_RENDERER_DIR,
    port: opts.port,
    log: (m) => core.log.log('warn', `host: ${m}`),
  });
  // One write: a reader that waits for the URL has the library line too.
  out(
    `Albumen is running. Open ${host.url}\n` +
      `(library: ${opts.dataDir}; Ctrl+C stops, unfinished work resumes next time)`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void (async () => {
        await host.close();
        service.dispose();
        await core.close();
        resolve();
      })();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `node src-main/host/serve.ts [--port N] [--data-dir DIR]` (built: out/cli/serve.js) */
async function main(): Promise<void> {
  assertNodeVersion('the browser host');
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, 'data-dir': { type: 'string' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`albumen: --port must be a number from 0 to 65535\n`);
    process.exit(2);
  }
  await serve({ port, dataDir: values['data-dir'] ?? defaultDataDir() });
}

/**
 * True when this module is the program Node was started with. Not a string
 * comparison of import.meta.url with argv[1]: a URL escapes the spaces and
 * other characters that a path keeps, and argv[1] may be a link.
 */
function isProgram(): boolean {
  // Node 24.2 and newer know; older ones are told by assertNodeVersion in main().
  if (typeof import.meta.main === 'boolean') return import.meta.main;
  try {
    const arg = process.argv[1];
    return !!arg && pathToFileURL(realpathSync(arg)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isProgram()) {
  main().catch((err: unknown) => {
    process.stderr.write(`albumen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
