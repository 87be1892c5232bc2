/**
 * The grid's window onto a collection: pages of images fetched as they come
 * into view, kept in a bounded cache so that a 100,000-image collection never
 * loads (or holds) more than a few thousand rows. Pure functions over plain
 * immutable values, so the store can keep them and tests can check them.
 */
import type { ImagePage, ImageView } from '../../src-shared/api.ts';
import type { ErrorCode, Variant } from '../../src-shared/domain.ts';

/** Images per listImages request. */
export const PAGE_SIZE = 200;
/** Pages kept per collection; the ones furthest from the view are dropped first. */
export const MAX_PAGES = 30;

/** An image of the grid with a counter per variant that changes its media URL when remade. */
export interface GridImage extends ImageView {
  versions: Record<Variant, number>;
}

/** Why an image has no output: its failed item's code and message. */
export interface ImageFailure {
  code: ErrorCode;
  message: string;
}

/** An output announced by the core. */
export interface OutputNotice {
  imageId: number;
  variant: Variant;
  /** The image as the core had it when the output was made. */
  image?: ImageView;
}

/** The cached pages of one collection. */
export interface ImageCache {
  collectionId: number;
  /** Images in the collection, once a page has told; null before. */
  total: number | null;
  pages: Readonly<Record<number, readonly GridImage[]>>;
  /** Pages whose request is in flight, with the generation they were asked in. */
  loading: Readonly<Record<number, number>>;
  /** Pages shown but known to be out of date (the collection changed); refetched when in view. */
  stale: Readonly<Record<number, true>>;
  /** Bumped when the order may have changed: answers to older requests are dropped. */
  generation: number;
  /**
   * Outputs announced while pages were in flight: an answer computed before the
   * output existed would otherwise hide it until the next refresh.
   */
  recentOutputs: readonly OutputNotice[];
  /** Failed images of the collection's newest job, by image id. */
  failures: Readonly<Record<number, ImageFailure>>;
}

export function emptyCache(collectionId: number): ImageCache {
  return {
    collectionId,
    total: null,
    pages: {},
    loading: {},
    stale: {},
    generation: 0,
    recentOutputs: [],
    failures: {},
  };
}

export function pageOf(index: number): number {
  return Math.floor(index / PAGE_SIZE);
}

/** The image at a position of the collection, when its page is loaded. */
export function imageAt(cache: ImageCache | undefined, index: number): GridImage | undefined {
  if (!cache || index < 0) return undefined;
  return cache.pages[pageOf(index)]?.[index % PAGE_SIZE];
}

/**
 * Page numbers covering positions [start, end). The first page is always
 * included: a collection that was empty may not be any more.
 */
export function pagesCovering(start: number, end: number, total: number | null): number[] {
  if (total !== null && start > 0 && start >= total) return [];
  const last = Math.max(start + 1, total === null ? end : Math.min(end, total));
  const pages: number[] = [];
  for (let p = pageOf(start); p <= pageOf(last - 1); p++) pages.push(p);
  return pages;
}

/** Pages of [start, end) that need a request: missing or stale, and not already asked for. */
export function pagesToLoad(cache: ImageCache, start: number, end: number): number[] {
  return pagesCovering(start, end, cache.total).filter(
    (p) =>
      cache.loading[p] !== cache.generation && (cache.pages[p] === undefined || cache.stale[p]),
  );
}

export function markLoading(cache: ImageCache, pages: readonly number[]): ImageCache {
  if (!pages.length) return cache;
  const loading = { ...cache.loading };
  for (const p of pages) loading[p] = cache.generation;
  return { ...cache, loading };
}

function withoutKey<T>(rec: Readonly<Record<number, T>>, key: number): Record<number, T> {
  const copy = { ...rec };
  delete copy[key];
  return copy;
}

function toGrid(img: ImageView, old: GridImage | undefined): GridImage {
  // Keep the old counters: a refetch must not send an <img> back to a URL the
  // browser may hold an older answer for.
  return { ...img, versions: old?.versions ?? { thumbnail: 0, cache: 0 } };
}

