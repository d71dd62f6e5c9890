import { describe, expect, it } from 'vitest';
import { fnv1a64, hash64Decimal, toDecimal } from '../../../src/enrich/hash.js';

/** Reference FNV-1a 64 with BigInt over TextEncoder bytes. */
function reference(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

describe('fnv1a64', () => {
  it('matches the published test vectors', () => {
    expect(hash64Decimal('')).toBe(BigInt('0xcbf29ce484222325').toString());
    expect(hash64Decimal('a')).toBe(BigInt('0xaf63dc4c8601ec8c').toString());
    expect(hash64Decimal('foobar')).toBe(BigInt('0x85944171f73967e8').toString());
  });

  it('matches a BigInt reference on seeded random strings, including non-ASCII and surrogate pairs', () => {
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    const alphabet = ['a', 'Z', '/', ' ', 'é', 'п', '中', '😀', '\u0000', '"'];
    for (let i = 0; i < 500; i++) {
      const s = Array.from({ length: rnd(40) }, () => alphabet[rnd(alphabet.length)]).join('');
      expect(hash64Decimal(s), JSON.stringify(s)).toBe(reference(s).toString());
    }
  });

  it('continues from a seed exactly as if the prefix were concatenated', () => {
    const seed = fnv1a64('salt\u0000123\u0000');
    expect(toDecimal(fnv1a64('16500\u00001.2.3.4', seed))).toBe(reference('salt\u0000123\u000016500\u00001.2.3.4').toString());
  });

  it('prints unsigned decimals on both sides of 2^53', () => {
    expect(toDecimal({ hi: 0, lo: 5 })).toBe('5');
    expect(toDecimal({ hi: 0x1fffff, lo: 0xffffffff })).toBe(String(2 ** 53 - 1));
    expect(toDecimal({ hi: 0xffffffff, lo: 0xffffffff })).toBe('18446744073709551615');
    expect(fnv1a64('x').hi).toBeGreaterThanOrEqual(0);
  });

  it('prints the same decimals as BigInt for seeded random 64-bit values and the remainder edges', () => {
    let seed = 11;
    const u32 = () => (seed = (seed * 16807) % 2147483647) * 2 + (seed & 1);
    const cases: [number, number][] = [
      [0x200000, 0],
      [0x200000, 999_999],
      [0x200000, 1_000_000],
      [0xffffffff, 0],
      [0x12345678, 32_704],
    ];
    for (let i = 0; i < 20_000; i++) cases.push([u32() >>> 0, u32() >>> 0]);
    for (const [hi, lo] of cases) expect(toDecimal({ hi, lo }), `${hi}:${lo}`).toBe(((BigInt(hi) << 32n) | BigInt(lo)).toString());
  });
});
