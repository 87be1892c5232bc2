import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { bombPng, photoJpeg } from './fixtures.ts';

/** What a hostile page would do with the app's origin: call a command over the WebSocket. */
const PAYLOAD = "new WebSocket('ws://' + location.host + '/api').onopen = function () {}";

/** An SVG that scans (and renders) as an image and carries a script. */
export const SCRIPTED_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">` +
  `<script>${PAYLOAD}</script><rect width="64" height="48" fill="red"/></svg>`;

/** An HTML page a browser would sniff as HTML, whatever its name says. */
export const HTML_PAGE = `<!doctype html><html><body><script>${PAYLOAD}</script></body></html>`;

/** The entry names of writeHostileMedia's files. */
export const HOSTILE = {
  good: 'good.jpg',
  svg: 'scripted.svg',
  html: 'page.jpg',
  /** A PNG whose header names too many pixels: its scan fails (TOO_MANY_PIXELS). */
  failed: 'bomb.png',
  /** A GIF whose header reads but whose data ends early: its scan passes, its decode fails. */
  rejected: 'cut.gif',
} as const;

/** A folder with one good photo and three files that must never reach a UI as documents. */
export async function writeHostileMedia(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, HOSTILE.good), await photoJpeg(320, 240));
  writeFileSync(join(dir, HOSTILE.svg), SCRIPTED_SVG);
  writeFileSync(join(dir, HOSTILE.html), HTML_PAGE);
  writeFileSync(join(dir, HOSTILE.failed), await bombPng(60000, 60000));
  const gif = await sharp({
    create: {
      width: 200,
      height: 150,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .gif()
    .toBuffer();
  writeFileSync(join(dir, HOSTILE.rejected), gif.subarray(0, gif.length >> 1));
}
