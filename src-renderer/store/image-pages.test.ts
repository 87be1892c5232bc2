import { describe, expect, it } from 'vitest';
import type { ImagePage, ImageView } from '../../src-shared/api.ts';
import {
  PAGE_SIZE,
  applyOutputs,
  emptyCache,
  evict,
  failPage,
  imageAt,
  invalidate,
  markLoading,
  pagesCovering,
  pagesToLoad,
  receivePage,
} from './image-pages.ts';

function img(id: number, thumb = false): ImageView {
  return {
    id,
    collectionId: 1,
    entryPath: `p/${id}.jpg`,
    name: `${id}.jpg`,
    width: 100,
    height: 80,
    format: 'jpeg',
    has: { thumbnail: thumb, cache: false },
    size: 1000,
    mtimeMs: 0,
    takenAt: 0,
    takenFrom: 'file',
    takenLocal: null,
    takenOffset: null,
    make: null,
    model: null,
    lens: null,
    focalLength: null,
    aperture: null,
    exposureTime: null,
    iso: null,
    latitude: null,
    longitude: null,
    xmpRating: null,
    xmpLabel: null,
    pages: null,
    animated: false,
    durationMs: null,
  };
}

function page(p: number, total: number, firstId = p * PAGE_SIZE + 1): ImagePage {
  const n = Math.max(0, Math.min(PAGE_SIZE, total - p * PAGE_SIZE));
  return {
    total,
    offset: p * PAGE_SIZE,
    items: Array.from({ length: n }, (_, i) => img(firstId + i)),
  };
}

describe('pages', () => {
  it('covers a range with whole pages, stopping at the total', () => {
    expect(pagesCovering(0, 1, null)).toEqual([0]);
    expect(pagesCovering(150, 450, null)).toEqual([0, 1, 2]);
    expect(pagesCovering(150, 450, 300)).toEqual([0, 1]);
    expect(pagesCovering(500, 600, 300)).toEqual([]);
    expect(pagesCovering(0, 1, 0)).toEqual([0]);
  });

  it('asks once per page, stores answers and finds images by position', () => {
    let c = emptyCache(1);
    expect(pagesToLoad(c, 0, 300)).toEqual([0, 1]);
    c = markLoading(c, [0, 1]);
    expect(pagesToLoad(c, 0, 300)).toEqual([]);
    c = receivePage(c, 0, 0, page(0, 1000));
    expect(c.total).toBe(1000);
    expect(imageAt(c, 5)?.id).toBe(6);
    expect(imageAt(c, 250)).toBeUndefined();
    c = failPage(c, 1, 0);
    expect(pagesToLoad(c, 0, 300)).toEqual([1]);
  });

  it('drops answers asked before an invalidation, and refetches stale pages', () => {
    let c = markLoading(emptyCache(1), [0]);
    c = receivePage(c, 0, 0, page(0, 500));
    c = markLoading(c, [1]);
    c = invalidate(c);
    expect(c.generation).toBe(1);
    const late = receivePage(c, 1, 0, page(1, 500));
    expect(late.pages[1]).toBeUndefined();
    // the stale page stays visible until replaced, but is asked for again
    expect(imageAt(c, 0)?.id).toBe(1);
    expect(pagesToLoad(c, 0, 400)).toEqual([0, 1]);
  });

  it('asks again for the first page of a collection that was empty once it is stale', () => {
    let c = markLoading(emptyCache(1), [0]);
    c = receivePage(c, 0, 0, page(0, 0));
    expect(pagesToLoad(c, 0, 1)).toEqual([]);
    c = invalidate(c);
    expect(pagesToLoad(c, 0, 1)).toEqual([0]);
  });

  it('marks other pages stale when the total changes', () => {
    let c = markLoading(emptyCache(1), [0, 1]);
    c = receivePage(c, 0, 0, page(0, 500));
    c = receivePage(c, 1, 0, page(1, 500));
    c = markLoading(c, [2]);
    c = receivePage(c, 2, 0, page(2, 900));
    expect(Object.keys(c.stale).sort()).toEqual(['0', '1']);
  });

  it('keeps at most MAX pages, the nearest to the view', () => {
    let c = emptyCache(1);
    for (let p = 0; p < 10; p++) {
      c = markLoading(c, [p]);
      c = receivePage(c, p, 0, page(p, 10 * PAGE_SIZE));
    }
    c = evict(c, 7, 3);
    expect(Object.keys(c.pages).map(Number).sort()).toEqual([6, 7, 8]);
  });
});

describe('outputs', () => {
  it('marks a thumbnail available, and bumps the version when it is remade', () => {
    let c = markLoading(emptyCache(1), [0]);
    c = receivePage(c, 0, 0, page(0, 10));
    c = applyOutputs(c, [{ imageId: 3, variant: 'thumbnail' }]);
    expect(imageAt(c, 2)?.has.thumbnail).toBe(true);
    expect(imageAt(c, 2)?.versions.thumbnail).toBe(0);
    const untouched = imageAt(c, 1);
    c = applyOutputs(c, [{ imageId: 3, variant: 'thumbnail' }]);
    expect(imageAt(c, 2)?.versions.thumbnail).toBe(1);
    expect(imageAt(c, 1)).toBe(untouched);
  });

  it('takes what the decode learnt from the notice: size, animation, date', () => {
    let c = markLoading(emptyCache(1), [0]);
    c = receivePage(c, 0, 0, page(0, 10));
    const learnt: ImageView = {
      ...img(3),
      width: 640,
      height: 480,
      format: 'gif',
      pages: 4,
      animated: true,
      durationMs: 1200,
      takenAt: 1_700_000_000_000,
      takenFrom: 'exif',
    };
    c = applyOutputs(c, [{ imageId: 3, variant: 'thumbnail', image: learnt }]);
    expect(imageAt(c, 2)).toMatchObject({
      width: 640,
      animated: true,
      pages: 4,
      takenFrom: 'exif',
      has: { thumbnail: true, cache: false },
    });
  });

  it('keeps what a page answer says over an older snapshot announced while it was on its way', () => {
    let c = markLoading(emptyCache(1), [0]);
    const before: ImageView = { ...img(4), xmpRating: null };
    c = applyOutputs(c, [{ imageId: 4, variant: 'cache', image: before }]);
    const answer = page(0, 10);
    answer.items[3] = { ...answer.items[3]!, xmpRating: 5 };
    c = receivePage(c, 0, 0, answer);
    expect(imageAt(c, 3)).toMatchObject({ xmpRating: 5, has: { cache: true } });
  });

  it('applies outputs announced while a page was in flight when it lands', () => {
    let c = markLoading(emptyCache(1), [0]);
    c = applyOutputs(c, [{ imageId: 4, variant: 'thumbnail' }]);
    c = receivePage(c, 0, 0, page(0, 10));
    expect(imageAt(c, 3)?.has.thumbnail).toBe(true);
    expect(c.recentOutputs).toEqual([]);
  });

  it('ignores outputs of images it does not hold', () => {
    const c = markLoading(emptyCache(1), [0]);
    const loaded = receivePage(c, 0, 0, page(0, 10));
    expect(applyOutputs(loaded, [{ imageId: 999, variant: 'cache' }])).toBe(loaded);
  });
});
