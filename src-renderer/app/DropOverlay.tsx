import { getBridge } from '../api/bridge.ts';
import { DropIcon } from './icons.tsx';
import { useWindowDrop } from './useWindowDrop.ts';

/** The whole-window drop target shown while files are dragged over the window. */
export function DropOverlay() {
  const over = useWindowDrop();
  if (!over) return null;
  const browser = getBridge().platform === 'browser';
  return (
    <div className="drop-overlay" data-testid="drop-overlay">
      <div className="drop-overlay-box">
        <DropIcon size={28} />
        <div>Drop folders or ZIP/CBZ archives to import them</div>
        {browser && <p>In a browser Albumen cannot see a dropped file's path: paste it instead.</p>}
      </div>
    </div>
  );
}
