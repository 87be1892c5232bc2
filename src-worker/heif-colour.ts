/**
 * The colour profile of a HEIF's primary image, read from its container
 * (libheif-js hands out pixels without it): an ICC profile in a 'colr' box of
 * type prof or rICC (iPhones write Display P3 this way), or nclx colour
 * primaries. Every offset and size is checked: a hostile file gives null,
 * which means "sRGB", never a failure.
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

interface Box {
  type: string;
  /** The payload, after the header (and a full box's version and flags). */
  body: number;
  end: number;
}

const FULL = new Set(['meta', 'ipma', 'pitm']);
/** More boxes than this at one level is no photo's container. */
const MAX_BOXES = 4096;

function boxes(b: Uint8Array, from: number, to: number): Box[] | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Box[] = [];
  for (let at = from; at + 8 <= to;) {
    if (out.length >= MAX_BOXES) return null;
    let size = dv.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) return null;
      const big = dv.getBigUint64(at + 8);
      if (big > BigInt(to - at)) return null;
      size = Number(big);
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) return null;
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    const body = at + header + (FULL.has(type) ? 4 : 0);
    if (body > at + size) return null;
    out.push({ type, body, end: at + size });
    at += size;
  }
  return out;
}

export type HeifColour = { icc: Uint8Array } | { nclxPrimaries: number };

/** The primary image's colour profile, or null (none, or not readable: sRGB). */
export function heifColour(b: Uint8Array): HeifColour | null {
  try {
    return readColour(b);
  } catch {
    return null;
  }
}

function readColour(b: Uint8Array): HeifColour | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const meta = boxes(b, 0, b.length)?.find((x) => x.type === 'meta');
  if (!meta) return null;
  const inMeta = boxes(b, meta.body, meta.end);
  const pitm = inMeta?.find((x) => x.type === 'pitm');
  const iprp = inMeta?.find((x) => x.type === 'iprp');
  if (!pitm || !iprp) return null;
  const pitmVersion = b[pitm.body - 4]!;
  const primary = pitmVersion === 0 ? dv.getUint16(pitm.body) : dv.getUint32(pitm.body);
  const inIprp = boxes(b, iprp.body, iprp.end);
  const ipco = inIprp?.find((x) => x.type === 'ipco');
  const ipma = inIprp?.find((x) => x.type === 'ipma');
  if (!ipco || !ipma) return null;
  const properties = boxes(b, ipco.body, ipco.end);
  if (!properties) return null;

  // The primary image's property indices (1-based), in order.
  const version = b[ipma.body - 4]!;
  const wide = (b[ipma.body - 1]! & 1) === 1;
  let at = ipma.body;
  const entries = dv.getUint32(at);
  at += 4;
  let indices: number[] = [];
  for (let i = 0; i < entries && at < ipma.end; i++) {
    const item = version < 1 ? dv.getUint16(at) : dv.getUint32(at);
    at += version < 1 ? 2 : 4;
    const count = b[at]!;
    at += 1;
    const mine: number[] = [];
    for (let k = 0; k < count; k++) {
      if (at + (wide ? 2 : 1) > ipma.end) return null;
      mine.push(wide ? dv.getUint16(at) & 0x7fff : b[at]! & 0x7f);
      at += wide ? 2 : 1;
    }
    if (item === primary) indices = mine;
  }
  // An image may have an ICC and an nclx box (libheif writes both on request):
  // the ICC profile describes the colour, the nclx one the coding.
  let nclx: HeifColour | null = null;
  for (const index of indices) {
    const colr = properties[index - 1];
    if (colr?.type !== 'colr' || colr.body + 4 > colr.end) continue;
    const kind = String.fromCharCode(...b.subarray(colr.body, colr.body + 4));
    if (kind === 'prof' || kind === 'rICC') {
      const icc = b.subarray(colr.body + 4, colr.end);
      if (looksLikeIcc(icc)) return { icc };
    } else if (kind === 'nclx' && colr.body + 6 <= colr.end) {
      nclx ??= { nclxPrimaries: dv.getUint16(colr.body + 4) };
    }
  }
  return nclx;
}

/** An ICC profile's header says its own size and carries the 'acsp' signature. */
function looksLikeIcc(icc: Uint8Array): boolean {
  if (icc.length < 132) return false;
  const dv = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  return dv.getUint32(0) === icc.length && String.fromCharCode(...icc.subarray(36, 40)) === 'acsp';
}

/** nclx colour primaries (ITU-T H.273) that mean Display P3's (P3 with a D65 white). */
const P3_D65 = 12;

let p3: Promise<Uint8Array | undefined> | null = null;

/** libvips' own Display P3 profile. */
function displayP3(): Promise<Uint8Array | undefined> {
  p3 ??= sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
    .withIccProfile('p3')
    .png()
    .toBuffer()
    .then((png) => sharp(png).metadata())
    .then((m) => m.icc);
  return p3;
}

/**
 * The ICC profile the decoded pixels are in, for sharp to convert them to
 * sRGB; null when they are sRGB already (no profile, nclx BT.709 or sRGB,
 * or primaries not handled here).
 */
export async function iccOf(colour: HeifColour | null): Promise<Uint8Array | null> {
  if (!colour) return null;
  if ('icc' in colour) return colour.icc;
  return colour.nclxPrimaries === P3_D65 ? ((await displayP3()) ?? null) : null;
}

/**
 * Decoded pixels as a PNG carrying `icc` (an iCCP chunk after the header),
 * which sharp then converts to sRGB like any tagged photo. Uncompressed:
 * it only carries the pixels from one library to the next.
 */
export async function pngWithProfile(
  pixels: { data: Uint8Array; width: number; height: number; channels: 4 },
  icc: Uint8Array,
): Promise<Buffer> {
  const { data, width, height, channels } = pixels;
  const png = await sharp(data, { raw: { width, height, channels } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const payload = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]);
  const chunk = Buffer.alloc(12 + payload.length);
  chunk.writeUInt32BE(payload.length, 0);
  chunk.write('iCCP', 4, 'latin1');
  payload.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + payload.length)), 8 + payload.length);
  // Signature (8) and IHDR (25): the profile must come before the image data.
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}
