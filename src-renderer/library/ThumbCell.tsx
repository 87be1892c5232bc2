import { memo, useState } from 'react';
import { ImageIcon } from '../app/icons.tsx';
import { imageAt } from '../store/image-pages.ts';
import { useAppStore } from '../store/index.ts';
import { splitName } from './label.ts';
import { outputUrl } from './media.ts';

export interface ThumbCellProps {
  collectionId: number;
  index: number;
  left: number;
  top: number;
  size: number;
  labelHeight: number;
  focused: boolean;
  /** The collection's job is still making outputs (placeholders show a spinner). */
  working: boolean;
}

/** Screen pixels per CSS pixel (2 on most laptops' built-in screens), at least 1. */
function screenDensity(): number {
  const d = typeof window === 'undefined' ? 1 : window.devicePixelRatio;
  return Number.isFinite(d) && d > 1 ? Math.round(d * 100) / 100 : 1;
}

function Thumbnail({ src, name }: { src: string; name: string }) {
  const [state, setState] = useState<'loading' | 'loaded' | 'error'>('loading');
  if (state === 'error') {
    return (
      <div className="thumb-placeholder" title="The thumbnail could not be loaded">
        <ImageIcon size={22} />
        <span>No preview</span>
      </div>
    );
  }
  return (
    <img
      className={`thumb-img${state === 'loaded' ? ' loaded' : ''}`}
      data-testid="thumb-img"
      src={src}
      // One thumbnail pixel per screen pixel: on a 2x screen a 300-pixel
      // thumbnail is 150 CSS pixels, so scale-down never stretches it.
      srcSet={`${src} ${screenDensity()}x`}
      alt={name}
      decoding="async"
      draggable={false}
      onLoad={() => setState('loaded')}
      onError={() => setState('error')}
    />
  );
}

/** What the animated badge says on hover: frames and one loop's length. */
export function animationTitle(frames: number | null, durationMs: number | null): string {
  const length = durationMs ? `, ${(durationMs / 1000).toFixed(1)} s a loop` : '';
  return `Animated: ${frames ?? '?'} frames${length}`;
}

/** The file name under a cell, cut in the middle when it is too long. */
function ThumbLabel({ name }: { name: string }) {
  const { head, tail } = splitName(name);
  return (
    <div className="thumb-label">
      <span className="thumb-label-head">{head}</span>
      {tail && <span className="thumb-label-tail">{tail}</span>}
    </div>
  );
}

/** One grid cell: the thumbnail (or a placeholder until it exists), the name, an error badge. */
export const ThumbCell = memo(function ThumbCell(p: ThumbCellProps) {
  const image = useAppStore((s) => imageAt(s.images[p.collectionId], p.index));
  const failure = useAppStore((s) =>
    image ? s.images[p.collectionId]?.failures[image.id] : undefined,
  );
  const tag = useAppStore((s) => s.outputTags.thumbnail);
  const style = {
    transform: `translate(${p.left}px, ${p.top}px)`,
    width: p.size,
    height: p.size + p.labelHeight,
  };
  if (!image) {
    return (
      <div className="thumb thumb-skeleton" style={style} data-testid="thumb-loading">
        <div className="thumb-frame" style={{ height: p.size }} />
        <div className="thumb-label" />
      </div>
    );
  }
  const dims = image.width && image.height ? ` · ${image.width} × ${image.height}` : '';
  let body;
  if (image.has.thumbnail) {
    const src = outputUrl(image, 'thumbnail', tag);
    body = <Thumbnail key={src} src={src} name={image.name} />;
  } else if (failure) {
    body = (
      <div className="thumb-error" title={`${failure.code}: ${failure.message}`}>
        <span className="thumb-error-code" data-testid="thumb-error">
          {failure.code}
        </span>
        <span className="thumb-error-msg">{failure.message}</span>
      </div>
    );
  } else {
    body = (
      <div className="thumb-placeholder">
        {p.working ? (
          <div className="spinner" aria-label="Making thumbnail" />
        ) : (
          <ImageIcon size={22} />
        )}
      </div>
    );
  }
  return (
    <div
      id={`thumb-${p.index}`}
      className={`thumb${p.focused ? ' is-focused' : ''}`}
      style={style}
      role="option"
      aria-selected={p.focused}
      data-testid="thumb"
      data-image-id={image.id}
      data-index={p.index}
      title={`${image.entryPath}${dims}`}
    >
      <div className="thumb-frame" style={{ height: p.size }}>
        {body}
        {failure && image.has.thumbnail && (
          <span className="thumb-badge" title={`${failure.code}: ${failure.message}`}>
            {failure.code}
          </span>
        )}
        {image.animated && (
          <span
            className="thumb-kind"
            data-testid="thumb-animated"
            title={animationTitle(image.pages, image.durationMs)}
            aria-label={animationTitle(image.pages, image.durationMs)}
          >
            {`▶ ${image.format?.toUpperCase() ?? ''}`}
          </span>
        )}
      </div>
      <ThumbLabel name={image.name} />
    </div>
  );
});
