import { describe, expect, it } from 'vitest';
import { createEnricher } from '../../../src/enrich/index.js';
import { createParser } from '../../../src/parse/scan.js';
import { fnv1a64, hash64Decimal, toDecimal } from '../../../src/enrich/hash.js';
import { GeoLookup } from '../../../src/enrich/geoip.js';
import { fixture, readLines } from '../../helpers/datasets.js';

const parse = createParser('combined');
function record(line: string) {
  const r = parse(line);
  if (!r.ok) throw new Error(r.reject.detail);
  return r.record;
}
const line = (ip: string, day = '10') =>
  `${ip} - - [${day}/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`;

describe('createEnricher', () => {
  it('adds ip, UA, geo and id fields', async () => {
    const e = await createEnricher({ geoip: fixture('maxmind', 'GeoIP2-City-Test.mmdb') });
    const r = e.enrich(record(line('81.2.69.142')));
    expect(r).toMatchObject({
      ip: '81.2.69.142',
      ip_version: 4,
      browser: 'Firefox',
      browser_version: '120',
      os: 'Linux',
      country: 'GB',
      city: 'London',
      is_bot: false,
    });
    expect(r.ua_id).toMatch(/^\d+$/);
    expect(r.visitor_id).toMatch(/^\d+$/);
  });

  it('visitor_id changes with the day, the IP and the salt, and not otherwise', async () => {
    const a = await createEnricher({ geoip: fixture('maxmind', 'GeoIP2-City-Test.mmdb'), visitorSalt: 's1' });
    const b = await createEnricher({ geoip: fixture('maxmind', 'GeoIP2-City-Test.mmdb'), visitorSalt: 's2' });
    const v = (e: typeof a, l: string) => e.enrich(record(l)).visitor_id;
    expect(v(a, line('81.2.69.142'))).toBe(v(a, line('81.2.69.142')));
    expect(v(a, line('81.2.69.142'))).not.toBe(v(a, line('81.2.69.143')));
    expect(v(a, line('81.2.69.142'))).not.toBe(v(a, line('81.2.69.142', '11')));
    expect(v(a, line('81.2.69.142'))).not.toBe(v(b, line('81.2.69.142')));
  });

  it('anonymizes before storing and hashing', async () => {
    const e = await createEnricher({ geoip: fixture('maxmind', 'GeoIP2-City-Test.mmdb'), anonymizeIp: true });
    const r1 = e.enrich(record(line('81.2.69.142')));
    const r2 = e.enrich(record(line('81.2.69.143')));
    expect(r1.ip).toBe('81.2.69.0');
    expect(r1.remote_addr).toBe('81.2.69.0');
    expect(r1.visitor_id).toBe(r2.visitor_id);
  });

  it('--strip-query drops the query strings of the request and the referer, keeping path and referer domain', async () => {
    const e = await createEnricher({ stripQuery: true });
    const q =
      '203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET /search?q=alice%40example.org&page=2 HTTP/1.1" 200 1 "https://ref.example/r?token=s3cret" "curl/8.0"';
    const r = e.enrich(record(q));
    expect(r).toMatchObject({ request: 'GET /search HTTP/1.1', url: '/search', path: '/search', query: '', referer: 'https://ref.example/r' });
    expect(JSON.stringify(r)).not.toMatch(/alice|s3cret|\?/);
    // Off by default; a line without queries is left as it is.
    expect((await createEnricher()).enrich(record(q))).toMatchObject({ url: '/search?q=alice%40example.org&page=2', query: 'q=alice%40example.org&page=2' });
    expect(e.enrich(record(line('81.2.69.142')))).toMatchObject({ request: 'GET / HTTP/1.1', url: '/', query: '', referer: '' });
  });

  it('gives every line of a real log in stream order the ids and geo fields computed from scratch', async () => {
    // Consecutive lines that share a client are served from one-entry memos;
    // here each line's ids are recomputed independently and compared.
    const salt = 'rot-7';
    const e = await createEnricher({ visitorSalt: salt });
    const geo = await GeoLookup.open({ cacheSize: 1 });
    let repeats = 0;
    let prev = '';
    for (const l of readLines(fixture('logs', 'elastic_apache.log'))) {
      const p = parse(l);
      if (!p.ok) continue;
      const r = e.enrich(p.record);
      const uaId = hash64Decimal(r.user_agent);
      const day = Math.floor(r.time / 86_400_000);
      expect(r.ua_id).toBe(uaId);
      expect(r.visitor_id, l).toBe(toDecimal(fnv1a64(`${salt}\u0000${uaId}\u0000${day}\u0000${r.ip}`)));
      expect(r.country, l).toBe(geo.lookup(r.ip, r.ip_version).country);
      if (r.ip === prev) repeats++;
      prev = r.ip;
    }
    expect(repeats).toBeGreaterThan(1000); // the memo path really ran
  });
});
