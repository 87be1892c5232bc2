import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type PointerEvent as ReactPointerEvent,
} from 'react';
import {
  ChevronLeftIcon,
  ChevronRightIcon,
  CloseIcon,
  MinusIcon,
  PlusIcon,
} from '../app/icons.tsx';
import { DEEP_ZOOM_MIN_PIXELS } from '../../src-shared/deep-zoom.ts';
import { isPlayable } from '../../src-shared/formats.ts';
import { formatCount } from '../jobs/format.ts';
import { ensureRange } from '../library/library-actions.ts';
import { outputUrl, mediaUrl } from '../library/media.ts';
import { useElementSize } from '../library/useElementSize.ts';
import { imageAt, type GridImage } from '../store/image-pages.ts';
import { useAppStore } from '../store/index.ts';
import {
  FIT,
  canPan,
  currentScale,
  logicalSize,
  panBy,
  zoomBy,
  zoomLabel,
  zoomStep,
  zoomTo,
  type Size,
  type ZoomState,
} from './zoom.ts';
import { InfoPanel } from './InfoPanel.tsx';
import { SLIDE_SECONDS, useSlideshow } from './useSlideshow.ts';
import { TileLayer } from './TileLayer.tsx';
import { usePyramid } from './usePyramid.ts';

type LoadState = 'loading' | 'loaded' | 'error';

/**
 * Loads the neighbours' view images ahead, so ←/→ feel instant. Originals are
 * not prefetched: they can be far larger than anything the grid shows.
 */
function usePrefetch(images: (GridImage | undefined)[], tag: string): void {
  const urls = images
    .filter((i): i is GridImage => !!i && i.has.cache)
    .map((i) => outputUrl(i, 'cache', tag));
  const key = urls.join(' ');
  useEffect(() => {
    if (!key) return;
    // Not cancelled on the way out: the next image shown is usually one of these.
    for (const url of key.split(' ')) {
      const img = new Image();
      img.decoding = 'async';
      img.src = url;
    }
  }, [key]);
}

/**
 * The full-window viewer: the cache image (else the original), ←/→ through
 * the collection, zoom with keys, buttons and the wheel around the cursor,
 * drag to pan, Esc back to the grid.
 */