/** Stores an answer to a page request made in `generation`; older generations are dropped. */
export function receivePage(
  cache: ImageCache,
  page: number,
  generation: number,
  answer: ImagePage,
): ImageCache {
  const loading =
    cache.loading[page] === generation ? withoutKey(cache.loading, page) : cache.loading;
  if (generation !== cache.generation) return { ...cache, loading };
  const old = cache.pages[page];
  const oldById = new Map(old?.map((i) => [i.id, i]));
  let items = answer.items.map((i) => toGrid(i, oldById.get(i.id)));
  // Outputs announced while the page was on its way: their flags, not their
  // snapshots of the image, which may be older than the answer itself.
  if (cache.recentOutputs.length) {
    const flags = cache.recentOutputs.map(({ imageId, variant }) => ({ imageId, variant }));
    items = applyToItems(items, flags) ?? items;
  }
  const pages = { ...cache.pages, [page]: items };
  // The total changed: pages past the new end are gone, the rest may have shifted.
  let stale = withoutKey(cache.stale, page);
  if (cache.total !== null && answer.total !== cache.total) {
    stale = { ...stale };
    for (const key of Object.keys(pages)) {
      const p = Number(key);
      if (p !== page) stale[p] = true;
    }
  }
  const anyLoading = Object.keys(loading).length > 0;
  return {
    ...cache,
    total: answer.total,
    pages,
    loading,
    stale,
    recentOutputs: anyLoading ? cache.recentOutputs : [],
  };
}

/** Forgets a failed request so that it can be asked again. */
export function failPage(cache: ImageCache, page: number, generation: number): ImageCache {
  if (cache.loading[page] !== generation) return cache;
  return { ...cache, loading: withoutKey(cache.loading, page) };
}

/**
 * Marks every page out of date (images were added or removed): what is shown
 * stays until fresh pages replace it, and answers already on the way are dropped.
 */
export function invalidate(cache: ImageCache): ImageCache {
  const stale: Record<number, true> = {};
  for (const key of Object.keys(cache.pages)) stale[Number(key)] = true;
  return { ...cache, stale, loading: {}, generation: cache.generation + 1 };
}

/** Returns updated items, or null when none of the notices concerns them. */
function applyToItems(
  items: readonly GridImage[],
  notices: readonly OutputNotice[],
): GridImage[] | null {
  const byId = new Map<number, OutputNotice[]>();
  for (const n of notices) {
    const list = byId.get(n.imageId);
    if (list) list.push(n);
    else byId.set(n.imageId, [n]);
  }
  let out: GridImage[] | null = null;
  items.forEach((img, i) => {
    const hits = byId.get(img.id);
    if (!hits) return;
    let next = img;
    for (const { variant, image } of hits) {
      next = {
        ...next,
        ...(image ?? {}),
        has: { ...next.has, ...image?.has, [variant]: true },
        // A variant that already existed was remade: a new URL makes the browser fetch it.
        versions: next.has[variant]
          ? { ...next.versions, [variant]: next.versions[variant] + 1 }
          : next.versions,
      };
    }
    out ??= items.slice();
    out[i] = next;
  });
  return out;
}

/** Applies output notices to the loaded pages (and keeps them for pages in flight). */
export function applyOutputs(cache: ImageCache, notices: readonly OutputNotice[]): ImageCache {
  if (!notices.length) return cache;
  let pages: Record<number, readonly GridImage[]> | null = null;
  for (const [key, items] of Object.entries(cache.pages)) {
    const updated = applyToItems(items, notices);
    if (updated) {
      pages ??= { ...cache.pages };
      pages[Number(key)] = updated;
    }
  }
  const inFlight = Object.keys(cache.loading).length > 0;
  if (!pages && !inFlight) return cache;
  return {
    ...cache,
    pages: pages ?? cache.pages,
    // Bounded: a page answer is never older than the last few thousand outputs.
    recentOutputs: inFlight ? [...cache.recentOutputs, ...notices].slice(-5000) : [],
  };
}

/** Drops the pages furthest from `centerPage` until at most `max` remain. */
export function evict(cache: ImageCache, centerPage: number, max = MAX_PAGES): ImageCache {
  const keys = Object.keys(cache.pages).map(Number);
  if (keys.length <= max) return cache;
  keys.sort((a, b) => Math.abs(a - centerPage) - Math.abs(b - centerPage));
  const pages: Record<number, readonly GridImage[]> = {};
  const stale: Record<number, true> = {};
  for (const p of keys.slice(0, max)) {
    pages[p] = cache.pages[p]!;
    if (cache.stale[p]) stale[p] = true;
  }
  return { ...cache, pages, stale };
}

export function setFailures(
  cache: ImageCache,
  failures: Readonly<Record<number, ImageFailure>>,
): ImageCache {
  return { ...cache, failures };
}
