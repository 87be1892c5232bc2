/**
 * BMP and ICO/CUR decoding, in the worker, to RGBA pixels sharp then resizes
 * and encodes. Why our own: the bundled libvips has no BMP loader, and the
 * JavaScript ones on npm read too little of the format (decode-bmp has no
 * RLE, 16-bit, bit fields or top-down rows; bmp-ts ignores the pixel-data
 * offset and writes 1-bit alpha to the wrong bytes). The format is small and
 * fixed since 1995; this covers what Windows writes and browsers read:
 * OS/2 and Windows headers (core, info, V2–V5), 1/2/4/8-bit palettes,
 * 16/24/32-bit with or without bit fields, RLE4/RLE8 with deltas, top-down
 * rows, embedded JPEG/PNG, and ICO/CUR entries as PNG or as a DIB with its
 * AND mask. Every read is bounded by the buffer and the pixel limit first:
 * a hostile header fails with a code, never allocates past the limit.
 */
import type { Failure } from '../src-shared/domain.ts';

/** Decoded pixels: RGBA, top row first. */
export interface Rgba {
  data: Uint8Array;
  width: number;
  height: number;
  /** False when every pixel is opaque. */
  alpha: boolean;
}

/** A compressed image inside the container (a BMP's BI_JPEG/BI_PNG, an ICO's PNG entry). */
export interface Embedded {
  embedded: Uint8Array;
}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

const corrupt = (message: string): Failure => ({ code: 'CORRUPT', message });
const truncated = (message: string): Failure => ({
  code: 'TRUNCATED',
  message: `the file is truncated: ${message}`,
});

/** True for the start of a BMP file: "BM" and a known info header size. */
export function isBmp(head: Uint8Array): boolean {
  if (head.length < 18 || head[0] !== 0x42 || head[1] !== 0x4d) return false;
  const size = view(head).getUint32(14, true);
  return [12, 16, 40, 52, 56, 64, 108, 124].includes(size);
}

/** True for the start of an ICO or CUR file: reserved 0, type 1 or 2, at least one entry. */
export function isIco(head: Uint8Array): boolean {
  if (head.length < 22) return false;
  const v = view(head);
  const type = v.getUint16(2, true);
  const count = v.getUint16(4, true);
  return v.getUint16(0, true) === 0 && (type === 1 || type === 2) && count > 0 && head[9] === 0;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Decodes a BMP file. */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): Rgba | Embedded | Failure {
  if (bytes.length < 26) return truncated('it ends inside its header');
  const pixelOffset = view(bytes).getUint32(10, true);
  // An offset of 0 (some writers) means the rows follow the header and palette.
  return decodeDib(bytes.subarray(14), maxPixels, {
    pixelOffset: pixelOffset === 0 ? undefined : pixelOffset - 14,
  });
}

/**
 * Decodes a device-independent bitmap: an info header, its palette and its
 * rows. In a BMP file the rows start at `pixelOffset` (from the info header);
 * in an icon they follow the palette, the header's height counts the AND
 * mask too, and that mask (one bit a pixel, 1 = transparent) follows them.
 */
