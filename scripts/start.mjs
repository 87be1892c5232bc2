/**
 * `npm start`: builds the desktop app (`electron-vite build`) and runs it in
 * Electron. Where the desktop app cannot run — no display, no Electron
 * binary and no way to download one, or native modules not built for
 * Electron — it says so in one line and exits 1, before spending time on a
 * build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const ELECTRON_DIR = join(ROOT, 'node_modules', 'electron');
/** A first start downloads Electron (about 100 MB); a closed network fails in well under a second. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/** An Electron that exits this soon with an error never started the app. */
const EARLY_EXIT_MS = 5_000;

/** Prints the one line a user reads when the desktop app cannot run here, and exits 1. */
function cannotStart(reason) {
  process.stderr.write(
    `albumen: the desktop app cannot start here (${reason}); ` +
      'run "npm run serve" to use Albumen in a browser.\n',
  );
  process.exit(1);
}

/** Why there is no screen to open a window on, or null when there is one. */
function missingDisplay(env = process.env, platform = process.platform) {
  if (platform === 'win32' || platform === 'darwin') return null;
  return env.DISPLAY || env.WAYLAND_DISPLAY
    ? null
    : 'no display: DISPLAY and WAYLAND_DISPLAY are unset';
}

/** The Electron binary the `electron` package names, if it is on disk. */
function installedElectron() {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let relative = '';
  try {
    relative = readFileSync(join(ELECTRON_DIR, 'path.txt'), 'utf8').trim();
  } catch {
    // Not downloaded yet.
  }
  const binary = override
    ? join(override, relative || 'electron')
    : relative && join(ELECTRON_DIR, 'dist', relative);
  return binary && existsSync(binary) ? binary : null;
}

/**
 * The Electron binary, downloading it on first use the way the `electron`
 * package does (its install script), quietly: a failure is one line.
 */
function electronBinary() {
  if (!existsSync(join(ELECTRON_DIR, 'package.json'))) {
    cannotStart('the electron package is not installed; run "npm ci"');
  }
  const found = installedElectron();
  if (found) return found;
  process.stderr.write('albumen: downloading Electron (first start only)…\n');
  const r = spawnSync(process.execPath, [join(ELECTRON_DIR, 'install.js')], {
    cwd: ELECTRON_DIR,
    encoding: 'utf8',
    timeout: DOWNLOAD_TIMEOUT_MS,
  });
  const binary = installedElectron();
  if (r.status === 0 && binary) return binary;
  const why =
    r.error?.code === 'ETIMEDOUT'
      ? 'the download timed out'
      : (`${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? `exit code ${r.status}`).trim();
  return cannotStart(`no Electron binary, and it could not be downloaded: ${why}`);
}

/**
 * Why the store's native module cannot load in this Electron, or null. The
 * CLI and tests run better-sqlite3 built for Node 24; Electron has another
 * ABI and needs its own build, so check before a window opens on a crash.
 */
function nativeModuleProblem(binary) {
  const r = spawnSync(
    binary,
    ['-e', "const D = require('better-sqlite3'); new D(':memory:').close();"],
    {
      cwd: ROOT,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (r.status === 0) return null;
  const first = `${r.stderr ?? ''}`.split('\n').find((l) => /Error|NODE_MODULE_VERSION/.test(l));
  return `better-sqlite3 does not load in Electron: ${(first ?? r.error?.message ?? (r.signal ? `it crashed (${r.signal})` : `exit code ${r.status}`)).trim()}`;
}

function build() {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) {
    process.stderr.write('albumen: the build failed (see above).\n');
    process.exit(r.status ?? 1);
  }
}

function launch(binary) {
  const env = { ...process.env };
  // Inherited from a parent that ran Electron as Node, it would make this
  // Electron a plain Node too, and the app would never open a window.
  delete env.ELECTRON_RUN_AS_NODE;
  const startedAt = Date.now();
  const child = spawn(binary, ['.', ...process.argv.slice(2)], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  child.on('error', (err) => cannotStart(`Electron could not be run: ${err.message}`));
  child.on('exit', (code, signal) => {
    if (code && Date.now() - startedAt < EARLY_EXIT_MS) {
      cannotStart(`Electron exited at once with code ${code}`);
    }
    process.exit(code ?? (signal ? 1 : 0));
  });
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
}

const noDisplay = missingDisplay();
if (noDisplay) cannotStart(noDisplay);
const binary = electronBinary();
const nativeProblem = nativeModuleProblem(binary);
if (nativeProblem) cannotStart(nativeProblem);
build();
launch(binary);
