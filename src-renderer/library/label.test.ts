import { describe, expect, it } from 'vitest';
import { splitName } from './label.ts';

describe('splitName', () => {
  it('keeps short names whole and the end of long ones', () => {
    expect(splitName('IMG_0001.jpg')).toEqual({ head: 'IMG_0001.jpg', tail: '' });
    const long = 'golang-1.19-src_image_png_testdata_benchGray.png';
    const { head, tail } = splitName(long);
    expect(head + tail).toBe(long);
    expect(tail).toBe('benchGray.png'.slice(-12));
  });
});
