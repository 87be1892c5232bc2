import { describe, expect, it } from 'vitest';
import {
  cameraText,
  exposureText,
  fullPath,
  positionText,
  shutterText,
  takenText,
} from './info.ts';

describe('the info panel', () => {
  it("says when a photo was taken as its camera wrote it, or that the file's date stands in", () => {
    expect(
      takenText({
        takenAt: 0,
        takenFrom: 'exif',
        takenLocal: '2021:05:01 10:00:00',
        takenOffset: '+02:00',
      }),
    ).toBe('2021-05-01 10:00:00 (UTC+02:00)');
    expect(
      takenText({
        takenAt: 0,
        takenFrom: 'exif',
        takenLocal: '2021:05:01 10:00:00',
        takenOffset: null,
      }),
    ).toBe('2021-05-01 10:00:00');
    expect(
      takenText({
        takenAt: Date.UTC(2020, 5, 1, 12),
        takenFrom: 'file',
        takenLocal: null,
        takenOffset: null,
      }),
    ).toMatch(/^2020-06-0[12] \d\d:00:00 \(the file's date: the photo says none\)$/);
  });

  it('names the camera once, and the exposure in the usual units', () => {
    expect(cameraText('Canon', 'Canon EOS 6D')).toBe('Canon EOS 6D');
    expect(cameraText('NIKON CORPORATION', 'NIKON Z 6_2')).toBe('NIKON Z 6_2');
    expect(cameraText('SONY', 'ILCE-7RM4')).toBe('SONY ILCE-7RM4');
    expect(cameraText(null, 'Pixel 8')).toBe('Pixel 8');
    expect(cameraText(null, null)).toBeNull();
    expect(shutterText(1 / 250)).toBe('1/250 s');
    expect(shutterText(0.3)).toBe('1/3 s');
    expect(shutterText(2.5)).toBe('2.5 s');
    expect(exposureText({ aperture: 2.8, exposureTime: 0.004, focalLength: 50, iso: 400 })).toBe(
      'f/2.8 · 1/250 s · 50 mm · ISO 400',
    );
    expect(
      exposureText({ aperture: null, exposureTime: null, focalLength: null, iso: null }),
    ).toBeNull();
  });

  it('writes positions with hemispheres and paths as the system does', () => {
    expect(positionText(48.85837, 2.294481)).toBe('48.85837° N, 2.29448° E');
    expect(positionText(-33.8568, -151.2153)).toBe('33.85680° S, 151.21530° W');
    expect(positionText(null, 1)).toBeNull();
    expect(fullPath('/home/me/Pictures', 'folder', '2021/beach.jpg')).toBe(
      '/home/me/Pictures/2021/beach.jpg',
    );
    expect(fullPath('C:\\Photos', 'folder', '2021/beach.jpg')).toBe('C:\\Photos\\2021\\beach.jpg');
    expect(fullPath('/home/me/comics.cbz', 'archive', 'p/01.png')).toBe(
      '/home/me/comics.cbz!/p/01.png',
    );
  });
});
