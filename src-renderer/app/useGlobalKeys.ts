import { useEffect } from 'react';
import { useAppStore } from '../store/index.ts';

/** True when a key press belongs to a text field, not to the app. */
function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

/** App-wide shortcuts: J toggles the jobs panel (not while typing, nor over the viewer or a dialog). */
export function useGlobalKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
      const s = useAppStore.getState();
      if (s.viewerIndex !== null || s.settingsOpen || s.cacheOpen) return;
      if (e.key === 'j' || e.key === 'J') {
        e.preventDefault();
        s.setJobsOpen(!s.jobsOpen);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
