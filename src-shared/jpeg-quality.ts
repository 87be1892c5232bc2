/**
 * Estimates the quality a JPEG was saved at from its luminance quantisation
 * table, so that a cache image is never encoded at a higher quality than its
 * source carries (more bytes, no more detail).
 */

/** The IJG (Annex K) luminance table in natural (row-major) order, as libjpeg scales it. */
const IJG_LUMINANCE: readonly number[] = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
  92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** Natural-order position of the k-th coefficient in zigzag order (DQT stores zigzag). */
const ZIGZAG_TO_NATURAL: readonly number[] = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
  13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
  45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/** libjpeg's `jpeg_quality_scaling` followed by `jpeg_add_quant_table` with force_baseline. */
function scaledTable(quality: number): number[] {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return IJG_LUMINANCE.map((base) =>
    Math.min(255, Math.max(1, Math.floor((base * scale + 50) / 100))),
  );
}

/** The 100 scaled tables, built on first use. */
let tablesByQuality: number[][] | null = null;

/**
 * Reads the luminance quantisation table (table 0) of a JPEG, in natural
 * order, from the segments before the first scan. Null when the bytes are not
 * a JPEG, have no table 0, or end before one is found (a file head is enough).
 */
export function readLuminanceTable(bytes: Uint8Array): number[] | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return null;
    const marker = bytes[pos + 1] ?? 0;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2; // markers without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return null; // start of scan / end of image
    const length = ((bytes[pos + 2] ?? 0) << 8) | (bytes[pos + 3] ?? 0);
    if (length < 2) return null;
    const end = pos + 2 + length;
    if (marker === 0xdb) {
      let p = pos + 4;
      while (p < end && p < bytes.length) {
        const pqTq = bytes[p] ?? 0;
        const sixteenBit = pqTq >> 4 === 1;
        const id = pqTq & 0x0f;
        const size = sixteenBit ? 128 : 64;
        if (p + 1 + size > bytes.length) return null;
        if (id === 0) {
          const natural = new Array<number>(64).fill(0);
          for (let k = 0; k < 64; k++) {
            const value = sixteenBit
              ? ((bytes[p + 1 + 2 * k] ?? 0) << 8) | (bytes[p + 2 + 2 * k] ?? 0)
              : (bytes[p + 1 + k] ?? 0);
            natural[ZIGZAG_TO_NATURAL[k] ?? 0] = value;
          }
          return natural;
        }
        p += 1 + size;
      }
    }
    pos = end;
  }
  return null;
}

/**
 * The IJG quality (1–100) whose scaled luminance table is closest (sum of
 * absolute differences) to the one in these JPEG bytes; null for non-JPEG
 * input or when no luminance table precedes the first scan. Works on a file
 * head: the tables come before the image data.
 */
export function estimateJpegQuality(bytes: Uint8Array): number | null {
  const table = readLuminanceTable(bytes);
  if (!table) return null;
  tablesByQuality ??= Array.from({ length: 100 }, (_, i) => scaledTable(i + 1));
  let best = 1;
  let bestDistance = Infinity;
  for (let q = 1; q <= 100; q++) {
    const candidate = tablesByQuality[q - 1] ?? [];
    let distance = 0;
    for (let i = 0; i < 64; i++) distance += Math.abs((candidate[i] ?? 0) - (table[i] ?? 0));
    if (distance < bestDistance) {
      best = q;
      bestDistance = distance;
    }
  }
  return best;
}
