/** The time a key names, for the layouts log writers use, and whether a listing's keys sort by it. */
import { describe, expect, it } from 'vitest';
import { keysSortByTime, keyTime } from '../../../src/source/key-time.js';

const at = (iso: string) => Date.parse(iso);

describe('keyTime', () => {
  it.each([
    [
      'AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/12/06/123456789012_elasticloadbalancing_us-east-1_app.web.50dc6c495c0c9188_20261206T0005Z_10.0.0.1_2et2e1mx.log.gz',
      'elb',
      '2026-12-06T00:05:00Z',
    ],
    ['logs/2026-12-06-00-05-12-6E3F0A1B2C3D4E5F', 's3-access', '2026-12-06T00:05:12Z'],
    ['cf/E2ABCDEFGHIJ.2026-12-06-13.a1b2c3d4.gz', 'cloudfront', '2026-12-06T13:00:00Z'],
    ['nginx/access.log-20261206.gz', 'dated', '2026-12-06T00:00:00Z'],
    ['nginx/access.log-2026120614', 'dated', '2026-12-06T14:00:00Z'],
    ['web/access-2026-12-06T14:30.log', 'dated', '2026-12-06T14:30:00Z'],
    ['web/access_2026-12-06.log.gz', 'dated', '2026-12-06T00:00:00Z'],
    ['logs/2026/12/06/14/web1.log.gz', 'date-path', '2026-12-06T14:00:00Z'],
    ['logs/2026/12/06/web1.log.gz', 'date-path', '2026-12-06T00:00:00Z'],
    ['logs/year=2026/month=12/day=6/hour=7/part-0.gz', 'date-path', '2026-12-06T07:00:00Z'],
    // an account id before the date is not a date; the key's own date wins over its folder's
    ['acct/123456789012/2026/12/06/web-20261206T1405.log', 'dated', '2026-12-06T14:05:00Z'],
  ])('%s → %s %s', (key, layout, iso) => {
    expect(keyTime(key)).toEqual({ layout, ms: at(iso) });
  });

  it.each(['access.log', 'logs/web1/part-0001.gz', 'logs/20261340.log', 'x/2026-02-30.log', 'build-12345678.log', 'v1/1234/56/78/x'])(
    '%s names no time',
    (key) => {
      expect(keyTime(key)).toBeUndefined();
    },
  );
});

describe('keysSortByTime', () => {
  it('ELB keys of one load balancer sort by time; two load balancers under one prefix do not', () => {
    const elb = (lb: string, t: string) =>
      `AWSLogs/1/elasticloadbalancing/eu-west-1/2026/12/06/1_elasticloadbalancing_eu-west-1_app.${lb}.ab_${t}_10.0.0.1_x.log.gz`;
    expect(keysSortByTime([elb('a', '20261206T0000Z'), elb('a', '20261206T0005Z'), elb('a', '20261206T0010Z')])).toEqual({ ordered: true, layout: 'elb' });
    const two = [elb('a', '20261206T0000Z'), elb('a', '20261206T0010Z'), elb('b', '20261206T0005Z')];
    expect(keysSortByTime(two)).toEqual({ ordered: false, layout: 'elb', firstOutOfOrder: two[2] });
  });

  it('a key without a time gives no verdict', () => {
    expect(keysSortByTime(['a/access.log-20261205', 'a/access.log'])).toBeUndefined();
    expect(keysSortByTime([])).toBeUndefined();
  });
});
