import { describe, expect, it } from 'vitest';
import { formatAgo, limitToGb, parseLimitGb } from './format-bytes.ts';

describe('bytes', () => {
  it('reads and writes limits in GB', () => {
    expect(parseLimitGb('')).toEqual({ bytes: null });
    expect(parseLimitGb('2')).toEqual({ bytes: 2 * 1024 ** 3 });
    expect(parseLimitGb('0.5')).toEqual({ bytes: 0.5 * 1024 ** 3 });
    expect(parseLimitGb('lots')).toHaveProperty('error');
    expect(parseLimitGb('0')).toHaveProperty('error');
    expect(limitToGb(2 * 1024 ** 3)).toBe('2');
    expect(limitToGb(null)).toBe('');
  });

  it('says how long ago', () => {
    const now = 10 * 86_400_000;
    expect(formatAgo(null, now)).toBe('never');
    expect(formatAgo(now - 5000, now)).toBe('just now');
    expect(formatAgo(now - 3 * 86_400_000, now)).toBe('3 days ago');
  });
});
