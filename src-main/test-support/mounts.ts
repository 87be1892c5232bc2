import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when this process may mount a tmpfs (root on Linux, as in CI); tests that need it skip otherwise. */
export const canMount: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'albumen-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(dir);
  }
})();

/** A small RAM volume at `dir` (created), for full-disk and read-only faults. */
export function mountTmpfs(
  dir: string,
  sizeBytes: number,
): { remount(mode: 'ro' | 'rw'): void; unmount(): void } {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  let mounted = true;
  return {
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]),
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', ['-l', dir]);
    },
  };
}

/**
 * The files directly in `dir` (bytes and times), kept to put back where a
 * tmpfs was: it forgets them when unmounted. `putBack` writes them again
 * (making `dir`) with their modification times, as a drive plugged in again.
 */
export function keepFiles(dir: string): { putBack(): void } {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => {
      const p = join(dir, d.name);
      return { p, st: statSync(p), bytes: readFileSync(p) };
    });
  return {
    putBack: () => {
      mkdirSync(dir, { recursive: true });
      for (const f of files) {
        writeFileSync(f.p, f.bytes);
        utimesSync(f.p, f.st.atime, f.st.mtime);
      }
    },
  };
}
