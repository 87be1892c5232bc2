import type { BaseWindow, MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { appMenuTemplate, chooseAndImport, openDialogOptions } from './menu.ts';

/** Every item of a template, depth first. */
function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu) : [])]);
}

const actions = () => ({ addFolder: vi.fn(), addArchive: vi.fn() });

describe('application menu', () => {
  it('has File, Edit, View, Window and Help', () => {
    const m = appMenuTemplate({ platform: 'linux', isDev: false, actions: actions() });
    expect(m.map((i) => i.label)).toEqual(['&File', '&Edit', '&View', '&Window', '&Help']);
  });

  it('adds folders and archives from File, with their shortcuts', () => {
    const a = actions();
    const items = flatten(appMenuTemplate({ platform: 'linux', isDev: false, actions: a }));
    const folder = items.find((i) => i.id === 'add-folder')!;
    const archive = items.find((i) => i.id === 'add-archive')!;
    expect(folder.accelerator).toBe('CmdOrCtrl+O');
    expect(archive.accelerator).toBe('CmdOrCtrl+Shift+O');
    (folder.click as () => void)();
    (archive.click as () => void)();
    expect(a.addFolder).toHaveBeenCalledTimes(1);
    expect(a.addArchive).toHaveBeenCalledTimes(1);
    const roles = items.map((i) => i.role);
    expect(roles).toEqual(expect.arrayContaining(['close', 'quit', 'editMenu', 'windowMenu']));
    expect(roles).toEqual(
      expect.arrayContaining(['zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen']),
    );
  });

  it('offers reload and developer tools only in development', () => {
    const roles = (isDev: boolean) =>
      flatten(appMenuTemplate({ platform: 'linux', isDev, actions: actions() })).map((i) => i.role);
    expect(roles(false)).not.toContain('toggleDevTools');
    expect(roles(false)).not.toContain('reload');
    expect(roles(true)).toEqual(
      expect.arrayContaining(['reload', 'forceReload', 'toggleDevTools']),
    );
  });

  it('has the app menu on macOS, where Quit lives', () => {
    const m = appMenuTemplate({ platform: 'darwin', isDev: false, actions: actions() });
    expect(m[0]!.label).toBe('Albumen');
    const file = m[1]!.submenu as MenuItemConstructorOptions[];
    expect(file.map((i) => i.role)).not.toContain('quit');
  });
});

describe('add dialogs', () => {
  it('picks several folders, or several ZIP/CBZ archives', () => {
    expect(openDialogOptions('folder').properties).toEqual(['openDirectory', 'multiSelections']);
    const archive = openDialogOptions('archive');
    expect(archive.properties).toEqual(['openFile', 'multiSelections']);
    expect(archive.filters).toEqual([{ name: 'Archives (ZIP, CBZ)', extensions: ['zip', 'cbz'] }]);
  });

  function deps(picked: { canceled: boolean; filePaths: string[] }, ok = true) {
    return {
      dialog: { showOpenDialog: vi.fn(() => Promise.resolve(picked)) },
      window: null as BaseWindow | null,
      service: {
        handle: vi.fn(() =>
          Promise.resolve(
            ok
              ? { ok: true as const, value: [] }
              : { ok: false as const, error: { code: 'NOT_FOUND' as const, message: 'gone' } },
          ),
        ),
      },
      report: vi.fn(),
    };
  }

  it('imports what the user picked', async () => {
    const d = deps({ canceled: false, filePaths: ['/p/a', '/p/b'] });
    await chooseAndImport('folder', d);
    expect(d.service.handle).toHaveBeenCalledWith('importPaths', { paths: ['/p/a', '/p/b'] });
    expect(d.report).not.toHaveBeenCalled();
  });

  it('does nothing when the dialog is cancelled', async () => {
    const d = deps({ canceled: true, filePaths: [] });
    await chooseAndImport('archive', d);
    expect(d.service.handle).not.toHaveBeenCalled();
  });

  it('reports a refused import', async () => {
    const d = deps({ canceled: false, filePaths: ['/gone'] }, false);
    await chooseAndImport('archive', d);
    expect(d.report).toHaveBeenCalledWith('gone');
  });
});
