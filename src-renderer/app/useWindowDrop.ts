import { useEffect, useState } from 'react';
import { getBridge } from '../api/bridge.ts';
import { useAppStore } from '../store/index.ts';
import { importPaths } from './import-actions.ts';

function hasFiles(e: DragEvent): boolean {
  return e.dataTransfer?.types.includes('Files') ?? false;
}

/**
 * Files dropped anywhere on the window: imported by path in Electron; in a
 * browser (which never reveals a dropped file's path) the user is told to
 * paste the path instead. Returns whether files are being dragged over.
 */
export function useWindowDrop(): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    // dragenter/dragleave fire for every child crossed: count them.
    let depth = 0;
    const onEnter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      setOver(true);
    };
    const onOver = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const onDrop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setOver(false);
      void handleDrop([...(e.dataTransfer?.files ?? [])]);
    };
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
  return over;
}

async function handleDrop(files: File[]): Promise<void> {
  const bridge = getBridge();
  const toast = useAppStore.getState().pushToast;
  const paths = files.map((f) => bridge.pathForFile(f)).filter((p): p is string => !!p);
  if (!paths.length) {
    toast({
      level: 'info',
      title: 'Paste the path instead',
      message:
        bridge.platform === 'browser'
          ? 'A browser does not tell Albumen where a dropped folder lives. Copy its path and paste it into the field at the top, then press Import.'
          : 'These items have no path on disk. Drop folders or ZIP/CBZ archives from your file manager.',
    });
    return;
  }
  const outcome = await importPaths(paths);
  if (!outcome.ok) {
    toast({
      level: 'error',
      title: `Import failed · ${outcome.error.code}`,
      message: outcome.error.message,
    });
  } else if (outcome.note) {
    toast({ level: 'warn', title: 'Import', message: outcome.note });
  }
}
