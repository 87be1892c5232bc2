/** The grid's order per collection: what it is sorted by, which way, remembered across reloads. */
import { IMAGE_ORDERS, type ImageOrder } from '../../src-shared/domain.ts';

export interface GridSort {
  order: ImageOrder;
  descending: boolean;
}

/** As the core lists by default: natural name order, A to Z. */
export const DEFAULT_SORT: GridSort = { order: 'name', descending: false };

/** What the sort menu calls each order. */
export const SORT_LABELS: Record<ImageOrder, string> = {
  taken: 'Date taken',
  name: 'Name',
  modified: 'Date modified',
  size: 'File size',
};

const key = (collectionId: number) => `albumen.sort.${collectionId}`;

/** The order chosen for a collection before, or the default. */
export function rememberedSort(collectionId: number): GridSort {
  try {
    const v = JSON.parse(localStorage.getItem(key(collectionId)) ?? 'null') as Partial<GridSort>;
    if (v && IMAGE_ORDERS.includes(v.order as ImageOrder) && typeof v.descending === 'boolean') {
      return { order: v.order as ImageOrder, descending: v.descending };
    }
  } catch {
    // Unreadable or unavailable storage: the default order.
  }
  return DEFAULT_SORT;
}

export function rememberSort(collectionId: number, sort: GridSort): void {
  try {
    localStorage.setItem(key(collectionId), JSON.stringify(sort));
  } catch {
    // Storage may be unavailable: the order just isn't kept.
  }
}
