/** Which shipper replica (of --replicas) owns an object: a stable hash of its key. */
import { fnv1a64 } from '../enrich/hash.js';

/** murmur3's 32-bit finaliser: every input bit flips about half the output bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Stable shard of a key among `n` replicas. FNV-1a's low bits alone are weak
 * (its lowest bit is the parity of the odd bytes: 14 real keys split 12/2 over
 * two replicas), so all 64 bits are mixed, and the shard is taken from the
 * high bits of the mix (multiply-shift), not from a remainder.
 */
export function shardOf(key: string, n: number): number {
  if (n <= 1) return 0;
  const h = fnv1a64(key);
  return Math.floor((fmix32(h.lo ^ fmix32(h.hi)) / 2 ** 32) * n);
}
