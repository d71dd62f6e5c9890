/**
 * 64-bit FNV-1a over the UTF-8 bytes of a string, computed with 16-bit limbs
 * so it stays in small-integer arithmetic (no BigInt on the hot path).
 * Reference: http://www.isthe.com/chongo/tech/comp/fnv/ (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3).
 */

export interface Hash64 {
  hi: number;
  lo: number;
}

/** FNV-1a 64 of `s`, or of `prefix + s` when `seed` is the state after `prefix` (to hash a tuple without concatenating). */
export function fnv1a64(s: string, seed?: Hash64): Hash64 {
  let h0 = 0x2325,
    h1 = 0x8422,
    h2 = 0x9ce4,
    h3 = 0xcbf2;
  if (seed) {
    h0 = seed.lo & 0xffff;
    h1 = seed.lo >>> 16;
    h2 = seed.hi & 0xffff;
    h3 = seed.hi >>> 16;
  }
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let bytes: number; // up to 4 UTF-8 bytes packed little-end first
    let count: number;
    if (c < 0x80) {
      bytes = c;
      count = 1;
    } else if (c < 0x800) {
      bytes = 0xc0 | (c >> 6) | ((0x80 | (c & 63)) << 8);
      count = 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      bytes = 0xf0 | (c >> 18) | ((0x80 | ((c >> 12) & 63)) << 8) | ((0x80 | ((c >> 6) & 63)) << 16) | ((0x80 | (c & 63)) << 24);
      count = 4;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate: hash as U+FFFD, as TextEncoder would
      bytes = 0xe0 | (c >> 12) | ((0x80 | ((c >> 6) & 63)) << 8) | ((0x80 | (c & 63)) << 16);
      count = 3;
    }
    for (let k = 0; k < count; k++) {
      h0 ^= (bytes >>> (8 * k)) & 0xff;
      // h *= 0x100000001b3 (mod 2^64): h * 0x1b3 + (h << 40)
      const t0 = h0 * 0x1b3;
      let t1 = h1 * 0x1b3;
      let t2 = h2 * 0x1b3 + (h0 << 8);
      const t3 = h3 * 0x1b3 + (h1 << 8);
      t1 += t0 >>> 16;
      h0 = t0 & 0xffff;
      t2 += t1 >>> 16;
      h1 = t1 & 0xffff;
      h3 = (t3 + (t2 >>> 16)) & 0xffff;
      h2 = t2 & 0xffff;
    }
  }
  return { hi: ((h3 << 16) | h2) >>> 0, lo: ((h1 << 16) | h0) >>> 0 };
}

/**
 * The unsigned decimal form, as ClickHouse UInt64 and JSON output use it.
 * Number arithmetic only (no BigInt, which cost ~4x on the enrichment path):
 * hi * 2^32 + lo = (hi * 4294 + c) * 1e6 + r, with every term below 2^53.
 */
export function toDecimal(h: Hash64): string {
  if (h.hi < 0x200000) return String(h.hi * 4294967296 + h.lo); // < 2^53: exact in a double
  const low = h.hi * 967296 + h.lo; // 2^32 = 4294 * 1e6 + 967296; low < 4.2e15
  const r = low % 1e6;
  const q = h.hi * 4294 + (low - r) / 1e6;
  return `${q}${r >= 1e5 ? '' : pad6[String(r).length]}${r}`;
}
const pad6 = ['', '00000', '0000', '000', '00', '0', ''];

export function hash64Decimal(s: string): string {
  return toDecimal(fnv1a64(s));
}