export function decodeDib(
  dib: Uint8Array,
  maxPixels: number,
  where: { pixelOffset?: number; icon?: boolean },
): Rgba | Embedded | Failure {
  const v = view(dib);
  if (dib.length < 12) return truncated('it ends inside its header');
  const headerSize = v.getUint32(0, true);
  if (headerSize < 12 || headerSize > dib.length) return truncated('it ends inside its header');
  const core = headerSize === 12;
  if (!core && headerSize < 16) return corrupt(`an info header of ${headerSize} bytes`);
  const width = core ? v.getUint16(4, true) : v.getInt32(4, true);
  let height = core ? v.getInt16(6, true) : v.getInt32(8, true);
  const bpp = core ? v.getUint16(10, true) : v.getUint16(14, true);
  const compression = headerSize >= 20 ? v.getUint32(16, true) : BI_RGB;
  const topDown = height < 0;
  height = Math.abs(height);
  if (where.icon) height = Math.floor(height / 2);
  if (width <= 0 || height <= 0) return corrupt(`a size of ${width} × ${height} pixels`);
  if (width * height > maxPixels) {
    return {
      code: 'TOO_MANY_PIXELS',
      message: `${width} × ${height} pixels is more than the limit of ${maxPixels}`,
    };
  }
  if (headerSize === 16 || headerSize === 64) {
    // OS/2 2.x: compression 3 and 4 there are Huffman 1D and RLE24, not bit fields.
    if (compression === 3 || compression === 4) {
      return { code: 'UNSUPPORTED', message: 'BMP: OS/2 Huffman or RLE24 compression' };
    }
  }
  if (compression === BI_JPEG || compression === BI_PNG) {
    const start = where.pixelOffset ?? headerSize;
    if (start < 0 || start >= dib.length) return truncated('it ends before its image');
    return { embedded: dib.subarray(start) };
  }
  if (![1, 2, 4, 8, 16, 24, 32].includes(bpp)) return corrupt(`${bpp} bits a pixel`);
  const rle = compression === BI_RLE8 || compression === BI_RLE4;
  if (rle && (topDown || bpp !== (compression === BI_RLE8 ? 8 : 4))) {
    return corrupt(`RLE${compression === BI_RLE8 ? 8 : 4} with ${bpp} bits a pixel`);
  }
  const fields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (!rle && !fields && compression !== BI_RGB) {
    return { code: 'UNSUPPORTED', message: `BMP: compression type ${compression}` };
  }
  if (fields && bpp !== 16 && bpp !== 32) return corrupt(`bit fields with ${bpp} bits a pixel`);

  // Channel masks: in the header from V2 on, else after it for bit fields.
  let at = headerSize;
  let masks: [number, number, number, number] | null = null;
  const u32 = (o: number) => (o + 4 <= dib.length ? v.getUint32(o, true) : 0);
  if (headerSize >= 52) {
    masks = [u32(40), u32(44), u32(48), headerSize >= 56 ? u32(52) : 0];
  } else if (fields) {
    const n = compression === BI_ALPHABITFIELDS ? 4 : 3;
    if (at + n * 4 > dib.length) return truncated('it ends inside its colour masks');
    masks = [u32(at), u32(at + 4), u32(at + 8), n === 4 ? u32(at + 12) : 0];
    at += n * 4;
  }
  if (!fields) {
    // Without bit fields the masks in a V2+ header mean nothing; the defaults hold.
    masks =
      bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : bpp === 32 ? [0xff0000, 0xff00, 0xff, 0] : null;
  }

  // The palette: 3 bytes an entry after a core header, 4 after any other.
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entry = core ? 3 : 4;
    const used = headerSize >= 36 ? u32(32) : 0;
    let count = Math.min(used > 0 ? used : 1 << bpp, 1 << bpp);
    // Rows that start inside the palette cut it there (as browsers read it).
    if (where.pixelOffset !== undefined && where.pixelOffset > at) {
      count = Math.min(count, Math.floor((where.pixelOffset - at) / entry));
    }
    const available = Math.floor((dib.length - at) / entry);
    if (available < 1 || count < 1) return truncated('it ends before its palette');
    const n = Math.min(count, available);
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < n; i++) {
      const o = at + i * entry;
      palette[i * 3] = dib[o + 2] ?? 0;
      palette[i * 3 + 1] = dib[o + 1] ?? 0;
      palette[i * 3 + 2] = dib[o] ?? 0;
    }
    at += n * entry;
  } else if (!core) {
    // A colour table beside true colour is a hint for palette displays: skipped.
    const used = headerSize >= 36 ? u32(32) : 0;
    if (used > 0 && where.pixelOffset === undefined) at += Math.min(used, 1 << 16) * 4;
  }
  const start = where.pixelOffset ?? at;
  if (start < 0 || start > dib.length) return truncated('it ends before its pixels');
  const px = dib.subarray(start);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (!rle && px.length < stride * height) {
    return truncated(`its rows need ${stride * height} bytes, it has ${px.length}`);
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(width * height * 4);
  } catch {
    return {
      code: 'TOO_MANY_PIXELS',
      message: `${width} × ${height} pixels do not fit in this machine's memory`,
    };
  }

  let alphaSeen = false;
  if (rle) {
    const r = decodeRle(
      px,
      width,
      height,
      compression === BI_RLE4,
      palette ?? new Uint8Array(768),
      out,
    );
    if (r) return r;
    alphaSeen = true; // pixels an RLE stream skips are transparent
  } else {
    const channel = masks
      ? ([
          maskShape(masks[0]),
          maskShape(masks[1]),
          maskShape(masks[2]),
          maskShape(masks[3]),
        ] as const)
      : null;
    const pv = view(px);
    for (let y = 0; y < height; y++) {
      const row = (topDown ? y : height - 1 - y) * stride;
      let o = y * width * 4;
      for (let x = 0; x < width; x++, o += 4) {
        if (palette) {
          const bits = x * bpp;
          const byte = px[row + (bits >> 3)] ?? 0;
          const index = (byte >> (8 - bpp - (bits & 7))) & ((1 << bpp) - 1);
          out[o] = palette[index * 3] ?? 0;
          out[o + 1] = palette[index * 3 + 1] ?? 0;
          out[o + 2] = palette[index * 3 + 2] ?? 0;
          out[o + 3] = 255;
        } else if (bpp === 24) {
          const p = row + x * 3;
          out[o] = px[p + 2] ?? 0;
          out[o + 1] = px[p + 1] ?? 0;
          out[o + 2] = px[p] ?? 0;
          out[o + 3] = 255;
        } else if (channel) {
          const value =
            bpp === 16 ? pv.getUint16(row + x * 2, true) : pv.getUint32(row + x * 4, true);
          out[o] = field(value, channel[0]);
          out[o + 1] = field(value, channel[1]);
          out[o + 2] = field(value, channel[2]);
          out[o + 3] = channel[3].bits ? field(value, channel[3]) : 255;
          if (out[o + 3]) alphaSeen = true;
        }
      }
    }
    if (channel && channel[3].bits && !alphaSeen) {
      // An alpha mask whose every value is zero is unused (as browsers read it): opaque.
      for (let i = 3; i < out.length; i += 4) out[i] = 255;
    }
    if (bpp === 32 && !fields && !where.icon) {
      // BI_RGB 32-bit, as Chromium and Firefox read it: the fourth byte is
      // padding (more files have junk there than alpha), unless a V3+ header
      // gives an alpha mask; an alpha that is zero everywhere is unused.
      const alphaMask = maskShape(headerSize >= 56 ? u32(52) : 0);
      alphaSeen = false;
      if (alphaMask.bits) {
        for (let i = 0; i < width * height; i++) {
          const y = Math.floor(i / width);
          const x = i % width;
          const row = (topDown ? y : height - 1 - y) * stride;
          const a = field(pv.getUint32(row + x * 4, true), alphaMask);
          out[i * 4 + 3] = a;
          if (a) alphaSeen = true;
        }
        if (!alphaSeen) for (let i = 3; i < out.length; i += 4) out[i] = 255;
      }
    }
  }

  if (where.icon) {
    if (bpp === 32 && anyAlphaByte(px, width, height, stride)) {
      for (let i = 0; i < width * height; i++) {
        const y = Math.floor(i / width);
        const x = i % width;
        out[i * 4 + 3] = px[(height - 1 - y) * stride + x * 4 + 3] ?? 0;
      }
      alphaSeen = true;
    } else {
      // The AND mask: one bit a pixel, rows padded to 4 bytes, bottom row first.
      const maskStride = Math.ceil(width / 32) * 4;
      const mask = px.subarray(stride * height);
      if (mask.length >= maskStride * height) {
        for (let y = 0; y < height; y++) {
          const row = (height - 1 - y) * maskStride;
          for (let x = 0; x < width; x++) {
            if (((mask[row + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1) {
              out[(y * width + x) * 4 + 3] = 0;
              alphaSeen = true;
            }
          }
        }
      }
    }
  }
  return { data: out, width, height, alpha: alphaSeen && !isOpaque(out) };
}

/** True when some pixel's fourth byte (of 32-bit rows) is not zero. */
function anyAlphaByte(px: Uint8Array, width: number, height: number, stride: number): boolean {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (px[y * stride + x * 4 + 3]) return true;
  }
  return false;
}

/** True when every alpha value of RGBA pixels is 255 (HEIC's decode is checked with it too). */
export function isOpaque(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

interface MaskShape {
  shift: number;
  bits: number;
}

/**
 * Where a channel's bits are in a pixel, from its mask (its lowest run of
 * set bits); of a channel wider than 8 bits only the top 8 are kept.
 */
function maskShape(mask: number): MaskShape {
  if (!mask) return { shift: 0, bits: 0 };
  let shift = 0;
  while (!((mask >>> shift) & 1)) shift++;
  let bits = 0;
  while (shift + bits < 32 && (mask >>> (shift + bits)) & 1) bits++;
  return bits > 8 ? { shift: shift + bits - 8, bits: 8 } : { shift, bits };
}

/** A channel's value scaled to 8 bits. */
function field(value: number, c: MaskShape): number {
  if (!c.bits) return 0;
  const max = 2 ** c.bits - 1;
  return Math.round((((value >>> c.shift) & max) * 255) / max);
}

/**
 * Decodes RLE8 or RLE4 rows (bottom row first) into `out`; pixels the stream
 * skips (deltas, early line ends) stay transparent. Null when done, else a
 * failure for a stream that ends before its image does.
 */
function decodeRle(
  px: Uint8Array,
  width: number,
  height: number,
  four: boolean,
  palette: Uint8Array,
  out: Uint8Array,
): Failure | null {
  let x = 0;
  let y = 0; // rows from the bottom
  let i = 0;
  const put = (index: number) => {
    if (x < width && y < height) {
      const o = ((height - 1 - y) * width + x) * 4;
      out[o] = palette[index * 3] ?? 0;
      out[o + 1] = palette[index * 3 + 1] ?? 0;
      out[o + 2] = palette[index * 3 + 2] ?? 0;
      out[o + 3] = 255;
    }
    x++;
  };
  while (y < height) {
    if (i + 1 >= px.length) {
      // Streams that stop at their last row without an end marker are common.
      return y >= height - 1 ? null : truncated('its RLE data ends before its last row');
    }
    const count = px[i++] ?? 0;
    const value = px[i++] ?? 0;
    if (count > 0) {
      // Only what lies inside the row is drawn: work stays bounded by the image.
      const drawn = Math.max(0, Math.min(count, width - x));
      for (let k = 0; k < drawn; k++) {
        put(four ? (k & 1 ? value & 0x0f : value >> 4) : value);
      }
      x += count - drawn;
    } else if (value === 0) {
      x = 0;
      y++;
    } else if (value === 1) {
      return null;
    } else if (value === 2) {
      if (i + 1 >= px.length) return truncated('its RLE data ends inside a move');
      x += px[i++] ?? 0;
      y += px[i++] ?? 0;
    } else {
      // An absolute run of `value` pixels, padded to a whole 16-bit word.
      const bytes = four ? Math.ceil(value / 2) : value;
      if (i + bytes > px.length) return truncated('its RLE data ends inside a run');
      const drawn = Math.max(0, Math.min(value, width - x));
      for (let k = 0; k < drawn; k++) {
        const b = px[i + (four ? k >> 1 : k)] ?? 0;
        put(four ? (k & 1 ? b & 0x0f : b >> 4) : b);
      }
      x += value - drawn;
      i += bytes + (bytes & 1);
    }
  }
  return null;
}

/**
 * Decodes an ICO or CUR: its best entry (the most pixels, then the most
 * bits a pixel), a PNG (returned as it is, for sharp) or a DIB.
 */
export function decodeIco(bytes: Uint8Array, maxPixels: number): Rgba | Embedded | Failure {
  if (bytes.length < 6) return truncated('it ends inside its header');
  const v = view(bytes);
  const count = v.getUint16(4, true);
  if (bytes.length < 6 + count * 16) return truncated('it ends inside its directory');
  let best: { offset: number; size: number; pixels: number; bpp: number } | null = null;
  for (let e = 0; e < count; e++) {
    const o = 6 + e * 16;
    const w = bytes[o] || 256;
    const h = bytes[o + 1] || 256;
    const bpp = v.getUint16(o + 6, true);
    const size = v.getUint32(o + 8, true);
    const offset = v.getUint32(o + 12, true);
    if (offset + Math.min(size, 8) > bytes.length || size < 8) continue;
    const better = !best || w * h > best.pixels || (w * h === best.pixels && bpp > best.bpp);
    if (better) best = { offset, size, pixels: w * h, bpp };
  }
  if (!best) return truncated('none of its images is inside the file');
  const data = bytes.subarray(best.offset, Math.min(bytes.length, best.offset + best.size));
  const png = [0x89, 0x50, 0x4e, 0x47].every((b, i) => data[i] === b);
  if (png) return { embedded: data };
  // A bitmap to the end of the file: some writers give an entry a smaller size than it has.
  return decodeDib(bytes.subarray(best.offset), maxPixels, { icon: true });
}
