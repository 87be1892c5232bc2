/**
 * Paths given on the command line (`albumen ~/Pictures archive.cbz`), for the
 * first instance and for a second one that hands them over before it exits.
 */
import { isAbsolute, resolve } from 'node:path';

/**
 * The folders and archives named in an Electron argv, made absolute against
 * the launching shell's directory. The executable is skipped, and in an
 * unpackaged run (`electron <app>`, `defaultApp`) the app path after it too;
 * switches (`--flag`, Chromium's own) are ignored until a `--`.
 */
export function pathsFromArgv(
  argv: readonly string[],
  o: { defaultApp: boolean; cwd: string },
): string[] {
  const paths: string[] = [];
  let skipAppPath = o.defaultApp;
  let switches = true;
  for (const arg of argv.slice(1)) {
    if (switches && arg === '--') {
      switches = false;
      continue;
    }
    if (switches && arg.startsWith('-')) continue;
    if (skipAppPath) {
      skipAppPath = false;
      continue;
    }
    if (arg.trim() === '' || arg.includes('\0')) continue;
    paths.push(isAbsolute(arg) ? arg : resolve(o.cwd, arg));
  }
  return paths;
}
