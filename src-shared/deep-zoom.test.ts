import { describe, expect, it } from 'vitest';
import {
  hasTile,
  levelFor,
  levelSize,
  parseTileRef,
  pyramidMaxLevel,
  tileRef,
  visibleTiles,
  type PyramidInfo,
} from './deep-zoom.ts';

const PANORAMA: PyramidInfo = {
  width: 20_000,
  height: 5_000,
  tileSize: 512,
  maxLevel: pyramidMaxLevel(20_000, 5_000),
  format: 'jpeg',
};

describe('deep zoom', () => {
  it('halves each level, sides rounded up, to one pixel at level 0', () => {
    expect(PANORAMA.maxLevel).toBe(15);
    expect(levelSize(PANORAMA, 15)).toEqual({ width: 20_000, height: 5_000 });
    expect(levelSize(PANORAMA, 14)).toEqual({ width: 10_000, height: 2_500 });
    expect(levelSize(PANORAMA, 13)).toEqual({ width: 5_000, height: 1_250 });
    expect(levelSize(PANORAMA, 12)).toEqual({ width: 2_500, height: 625 });
    expect(levelSize(PANORAMA, 11)).toEqual({ width: 1_250, height: 313 });
    expect(levelSize(PANORAMA, 0)).toEqual({ width: 1, height: 1 });
    expect(pyramidMaxLevel(1, 1)).toBe(0);
    expect(pyramidMaxLevel(513, 2)).toBe(10);
  });

  it('draws from the smallest level with enough pixels for the zoom', () => {
    expect(levelFor(PANORAMA, 1)).toBe(15);
    expect(levelFor(PANORAMA, 2)).toBe(15); // never past the top
    expect(levelFor(PANORAMA, 0.5)).toBe(14);
    expect(levelFor(PANORAMA, 0.51)).toBe(15);
    expect(levelFor(PANORAMA, 0.26)).toBe(14);
    expect(levelFor(PANORAMA, 0.25)).toBe(13);
    expect(levelFor(PANORAMA, 1e-9)).toBe(0);
    expect(levelFor(PANORAMA, 0)).toBe(0);
  });

  it('places the tiles that cover the view, a margin of one around them', () => {
    // At 1:1, the view's top-left corner at image pixel (1000, 600).
    const tiles = visibleTiles(
      PANORAMA,
      15,
      { left: -1000, top: -600, width: 20_000, height: 5_000 },
      { width: 1024, height: 512 },
    );
    // Columns 1..3 (pixels 1000..2023) and rows 1..2 (600..1111), one more around.
    const cols = [...new Set(tiles.map((t) => t.col))];
    const rows = [...new Set(tiles.map((t) => t.row))];
    expect(cols).toEqual([0, 1, 2, 3, 4]);
    expect(rows).toEqual([0, 1, 2, 3]);
    expect(tiles).toContainEqual({
      level: 15,
      col: 2,
      row: 1,
      left: 1024,
      top: 512,
      width: 512,
      height: 512,
    });
    // With no margin: exactly those seen.
    const seen = visibleTiles(
      PANORAMA,
      15,
      { left: -1000, top: -600, width: 20_000, height: 5_000 },
      { width: 1024, height: 512 },
      0,
    );
    expect(seen.map(tileRef)).toEqual(['15-1-1', '15-2-1', '15-3-1', '15-1-2', '15-2-2', '15-3-2']);
  });

  it('scales a level to the drawn size, edge tiles cut to the image', () => {
    // Level 12 (2500 x 625) drawn 5000 x 1250: each tile covers 1024 CSS pixels.
    const tiles = visibleTiles(
      PANORAMA,
      12,
      { left: 0, top: 0, width: 5000, height: 1250 },
      { width: 6000, height: 2000 },
    );
    expect(tiles).toHaveLength(5 * 2);
    const last = tiles.find((t) => t.col === 4 && t.row === 1);
    expect(last).toEqual({
      level: 12,
      col: 4,
      row: 1,
      left: 4096,
      top: 1024,
      width: (2500 - 2048) * 2,
      height: (625 - 512) * 2,
    });
    // Nothing when the image is off screen.
    expect(
      visibleTiles(
        PANORAMA,
        12,
        { left: 7000, top: 0, width: 5000, height: 1250 },
        { width: 6000, height: 2000 },
      ),
    ).toEqual([]);
  });

  it('reads a tile reference strictly, and knows which tiles exist', () => {
    expect(parseTileRef('15-3-2')).toEqual({ level: 15, col: 3, row: 2 });
    expect(parseTileRef('0-0-0')).toEqual({ level: 0, col: 0, row: 0 });
    for (const bad of [
      '',
      '1-2',
      '1-2-3-4',
      '01-2-3',
      '1-02-3',
      '-1-2-3',
      '1--2-3',
      '100-0-0',
      '1-1234567-0',
      'a-b-c',
      '1-2-3 ',
    ]) {
      expect(parseTileRef(bad), bad).toBeNull();
    }
    expect(hasTile(PANORAMA, { level: 15, col: 39, row: 9 })).toBe(true);
    expect(hasTile(PANORAMA, { level: 15, col: 40, row: 9 })).toBe(false);
    expect(hasTile(PANORAMA, { level: 15, col: 39, row: 10 })).toBe(false);
    expect(hasTile(PANORAMA, { level: 16, col: 0, row: 0 })).toBe(false);
    expect(hasTile(PANORAMA, { level: 0, col: 0, row: 0 })).toBe(true);
    expect(hasTile(PANORAMA, { level: 0, col: 1, row: 0 })).toBe(false);
  });
});
