import { homedir } from 'node:os';
import { join } from 'node:path';

/** The app's folder name under the platform's per-user data location (as Electron's userData). */
export const APP_DIR_NAME = 'Albumen';

/**
 * The per-user data folder the desktop app uses: ~/.config/Albumen on Linux,
 * ~/Library/Application Support/Albumen on macOS, %APPDATA%\Albumen on Windows.
 * Only composition roots call this; services receive the folder.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  if (env.ALBUMEN_DATA_DIR) return env.ALBUMEN_DATA_DIR;
  if (platform === 'win32')
    return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_DIR_NAME);
}
