/**
 * The tray icon: renders the tray model with Electron's Tray and Menu,
 * refreshed at most once a second from job events.
 */
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import type { AppEvent } from '../../src-shared/api.ts';
import { type JobView } from '../../src-shared/domain.ts';
import { isTerminal } from '../../src-shared/status.ts';
import { throttle } from '../../src-shared/throttle.ts';
import { trayModel, type TrayAction, type TrayModel } from './tray-model.ts';

/** Tray and menu refreshes at most this often: a tray is not a progress bar. */
const REFRESH_MS = 1000;

/**
 * The app's tray icon. It tracks the unfinished jobs from events (seeded at
 * start-up) and keeps the tooltip and the menu current.
 */
export class AppTray {
  private readonly tray: Tray;
  private readonly jobs = new Map<number, JobView>();
  private readonly act: (action: TrayAction) => void;
  private readonly refresh = throttle(() => this.render(), REFRESH_MS);

  constructor(iconPath: string, act: (action: TrayAction) => void) {
    this.act = act;
    this.tray = new Tray(nativeImage.createFromPath(iconPath));
    // A click on the icon (Windows, some Linux hosts) opens the window.
    this.tray.on('click', () => act('show'));
    this.render();
  }

  /** Records the jobs known at start-up. */
  seed(jobs: readonly JobView[]): void {
    for (const j of jobs) this.track(j);
    this.refresh();
  }

  /** Feeds one AppService event. */
  onEvent(e: AppEvent): void {
    if (e.type !== 'job') return;
    this.track(e.job);
    this.refresh();
  }

  /** The unfinished jobs as last seen. */
  activeJobs(): JobView[] {
    return [...this.jobs.values()];
  }

  dispose(): void {
    this.refresh.cancel();
    this.tray.destroy();
  }

  private track(job: JobView): void {
    if (isTerminal(job.status)) this.jobs.delete(job.id);
    else this.jobs.set(job.id, job);
  }

  private render(): void {
    if (this.tray.isDestroyed()) return;
    const model = trayModel(this.activeJobs());
    this.tray.setToolTip(model.tooltip);
    this.tray.setContextMenu(Menu.buildFromTemplate(this.template(model)));
  }

  private template(model: TrayModel): MenuItemConstructorOptions[] {
    return model.items.map((item): MenuItemConstructorOptions => {
      switch (item.type) {
        case 'info':
          return { label: item.label, enabled: false };
        case 'separator':
          return { type: 'separator' };
        case 'action':
          return {
            label: item.label,
            enabled: item.enabled,
            click: () => this.act(item.action),
          };
      }
    });
  }
}
