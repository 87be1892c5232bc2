import type { DeepZoomView } from '../../src-shared/api.ts';
import { levelFor, tileRef, visibleTiles } from '../../src-shared/deep-zoom.ts';
import { tileUrl } from '../library/media.ts';
import type { Size } from './zoom.ts';

/**
 * The real pixels of a very large image, from its deep-zoom pyramid: the
 * tiles on screen (and one ring around them) at the level that has enough
 * pixels for the zoom and the screen's density. It lies over the view image,
 * which shows through wherever a tile is still loading.
 */
export function TileLayer({
  imageId,
  pyramid,
  drawn,
  offset,
  view,
  onLost,
}: {
  imageId: number;
  pyramid: DeepZoomView;
  /** The drawn image's size and its centre's offset from the view's centre, CSS pixels. */
  drawn: { w: number; h: number };
  offset: { x: number; y: number };
  view: Size;
  /** A tile would not load: the pyramid may have been removed meanwhile. */
  onLost: () => void;
}) {
  const density = window.devicePixelRatio || 1;
  const level = levelFor(pyramid, (drawn.w / pyramid.width) * density);
  const left = view.width / 2 + offset.x - drawn.w / 2;
  const top = view.height / 2 + offset.y - drawn.h / 2;
  const tiles = visibleTiles(pyramid, level, { left, top, width: drawn.w, height: drawn.h }, view);
  return (
    <div
      className="viewer-tiles"
      data-testid="viewer-tiles"
      data-level={level}
      style={{
        width: drawn.w,
        height: drawn.h,
        transform: `translate(calc(-50% + ${offset.x}px), calc(-50% + ${offset.y}px))`,
      }}
    >
      {tiles.map((t) => {
        const ref = tileRef(t);
        // Edges rounded the same way on both sides of a seam: neighbours meet
        // exactly, and at 1:1 every tile pixel is one screen pixel.
        const x0 = Math.round(t.left);
        const y0 = Math.round(t.top);
        return (
          <img
            key={ref}
            className="viewer-tile"
            data-testid="viewer-tile"
            data-tile={ref}
            src={tileUrl(imageId, pyramid.key, ref)}
            alt=""
            draggable={false}
            decoding="async"
            onError={onLost}
            style={{
              left: x0,
              top: y0,
              width: Math.round(t.left + t.width) - x0,
              height: Math.round(t.top + t.height) - y0,
            }}
          />
        );
      })}
    </div>
  );
}
