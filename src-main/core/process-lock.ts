import { openSync, readFileSync, unlinkSync, writeFileSync, closeSync } from 'node:fs';

/** Raised when another live process already processes this data folder. */
export class LockedError extends Error {
  override name = 'LockedError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive claim on a data folder by the one process that runs its jobs,
 * so start-up recovery never takes back items another live process is running.
 * A lock left by a killed process (its pid gone) is taken over.
 */
export function acquireProcessLock(file: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new LockedError(
          `Another Albumen process (pid ${pid}) is already processing this library. ` +
            'Its jobs continue there; use that process, or stop it first.',
        );
      }
      unlinkSync(file);
    }
  }
  throw new LockedError('Could not take the library lock.');
}
