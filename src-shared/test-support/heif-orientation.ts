/**
 * HEIF files turned as phones turn them: a rotation (irot) and a mirror (imir)
 * property added to the primary image, the way an EXIF orientation maps onto
 * HEIF's transforms. The stored pixels stay as they are; a reader must apply
 * the transforms to show the image upright. Encoders here (heif-enc 1.15)
 * write none, so the tests add them to a file that has none.
 */

interface Box {
  type: string;
  start: number;
  /** Where its children (or payload) begin, after the header (and a full box's version and flags). */
  body: number;
  end: number;
}

function boxes(b: Uint8Array, from: number, to: number, full: ReadonlySet<string>): Box[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Box[] = [];
  for (let at = from; at + 8 <= to;) {
    let size = dv.getUint32(at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    let header = 8;
    if (size === 1) {
      size = Number(dv.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    out.push({ type, start: at, body: at + header + (full.has(type) ? 4 : 0), end: at + size });
    at += size;
  }
  return out;
}

const FULL = new Set(['meta', 'iloc', 'ipma', 'pitm']);

function find(list: Box[], type: string): Box {
  const box = list.find((x) => x.type === type);
  if (!box) throw new Error(`no ${type} box`);
  return box;
}

/** The HEIF transforms for an EXIF orientation, in the order they apply. */
function transformsOf(orientation: number): Uint8Array[] {
  const irot = (quarterTurnsAnticlockwise: number) =>
    Uint8Array.from([0, 0, 0, 9, 0x69, 0x72, 0x6f, 0x74, quarterTurnsAnticlockwise]);
  // As libheif (the reference reader) reads imir: axis 0 turns the image
  // upside down, axis 1 mirrors it left to right.
  const upsideDown = Uint8Array.from([0, 0, 0, 9, 0x69, 0x6d, 0x69, 0x72, 0]);
  const leftToRight = Uint8Array.from([0, 0, 0, 9, 0x69, 0x6d, 0x69, 0x72, 1]);
  const map: Record<number, Uint8Array[]> = {
    1: [],
    2: [leftToRight],
    3: [irot(2)],
    4: [upsideDown],
    5: [irot(3), leftToRight],
    6: [irot(3)],
    7: [irot(3), upsideDown],
    8: [irot(1)],
  };
  const t = map[orientation];
  if (!t) throw new Error(`orientation ${orientation}`);
  return t;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Grows the 32-bit size of the box at `at` by `by`. */
function grow(b: Uint8Array, at: number, by: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(at) === 1) throw new Error('64-bit box sizes are not handled here');
  dv.setUint32(at, dv.getUint32(at) + by);
}

/**
 * A copy of a HEIF file whose primary image carries the transforms of EXIF
 * `orientation`. Handles the layout heif-enc writes: one meta box before
 * the media data, iloc offsets into the file (construction method 0).
 */
export function withHeifOrientation(heif: Uint8Array, orientation: number): Uint8Array {
  const added = transformsOf(orientation);
  if (!added.length) return heif.slice();
  const top = boxes(heif, 0, heif.length, FULL);
  const meta = find(top, 'meta');
  const inMeta = boxes(heif, meta.body, meta.end, FULL);
  const iprp = find(inMeta, 'iprp');
  const inIprp = boxes(heif, iprp.body, iprp.end, FULL);
  const ipco = find(inIprp, 'ipco');
  const ipma = find(inIprp, 'ipma');
  const pitm = find(inMeta, 'pitm');
  const dv = new DataView(heif.buffer, heif.byteOffset, heif.byteLength);
  const primary = heif[pitm.start + 8] === 0 ? dv.getUint16(pitm.body) : dv.getUint32(pitm.body);
  const properties = boxes(heif, ipco.body, ipco.end, FULL).length;

  // ipma: the primary image's associations gain the new properties (essential).
  const version = heif[ipma.start + 8]!;
  const wide = (dv.getUint32(ipma.start + 8) & 1) === 1;
  const entries = dv.getUint32(ipma.body);
  let at = ipma.body + 4;
  let insertAt = -1;
  let countAt = -1;
  for (let i = 0; i < entries; i++) {
    const item = version < 1 ? dv.getUint16(at) : dv.getUint32(at);
    at += version < 1 ? 2 : 4;
    const count = heif[at]!;
    if (item === primary) countAt = at;
    at += 1 + count * (wide ? 2 : 1);
    if (item === primary) insertAt = at;
  }
  if (insertAt < 0) throw new Error('the primary image has no associations');
  const associations = concat(
    added.map((_, i) => {
      const index = properties + 1 + i;
      return wide
        ? Uint8Array.from([0x80 | (index >> 8), index & 0xff])
        : Uint8Array.from([0x80 | index]);
    }),
  );
  const props = concat(added);
  const delta = props.length + associations.length;

  const out = concat([
    heif.subarray(0, ipco.end),
    props,
    heif.subarray(ipco.end, insertAt),
    associations,
    heif.subarray(insertAt),
  ]);
  // Offsets in `out`: what lies after ipco's end moved by props.length.
  grow(out, meta.start, delta);
  grow(out, iprp.start, delta);
  grow(out, ipco.start, props.length);
  grow(out, ipma.start + props.length, associations.length);
  out[countAt + props.length] = heif[countAt]! + added.length;

  // iloc: data in the file after meta moved by delta.
  const iloc = find(boxes(out, meta.body, meta.end + delta, FULL), 'iloc');
  shiftIloc(out, iloc, meta.end + delta, delta);
  return out;
}

/** Adds `delta` to every file offset in iloc that points past `after`. */
function shiftIloc(b: Uint8Array, iloc: Box, after: number, delta: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const v = b[iloc.start + 8]!;
  const read = (at: number, size: number) =>
    size === 0 ? 0 : size === 4 ? dv.getUint32(at) : size === 8 ? Number(dv.getBigUint64(at)) : NaN;
  const write = (at: number, size: number, value: number) => {
    if (size === 4) dv.setUint32(at, value);
    else if (size === 8) dv.setBigUint64(at, BigInt(value));
    else throw new Error(`iloc field of ${size} bytes`);
  };
  let at = iloc.body;
  const offsetSize = b[at]! >> 4;
  const lengthSize = b[at]! & 15;
  const baseSize = b[at + 1]! >> 4;
  const indexSize = v === 1 || v === 2 ? b[at + 1]! & 15 : 0;
  at += 2;
  const items = v < 2 ? dv.getUint16(at) : dv.getUint32(at);
  at += v < 2 ? 2 : 4;
  for (let i = 0; i < items; i++) {
    at += v < 2 ? 2 : 4;
    let method = 0;
    if (v === 1 || v === 2) {
      method = dv.getUint16(at) & 15;
      at += 2;
    }
    at += 2; // data_reference_index
    const baseAt = at;
    const base = read(at, baseSize);
    at += baseSize;
    const extents = dv.getUint16(at);
    at += 2;
    const old = after - delta;
    // A base past meta moves once; otherwise each extent that lies past it.
    const moveBase = method === 0 && base > 0 && base >= old;
    if (moveBase) write(baseAt, baseSize, base + delta);
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      if (method === 0 && !moveBase && base + read(at, offsetSize) >= old) {
        write(at, offsetSize, read(at, offsetSize) + delta);
      }
      at += offsetSize + lengthSize;
    }
  }
}
