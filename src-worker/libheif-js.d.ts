/**
 * The part of libheif-js (the WebAssembly build of libheif) that the worker
 * uses; the package ships no types for this entry.
 */
declare module 'libheif-js/wasm-bundle.js' {
  export interface HeifImage {
    get_width(): number;
    get_height(): number;
    is_primary(): boolean;
    /** Decodes into `target` as 8-bit RGBA; calls back with it, or null on failure. */
    display(
      target: { data: Uint8ClampedArray; width: number; height: number },
      done: (result: { data: Uint8ClampedArray } | null) => void,
    ): void;
    free(): void;
  }
  export class HeifDecoder {
    /** The top-level images of a HEIF file; throws on a file it cannot read. */
    decode(bytes: Uint8Array): HeifImage[];
  }
  const libheif: { HeifDecoder: typeof HeifDecoder };
  export default libheif;
}
