/**
 * Deep zoom: an image too large for one full-size rendition is shown from a
 * tile pyramid, libvips' Deep Zoom layout. Level `maxLevel` is the image at
 * its own size; each level below it is half the one above (sides rounded
 * up), down to one pixel at level 0. Every level is cut into square tiles of
 * `tileSize` pixels (those at the right and bottom edges smaller), without
 * overlap. The worker writes the pyramid, the core serves one tile by its
 * numbers, and the viewer asks for the tiles on screen at the level that has
 * enough pixels for its zoom.
 */

/** Above this many pixels the viewer shows an image's real pixels from tiles. */
export const DEEP_ZOOM_MIN_PIXELS = 64_000_000;

/** Side of a tile, pixels: few requests per screen, each still quick to decode. */
export const TILE_SIZE = 512;

/** What the viewer needs to know of a pyramid. */
export interface PyramidInfo {
  /** The image's size, upright (its top level). */
  width: number;
  height: number;
  tileSize: number;
  maxLevel: number;
  /**
   * The tiles' format: JPEG (an image with transparency is drawn over the
   * checkerboard, as in its view image). WebP is read too, for pyramids a
   * later version may write.
   */
  format: 'jpeg' | 'webp';
}

/** The top level of an image's pyramid: the levels halve down to one pixel. */
export function pyramidMaxLevel(width: number, height: number): number {
  return Math.ceil(Math.log2(Math.max(1, width, height)));
}

/** Pixel size of one level of a pyramid. */
export function levelSize(
  info: Pick<PyramidInfo, 'width' | 'height' | 'maxLevel'>,
  level: number,
): { width: number; height: number } {
  const div = 2 ** (info.maxLevel - level);
  return { width: Math.ceil(info.width / div), height: Math.ceil(info.height / div) };
}

/** Where a tile lies inside the pyramid's folder. */
export function tileRelPath(level: number, col: number, row: number, format: string): string {
  return `tiles_files/${level}/${col}_${row}.${format}`;
}

/**
 * The level to draw at `scale` (screen pixels per image pixel, the device
 * pixel ratio included): the smallest with at least that many pixels.
 */
export function levelFor(info: Pick<PyramidInfo, 'maxLevel'>, scale: number): number {
  if (!(scale > 0)) return 0;
  const wanted = info.maxLevel + Math.ceil(Math.log2(scale) - 1e-9);
  return Math.max(0, Math.min(info.maxLevel, wanted));
}

/** One tile to draw: its numbers, and where it goes in the drawn image (CSS pixels). */
export interface PlacedTile {
  level: number;
  col: number;
  row: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The tiles of `level` that cover the part of the drawn image (drawnWidth ×
 * drawnHeight CSS pixels, its top-left corner at `left`, `top` in a view of
 * viewWidth × viewHeight) inside the view, with `margin` more tiles on every
 * side so that a pan finds its neighbours loaded.
 */
export function visibleTiles(
  info: PyramidInfo,
  level: number,
  drawn: { left: number; top: number; width: number; height: number },
  view: { width: number; height: number },
  margin = 1,
): PlacedTile[] {
  const size = levelSize(info, level);
  if (drawn.width <= 0 || drawn.height <= 0) return [];
  const fx = drawn.width / size.width;
  const fy = drawn.height / size.height;
  const ts = info.tileSize;
  const cols = Math.ceil(size.width / ts);
  const rows = Math.ceil(size.height / ts);
  // The view's edges in the level's pixels.
  const x0 = (0 - drawn.left) / fx;
  const x1 = (view.width - drawn.left) / fx;
  const y0 = (0 - drawn.top) / fy;
  const y1 = (view.height - drawn.top) / fy;
  if (x1 <= 0 || y1 <= 0 || x0 >= size.width || y0 >= size.height) return [];
  const c0 = Math.max(0, Math.floor(x0 / ts) - margin);
  const c1 = Math.min(cols - 1, Math.ceil(x1 / ts) - 1 + margin);
  const r0 = Math.max(0, Math.floor(y0 / ts) - margin);
  const r1 = Math.min(rows - 1, Math.ceil(y1 / ts) - 1 + margin);
  const out: PlacedTile[] = [];
  for (let row = r0; row <= r1; row++) {
    for (let col = c0; col <= c1; col++) {
      const w = Math.min(ts, size.width - col * ts);
      const h = Math.min(ts, size.height - row * ts);
      out.push({
        level,
        col,
        row,
        left: col * ts * fx,
        top: row * ts * fy,
        width: w * fx,
        height: h * fy,
      });
    }
  }
  return out;
}

/** Which tile: its level, column and row. */
export interface TileNumbers {
  level: number;
  col: number;
  row: number;
}

/** Parses a tile's numbers from a media URL's last segment, `<level>-<col>-<row>`. */
export function parseTileRef(text: string): TileNumbers | null {
  const m = /^(0|[1-9][0-9]?)-(0|[1-9][0-9]{0,5})-(0|[1-9][0-9]{0,5})$/.exec(text);
  if (!m) return null;
  return { level: Number(m[1]), col: Number(m[2]), row: Number(m[3]) };
}

/** The reverse of parseTileRef. */
export function tileRef(t: TileNumbers): string {
  return `${t.level}-${t.col}-${t.row}`;
}

/** True when a tile's numbers name a tile the pyramid has. */
export function hasTile(info: PyramidInfo, t: TileNumbers): boolean {
  if (t.level < 0 || t.level > info.maxLevel) return false;
  const size = levelSize(info, t.level);
  return (
    t.col >= 0 &&
    t.row >= 0 &&
    t.col < Math.ceil(size.width / info.tileSize) &&
    t.row < Math.ceil(size.height / info.tileSize)
  );
}
