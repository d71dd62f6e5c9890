import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../../src/enrich/lru.js';

describe('BoundedCache', () => {
  it('keeps hot keys and never holds more than 2 x max entries', () => {
    const c = new BoundedCache<string, number>(100);
    for (let i = 0; i < 10_000; i++) {
      c.set(`k${i}`, i);
      expect(c.get('hot') ?? (c.set('hot', -1), -1)).toBe(-1);
      expect(c.size).toBeLessThanOrEqual(200);
    }
    expect(c.get('hot')).toBe(-1);
    expect(c.get('k0')).toBeUndefined();
    expect(c.get('k9999')).toBe(9999);
  });
  it('rejects a bad size', () => {
    expect(() => new BoundedCache(0)).toThrow(/positive integer/);
  });
});
