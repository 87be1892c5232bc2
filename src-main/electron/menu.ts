/**
 * The application menu (as a template, so its shape is testable) and the
 * "Add folder…" / "Add archive…" dialogs that import what the user picks.
 */
import type { BaseWindow, Dialog, MenuItemConstructorOptions, OpenDialogOptions } from 'electron';
import type { AppService } from '../app/app-service.ts';

/** What the menu's own (non-role) items do. */
export interface MenuActions {
  addFolder(): void;
  addArchive(): void;
}

/** The application menu: File, Edit, View, Window, Help (and the app menu on macOS). */
export function appMenuTemplate(o: {
  platform: NodeJS.Platform;
  isDev: boolean;
  actions: MenuActions;
}): MenuItemConstructorOptions[] {
  const mac = o.platform === 'darwin';
  const menu: MenuItemConstructorOptions[] = [];
  if (mac) {
    menu.push({
      label: 'Albumen',
      submenu: [
        { role: 'about' },
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }
  menu.push(
    {
      label: '&File',
      submenu: [
        {
          id: 'add-folder',
          label: 'Add Folder…',
          accelerator: 'CmdOrCtrl+O',
          click: () => o.actions.addFolder(),
        },
        {
          id: 'add-archive',
          label: 'Add Archive…',
          accelerator: 'CmdOrCtrl+Shift+O',
          click: () => o.actions.addArchive(),
        },
        { type: 'separator' },
        { role: 'close' },
        ...(mac ? [] : [{ role: 'quit' } as const]),
      ],
    },
    { label: '&Edit', role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        // Reloading or inspecting the UI is a developer's tool, not a user's.
        ...(o.isDev
          ? ([
              { role: 'reload' },
              { role: 'forceReload' },
              { role: 'toggleDevTools' },
              { type: 'separator' },
            ] as const)
          : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { label: '&Window', role: 'windowMenu' },
    {
      label: '&Help',
      role: 'help',
      submenu: [{ role: 'about', label: 'About Albumen' }],
    },
  );
  return menu;
}

/** The open dialog for a folder or for ZIP/CBZ archives; several may be picked. */
export function openDialogOptions(kind: 'folder' | 'archive'): OpenDialogOptions {
  return kind === 'folder'
    ? { title: 'Add folders', properties: ['openDirectory', 'multiSelections'] }
    : {
        title: 'Add archives',
        properties: ['openFile', 'multiSelections'],
        filters: [{ name: 'Archives (ZIP, CBZ)', extensions: ['zip', 'cbz'] }],
      };
}

/**
 * Asks the user for folders or archives and imports them; a refused import
 * is reported through `report` (the caller shows it).
 */
export async function chooseAndImport(
  kind: 'folder' | 'archive',
  deps: {
    dialog: Pick<Dialog, 'showOpenDialog'>;
    window: BaseWindow | null;
    service: Pick<AppService, 'handle'>;
    report: (message: string) => void;
  },
): Promise<void> {
  const options = openDialogOptions(kind);
  const picked = deps.window
    ? await deps.dialog.showOpenDialog(deps.window, options)
    : await deps.dialog.showOpenDialog(options);
  if (picked.canceled || picked.filePaths.length === 0) return;
  const result = await deps.service.handle('importPaths', { paths: picked.filePaths });
  if (!result.ok) deps.report(result.error.message);
}
