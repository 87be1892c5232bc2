import { fnv1a64Hex } from '../../src-shared/settings.ts';

const MASK = 0xffffffffffffffffn;

/** murmur3's 64-bit finaliser: FNV alone spreads short, similar keys unevenly. */
function fmix64(h: bigint): bigint {
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & MASK;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & MASK;
  h ^= h >> 33n;
  return h;
}

/**
 * Rendezvous (highest-random-weight) hashing: the folder whose hash with the
 * collection scores highest wins. Adding a folder moves only the collections
 * that now score highest on it; removing one moves only its own collections.
 */
export function rendezvous(collectionId: number, folderIds: readonly number[]): number | null {
  let best: number | null = null;
  let bestScore = -1n;
  for (const f of folderIds) {
    const score = fmix64(BigInt(`0x${fnv1a64Hex(`${collectionId}:${f}`)}`));
    if (score > bestScore) {
      best = f;
      bestScore = score;
    }
  }
  return best;
}
