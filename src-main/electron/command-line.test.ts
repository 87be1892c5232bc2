import { describe, expect, it } from 'vitest';
import { pathsFromArgv } from './command-line.ts';

describe('paths from the command line', () => {
  const packaged = { defaultApp: false, cwd: '/home/u' };
  const dev = { defaultApp: true, cwd: '/home/u' };

  it('takes the paths after the executable, made absolute', () => {
    expect(pathsFromArgv(['/opt/albumen', 'Pictures', '/mnt/c.cbz'], packaged)).toEqual([
      '/home/u/Pictures',
      '/mnt/c.cbz',
    ]);
  });

  it('skips the app path of an unpackaged run', () => {
    expect(pathsFromArgv(['electron', '.', 'Pictures'], dev)).toEqual(['/home/u/Pictures']);
    expect(pathsFromArgv(['electron', 'out/main/index.js'], dev)).toEqual([]);
  });

  it("ignores switches, Chromium's included, until --", () => {
    expect(
      pathsFromArgv(
        ['electron', '--no-sandbox', '.', '--allow-file-access-from-files', 'a', '--', '-odd-name'],
        dev,
      ),
    ).toEqual(['/home/u/a', '/home/u/-odd-name']);
  });

  it('drops empty arguments and NUL bytes', () => {
    expect(pathsFromArgv(['/opt/albumen', '', '  ', 'a\0b'], packaged)).toEqual([]);
  });

  it('resolves against the second instance’s working directory', () => {
    expect(pathsFromArgv(['/opt/albumen', 'x'], { defaultApp: false, cwd: '/tmp' })).toEqual([
      '/tmp/x',
    ]);
  });
});
