/**
 * The viewer's zoom and pan as a pure value: "fit" (the image fits the window,
 * never enlarged) or a free scale with an offset of the image's centre from
 * the window's centre. Scale 1 is one source pixel per CSS pixel.
 */

export interface Size {
  width: number;
  height: number;
}

export interface ZoomState {
  mode: 'fit' | 'free';
  /** Used in free mode. */
  scale: number;
  /** Offset of the image centre from the viewport centre, in CSS pixels (free mode). */
  x: number;
  y: number;
}

export const FIT: ZoomState = { mode: 'fit', scale: 1, x: 0, y: 0 };
export const MIN_SCALE = 0.02;
export const MAX_SCALE = 16;

/** The scales + and − step through. */
export const ZOOM_STEPS = [
  0.05, 0.1, 0.125, 0.167, 0.25, 0.333, 0.5, 0.667, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16,
] as const;

/** The scale that fits the image inside the viewport without enlarging it. */
export function fitScale(image: Size, view: Size): number {
  if (image.width <= 0 || image.height <= 0 || view.width <= 0 || view.height <= 0) return 1;
  return Math.min(1, view.width / image.width, view.height / image.height);
}

/** The scale the image is drawn at. */
export function currentScale(z: ZoomState, image: Size, view: Size): number {
  return z.mode === 'fit' ? fitScale(image, view) : z.scale;
}

/** Keeps the image over the viewport: centred on an axis where it is smaller, no gaps where larger. */
export function clampOffset(scale: number, x: number, y: number, image: Size, view: Size) {
  const limit = (img: number, v: number, off: number) => {
    const slack = (img * scale - v) / 2;
    return slack <= 0 ? 0 : Math.min(slack, Math.max(-slack, off));
  };
  return { x: limit(image.width, view.width, x), y: limit(image.height, view.height, y) };
}

/**
 * Sets the scale, keeping the image point under `anchor` (relative to the
 * viewport centre; default the centre) where it is.
 */
export function zoomTo(
  z: ZoomState,
  scale: number,
  image: Size,
  view: Size,
  anchor: { x: number; y: number } = { x: 0, y: 0 },
): ZoomState {
  const from = currentScale(z, image, view);
  const to = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
  const ox = z.mode === 'fit' ? 0 : z.x;
  const oy = z.mode === 'fit' ? 0 : z.y;
  // The image point under the anchor, in source pixels from the image centre.
  const u = (anchor.x - ox) / from;
  const v = (anchor.y - oy) / from;
  const { x, y } = clampOffset(to, anchor.x - u * to, anchor.y - v * to, image, view);
  return { mode: 'free', scale: to, x, y };
}

/** Multiplies the scale (mouse wheel), around `anchor`. */
export function zoomBy(
  z: ZoomState,
  factor: number,
  image: Size,
  view: Size,
  anchor?: { x: number; y: number },
): ZoomState {
  return zoomTo(z, currentScale(z, image, view) * factor, image, view, anchor);
}

/** The next step up (+) or down (−) from the current scale. */
export function zoomStep(z: ZoomState, direction: 1 | -1, image: Size, view: Size): ZoomState {
  const s = currentScale(z, image, view);
  const next =
    direction > 0
      ? (ZOOM_STEPS.find((step) => step > s * 1.001) ?? MAX_SCALE)
      : ([...ZOOM_STEPS].reverse().find((step) => step < s * 0.999) ?? MIN_SCALE);
  return zoomTo(z, next, image, view);
}

/** Moves the image by a drag of (dx, dy). Fit mode becomes free at the same scale. */
export function panBy(z: ZoomState, dx: number, dy: number, image: Size, view: Size): ZoomState {
  const scale = currentScale(z, image, view);
  const ox = z.mode === 'fit' ? 0 : z.x;
  const oy = z.mode === 'fit' ? 0 : z.y;
  const { x, y } = clampOffset(scale, ox + dx, oy + dy, image, view);
  if (z.mode === 'fit' && x === 0 && y === 0) return z;
  return { mode: 'free', scale, x, y };
}

/** True when the image is larger than the viewport (dragging moves it). */
export function canPan(z: ZoomState, image: Size, view: Size): boolean {
  const s = currentScale(z, image, view);
  return image.width * s > view.width + 0.5 || image.height * s > view.height + 0.5;
}

/** What the zoom indicator says: "Fit" or a percentage. */
export function zoomLabel(z: ZoomState): string {
  return z.mode === 'fit' ? 'Fit' : `${Math.round(z.scale * 100)}%`;
}

/**
 * The image's size in source pixels. The view's own width/height may be
 * before EXIF rotation while the loaded picture is after it: the picture's
 * aspect decides which way round they go.
 */
export function logicalSize(
  dims: { width: number | null; height: number | null },
  natural: Size | null,
): Size | null {
  const { width, height } = dims;
  if (!width || !height) return natural;
  if (!natural || natural.width <= 0 || natural.height <= 0) return { width, height };
  const aspect = natural.width / natural.height;
  const same = Math.abs(width / height - aspect) / aspect;
  const swapped = Math.abs(height / width - aspect) / aspect;
  if (same <= 0.02) return { width, height };
  if (swapped <= 0.02) return { width: height, height: width };
  return natural;
}
