import { describe, expect, it } from 'vitest';
import { jobView } from './test-jobs.ts';
import {
  afterLastWindowClosed,
  formatCount,
  imageProgress,
  trayModel,
  type TrayItem,
} from './tray-model.ts';

const action = (items: TrayItem[], a: string) =>
  items.find((i) => i.type === 'action' && i.action === a) as
    Extract<TrayItem, { type: 'action' }> | undefined;

describe('tray model', () => {
  it('says so when nothing runs, with pause and resume disabled', () => {
    const m = trayModel([]);
    expect(m.tooltip).toBe('Albumen — no jobs running');
    expect(m.items[0]).toEqual({ type: 'info', label: 'No jobs running' });
    expect(action(m.items, 'pauseAll')!.enabled).toBe(false);
    expect(action(m.items, 'resumeAll')!.enabled).toBe(false);
    expect(action(m.items, 'show')!.enabled).toBe(true);
    expect(action(m.items, 'quit')!.enabled).toBe(true);
  });

  it('sums the running jobs into one progress line', () => {
    const a = jobView({
      id: 1,
      scan: { total: 1000, done: 1000 },
      thumbnail: { total: 1000, done: 900 },
      cache: { total: 1000, done: 800 },
    });
    const b = jobView({
      id: 2,
      scan: { total: 958, done: 958 },
      thumbnail: { total: 958, done: 434 },
      cache: { total: 958, done: 434 },
    });
    const m = trayModel([a, b]);
    expect(m.tooltip).toBe('Albumen — 2 jobs running, 63 % (1\u202f234 / 1\u202f958 images)');
    expect(m.items[0]).toEqual({
      type: 'info',
      label: '2 jobs running, 63 % (1\u202f234 / 1\u202f958 images)',
    });
    expect(action(m.items, 'pauseAll')!.enabled).toBe(true);
    expect(action(m.items, 'resumeAll')!.enabled).toBe(false);
  });

  it('leaves finished jobs out', () => {
    const done = jobView({ id: 3, status: 'completed', scan: { total: 5, done: 5 } });
    expect(trayModel([done]).tooltip).toBe('Albumen — no jobs running');
  });

  it('counts paused jobs apart and enables Resume all', () => {
    const running = jobView({ id: 1, scan: { total: 10, done: 10 }, cache: { total: 10 } });
    const paused = jobView({ id: 2, status: 'paused', scan: { total: 10, done: 10 } });
    const m = trayModel([running, paused]);
    expect(m.tooltip).toBe('Albumen — 1 job running, 1 paused, 0 % (0 / 20 images)');
    expect(action(m.items, 'pauseAll')!.enabled).toBe(true);
    expect(action(m.items, 'resumeAll')!.enabled).toBe(true);
    const onlyPaused = trayModel([paused]);
    expect(onlyPaused.tooltip).toBe('Albumen — 1 job paused, 0 % (0 / 10 images)');
    expect(action(onlyPaused.items, 'pauseAll')!.enabled).toBe(false);
  });

  it('counts images the scan failed as finished', () => {
    const j = jobView({
      scan: { total: 10, done: 8, failed: 2 },
      thumbnail: { total: 8, done: 8 },
      cache: { total: 8, done: 4, skipped: 4 },
    });
    expect(imageProgress(j)).toEqual({ finished: 10, total: 10 });
  });

  it('groups thousands the same way in every locale', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1234567)).toBe('1\u202f234\u202f567');
  });
});

describe('closing the last window', () => {
  const running = [jobView({ scan: { total: 3 } })];
  it('stays in the tray while jobs run and the user wants it', () => {
    expect(afterLastWindowClosed(true, running, 'linux')).toBe('stay');
    expect(afterLastWindowClosed(true, running, 'win32')).toBe('stay');
  });
  it('quits when nothing runs, or when the user does not want the tray', () => {
    expect(afterLastWindowClosed(true, [], 'linux')).toBe('quit');
    expect(afterLastWindowClosed(false, running, 'linux')).toBe('quit');
    expect(afterLastWindowClosed(true, [jobView({ status: 'completed' })], 'win32')).toBe('quit');
  });
  it('stays open on macOS, as Mac apps do', () => {
    expect(afterLastWindowClosed(false, [], 'darwin')).toBe('stay');
  });
});
