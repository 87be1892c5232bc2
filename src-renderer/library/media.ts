/** Media URLs of grid images, versioned so a remade output is fetched again. */
import type { MediaKind } from '../../src-shared/api.ts';
import type { Variant } from '../../src-shared/domain.ts';
import { getBridge } from '../api/bridge.ts';
import type { GridImage } from '../store/image-pages.ts';

/** The version part of a media URL: the settings tag and how often the output was remade. */
export function mediaVersion(tag: string, bumps: number): string | undefined {
  if (!tag && !bumps) return undefined;
  return bumps ? `${tag}-${bumps}` : tag;
}

export function outputUrl(image: GridImage, variant: Variant, tag: string): string {
  return getBridge().mediaUrl(variant, image.id, mediaVersion(tag, image.versions[variant]));
}

export function mediaUrl(kind: MediaKind, imageId: number): string {
  return getBridge().mediaUrl(kind, imageId);
}

/** The URL of one tile of an image's deep-zoom pyramid, versioned by the pyramid's key. */
export function tileUrl(imageId: number, key: string, ref: string): string {
  return getBridge().mediaUrl('tile', imageId, key, ref);
}
