import { describe, expect, it } from 'vitest';
import {
  cellPosition,
  computeLayout,
  moveFocus,
  revealScrollTop,
  rowsPerPage,
  visibleRange,
  type GridOptions,
} from './grid-math.ts';

const O: GridOptions = { minCellWidth: 180, gap: 10, padding: 20, labelHeight: 20 };

describe('computeLayout', () => {
  it('fits as many columns as the width allows and stretches cells to fill the row', () => {
    const l = computeLayout(1000, 100, O);
    // inner 960: (960 + 10) / 190 = 5.1 → 5 columns; (960 - 40) / 5 = 184
    expect(l.columns).toBe(5);
    expect(l.cellWidth).toBe(184);
    expect(l.cellHeight).toBe(204);
    expect(l.rows).toBe(20);
    expect(l.totalHeight).toBe(40 + 20 * 214 - 10);
    const lastCol = cellPosition(l, 4);
    expect(lastCol.left + l.cellWidth).toBeLessThanOrEqual(1000 - 20);
  });

  it('keeps one column in a narrow container and no rows for no images', () => {
    expect(computeLayout(50, 3, O).columns).toBe(1);
    const empty = computeLayout(1000, 0, O);
    expect(empty.rows).toBe(0);
    expect(empty.totalHeight).toBe(0);
    expect(visibleRange(empty, 0, 800)).toMatchObject({ start: 0, end: 0 });
  });
});

describe('visibleRange', () => {
  it('renders only the rows in view plus overscan, even for 100,000 images', () => {
    const l = computeLayout(1000, 100_000, O);
    const r = visibleRange(l, 0, 900, 2);
    expect(r.start).toBe(0);
    // rows 0..4 visible (900 / 214), plus 2 overscan
    expect(r.end).toBe(7 * 5);
    const mid = visibleRange(l, 20 + 214 * 10_000, 900, 2);
    expect(mid.firstRow).toBe(10_000 - 2);
    expect(mid.end - mid.start).toBeLessThanOrEqual(10 * 5);
    const end = visibleRange(l, l.totalHeight - 900, 900, 2);
    expect(end.end).toBe(100_000);
    expect(end.lastRow).toBe(l.rows - 1);
  });

  it('never ends past the last image of a short last row', () => {
    const l = computeLayout(1000, 12, O);
    expect(visibleRange(l, 0, 5000).end).toBe(12);
  });
});

describe('moveFocus', () => {
  const cols = 5;
  const count = 23; // last row: 20, 21, 22
  it('moves by cell and by row, staying inside the grid', () => {
    expect(moveFocus(0, 'ArrowLeft', cols, count, 3)).toBe(0);
    expect(moveFocus(0, 'ArrowRight', cols, count, 3)).toBe(1);
    expect(moveFocus(22, 'ArrowRight', cols, count, 3)).toBe(22);
    expect(moveFocus(7, 'ArrowDown', cols, count, 3)).toBe(12);
    expect(moveFocus(2, 'ArrowUp', cols, count, 3)).toBe(2);
    expect(moveFocus(12, 'ArrowUp', cols, count, 3)).toBe(7);
  });

  it('goes down onto the short last row at its last cell', () => {
    expect(moveFocus(19, 'ArrowDown', cols, count, 3)).toBe(22);
    expect(moveFocus(21, 'ArrowDown', cols, count, 3)).toBe(21);
  });

  it('jumps with Home, End and by pages', () => {
    expect(moveFocus(13, 'Home', cols, count, 3)).toBe(0);
    expect(moveFocus(3, 'End', cols, count, 3)).toBe(22);
    expect(moveFocus(1, 'PageDown', cols, count, 3)).toBe(16);
    expect(moveFocus(16, 'PageDown', cols, count, 3)).toBe(21);
    expect(moveFocus(19, 'PageDown', cols, count, 3)).toBe(22);
    expect(moveFocus(21, 'PageUp', cols, count, 3)).toBe(6);
    expect(moveFocus(6, 'PageUp', cols, count, 3)).toBe(1);
    expect(moveFocus(5, 'ArrowDown', cols, 0, 3)).toBe(0);
  });
});

describe('revealScrollTop', () => {
  const l = computeLayout(1000, 100, O);
  it('leaves the scroll alone when the cell is in view', () => {
    expect(revealScrollTop(l, 0, 0, 900)).toBeNull();
  });
  it('scrolls down just enough to show a cell below the view, and up for one above', () => {
    const below = revealScrollTop(l, 25, 0, 900)!; // row 5
    const { top } = cellPosition(l, 25);
    expect(below + 900).toBeGreaterThanOrEqual(top + l.cellHeight);
    expect(below).toBeLessThan(top);
    expect(revealScrollTop(l, 25, 5000, 900)).toBe(top - 10);
    expect(revealScrollTop(l, 2, 5000, 900)).toBe(0);
    expect(revealScrollTop(l, 99, 0, 900)).toBe(l.totalHeight - 900);
  });
  it('counts whole rows per page', () => {
    expect(rowsPerPage(l, 900)).toBe(4);
    expect(rowsPerPage(l, 10)).toBe(1);
  });
});
