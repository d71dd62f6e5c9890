import { describe, expect, it } from 'vitest';
import { shardOf } from '../../../src/pipeline/shard.js';

/** Object keys as S3 log deliveries name them: hourly rotations, ELB, CloudFront, nginx date suffixes. */
function realisticKeys(): string[] {
  const keys: string[] = [];
  for (let day = 1; day <= 30; day++) {
    const d = `2026-11-${String(day).padStart(2, '0')}`;
    for (let h = 0; h < 24; h++) {
      const hh = String(h).padStart(2, '0');
      keys.push(`logs/nginx/access.log-${d.replace(/-/g, '')}${hh}.gz`);
      keys.push(
        `AWSLogs/123456789012/elasticloadbalancing/eu-west-1/${d.replace(/-/g, '/')}/123456789012_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_${d.replace(/-/g, '')}T${hh}05Z_10.0.${day}.${h}_5ay3rpj1.log.gz`,
      );
      keys.push(`cloudfront/E2QWRUHAPOMQZL.${d}-${hh}.${(day * 7919 + h * 104729).toString(16).padStart(8, '0')}.gz`);
    }
    keys.push(`web-${day % 3}/access.log.${day}`);
  }
  return keys;
}

describe('shardOf', () => {
  const keys = realisticKeys();
  it('is stable and in range', () => {
    for (const n of [1, 2, 5])
      for (const k of keys.slice(0, 50)) {
        const s = shardOf(k, n);
        expect(s).toBe(shardOf(k, n));
        expect(s >= 0 && s < n).toBe(true);
      }
  });

  it.each([2, 3, 4, 5, 6, 7, 8])(
    'spreads %i replicas evenly over a few thousand realistic keys (each count within 4 standard deviations of its share)',
    (n) => {
      const counts = new Array<number>(n).fill(0);
      for (const k of keys) counts[shardOf(k, n)]!++;
      const share = keys.length / n;
      const sigma = Math.sqrt(share * (1 - 1 / n)); // binomial: what a uniform hash would scatter
      for (const c of counts) expect(Math.abs(c - share), `counts ${counts.join('/')}`).toBeLessThan(4 * sigma);
    },
  );

  it('depends on the order of the characters, not only on which occur (FNV-1a low bits are their parity)', () => {
    // Regression: shardOf took fnv1a64(key).lo % n; its low bit is the parity of the odd bytes of the key,
    // so keys made of the same characters all went to one replica of two (14 real keys split 12/2).
    const perms = (s: string): string[] => (s.length <= 1 ? [s] : [...s].flatMap((c, i) => perms(s.slice(0, i) + s.slice(i + 1)).map((p) => c + p)));
    const keys = perms('012345').map((p) => `logs/${p}.log`);
    for (const n of [2, 4, 8]) {
      const counts = new Array<number>(n).fill(0);
      for (const k of keys) counts[shardOf(k, n)]!++;
      for (const c of counts) expect(Math.abs(c - keys.length / n) / (keys.length / n), `n=${n}: ${counts.join('/')}`).toBeLessThan(0.2);
    }
  });

  it('spreads keys that differ in one character (hourly rotations of one file)', () => {
    const hourly = Array.from({ length: 24 }, (_, h) => `access.log.${String(h).padStart(2, '0')}`);
    const counts = [0, 0];
    for (const k of hourly) counts[shardOf(k, 2)]!++;
    expect(Math.min(...counts), counts.join('/')).toBeGreaterThanOrEqual(8);
  });
});
