import { describe, expect, it } from 'vitest';
import { rendezvous } from './placement.ts';

describe('rendezvous placement', () => {
  const collections = Array.from({ length: 1000 }, (_, i) => i + 1);

  it('spreads collections over the folders', () => {
    const counts = new Map<number, number>();
    for (const c of collections) {
      const f = rendezvous(c, [1, 2, 3])!;
      counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    for (const f of [1, 2, 3]) expect(counts.get(f)).toBeGreaterThan(280);
  });

  it('moves only the collections that map to an added folder', () => {
    for (const c of collections) {
      const before = rendezvous(c, [1, 2]);
      const after = rendezvous(c, [1, 2, 3]);
      if (after !== 3) expect(after).toBe(before);
    }
    expect(collections.filter((c) => rendezvous(c, [1, 2, 3]) === 3).length).toBeGreaterThan(280);
  });

  it('moves only the collections of a removed folder', () => {
    for (const c of collections) {
      const before = rendezvous(c, [1, 2, 3]);
      if (before !== 2) expect(rendezvous(c, [1, 3])).toBe(before);
    }
  });

  it('is null without folders and stable across calls and order', () => {
    expect(rendezvous(1, [])).toBeNull();
    expect(rendezvous(42, [3, 1, 2])).toBe(rendezvous(42, [1, 2, 3]));
  });
});
