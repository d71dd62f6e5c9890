import { describe, expect, it } from 'vitest';
import { createEnricher } from '../../../src/enrich/index.js';
import { createParser } from '../../../src/parse/scan.js';
import { fixture } from '../../helpers/datasets.js';

const parse = createParser('combined');
function record(line: string) {
  const r = parse(line);
  if (!r.ok) throw new Error(r.reject.detail);
  return r.record;
}
const line = (ip: string, day = '10') => `${ip} - - [${day}/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"`;

describe('createEnricher', () => {
  it('adds ip, UA, geo and id fields', async () => {
    const e = await createEnricher({ geoip: fixture('maxmind', 'GeoIP2-City-Test.mmdb') });
    const r = e.enrich(record(line('81.2.69.142')));
    expect(r).toMatchObject({ ip: '81.2.69.142', ip_version: 4, browser: 'Firefox', browser_version: '120', os: 'Linux', country: 'GB', city: 'London', is_bot: false });
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
});
