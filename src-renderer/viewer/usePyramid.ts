import { useCallback, useEffect, useState } from 'react';
import type { DeepZoomView } from '../../src-shared/api.ts';
import { callRaw } from '../api/call.ts';

/** An image's deep-zoom pyramid, as far as the viewer knows it. */
export type Pyramid =
  | { state: 'loading' }
  | { state: 'ready'; view: DeepZoomView; at: number }
  | { state: 'error'; message: string };

type Held = Pyramid & { key: string; imageId: number };

/** After a failed ask, the next one waits this long (the pool may be busy, the image not decoded yet). */
export const PYRAMID_RETRY_MS = 5000;

/**
 * The pyramid of the image shown, asked for while `wanted` (the core makes it
 * on the first ask, in seconds for a 100-megapixel image); null before.
 * Known per image and `version` (what changes when its file does, such as
 * its view image's URL): a changed image is asked for again. A failed ask is
 * tried again after PYRAMID_RETRY_MS while still wanted; `lost` (a tile that
 * would not load: the pyramid was removed meanwhile) asks again at once,
 * at most once per PYRAMID_RETRY_MS.
 */
export function usePyramid(
  imageId: number | undefined,
  version: string,
  wanted: boolean,
): { pyramid: Pyramid | null; lost: () => void } {
  const key = `${imageId ?? ''} ${version}`;
  const [held, setHeld] = useState<Held | null>(null);
  let current: Held | null = held?.key === key ? held : null;
  if (wanted && imageId !== undefined && current === null) {
    // Adjusted while rendering, as React recommends: the ask starts below.
    current = { key, imageId, state: 'loading' };
    setHeld(current);
  }
  const loading = current?.state === 'loading' ? current : null;
  useEffect(() => {
    if (!loading) return;
    const { key: asked, imageId: id } = loading;
    void callRaw('deepZoom', { imageId: id }).then((r) => {
      const next: Held = r.ok
        ? { key: asked, imageId: id, state: 'ready', view: r.value, at: Date.now() }
        : { key: asked, imageId: id, state: 'error', message: r.error.message };
      // Kept only while that image is still the one shown.
      setHeld((h) => (h?.key === asked ? next : h));
    });
  }, [loading]);

  const failedKey = current?.state === 'error' ? current.key : null;
  useEffect(() => {
    if (failedKey === null) return;
    const timer = setTimeout(
      () => setHeld((h) => (h?.key === failedKey && h.state === 'error' ? null : h)),
      PYRAMID_RETRY_MS,
    );
    return () => clearTimeout(timer);
  }, [failedKey]);

  const lost = useCallback(
    () =>
      setHeld((h) =>
        h?.key === key && h.state === 'ready' && Date.now() - h.at > PYRAMID_RETRY_MS ? null : h,
      ),
    [key],
  );
  return { pyramid: current, lost };
}