export function Viewer() {
  const collectionId = useAppStore((s) => s.selectedCollectionId);
  const index = useAppStore((s) => s.viewerIndex ?? 0);
  const total = useAppStore((s) =>
    s.selectedCollectionId === null ? 0 : (s.images[s.selectedCollectionId]?.total ?? 0),
  );
  const image = useAppStore((s) =>
    s.selectedCollectionId === null ? undefined : imageAt(s.images[s.selectedCollectionId], index),
  );
  const prev = useAppStore((s) =>
    s.selectedCollectionId === null
      ? undefined
      : imageAt(s.images[s.selectedCollectionId], index - 1),
  );
  const next = useAppStore((s) =>
    s.selectedCollectionId === null
      ? undefined
      : imageAt(s.images[s.selectedCollectionId], index + 1),
  );
  const tag = useAppStore((s) => s.outputTags.cache);
  usePrefetch([next, prev], tag);

  useEffect(() => {
    if (collectionId !== null) void ensureRange(collectionId, Math.max(0, index - 2), index + 3);
  }, [collectionId, index]);

  const stageRef = useRef<HTMLDivElement>(null);
  const view = useElementSize(stageRef);
  const [zoom, setZoom] = useState<ZoomState>(FIT);
  /** The info panel stays open (or closed) from image to image. */
  const [infoOpen, setInfoOpen] = useState(false);
  /** Pixel size of the first picture that loaded (for images whose dimensions are unknown). */
  const [natural, setNatural] = useState<Size | null>(null);
  /** Width of the loaded cache image: zooming past it brings in the original. */
  const [cacheWidth, setCacheWidth] = useState<number | null>(null);
  const [cacheState, setCacheState] = useState<LoadState>('loading');
  const [sourceState, setSourceState] = useState<LoadState>('loading');
  const imageId = image?.id;
  const failure = useAppStore((s) =>
    imageId === undefined || s.selectedCollectionId === null
      ? undefined
      : s.images[s.selectedCollectionId]?.failures[imageId],
  );
  const cacheUrl = image?.has.cache ? outputUrl(image, 'cache', tag) : null;
  const sourceUrl = image ? mediaUrl('source', image.id) : null;

  // A new image starts fitted, from its cache image when there is one (state
  // reset while rendering, as React recommends, so no stale frame shows).
  const [shownId, setShownId] = useState(imageId);
  if (shownId !== imageId) {
    setShownId(imageId);
    setZoom(FIT);
    setNatural(null);
    setCacheWidth(null);
    setCacheState('loading');
    setSourceState('loading');
  }

  const size = image ? logicalSize(image, natural) : null;
  const zoomRef = useRef({ zoom, size, view });
  useLayoutEffect(() => {
    zoomRef.current = { zoom, size, view };
  });

  const scale = size ? currentScale(zoom, size, view) : 1;
  const playable = !image || isPlayable(image.width, image.height, image.pages);
  // Past the cache image's own resolution, the original shows the detail.
  const beyondCache =
    cacheWidth !== null && size !== null && scale * size.width > cacheWidth * 1.05;
  // A very large image shows its real pixels from tiles, never as one picture.
  const deep =
    !!image?.width &&
    !!image.height &&
    image.animated !== true &&
    image.width * image.height > DEEP_ZOOM_MIN_PIXELS;
  const wantTiles = deep && (!cacheUrl || cacheState === 'error' || beyondCache);
  const { pyramid, lost } = usePyramid(imageId, cacheUrl ?? '', wantTiles);
  const tiles = pyramid?.state === 'ready' ? pyramid.view : null;
  const tilesFailed = wantTiles && pyramid?.state === 'error';
  const needSource =
    // No tiles and no view image: the original, or its largest rendition.
    (deep && tilesFailed && (!cacheUrl || cacheState === 'error')) ||
    (!deep &&
      (!cacheUrl ||
        // An animation plays from its source (a GIF or WebP, which the browser
        // shows), unless its frames together are a memory bomb.
        (image?.animated === true && playable) ||
        cacheState === 'error' ||
        // Once the original is in, it stays.
        sourceState === 'loaded' ||
        beyondCache));

  const close = useCallback(() => useAppStore.getState().closeViewer(), []);
  const go = useCallback(
    (delta: number) => {
      const target = index + delta;
      if (target < 0 || target >= total) return;
      useAppStore.getState().openViewer(target);
    },
    [index, total],
  );
  const openAt = useCallback((i: number) => useAppStore.getState().openViewer(i), []);
  const slideshow = useSlideshow(index, total, openAt);
  const viewerRef = useRef<HTMLDivElement>(null);
  const [fullscreen, setFullscreen] = useState(false);
  useEffect(() => {
    const changed = () => setFullscreen(document.fullscreenElement !== null);
    document.addEventListener('fullscreenchange', changed);
    return () => document.removeEventListener('fullscreenchange', changed);
  }, []);
  const toggleFullscreen = useCallback(() => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
    else void viewerRef.current?.requestFullscreen().catch(() => {});
  }, []);
  const applyZoom = useCallback((f: (z: ZoomState, size: Size, view: Size) => ZoomState) => {
    const { size: sz, view: v } = zoomRef.current;
    if (sz) setZoom((z) => f(z, sz, v));
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      let handled = true;
      switch (e.key) {
        case 'Escape':
          // Fullscreen's own Esc is the browser's; a running slideshow stops first.
          if (slideshow.playing) slideshow.stop();
          else close();
          break;
        case 'f':
        case 'F':
          toggleFullscreen();
          break;
        case 's':
        case 'S':
          slideshow.toggle();
          break;
        case 'ArrowLeft':
          go(-1);
          break;
        case 'ArrowRight':
        case ' ':
          go(1);
          break;
        case 'Home':
          go(-index);
          break;
        case 'End':
          go(total - 1 - index);
          break;
        case '+':
        case '=':
          applyZoom((z, s, v) => zoomStep(z, 1, s, v));
          break;
        case '-':
        case '_':
          applyZoom((z, s, v) => zoomStep(z, -1, s, v));
          break;
        case '0':
          setZoom(FIT);
          break;
        case '1':
          applyZoom((z, s, v) => zoomTo(z, 1, s, v));
          break;
        case 'i':
        case 'I':
          setInfoOpen((o) => !o);
          break;
        default:
          handled = false;
      }
      if (handled) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    // Capture: the viewer owns the keyboard while open (the grid below must not move).
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [close, go, applyZoom, index, total, slideshow, toggleFullscreen]);

  // Wheel zoom around the cursor; a listener of our own because React's is passive.
  useEffect(() => {
    const el = stageRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      const anchor = {
        x: e.clientX - rect.left - rect.width / 2,
        y: e.clientY - rect.top - rect.height / 2,
      };
      const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      applyZoom((z, s, v) => zoomBy(z, Math.exp(-delta * 0.0015), s, v, anchor));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [applyZoom]);

  const [panning, setPanning] = useState(false);
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (e.button !== 0 || !size || !canPan(zoom, size, view)) return;
    e.preventDefault();
    const el = e.currentTarget;
    el.setPointerCapture(e.pointerId);
    setPanning(true);
    let last = { x: e.clientX, y: e.clientY };
    const move = (ev: PointerEvent) => {
      const dx = ev.clientX - last.x;
      const dy = ev.clientY - last.y;
      last = { x: ev.clientX, y: ev.clientY };
      applyZoom((z, s, v) => panBy(z, dx, dy, s, v));
    };
    const up = () => {
      setPanning(false);
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
  };

  const drawn = size ? { w: size.width * scale, h: size.height * scale } : null;
  const offset = zoom.mode === 'fit' ? { x: 0, y: 0 } : { x: zoom.x, y: zoom.y };
  const imgStyle = drawn
    ? {
        width: drawn.w,
        height: drawn.h,
        transform: `translate(calc(-50% + ${offset.x}px), calc(-50% + ${offset.y}px))`,
      }
    : undefined;
  const showCache =
    cacheUrl !== null && cacheState !== 'error' && !(needSource && sourceState === 'loaded');
  const showSource = needSource && sourceUrl !== null && sourceState !== 'error';
  const anyLoaded =
    (showCache && cacheState === 'loaded') ||
    (showSource && sourceState === 'loaded') ||
    tiles !== null;
  const failed = !showCache && !showSource && tiles === null && pyramid?.state !== 'loading';
  const onLoaded = (img: HTMLImageElement) =>
    setNatural((n) => n ?? { width: img.naturalWidth, height: img.naturalHeight });
  const dims = image?.width && image.height ? `${image.width} × ${image.height}` : null;

  return (
    <div
      ref={viewerRef}
      className="viewer"
      data-testid="viewer"
      role="dialog"
      aria-modal="true"
      aria-label={image ? `Viewer: ${image.name}` : 'Viewer'}
    >
      <div className="viewer-bar">
        <div className="viewer-info">
          <span className="viewer-name" data-testid="viewer-name">
            {image?.name ?? 'Loading…'}
          </span>
          <span className="viewer-meta num" data-testid="viewer-index">
            {formatCount(index + 1)} / {formatCount(total)}
          </span>
          {dims && <span className="viewer-meta num">{dims}</span>}
          {image?.format && <span className="viewer-meta">{image.format.toUpperCase()}</span>}
        </div>
        <div className="viewer-tools">
          <button
            className="btn btn-ghost btn-icon"
            title="Zoom out (−)"
            aria-label="Zoom out"
            data-testid="zoom-out"
            onClick={() => applyZoom((z, s, v) => zoomStep(z, -1, s, v))}
          >
            <MinusIcon />
          </button>
          <span
            className="zoom-level num"
            data-testid="zoom-level"
            title={`${Math.round(scale * 100)}%`}
          >
            {zoomLabel(zoom)}
          </span>
          <button
            className="btn btn-ghost btn-icon"
            title="Zoom in (+)"
            aria-label="Zoom in"
            data-testid="zoom-in"
            onClick={() => applyZoom((z, s, v) => zoomStep(z, 1, s, v))}
          >
            <PlusIcon />
          </button>
          <button
            className={`btn btn-small${zoom.mode === 'fit' ? ' is-on' : ' btn-ghost'}`}
            title="Fit to window (0)"
            data-testid="zoom-fit"
            onClick={() => setZoom(FIT)}
          >
            Fit
          </button>
          <button
            className={`btn btn-small${zoom.mode === 'free' && zoom.scale === 1 ? ' is-on' : ' btn-ghost'}`}
            title="Actual pixels (1)"
            data-testid="zoom-100"
            onClick={() => applyZoom((z, s, v) => zoomTo(z, 1, s, v))}
          >
            1:1
          </button>
          <button
            className={`btn btn-small${slideshow.playing ? ' is-on' : ' btn-ghost'}`}
            title={slideshow.playing ? 'Stop the slideshow (S)' : 'Slideshow (S)'}
            aria-pressed={slideshow.playing}
            data-testid="slideshow-toggle"
            onClick={slideshow.toggle}
          >
            {slideshow.playing ? '■ Slideshow' : '▶ Slideshow'}
          </button>
          <select
            className="field viewer-pace"
            aria-label="Seconds an image in the slideshow"
            data-testid="slideshow-seconds"
            value={slideshow.seconds}
            onChange={(e) => slideshow.setSeconds(Number(e.target.value))}
          >
            {SLIDE_SECONDS.map((n) => (
              <option key={n} value={n}>
                {n} s
              </option>
            ))}
          </select>
          <button
            className={`btn btn-small${fullscreen ? ' is-on' : ' btn-ghost'}`}
            title={fullscreen ? 'Leave full screen (F)' : 'Full screen (F)'}
            aria-pressed={fullscreen}
            data-testid="fullscreen-toggle"
            onClick={toggleFullscreen}
          >
            Full screen
          </button>
          <button
            className={`btn btn-small${infoOpen ? ' is-on' : ' btn-ghost'}`}
            title="Information about this image (I)"
            aria-pressed={infoOpen}
            data-testid="viewer-info-toggle"
            onClick={() => setInfoOpen((o) => !o)}
          >
            Info
          </button>
          <button
            className="btn btn-ghost btn-icon"
            title="Back to the grid (Esc)"
            aria-label="Close viewer"
            data-testid="viewer-close"
            onClick={close}
          >
            <CloseIcon />
          </button>
        </div>
      </div>
      <div className="viewer-body">
        <div
          ref={stageRef}
          className={`viewer-stage${size && canPan(zoom, size, view) ? ' can-pan' : ''}${panning ? ' panning' : ''}`}
          onPointerDown={onPointerDown}
          onDoubleClick={() =>
            applyZoom((z, s, v) => (z.mode === 'fit' ? zoomTo(z, 1, s, v) : FIT))
          }
        >
          {showCache && (
            <img
              key={cacheUrl}
              className={`viewer-img${drawn && cacheState === 'loaded' ? '' : ' hidden'}`}
              data-testid="viewer-img"
              src={cacheUrl}
              alt={image?.name ?? ''}
              draggable={false}
              style={imgStyle}
              onLoad={(e) => {
                setCacheWidth(e.currentTarget.naturalWidth);
                setCacheState('loaded');
                onLoaded(e.currentTarget);
              }}
              onError={() => setCacheState('error')}
            />
          )}
          {showSource && (
            <img
              key={sourceUrl}
              className={`viewer-img${drawn && sourceState === 'loaded' ? '' : ' hidden'}`}
              data-testid={showCache ? 'viewer-img-next' : 'viewer-img'}
              src={sourceUrl}
              alt={image?.name ?? ''}
              draggable={false}
              style={imgStyle}
              onLoad={(e) => {
                setSourceState('loaded');
                onLoaded(e.currentTarget);
              }}
              onError={() => setSourceState('error')}
            />
          )}
          {tiles && drawn && image && (
            <TileLayer
              imageId={image.id}
              pyramid={tiles}
              drawn={drawn}
              offset={offset}
              view={view}
              onLost={lost}
            />
          )}
          {pyramid?.state === 'loading' && (
            <div className="viewer-source-note" data-testid="viewer-tiles-note">
              Preparing full resolution…
            </div>
          )}
          {tilesFailed && pyramid.state === 'error' && (
            <div className="viewer-source-note" data-testid="viewer-tiles-note">
              Full resolution unavailable: {pyramid.message}
            </div>
          )}
          {image && !anyLoaded && !failed && (
            <div className="viewer-status">
              <div className="spinner" />
            </div>
          )}
          {!image && (
            <div className="viewer-status">
              <div className="spinner" />
            </div>
          )}
          {image && failed && (
            <div className="viewer-status" data-testid="viewer-error">
              {failure && <code>{failure.code}</code>}
              <span>
                {failure?.message ??
                  (tilesFailed && pyramid.state === 'error'
                    ? `This image could not be shown: ${pyramid.message}`
                    : 'This image could not be shown: neither its view image nor the original loaded.')}
              </span>
            </div>
          )}
          {image?.animated && !playable && (
            <div className="viewer-source-note" data-testid="viewer-still-note">
              Shown still: {formatCount(image.pages ?? 0)} frames of {image.width} × {image.height}{' '}
              are too many to play
            </div>
          )}
          {image && !cacheUrl && sourceState === 'loaded' && (
            <div className="viewer-source-note">Showing the original · view image not made yet</div>
          )}
          <button
            className="viewer-nav prev"
            aria-label="Previous image"
            disabled={index <= 0}
            onPointerDown={(e) => e.stopPropagation()}
            onClick={() => go(-1)}
          >
            <ChevronLeftIcon size={28} />
          </button>
          <button
            className="viewer-nav next"
            aria-label="Next image"
            disabled={index >= total - 1}
            onPointerDown={(e) => e.stopPropagation()}
            onClick={() => go(1)}
          >
            <ChevronRightIcon size={28} />
          </button>
        </div>
        {infoOpen && <InfoPanel image={image} />}
      </div>
    </div>
  );
}
