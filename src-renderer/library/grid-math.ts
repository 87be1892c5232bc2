/**
 * The virtual grid's geometry: how many columns fit, which rows are visible,
 * where a cell goes, how the keyboard moves the focus and how far to scroll to
 * reveal it. Pure, so 100,000-cell edge cases are checked by unit tests.
 */

export interface GridOptions {
  /** Smallest cell width; cells grow to fill the row exactly. */
  minCellWidth: number;
  /** Space between cells. */
  gap: number;
  /** Space around the grid. */
  padding: number;
  /** Height under the image for the file name. */
  labelHeight: number;
}

export const DEFAULT_GRID: GridOptions = {
  minCellWidth: 176,
  gap: 12,
  padding: 20,
  labelHeight: 26,
};

export interface GridLayout {
  columns: number;
  cellWidth: number;
  /** Image area (square) plus label. */
  cellHeight: number;
  /** cellHeight + gap: the distance from one row's top to the next one's. */
  rowPitch: number;
  gap: number;
  padding: number;
  rows: number;
  /** Height of the scrollable content. */
  totalHeight: number;
  count: number;
}

/** Lays out `count` cells in a container `width` pixels wide. */
export function computeLayout(
  width: number,
  count: number,
  o: GridOptions = DEFAULT_GRID,
): GridLayout {
  const inner = Math.max(0, width - 2 * o.padding);
  const columns = Math.max(1, Math.floor((inner + o.gap) / (o.minCellWidth + o.gap)));
  // Whole pixels keep every cell edge sharp; the remainder goes to the right padding.
  const cellWidth = Math.max(
    1,
    Math.floor((inner - (columns - 1) * o.gap) / columns) || o.minCellWidth,
  );
  const cellHeight = cellWidth + o.labelHeight;
  const rowPitch = cellHeight + o.gap;
  const rows = Math.ceil(count / columns);
  const totalHeight = rows === 0 ? 0 : 2 * o.padding + rows * rowPitch - o.gap;
  return {
    columns,
    cellWidth,
    cellHeight,
    rowPitch,
    gap: o.gap,
    padding: o.padding,
    rows,
    totalHeight,
    count,
  };
}

/** Positions [start, end) to render for a scroll position, with `overscan` extra rows each side. */
export function visibleRange(
  l: GridLayout,
  scrollTop: number,
  viewportHeight: number,
  overscan = 2,
): { start: number; end: number; firstRow: number; lastRow: number } {
  if (l.count === 0 || l.rows === 0) return { start: 0, end: 0, firstRow: 0, lastRow: -1 };
  const top = Math.max(0, scrollTop - l.padding);
  const firstVisible = Math.floor(top / l.rowPitch);
  const lastVisible = Math.floor((top + Math.max(0, viewportHeight)) / l.rowPitch);
  const firstRow = clamp(firstVisible - overscan, 0, l.rows - 1);
  const lastRow = clamp(lastVisible + overscan, 0, l.rows - 1);
  return {
    start: firstRow * l.columns,
    end: Math.min(l.count, (lastRow + 1) * l.columns),
    firstRow,
    lastRow,
  };
}

/** Top-left corner of cell `index`. */
export function cellPosition(l: GridLayout, index: number): { left: number; top: number } {
  const row = Math.floor(index / l.columns);
  const col = index % l.columns;
  return {
    left: l.padding + col * (l.cellWidth + l.gap),
    top: l.padding + row * l.rowPitch,
  };
}

/** Rows that fit in the viewport (PageUp/PageDown move by this many). */
export function rowsPerPage(l: GridLayout, viewportHeight: number): number {
  return Math.max(1, Math.floor(viewportHeight / l.rowPitch));
}

export type GridKey =
  'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown';

export function isGridKey(key: string): key is GridKey {
  return (
    key === 'ArrowLeft' ||
    key === 'ArrowRight' ||
    key === 'ArrowUp' ||
    key === 'ArrowDown' ||
    key === 'Home' ||
    key === 'End' ||
    key === 'PageUp' ||
    key === 'PageDown'
  );
}

/** Where the focus goes from `index` for a key. Up/down keep the column; it never leaves [0, count). */
export function moveFocus(
  index: number,
  key: GridKey,
  columns: number,
  count: number,
  pageRows: number,
): number {
  if (count <= 0) return 0;
  const last = count - 1;
  const i = clamp(index, 0, last);
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, i - 1);
    case 'ArrowRight':
      return Math.min(last, i + 1);
    case 'ArrowUp':
      return i - columns >= 0 ? i - columns : i;
    case 'ArrowDown':
      // On the last full row, going down lands on the last cell of the short row below.
      return i + columns <= last
        ? i + columns
        : Math.floor(i / columns) < Math.floor(last / columns)
          ? last
          : i;
    case 'Home':
      return 0;
    case 'End':
      return last;
    case 'PageUp':
      return Math.max(i % columns, i - pageRows * columns);
    case 'PageDown': {
      const target = i + pageRows * columns;
      if (target <= last) return target;
      // Same column on the last row, or the last cell when that column is short.
      const lastRowStart = last - (last % columns);
      return Math.min(last, lastRowStart + (i % columns));
    }
  }
}

/** The scrollTop that brings cell `index` fully into view, or null when it already is. */
export function revealScrollTop(
  l: GridLayout,
  index: number,
  scrollTop: number,
  viewportHeight: number,
): number | null {
  const { top } = cellPosition(l, index);
  const row = Math.floor(index / l.columns);
  // The first and last rows scroll all the way, so their padding shows too.
  const wantTop = row === 0 ? 0 : top - l.gap;
  const wantBottom = row >= l.rows - 1 ? l.totalHeight : top + l.cellHeight + l.gap;
  if (wantTop < scrollTop) return wantTop;
  if (wantBottom > scrollTop + viewportHeight) return Math.max(0, wantBottom - viewportHeight);
  return null;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
