import { DropIcon } from '../app/icons.tsx';
import { getBridge } from '../api/bridge.ts';

/** The first screen: no collections yet. */
export function EmptyState() {
  const browser = getBridge().platform === 'browser';
  return (
    <div className="empty-state" data-testid="empty-state">
      <div className="empty-drop">
        <DropIcon className="empty-icon" size={40} />
        <h1 className="empty-title">Your library is empty</h1>
        <p className="empty-text">
          {browser
            ? 'Paste the path of a folder or a ZIP/CBZ archive in the field above and press Import. Albumen scans it and makes thumbnails and view images in the background.'
            : 'Drop folders or ZIP/CBZ archives here, or paste a path above. Albumen scans them and makes thumbnails and view images in the background.'}
        </p>
        <div className="empty-formats">
          JPEG · PNG · WebP · GIF · AVIF · TIFF, in folders or archives
        </div>
      </div>
    </div>
  );
}
