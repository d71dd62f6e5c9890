/**
 * The time an object's key names, for the key layouts log writers use:
 *
 * | layout      | example key                                                                   |
 * |-------------|-------------------------------------------------------------------------------|
 * | elb         | AWSLogs/1234/elasticloadbalancing/us-east-1/2026/12/06/1234_elasticloadbalancing_us-east-1_app.web.5d_20261206T0005Z_10.0.0.1_2e.log.gz |
 * | s3-access   | logs/2026-12-06-00-05-12-6E3F0A1B2C3D4E5F (S3 server access logs)           |
 * | cloudfront  | cf/E2ABCDEF.2026-12-06-00.a1b2c3d4.gz                                         |
 * | date-path   | nginx/2026/12/06/14/access.log.gz, nginx/year=2026/month=12/day=06/...        |
 * | dated       | access.log-20261206.gz, access-2026-12-06T14.log                              |
 *
 * The first layout that matches wins (an ELB key holds a date path too, and
 * its own minute is more precise; a dated name inside date folders is too). Times are UTC, to the precision the key
 * has; a key without one gives undefined.
 */

export interface KeyTime {
  ms: number;
  layout: 'elb' | 's3-access' | 'cloudfront' | 'date-path' | 'dated';
}

type Layout = { layout: KeyTime['layout']; re: RegExp };

// Groups: year, month, day, then hour, minute, second where the layout has them.
const layouts: readonly Layout[] = [
  { layout: 'elb', re: /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/g },
  { layout: 's3-access', re: /(?:^|\/)(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9A-F]{16}$/g },
  { layout: 'cloudfront', re: /\.(\d{4})-(\d{2})-(\d{2})-(\d{2})\.[0-9a-f]{8}(?:\.gz)?$/g },
  { layout: 'dated', re: /(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:[T_ -](\d{2})(?::?(\d{2}))?)?(?!\d)/g },
  { layout: 'dated', re: /(?<!\d)(\d{4})(\d{2})(\d{2})(?:[T_-]?(\d{2})(\d{2})?)?(?!\d)/g },
  { layout: 'date-path', re: /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})(?:\/(\d{2})(?=\/))?(?=\/|$)/g },
  { layout: 'date-path', re: /(?:^|\/)year=(\d{4})\/month=(\d{1,2})\/day=(\d{1,2})(?:\/hour=(\d{1,2}))?(?=\/|$)/g },
];

/** A calendar time that exists (no month 13, no 31 February), as UTC ms. */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  if (y < 1990 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}

export function keyTime(key: string): KeyTime | undefined {
  for (const { layout, re } of layouts) {
    // The last date in the key is its own (an account id or a date folder may come before).
    let found: number | undefined;
    for (const m of key.matchAll(re)) {
      const n = (i: number) => (m[i] === undefined ? 0 : Number(m[i]));
      found = utc(n(1), n(2), n(3), n(4), n(5), n(6)) ?? found;
    }
    if (found !== undefined) return { ms: found, layout };
  }
  return undefined;
}

/**
 * Whether `sortedKeys` (in key order) name non-decreasing times: then a key
 * listed later names a later time, and listing from a watermark key finds
 * every new object. Undefined when some key has no time.
 */
export function keysSortByTime(sortedKeys: readonly string[]): { ordered: boolean; layout?: KeyTime['layout']; firstOutOfOrder?: string } | undefined {
  let last = -Infinity;
  let layout: KeyTime['layout'] | undefined;
  for (const k of sortedKeys) {
    const t = keyTime(k);
    if (!t) return undefined;
    layout ??= t.layout;
    if (t.ms < last) return { ordered: false, layout, firstOutOfOrder: k };
    last = t.ms;
  }
  return layout ? { ordered: true, layout } : undefined;
}
