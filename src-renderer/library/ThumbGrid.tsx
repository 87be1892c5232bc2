import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type MouseEvent,
} from 'react';
import { PAGE_SIZE } from '../store/image-pages.ts';
import { useAppStore } from '../store/index.ts';
import {
  DEFAULT_GRID,
  computeLayout,
  isGridKey,
  moveFocus,
  revealScrollTop,
  rowsPerPage,
  visibleRange,
  type GridLayout,
} from './grid-math.ts';
import { ensureRange } from './library-actions.ts';
import { ThumbCell } from './ThumbCell.tsx';
import { useElementSize } from './useElementSize.ts';

/** Rows rendered above and below the visible ones. */
const OVERSCAN_ROWS = 3;
/** Scrolling must pause this long before pages are fetched (a dragged scrollbar skips the rest). */
const FETCH_DELAY_MS = 60;

/**
 * The virtualised thumbnail grid: a spacer as tall as every row, with only the
 * visible cells (± overscan) positioned inside it. Pages of images are fetched
 * as they come into view. The scroll container keeps the keyboard focus and
 * points at the focused cell with aria-activedescendant.
 */
export function ThumbGrid({ collectionId }: { collectionId: number }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const { width, height } = useElementSize(scrollRef);
  const total = useAppStore((s) => s.images[collectionId]?.total ?? null);
  const focusIndex = useAppStore((s) => s.focusIndex);
  const viewerOpen = useAppStore((s) => s.viewerIndex !== null);
  const working = useAppStore((s) => {
    const st = s.collections.find((c) => c.id === collectionId)?.job?.status;
    return st === 'running' || st === 'queued' || st === 'paused';
  });
  const count = total ?? 0;
  const layout = useMemo(() => computeLayout(width, count), [width, count]);
  const layoutRef = useRef<GridLayout>(layout);
  useLayoutEffect(() => {
    layoutRef.current = layout;
  }, [layout]);

  const [scrollTop, setScrollTop] = useState(0);
  const frame = useRef(0);
  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (scrollRef.current) setScrollTop(scrollRef.current.scrollTop);
    });
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const range = visibleRange(layout, scrollTop, height, OVERSCAN_ROWS);

  // The first page tells how many images there are.
  useEffect(() => {
    if (total === null) void ensureRange(collectionId, 0, PAGE_SIZE);
  }, [collectionId, total]);

  useEffect(() => {
    if (range.end <= range.start) return;
    useAppStore.getState().setGridRange(range.start, range.end);
    const t = setTimeout(
      () => void ensureRange(collectionId, range.start, range.end),
      FETCH_DELAY_MS,
    );
    return () => clearTimeout(t);
  }, [collectionId, range.start, range.end]);

  const reveal = useCallback((index: number) => {
    const el = scrollRef.current;
    if (!el) return;
    const top = revealScrollTop(layoutRef.current, index, el.scrollTop, el.clientHeight);
    if (top !== null) el.scrollTop = top;
  }, []);

  useEffect(() => {
    if (!viewerOpen) reveal(focusIndex);
  }, [focusIndex, viewerOpen, reveal]);

  // The grid has the keyboard from the start, unless something else took it first.
  useEffect(() => {
    if (document.activeElement === document.body) scrollRef.current?.focus({ preventScroll: true });
  }, []);

  // Back from the viewer: the grid takes the keyboard again, on the image that was shown.
  const wasOpen = useRef(viewerOpen);
  useEffect(() => {
    if (wasOpen.current && !viewerOpen) scrollRef.current?.focus({ preventScroll: true });
    wasOpen.current = viewerOpen;
  }, [viewerOpen]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const s = useAppStore.getState();
    if (isGridKey(e.key)) {
      e.preventDefault();
      const pageRows = rowsPerPage(layout, height);
      s.setFocusIndex(moveFocus(s.focusIndex, e.key, layout.columns, count, pageRows));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      s.openViewer(Math.min(s.focusIndex, count - 1));
    }
  };

  const indexOf = (e: MouseEvent): number | null => {
    const cell = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
    const i = cell ? Number(cell.dataset.index) : NaN;
    return Number.isInteger(i) ? i : null;
  };

  const cells = [];
  for (let i = range.start; i < range.end; i++) {
    const row = Math.floor(i / layout.columns);
    const col = i % layout.columns;
    cells.push(
      <ThumbCell
        key={i}
        collectionId={collectionId}
        index={i}
        left={layout.padding + col * (layout.cellWidth + layout.gap)}
        top={layout.padding + row * layout.rowPitch}
        size={layout.cellWidth}
        labelHeight={DEFAULT_GRID.labelHeight}
        focused={i === focusIndex}
        working={working}
      />,
    );
  }

  return (
    <div
      ref={scrollRef}
      className="grid-scroll"
      tabIndex={0}
      role="listbox"
      aria-label="Images"
      aria-activedescendant={count > 0 ? `thumb-${focusIndex}` : undefined}
      data-testid="grid"
      data-total={total ?? undefined}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      onMouseDown={(e) => {
        const i = indexOf(e);
        if (i !== null) useAppStore.getState().setFocusIndex(i);
      }}
      onDoubleClick={(e) => {
        const i = indexOf(e);
        if (i !== null) useAppStore.getState().openViewer(i);
      }}
    >
      {total === 0 && (
        <div className="grid-empty-msg">
          {working ? 'Looking for images…' : 'No images found in this collection.'}
        </div>
      )}
      <div className="grid-spacer" style={{ height: layout.totalHeight }}>
        {width > 0 && cells}
      </div>
    </div>
  );
}
